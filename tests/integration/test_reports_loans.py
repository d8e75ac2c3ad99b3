"""Loan reports and the two loan JSON endpoints, against the loans module's own figures.

Loan A: ₹1,00,000 at 12 % for 12 months from 01-04-2026 (EMI 8,884.88), never repaid; on
05-08-2026 four instalments (01-05 … 01-08) are overdue = 35,539.52, DPD 96: sub-standard.
Loan B: ₹50,000 for 12 months from 15-05-2026, first instalment 15-06 unpaid: DPD 51, SMA-1.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.loans import Loan, LoanGuarantor
from app.models.members import Member
from app.models.users import StaffUser
from app.services import loans, reports
from app.services.common import ValidationError, uow
from tests.deposit_helpers import move_to
from tests.integration.loans.helpers import applied, borrower, disbursed, setup_products, staff
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
    # By amount: A (1,00,000, sub-standard) of A + B (1,50,000) = 66.666..% → 6667 basis points (half-up).
    assert trend.unit == "pct" and trend.values["NPA %"][-1] == 6667
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


def _direct(on):
    """Each live loan with its figures computed one by one (the loans module's summary, the loan's own fields)."""
    live = db.session.scalars(select(Loan).where(Loan.status.in_(("active", "disbursed"))).order_by(Loan.id)).all()
    return [(loan, loans.summary(loan, on)) for loan in live]


def _sums(pairs, key):
    out = defaultdict(lambda: [0, 0, 0, 0])
    for loan, s in pairs:
        cell = out[key(loan)]
        cell[0] += 1
        cell[1] += s.outstanding_paise
        cell[2] += s.overdue_paise
        cell[3] += loan.provision_paise
    return {k: tuple(v) for k, v in out.items()}


@pytest.fixture
def mixed_book(book):
    """The book plus a crop loan (agri, other purpose) to Chitra, guaranteed by Asha and Bhim; B part-repaid."""
    a, b = book
    m3, sb3 = borrower(1_00_000_00, name="Chitra")
    c = disbursed(m3, sb3, 30_000_00, 12, product="KCC")
    c.purpose = "Dairy"
    db.session.add_all(
        [LoanGuarantor(loan_id=c.id, member_id=a.member_id), LoanGuarantor(loan_id=c.id, member_id=b.member_id)]
    )
    uow.commit()
    loans.repay(b, 5_000_00, mode="transfer", by=staff("clerk"), from_account_no=_sb_of(b.member_id))
    uow.commit()
    db.session.expire_all()
    return [db.session.get(Loan, x.id) for x in (a, b, c)]


def _sb_of(member_id):
    return db.session.scalar(
        select(Account.account_no).where(Account.member_id == member_id, Account.kind == "savings")
    )


def test_grouped_figures_equal_a_per_loan_computation(mixed_book):
    pairs = _direct(ON)
    assert len(pairs) == 3 and len({loan.product.code for loan, _ in pairs}) == 2
    assert all(s.outstanding_paise > 0 for _, s in pairs) and sum(s.overdue_paise > 0 for _, s in pairs) == 2
    table = reports.tables.build("loans-outstanding", {})
    got = {
        (r["product"], r["purpose"]): (r["loans"], r["outstanding"], r["overdue"], r["provision"]) for r in table.rows
    }
    assert got == _sums(pairs, lambda loan: (loan.product.code, loan.purpose or "—"))
    assert table.totals["outstanding"] == sum(s.outstanding_paise for _, s in pairs)
    officers = {
        r["officer"]: (r["loans"], r["outstanding"], r["overdue"])
        for r in reports.tables.build("loans-officer", {}).rows
    }
    by_officer = _sums(pairs, lambda loan: f"{loan_officer(loan).full_name} ({loan_officer(loan).username})")
    assert officers == {k: v[:3] for k, v in by_officer.items()}
    buckets = {
        r["bucket"]: (r["loans"], r["outstanding"], r["overdue"]) for r in reports.tables.build("loans-dpd", {}).rows
    }
    for label, low, high in reports.loans.DPD_BUCKETS:
        inside = [(ln, s) for ln, s in pairs if ln.dpd >= low and (high is None or ln.dpd <= high)]
        assert buckets[label] == (
            len(inside),
            sum(s.outstanding_paise for _, s in inside),
            sum(s.overdue_paise for _, s in inside),
        )
    prov = {
        r["class"]: (r["loans"], r["outstanding"], r["provision"])
        for r in reports.tables.build("npa-provisioning", {}).rows
    }
    by_class = _sums(pairs, lambda loan: loan.asset_class_label)
    assert prov == {k: (v[0], v[1], v[3]) for k, v in by_class.items()}
    sector = {
        r["sector"]: (r["loans"], r["outstanding"], r["npa"]) for r in reports.tables.build("loans-sector", {}).rows
    }
    expected = defaultdict(lambda: [0, 0, 0])
    for loan, s in pairs:
        cell = expected[reports.loans.SECTORS.get(loan.product.kind, "Other")]
        cell[0], cell[1] = cell[0] + 1, cell[1] + s.outstanding_paise
        cell[2] += s.outstanding_paise if loan.is_npa else 0
    assert sector == {k: tuple(v) for k, v in expected.items()} and "Agriculture" in sector
    guarantors = {
        r["member_no"]: (r["loans"], r["outstanding"], r["overdue"])
        for r in reports.tables.build("guarantor-exposure", {}).rows
    }
    by_guarantor = defaultdict(lambda: [0, 0, 0])
    for loan, s in pairs:
        for g in loan.guarantors:
            cell = by_guarantor[db.session.get(Member, g.member_id).member_no]
            cell[0], cell[1], cell[2] = cell[0] + 1, cell[1] + s.outstanding_paise, cell[2] + s.overdue_paise
    assert guarantors == {k: tuple(v) for k, v in by_guarantor.items()} and len(guarantors) == 2
    quality = reports.loans.quality(ON)
    assert (quality["outstanding"], quality["overdue"], quality["npa"]) == (
        sum(s.outstanding_paise for _, s in pairs), sum(s.overdue_paise for _, s in pairs),
        sum(s.outstanding_paise for ln, s in pairs if ln.is_npa),
    )  # fmt: skip
    rows = {r["loan_no"]: r for r in reports.loans.outstanding(ON)}
    assert {n: (r["outstanding_principal"], r["overdue"]) for n, r in rows.items()} == {
        ln.loan_no: (s.outstanding_paise, s.overdue_paise) for ln, s in pairs
    }


def loan_officer(loan):
    return db.session.get(StaffUser, loan.sanctioned_by_id)


def test_basis_points_round_half_up():
    bp = reports.loans.basis_points
    assert (bp(1, 20_000), bp(1, 3), bp(2, 3), bp(1, 8), bp(5, 0)) == (1, 3333, 6667, 1250, 0)


def test_npa_trend_is_by_amount_from_balances_at_each_month_end(book):
    """Hand-worked: at 31-08 A (1,00,000, NPA since 05-08) of A + B (1,50,000) → 6667 bp.

    A repayment of A on 02-09 must not move the 31-08 point; the 02-09 point uses A's balance after it.
    """
    a, _b = book
    move_to(date(2026, 9, 2))
    loans.repay(a, 20_000_00, mode="transfer", by=staff("clerk"), from_account_no=_sb_of(a.member_id))
    uow.commit()
    db.session.expire_all()
    a = db.session.get(Loan, a.id)
    assert a.outstanding_paise < 1_00_000_00
    trend = reports.dashboards.npa_trend(date(2026, 9, 2))
    points = dict(zip(trend.labels, trend.values["NPA %"], strict=True))
    assert (points["Jul"], points["Aug"]) == (0, 6667)
    assert points["Sep"] == reports.loans.basis_points(a.outstanding_paise, a.outstanding_paise + 50_000_00)
    assert reports.loans.npa_amounts(date(2026, 8, 31)) == (1_00_000_00, 1_50_000_00)
    assert reports.loans.npa_amounts(date(2026, 5, 31)) == (0, 1_50_000_00)  # B disbursed 15-05, nothing NPA


def test_loans_outstanding_as_of_a_date_ignores_later_postings(book):
    a, b = book
    before = {r["loan_no"]: r["outstanding_principal"] for r in reports.loans.outstanding(date(2026, 8, 4))}
    table_before = reports.tables.build("loans-outstanding", {"date": "2026-08-04"}).totals
    move_to(date(2026, 8, 6))
    loans.repay(a, 20_000_00, mode="transfer", by=staff("clerk"), from_account_no=_sb_of(a.member_id))
    uow.commit()
    db.session.expire_all()
    assert db.session.get(Loan, a.id).outstanding_paise < 1_00_000_00
    after = {r["loan_no"]: r["outstanding_principal"] for r in reports.loans.outstanding(date(2026, 8, 4))}
    assert after == before == {a.loan_no: 1_00_000_00, b.loan_no: 50_000_00}
    table_after = reports.tables.build("loans-outstanding", {"date": "2026-08-04"})
    assert table_after.totals["outstanding"] == table_before["outstanding"] == 1_50_000_00
    assert any("as of now" in n for n in table_after.notes)
    now = reports.tables.build("loans-outstanding", {}).totals["outstanding"]
    assert now == db.session.get(Loan, a.id).outstanding_paise + 50_000_00
