"""Loan reports and the two loan JSON endpoints, against the loans module's own figures.

Loan A: ₹1,00,000 at 12 % for 12 months from 01-04-2026 (EMI 8,884.88), never repaid; on
05-08-2026 four instalments (01-05 … 01-08) are overdue = 35,539.52, DPD 96: sub-standard.
Loan B: ₹50,000 for 12 months from 15-05-2026, first instalment 15-06 unpaid: DPD 51, SMA-1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.loans import Loan, LoanGuarantor
from app.models.members import Member
from app.services import loans, reports
from app.services.common import ValidationError, uow
from tests.deposit_helpers import move_to
from tests.integration.loans.helpers import applied, borrower, disbursed, setup_products
from tests.web.test_reports_web import token_for

ON = date(2026, 8, 5)


@pytest.fixture
def book(books):
    setup_products()
    m1, sb1 = borrower(2_00_000_00, name="Asha")
    loan_a = disbursed(m1, sb1, 1_00_000_00, 12)
    move_to(date(2026, 5, 15))
    m2, sb2 = borrower(1_00_000_00, name="Bhim")
    loan_b = disbursed(m2, sb2, 50_000_00, 12)
    db.session.add(LoanGuarantor(loan_id=loan_b.id, member_id=m1.id))
    uow.commit()
    move_to(ON)
    loans.update_dpd(ON)
    loans.classify_assets(ON)
    loans.post_provisions(ON)
    uow.commit()
    db.session.expire_all()
    return db.session.get(Loan, loan_a.id), db.session.get(Loan, loan_b.id)


def test_outstanding_rows_match_the_loans_module(book):
    a, b = book
    rows = {r["loan_no"]: r for r in reports.loans.outstanding(ON)}
    assert set(rows) == {a.loan_no, b.loan_no}
    for loan in (a, b):
        s = loans.summary(loan, ON)
        r = rows[loan.loan_no]
        assert (r["outstanding_principal"], r["overdue"], r["dpd"], r["asset_class"], r["provision"]) == (
            s.outstanding_paise, s.overdue_paise, loan.dpd, loan.asset_class, loan.provision_paise,
        )  # fmt: skip
    assert rows[a.loan_no]["overdue"] == 4 * 8884_88 and rows[a.loan_no]["dpd"] == 96
    assert rows[a.loan_no]["asset_class"] == "substandard" and rows[b.loan_no]["asset_class"] == "sma1"
    assert [r["loan_no"] for r in reports.loans.outstanding(ON, npa_only=True)] == [a.loan_no]
    # Before B was disbursed only A is on the books.
    assert [r["loan_no"] for r in reports.loans.outstanding(date(2026, 5, 14))] == [a.loan_no]


def test_portfolio_tables(book):
    a, b = book
    dpd = {r["bucket"]: (r["loans"], r["outstanding"]) for r in reports.tables.build("loans-dpd", {}).rows}
    assert dpd["Over 90 (NPA)"] == (1, a.outstanding_paise) and dpd["31–60 (SMA-1)"] == (1, b.outstanding_paise)
    prov = reports.tables.build("npa-provisioning", {})
    sub = next(r for r in prov.rows if r["npa"])
    assert sub["provision"] == a.provision_paise > 0 and sub["cover"] == reports.tables.pct(
        a.provision_paise, a.outstanding_paise
    )
    guarantors = reports.tables.build("guarantor-exposure", {}).rows
    assert [(g["name"], g["outstanding"]) for g in guarantors] == [("Asha", b.outstanding_paise)]
    officers = reports.tables.build("loans-officer", {}).rows
    assert [(o["loans"], o["outstanding"]) for o in officers] == [(2, a.outstanding_paise + b.outstanding_paise)]
    sector = reports.tables.build("loans-sector", {})
    assert sector.totals["outstanding"] == a.outstanding_paise + b.outstanding_paise
    dcb = reports.tables.build("loans-dcb", {"date": "2026-08-05"})
    assert dcb.totals["collected"] == 0 and dcb.totals["demand"] > 0
    trend = reports.dashboards.npa_trend(ON)
    assert trend.unit == "pct" and trend.values["NPA %"][-1] == 5000  # one of two loans
    assert trend.values["NPA %"][-2] == 0  # 31-07: A was classified sub-standard only on 05-08
    m3, _sb3 = borrower(50_000_00, name="Chitra")
    applied(m3, 20_000_00, 6)
    assert reports.loans.applications_waiting() == {"applied": 1, "appraised": 0, "sanctioned": 0}
    board = reports.dashboards.loan_quality(ON)
    assert board["npa_pct"] == reports.tables.pct(a.outstanding_paise, a.outstanding_paise + b.outstanding_paise)
    with pytest.raises(ValidationError, match="in the future"):
        reports.loans.outstanding(date(2026, 9, 1))


def test_loan_json_endpoints(book, client, make_user):
    a, b = book
    headers = token_for(client, make_user, "manager")
    body = client.get("/api/v1/reports/loans-outstanding", headers=headers).get_json()
    row = next(r for r in body["loans"] if r["loan_no"] == a.loan_no)
    assert row == {
        "loan_no": a.loan_no, "member_no": db.session.get(Member, a.member_id).member_no,
        "product_code": a.product.code, "outstanding_principal": "100000.00", "overdue": "35539.52", "dpd": 96,
        "asset_class": "substandard", "provision": f"{Decimal(a.provision_paise) / 100:.2f}",
    }  # fmt: skip
    npa = client.get("/api/v1/reports/npa?date=2026-08-05", headers=headers).get_json()
    assert [r["loan_no"] for r in npa["loans"]] == [a.loan_no]
    assert client.get("/api/v1/reports/npa?date=2030-01-01", headers=headers).status_code == 422
    assert db.session.scalar(select(Loan.id).where(Loan.loan_no == b.loan_no))
