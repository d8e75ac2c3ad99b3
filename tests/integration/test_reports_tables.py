"""Deposit reports and regulatory returns: hand-checked figures, CSV, bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DepositAccount, DepositProduct, TdsDeduction
from app.models.ledger import Account
from app.services import ledger, reports
from app.services.common import ValidationError, uow
from app.services.ledger import Line, coa
from tests.conftest import new_account
from tests.deposit_helpers import move_to
from tests.factories import make_member

ON = date(2026, 4, 1)


def _deposit(kind, member, balance, *, maturity=None, principal=0, interest=0, product=None):
    acc = new_account({"savings": "savings", "fd": "fd", "rd": "rd"}[kind], opening_paise=balance)
    acc.member_id = member.id
    acc.opened_on = ON
    db.session.add(
        DepositAccount(
            account_id=acc.id, kind=kind, product_id=product.id, member_id=member.id, start_date=ON,
            maturity_date=maturity, principal_paise=principal, expected_interest_paise=interest,
            maturity_action="credit_sb" if kind == "fd" else None,
        )
    )  # fmt: skip
    uow.commit()
    return acc


@pytest.fixture
def society(books):
    products = {}
    for code, kind in (("SB", "savings"), ("FD", "fd"), ("RD", "rd")):
        products[kind] = DepositProduct(code=code, name=code, kind=kind, prefix=code[:2], settings={})
        db.session.add(products[kind])
    asha, bhim = make_member(name="Asha", pan="ABCPA1234F"), make_member(name="Bhim")
    uow.commit()
    sb = _deposit("savings", asha, 20_000_00, product=products["savings"])
    fd1 = _deposit("fd", asha, 50_000_00, maturity=date(2026, 4, 20), principal=50_000_00, interest=1_000_00,
                   product=products["fd"])  # fmt: skip
    fd2 = _deposit("fd", bhim, 30_000_00, maturity=date(2026, 6, 15), principal=30_000_00, interest=900_00,
                   product=products["fd"])  # fmt: skip
    rd = _deposit("rd", bhim, 6_000_00, maturity=date(2028, 4, 1), product=products["rd"])
    loan = new_account("loan")
    loan.member_id = bhim.id
    ledger.post([Line.dr(loan, 40_000_00), Line.cr(coa.VAULT_CASH, 40_000_00)], kind="disbursement", narration="L")
    ledger.post([Line.dr("1502", 10_000_00), Line.cr(coa.VAULT_CASH, 10_000_00)], kind="journal", narration="G-sec")
    new_account("share", opening_paise=25_000_00)
    db.session.add(
        TdsDeduction(member_id=asha.id, account_id=fd1.id, fy="2026-27", credited_on=ON, interest_paise=60_000_00,
                     tds_paise=6_000_00, rate_bp=1000, reason="pan", pan="ABCPA1234F")
    )  # fmt: skip
    uow.commit()
    return {"sb": sb, "fd1": fd1, "fd2": fd2, "rd": rd, "asha": asha, "bhim": bhim}


def test_deposits_by_kind_and_bucket(society):
    t = reports.tables.build("deposits-by-kind", {"date": "2026-04-01"})
    got = {(r["kind"], r["bucket"]): (r["accounts"], r["balance"]) for r in t.rows}
    assert got == {
        ("Fixed deposits", "Up to 30 days"): (1, 50_000_00),
        ("Fixed deposits", "31 to 90 days"): (1, 30_000_00),
        ("Recurring deposits", "1 to 3 years"): (1, 6_000_00),
        ("Savings", "On demand"): (1, 20_000_00),
    }
    assert t.totals == {"accounts": 4, "balance": 106_000_00}


def test_fds_maturing_within_30_60_90_days(society):
    assert [r["account_no"] for r in reports.tables.build("fd-maturing", {"days": "30"}).rows] == [
        society["fd1"].account_no
    ]
    ninety = reports.tables.build("fd-maturing", {"days": "90"})
    assert len(ninety.rows) == 2 and ninety.totals["maturity_amount"] == 81_900_00
    with pytest.raises(ValidationError, match="Choose 30, 60 or 90"):
        reports.tables.build("fd-maturing", {"days": "45"})


def test_dormant_and_deaf_list(society):
    society["rd"].status = "dormant"
    uow.commit()
    rows = reports.tables.build("dormant", {}).rows
    assert [(r["account_no"], r["status"]) for r in rows] == [(society["rd"].account_no, "Dormant")]


def test_liquidity_crar_and_large_exposures(society):
    liq = {r["item"]: r for r in reports.tables.build("liquidity", {}).rows}
    # Cash: 1,06,000 deposits − 40,000 loan − 10,000 G-sec + 25,000 shares = 81,000.
    assert liq["Cash in hand"]["amount"] == 81_000_00
    assert liq["Demand liabilities"]["amount"] == 20_000_00
    assert liq["Time liabilities"]["amount"] == 86_000_00
    assert liq["Cash + bank + investments (SLR style)"]["ratio"] == Decimal("85.85")  # 91,000 / 1,06,000
    crar = {r["item"]: r for r in reports.tables.build("crar", {}).rows}
    assert crar["Risk-weighted assets"]["weighted"] == 40_000_00  # only the loan carries weight
    assert crar["CRAR %"]["weight"] == Decimal("62.50")  # 25,000 / 40,000
    large = reports.tables.build("large-exposures", {}).rows
    assert [(r["name"], r["exposure"], r["share"]) for r in large] == [("Bhim", 40_000_00, Decimal("160.00"))]


def test_form_26q_rows_and_csv(society, client, login):
    t = reports.tables.build("form-26q", {"fy": "2026-27", "quarter": "Q1"})
    assert [(r["pan"], r["amount_paid"], r["tds"], r["rate"]) for r in t.rows] == [
        ("ABCPA1234F", 60_000_00, 6_000_00, Decimal("10.00"))
    ]
    with pytest.raises(ValidationError, match="not a quarter"):
        reports.tables.build("form-26q", {"fy": "2026-27", "quarter": "Q5"})
    login("accountant")
    csv = client.get("/reports/t/form-26q.csv?fy=2026-27&quarter=Q1").get_data(as_text=True)
    assert "194A,ABCPA1234F,Asha" in csv and "60000.00,6000.00,10.00" in csv
    page = client.get("/reports/t/deposits-by-kind").get_data(as_text=True)
    assert "Up to 30 days" in page and "1,06,000.00" in page
    assert client.get("/reports/t/fd-maturing?days=7").status_code == 422
    assert client.get("/reports/t/nope").status_code == 404
    index = client.get("/reports/").get_data(as_text=True)
    assert "Fixed deposits maturing" in index and "Form 26Q" in index


def test_deposit_and_exposure_reports_as_of_a_date_ignore_later_postings(society):
    """Postings on 02-04 leave the 01-04 figures as they were; the 02-04 figures show them."""
    society["rd"].status = "dormant"
    uow.commit()
    on = {"date": "2026-04-01"}
    before = {
        slug: (t.rows, t.totals)
        for slug in ("deposits-by-kind", "large-exposures", "dormant")
        for t in [reports.tables.build(slug, on)]
    }
    move_to(date(2026, 4, 2))
    loan = db.session.scalar(select(Account).where(Account.kind == "loan", Account.member_id == society["bhim"].id))
    ledger.post([Line.dr(coa.VAULT_CASH, 5_000_00), Line.cr(society["sb"], 5_000_00)], kind="deposit", narration="D")
    ledger.post([Line.dr(coa.VAULT_CASH, 1_000_00), Line.cr(society["rd"], 1_000_00)], kind="deposit", narration="R")
    ledger.post([Line.dr(loan, 8_000_00), Line.cr(coa.VAULT_CASH, 8_000_00)], kind="disbursement", narration="L2")
    sb_product = db.session.scalar(select(DepositProduct).where(DepositProduct.kind == "savings"))
    later_sb = _deposit("savings", society["bhim"], 7_000_00, product=sb_product)
    later_sb.opened_on = date(2026, 4, 2)
    uow.commit()
    assert later_sb.balance_paise == 7_000_00
    for slug, (rows, totals) in before.items():
        t = reports.tables.build(slug, on)
        assert (t.rows, t.totals) == (rows, totals), slug
        assert any("as of the end of 01-04-2026" in n for n in t.notes), slug
    assert before["deposits-by-kind"][1] == {"accounts": 4, "balance": 106_000_00}
    assert [(r["name"], r["exposure"]) for r in before["large-exposures"][0]] == [("Bhim", 40_000_00)]
    assert [r["balance"] for r in before["dormant"][0]] == [6_000_00]
    now = reports.tables.build("deposits-by-kind", {})
    assert now.totals == {"accounts": 5, "balance": 106_000_00 + 5_000_00 + 1_000_00 + 7_000_00}
    assert [r["exposure"] for r in reports.tables.build("large-exposures", {}).rows] == [48_000_00]
    assert [r["balance"] for r in reports.tables.build("dormant", {}).rows] == [7_000_00]
