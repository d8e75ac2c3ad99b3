"""Financial statements: balance sheet balances, P&L = income − expenses, snapshots = full scan, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import GLAccount, JournalEntry, JournalLine
from app.services import ledger, reports
from app.services.common import ValidationError, uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import new_account, open_books

D1 = date(2026, 4, 1)


def next_day(on: date) -> date:
    ledger.close_day(on)
    calendar.open_business_day(on + timedelta(days=1))
    uow.commit()
    return on + timedelta(days=1)


def direct_pl(date_from: date, date_to: date) -> tuple[int, int]:
    """Income and expenses from a plain query over the period's lines (the reference)."""

    def total(type_: str) -> int:
        net = db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.credit_paise - JournalLine.debit_paise), 0))
            .join(GLAccount, GLAccount.id == JournalLine.gl_account_id)
            .where(GLAccount.type == type_, JournalLine.business_date.between(date_from, date_to))
        )
        return int(net)

    return total("income"), -total("expense")


# Each kind of posting the society makes, as (kind, lines builder).
def _postings(sb, loan):
    return [
        ("deposit", [Line.dr(coa.VAULT_CASH, 5_000_00), Line.cr(sb, 5_000_00)]),
        ("withdrawal", [Line.dr(sb, 1_200_50), Line.cr(coa.VAULT_CASH, 1_200_50)]),
        ("disbursement", [Line.dr(loan, 20_000_00), Line.cr(coa.VAULT_CASH, 20_000_00)]),
        (
            "repayment",
            [Line.dr(coa.VAULT_CASH, 2_500_00), Line.cr(loan, 2_000_00), Line.cr(coa.INCOME_LOAN_INTEREST, 500_00)],
        ),
        ("interest", [Line.dr(coa.EXP_SB_INTEREST, 75_00), Line.cr(sb, 75_00)]),
        ("fee", [Line.dr(sb, 50_00), Line.cr(coa.INCOME_SERVICE_CHARGES, 50_00)]),
        ("journal", [Line.dr("5202", 3_000_00), Line.cr(coa.BANK_DCCB, 3_000_00)]),
        ("provision", [Line.dr(coa.EXP_NPA_PROVISION, 1_000_00), Line.cr(coa.NPA_PROVISION, 1_000_00)]),
        ("journal", [Line.dr("1501", 10_000_00), Line.cr(coa.BANK_DCCB, 10_000_00)]),
        ("interest", [Line.dr(coa.BANK_DCCB, 400_00), Line.cr(coa.INCOME_INVESTMENTS, 400_00)]),
    ]


def test_balance_sheet_balances_and_pl_is_income_less_expenses_after_each_kind_of_posting(books):
    sb = new_account("savings", opening_paise=50_000_00)
    loan = new_account("loan")
    ledger.post([Line.dr(coa.BANK_DCCB, 1_00_000_00), Line.cr(coa.SUNDRY_PAYABLE, 1_00_000_00)], kind="opening",
                narration="Bank opening")  # fmt: skip
    uow.commit()
    for kind, lines in _postings(sb, loan):
        ledger.post(lines, kind=kind, narration=f"test {kind}")
        uow.commit()
        bs = reports.balance_sheet(D1)
        assert bs.balanced, (kind, bs.difference)
        assert bs.total_assets == bs.total_liabilities + bs.total_equity
        pl = reports.profit_and_loss(D1, D1)
        income, expense = direct_pl(D1, D1)
        assert (pl.total_income, pl.total_expense, pl.net_profit) == (income, expense, income - expense), kind
        surplus = [r for r in bs.equity_rows if r.code == "P&L"]
        assert (surplus[0].amount_paise if surplus else 0) == pl.net_profit
    # Hand-checked totals: income 500 + 50 + 400 = 950; expenses 75 + 3,000 + 1,000 = 4,075.
    assert (pl.total_income, pl.total_expense, pl.net_profit) == (950_00, 4_075_00, -3_125_00)
    loans = next(s for s in bs.assets if s.key == "loans")
    # Loans 20,000 − 2,000 repaid, less the 1,000 NPA provision netted.
    assert loans.total == 17_000_00
    assert {r.code: r.amount_paise for r in loans.rows}[coa.NPA_PROVISION] == -1_000_00
    deposits = next(s for s in bs.liabilities if s.key == "deposits")
    assert deposits.total == sb.balance_paise == 50_000_00 + 5_000_00 - 1_200_50 + 75_00 - 50_00
    assert next(s for s in bs.assets if s.key == "investments").total == 10_000_00


