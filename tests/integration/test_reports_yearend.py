"""Year-end on a hand-worked example, and every refusal leaving the books untouched.

FY 2025-26, books from 01-04-2025. Income: loan interest ₹50,000. Expenses: salaries
₹20,000, SB interest ₹5,000. Net profit ₹25,000.
Shares (₹100 each): A 100 from 01-04-2025 (12 months); B 50 from 15-10-2025 (full months
Nov–Mar = 5); C 20 from 01-04-2025 refunded 10-09-2025 (Apr–Aug = 5).
Dividend at 10%: A 10,000 × 12/12 × 10% = ₹1,000.00; B 5,000 × 5/12 × 10% = ₹208.33;
C 2,000 × 5/12 × 10% = ₹83.33; total ₹1,291.66.
Appropriation: statutory reserve 25% = ₹6,250; education fund 1% = ₹250; dividend ₹1,291.66;
carried forward 25,000 − 6,500 − 1,291.66 = ₹17,208.34.
Only A has a savings account: A's ₹1,000 is credited; B's and C's ₹291.66 stay payable.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.members import ShareCertificate
from app.models.reports import DividendLine, YearEndRun
from app.services import ledger, reports
from app.services.common import Conflict, PermissionDenied, ValidationError, approvals, uow
from app.services.ledger import Line, calendar, coa
from app.services.reports import yearend
from tests.conftest import new_account, open_books
from tests.factories import make_member

YEAR_END = date(2026, 3, 31)
FUNDS = {coa.STATUTORY_RESERVE: Decimal("25"), "3303": Decimal("1")}


def _certificate(member, account, shares, issued_on, closed_on=None, first=1):
    db.session.add(
        ShareCertificate(
            certificate_no=f"SC{first:06d}",
            member_id=member.id,
            account_id=account.id,
            shares=shares,
            first_share_no=first,
            last_share_no=first + shares - 1,
            face_value_paise=100_00,
            issued_on=issued_on,
            status="active" if closed_on is None else "refunded",
            closed_on=closed_on,
        )
    )


@pytest.fixture
def year(app, make_user):
    open_books(date(2025, 4, 1))
    a, b, c = make_member(name="Asha"), make_member(name="Bhim"), make_member(name="Chitra")
    sb_a = new_account("savings", opening_paise=0)
    sb_a.member_id = a.id
    for member, shares, issued, closed, first in (
        (a, 100, date(2025, 4, 1), None, 1),
        (b, 50, date(2025, 10, 15), None, 101),
        (c, 20, date(2025, 4, 1), date(2025, 9, 10), 151),
    ):
        share = new_account("share", opening_paise=shares * 100_00 if closed is None else 0)
        share.member_id = member.id
        _certificate(member, share, shares, issued, closed, first)
    ledger.post([Line.dr(coa.VAULT_CASH, 50_000_00), Line.cr(coa.INCOME_LOAN_INTEREST, 50_000_00)],
                kind="repayment", narration="Loan interest for the year")  # fmt: skip
    ledger.post([Line.dr("5201", 20_000_00), Line.cr(coa.VAULT_CASH, 20_000_00)], kind="journal", narration="Salaries")
    ledger.post([Line.dr(coa.EXP_SB_INTEREST, 5_000_00), Line.cr(sb_a, 5_000_00)], kind="interest", narration="SB int")
    uow.commit()
    ledger.close_day(date(2025, 4, 1))
    calendar.open_business_day(YEAR_END)
    uow.commit()
    return {
        "a": a, "b": b, "c": c, "sb_a": sb_a,
        "maker": make_user("accountant", username="acct"), "checker": make_user("manager", username="mgr"),
    }  # fmt: skip


def _new_year() -> None:
    ledger.close_day(YEAR_END)
    calendar.open_business_day(date(2026, 4, 1))
    uow.commit()


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


def test_months_held_counts_whole_months():
    ys, ye = date(2025, 4, 1), YEAR_END
    assert yearend.months_held(date(2020, 1, 1), None, ys, ye) == 12
    assert yearend.months_held(date(2025, 10, 15), None, ys, ye) == 5
    assert yearend.months_held(date(2025, 10, 1), None, ys, ye) == 6
    assert yearend.months_held(date(2025, 4, 1), date(2025, 9, 10), ys, ye) == 5
    assert yearend.months_held(date(2025, 4, 1), date(2025, 9, 1), ys, ye) == 5
    assert yearend.months_held(date(2026, 3, 2), None, ys, ye) == 0
    assert yearend.months_held(date(2024, 4, 1), date(2025, 4, 1), ys, ye) == 0


def test_year_end_on_the_hand_worked_example(year):
    _new_year()
    before_pl = reports.profit_and_loss(date(2025, 4, 1), YEAR_END, comparative=False)
    assert before_pl.net_profit == 25_000_00
    req = yearend.propose(YEAR_END, funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    uow.commit()
    assert _entries() == 5 and req.status == "pending"  # nothing posted before the checker approves
    with pytest.raises(PermissionDenied):
        approvals.approve(req.id, checker=year["maker"])
    approvals.approve(req.id, checker=year["checker"])
    uow.commit()

    run = db.session.scalar(select(YearEndRun))
    assert (run.fy, run.status, run.net_profit_paise) == ("2025-26", "closed", 25_000_00)
    assert run.appropriation == {"3200": 6_250_00, "3303": 250_00, "dividend": 1_291_66, "carried_forward": 17_208_34}
    lines = {d.member_id: d for d in db.session.scalars(select(DividendLine))}
    a, b, c = year["a"], year["b"], year["c"]
    assert {m: (d.dividend_paise, d.status) for m, d in lines.items()} == {
        a.id: (1_000_00, "credited"),
        b.id: (208_33, "payable"),
        c.id: (83_33, "payable"),
    }
    assert lines[a.id].share_paise_months == 10_000_00 * 12 and lines[c.id].paid_up_paise == 0

    closing = db.session.get(JournalEntry, run.closing_entry_id)
    assert sorted((ln.gl_account.code, ln.debit_paise, ln.credit_paise) for ln in closing.lines) == [
        ("3401", 0, 25_000_00), ("4101", 50_000_00, 0), ("5101", 0, 5_000_00), ("5201", 0, 20_000_00),
    ]  # fmt: skip
    assert closing.value_date == YEAR_END and closing.business_date == date(2026, 4, 1)
    appropriation = db.session.get(JournalEntry, run.appropriation_entry_id)
    assert sorted((ln.gl_account.code, ln.debit_paise, ln.credit_paise) for ln in appropriation.lines) == [
        ("2404", 0, 1_291_66), ("3200", 0, 6_250_00), ("3303", 0, 250_00), ("3401", 7_791_66, 0),
    ]  # fmt: skip
    dividend = db.session.get(JournalEntry, run.dividend_entry_id)
    assert sorted((ln.gl_account.code, ln.debit_paise, ln.credit_paise) for ln in dividend.lines) == [
        ("2101", 0, 1_000_00), ("2404", 1_000_00, 0),
    ]  # fmt: skip
    assert year["sb_a"].balance_paise == 6_000_00

    # The new year opens with income and expenses at zero and the profit in reserves.
    opening = reports.balance_sheet(date(2026, 4, 1), comparative=False)
    assert opening.balanced
    by_code = {r.code: r.amount_paise for r in opening.equity_rows + opening.liability_rows}
    assert by_code[coa.STATUTORY_RESERVE] == 6_250_00 and by_code["3303"] == 250_00
    assert by_code[coa.PL_APPROPRIATION] == 17_208_34 and by_code[coa.DIVIDEND_PAYABLE] == 291_66
    assert "P&L" not in by_code  # no unappropriated surplus left
    new_year = reports.profit_and_loss(date(2026, 4, 1), date(2026, 4, 1), comparative=False)
    assert (new_year.total_income, new_year.total_expense) == (0, 0)
    closed_year = reports.profit_and_loss(date(2025, 4, 1), YEAR_END, comparative=False)
    assert closed_year.net_profit == 25_000_00  # the closed year still reads its own figures
    tb = ledger.gl_balances(date(2026, 4, 1))
    assert all(b.net_debit == 0 for b in tb if b.gl.type in ("income", "expense"))
    unclaimed = yearend.unclaimed_dividends()
    assert [(d.dividend_paise, m.name) for d, m, _run in unclaimed] == [(208_33, "Bhim"), (83_33, "Chitra")]

    # Closing the same year again is refused, and posts nothing.
    count = _entries()
    with pytest.raises(Conflict, match="already closed"):
        yearend.propose(YEAR_END, funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    assert _entries() == count


@pytest.mark.parametrize(
    "funds, rate, error, message",
    [
        ({coa.STATUTORY_RESERVE: Decimal("20")}, Decimal("10"), ValidationError, "at least 25%"),
        ({coa.STATUTORY_RESERVE: Decimal("80"), "3303": Decimal("30")}, Decimal("0"), ValidationError, "add up to 110"),
        (FUNDS, Decimal("16"), ValidationError, "above the cap of 15%"),
        ({coa.STATUTORY_RESERVE: Decimal("25"), coa.SB_DEPOSITS: Decimal("5")}, Decimal("0"), ValidationError,
         "not a reserve"),
        ({coa.STATUTORY_RESERVE: Decimal("99.99")}, Decimal("15"), ValidationError, "more than the net profit"),
    ],
)  # fmt: skip
def test_bad_appropriations_are_refused_and_post_nothing(year, funds, rate, error, message):
    _new_year()
    count = _entries()
    with pytest.raises(error, match=message):
        yearend.propose(YEAR_END, funds=funds, dividend_rate=rate, maker=year["maker"])
    assert _entries() == count
    assert approvals.pending("reports.") == []


def test_year_end_refused_with_a_day_of_the_year_open_or_not_on_31_march(year):
    count = _entries()
    with pytest.raises(Conflict, match="31-03-2026 of 2025-26 is still open"):
        yearend.propose(YEAR_END, funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    with pytest.raises(ValidationError, match="ends on 31 March"):
        yearend.propose(date(2026, 3, 30), funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    with pytest.raises(ValidationError, match="no business days in 2024-25"):
        yearend.propose(date(2025, 3, 31), funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    assert _entries() == count


def test_a_second_proposal_while_one_waits_is_refused(year):
    _new_year()
    yearend.propose(YEAR_END, funds=FUNDS, dividend_rate=Decimal("10"), maker=year["maker"])
    uow.commit()
    with pytest.raises(Conflict, match="already awaiting approval"):
        yearend.propose(YEAR_END, funds=FUNDS, dividend_rate=Decimal("5"), maker=year["maker"])
