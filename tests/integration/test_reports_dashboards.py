"""Dashboard figures against direct queries, and the rendered dashboards per role."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import GLAccount, JournalLine
from app.models.members import Member
from app.models.users import StaffUser
from app.services import ledger, reports
from app.services.common import uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import new_account, open_books
from tests.factories import make_member

D1, D2 = date(2026, 4, 1), date(2026, 4, 2)


def _sum_under(code: str, on: date, *, since: date | None = None) -> int:
    """Net credit (deposits) or debit (loans) of every account under a heading, by a plain query."""
    parent = db.session.scalar(select(GLAccount.id).where(GLAccount.code == code))
    ids = list(db.session.scalars(select(GLAccount.id).where(GLAccount.parent_id == parent)))
    stmt = select(func.coalesce(func.sum(JournalLine.debit_paise - JournalLine.credit_paise), 0)).where(
        JournalLine.gl_account_id.in_(ids), JournalLine.business_date <= on
    )
    if since:
        stmt = stmt.where(JournalLine.business_date >= since)
    return int(db.session.scalar(stmt))


@pytest.fixture
def society(app, make_user):
    open_books(D1)
    sb = new_account("savings", opening_paise=40_000_00)
    loan = new_account("loan")
    ledger.post([Line.dr(loan, 15_000_00), Line.cr(coa.VAULT_CASH, 15_000_00)], kind="disbursement", narration="L")
    make_member(name="Joined Today").joined_on = D1
    uow.commit()
    ledger.close_day(D1)
    calendar.open_business_day(D2)
    ledger.post([Line.dr(coa.VAULT_CASH, 2_500_00), Line.cr(sb, 2_500_00)], kind="deposit", narration="D2 deposit")
    ledger.post([Line.dr(coa.UPI_SETTLEMENT, 1_000_00), Line.cr(loan, 1_000_00)], kind="repayment",
                narration="UPI EMI", options=ledger.PostOptions(channel="api"))  # fmt: skip
    ledger.post([Line.dr(coa.VAULT_CASH, 123_00), Line.cr(coa.SUSPENSE, 123_00)], kind="journal", narration="unknown")
    clerk = make_user("clerk", username="dash_clerk")
    for name, status in (("Waiting One", "submitted"), ("Waiting Two", "submitted"), ("Not Yet", "pending")):
        make_member(name=name, status="applicant", kyc_status=status, kyc_submitted_by_id=clerk.id)
    uow.commit()
    return {"sb": sb, "loan": loan, "clerk": clerk, "manager": make_user("manager", username="dash_mgr")}


def test_manager_figures_match_direct_queries(society):
    board = reports.dashboards.for_user(society["manager"], D2)
    f = board.figures
    assert f["deposits"].balance == -_sum_under("2100", D2) == 42_500_00
    assert f["deposits"].today == -_sum_under("2100", D2, since=D2) == 2_500_00
    assert f["loans"].balance == _sum_under("1300", D2) == 14_000_00
    assert f["disbursed_month"] == 15_000_00 and f["disbursed_today"] == 0
    assert f["new_members_month"] == db.session.scalar(
        select(func.count()).select_from(Member).where(Member.joined_on.between(date(2026, 4, 1), D2))
    )
    assert f["kyc_waiting"] == 2
    # The manager reviews KYC: what waits for them includes the two submitted KYCs.
    assert f["awaiting_decision"] == 2
    assert f["cash"].closing == ledger.gl_balance(coa.VAULT_CASH) + ledger.gl_balance(coa.TELLER_CASH)
    balances = board.charts["balances"]
    assert balances.labels[-1] == "Apr" and balances.values["Deposits"][-1] == 42_500_00
    assert balances.values["Loans"][-1] == 14_000_00 and balances.values["Deposits"][0] == 0
    channels = dict(zip(board.charts["channels"].labels, board.charts["channels"].values["Collected"], strict=True))
    assert channels == {"api": 1_000_00, "branch": 40_000_00 + 2_500_00}


def test_accountant_and_auditor_figures(society, make_user):
    acct = reports.dashboards.for_user(make_user("accountant", username="dash_acct"), D2).figures
    assert {gl.code: bal for gl, bal in acct["suspense"]}[coa.SUSPENSE] == 123_00
    assert acct["open_day"] == D2 and acct["last_closed"] == D1
    aud = reports.dashboards.for_user(make_user("auditor", username="dash_aud"), D2).figures
    assert aud["trial_balance_agrees"] and aud["balance_sheet_balances"] and aud["reversals_month"] == 0


def test_clerk_and_admin_figures(society, make_user):
    clerk = reports.dashboards.for_user(society["clerk"], D2).figures
    assert (clerk["kyc_to_complete"], clerk["kyc_submitted"]) == (1, 2)
    admin = make_user("admin", username="dash_admin")
    db.session.get(StaffUser, society["clerk"].id).locked_until = utcnow() + timedelta(minutes=10)
    uow.commit()
    figures = reports.dashboards.for_user(admin, D2).figures
    assert figures["users_active"] == db.session.scalar(
        select(func.count()).select_from(StaffUser).where(StaffUser.active.is_(True))
    )
    assert figures["users_locked"] == 1


def test_month_ends_go_back_twelve_months():
    ends = reports.dashboards.month_ends(date(2026, 4, 2))
    assert ends[0] == date(2025, 5, 31) and ends[-2] == date(2026, 3, 31) and ends[-1] == date(2026, 4, 2)
    assert len(ends) == 12 and isinstance(ends[0], date) and not isinstance(ends[0], datetime)


def test_manager_dashboard_page_shows_kyc_waiting_and_an_svg_chart(society, client, login):
    login("manager")
    html = client.get("/").get_data(as_text=True)
    assert 'id="awaiting-decision">2 awaiting your decision' in html
    assert 'id="dash-kyc">2<' in html and 'id="dash-deposits">₹42,500.00' in html
    assert "<svg" in html and 'id="chart-balances"' in html and "<script" not in html.split('id="chart-balances"')[1]


@pytest.mark.parametrize("role, marker", [("cashier", "dash-drawer"), ("clerk", "dash-kyc-todo"),
                                          ("accountant", "dash-suspense"), ("auditor", "dash-checks"),
                                          ("admin", "dash-users")])  # fmt: skip
def test_each_role_sees_its_own_figures(society, client, login, role, marker):
    login(role)
    response = client.get("/")
    assert response.status_code == 200
    assert f'id="{marker}' in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "cashier", "clerk", "accountant", "auditor", "admin"])
def test_dashboards_render_before_the_first_business_day(app, client, login, role):
    login(role)
    response = client.get("/")
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    assert 'id="dashboard-figures"' in response.get_data(as_text=True)