def test_receipts_and_payments_reconcile_cash_and_bank(books):
    sb = new_account("savings", opening_paise=10_000_00)
    ledger.post([Line.dr(coa.VAULT_CASH, 2_000_00), Line.cr(sb, 2_000_00)], kind="deposit", narration="d")
    ledger.post([Line.dr("5201", 700_00), Line.cr(coa.VAULT_CASH, 700_00)], kind="journal", narration="salary")
    ledger.post([Line.dr(coa.BANK_DCCB, 3_000_00), Line.cr(coa.VAULT_CASH, 3_000_00)], kind="journal",
                narration="cash to bank")  # fmt: skip
    uow.commit()
    day2 = next_day(D1)
    ledger.post([Line.dr(coa.VAULT_CASH, 100_00), Line.cr(coa.INCOME_MISC, 100_00)], kind="fee", narration="misc")
    uow.commit()
    rp = reports.receipts_and_payments(D1, day2)
    assert rp.opening_paise == 0
    assert {r.code: r.amount_paise for r in rp.receipts} == {coa.SB_DEPOSITS: 12_000_00, coa.INCOME_MISC: 100_00}
    assert {r.code: r.amount_paise for r in rp.payments} == {"5201": 700_00}  # cash to bank is neither
    assert rp.closing_paise == 12_000_00 + 100_00 - 700_00
    only_day2 = reports.receipts_and_payments(day2, day2)
    assert only_day2.opening_paise == 11_300_00 and only_day2.closing_paise == 11_400_00


def test_comparative_column_shows_last_year(app):
    open_books(date(2025, 4, 1))
    ledger.post([Line.dr(coa.VAULT_CASH, 900_00), Line.cr(coa.INCOME_MISC, 900_00)], kind="fee", narration="y1")
    uow.commit()
    ledger.close_day(date(2025, 4, 1))
    calendar.open_business_day(date(2026, 4, 1))
    ledger.post([Line.dr(coa.VAULT_CASH, 300_00), Line.cr(coa.INCOME_MISC, 300_00)], kind="fee", narration="y2")
    uow.commit()
    pl = reports.profit_and_loss(date(2026, 4, 1), date(2026, 4, 1))
    row = next(r for r in pl.income if r.code == coa.INCOME_MISC)
    assert (row.amount_paise, row.previous_paise) == (300_00, 900_00)
    assert pl.previous_from == date(2025, 4, 1)
    bs = reports.balance_sheet(date(2026, 4, 1))
    assert bs.previous_date == date(2025, 4, 1)
    cash = next(s for s in bs.assets if s.key == "cash")
    assert (cash.total, cash.previous_total) == (1_200_00, 900_00)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: reports.balance_sheet(date(2026, 3, 31)), "before the society's first business day"),
        (lambda: reports.balance_sheet(date(2026, 4, 2)), "in the future"),
        (lambda: reports.profit_and_loss(date(2026, 4, 1), date(2026, 4, 2)), "in the future"),
        (lambda: reports.profit_and_loss(date(2026, 3, 1), date(2026, 4, 1)), "before the society's first"),
        (lambda: reports.receipts_and_payments(date(2026, 4, 2), date(2026, 4, 1)), "inverted"),
        (lambda: reports.parse_date("01-04-2026", "date"), "use YYYY-MM-DD"),
    ],
)
def test_bad_dates_are_clear_errors(books, call, message):
    with pytest.raises(ValidationError) as info:
        call()
    assert message in info.value.message


# ---------------------------------------------------------------- snapshots == full scan

GL_CHOICES = [coa.VAULT_CASH, coa.BANK_DCCB, coa.INCOME_MISC, "5201", coa.NPA_PROVISION, "1501", coa.STATUTORY_RESERVE]
operations = st.lists(
    st.tuples(
        st.sampled_from(["post", "post", "post", "reverse", "close"]),
        st.integers(0, len(GL_CHOICES) - 1),
        st.integers(0, len(GL_CHOICES) - 1),
        st.integers(1, 5_00_000_00),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations, st.data())
def test_statements_from_snapshots_equal_a_full_scan(app, ops, data):
    db.drop_all()
    db.create_all()
    on = open_books(D1)
    sb = new_account("savings")
    posted: list[JournalEntry] = []
    for op, a, b, amount in ops:
        if op == "close":
            on = next_day(on)
        elif op == "reverse" and posted:
            entry = posted.pop(a % len(posted))
            ledger.reverse(entry, reason="property")
            uow.commit()
        else:
            debit = GL_CHOICES[a]
            credit = GL_CHOICES[b] if a != b else sb
            posted.append(ledger.post([Line.dr(debit, amount), Line.cr(credit, amount)], kind="journal", narration="p"))
            uow.commit()
    days = [D1 + timedelta(days=i) for i in range((on - D1).days + 1)]
    for as_of in days:
        snap = {k: v for k, v in reports.net_debits(as_of).items() if v}
        full = {k: v for k, v in reports.net_debits_full_scan(as_of).items() if v}
        assert snap == full, as_of
        assert reports.balance_sheet(as_of, comparative=False).balanced
    start = data.draw(st.sampled_from(days))
    end = data.draw(st.sampled_from([d for d in days if d >= start]))
    pl = reports.profit_and_loss(start, end, comparative=False)
    assert (pl.total_income, pl.total_expense) == direct_pl(start, end)
