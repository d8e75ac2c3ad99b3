"""The day book and the trial balance of one business date.

Both cost what one day costs however long the journal grows: a day's lines are read through
``ix_journal_lines_date_gl`` (business date, GL, with the amounts and the entry included),
and balances come from the day-end snapshot plus the lines after it (``balances.gl_totals``).
``bench/ledger_growth.py`` times them at 100k and 1M lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.ledger import GLAccount, JournalEntry, JournalLine
from app.pagination import Page, paginate

from . import balances

# ---------------------------------------------------------------- day book


@dataclass
class CashPosition:
    """Cash (every ``is_cash`` GL account) for one business date."""

    opening: int
    receipts: int
    payments: int

    @property
    def closing(self) -> int:
        """Opening plus receipts minus payments."""
        return self.opening + self.receipts - self.payments


@dataclass
class DaySummary:
    """Counts and totals of one business date."""

    on: date
    entries: int
    total_debit: int
    total_credit: int
    cash: CashPosition


@dataclass
class DayBook:
    """A business date's entries (one page) with the day's totals, cash and per-GL summary."""

    summary: DaySummary
    entries: Page
    gl_summary: list[tuple[GLAccount, int, int]]


def cash_position(on: date) -> CashPosition:
    """Cash opening balance, receipts and payments on ``on``.

    An entry's receipt or payment is its net effect on cash, so a transfer between two
    cash accounts (vault to teller) is neither.
    """
    cash_ids = list(db.session.scalars(select(GLAccount.id).where(GLAccount.is_cash.is_(True))))
    if not cash_ids:
        return CashPosition(0, 0, 0)
    before = balances.gl_totals(on - timedelta(days=1))
    opening = sum(before.get(i, (0, 0))[0] - before.get(i, (0, 0))[1] for i in cash_ids)
    per_entry = (
        select(func.sum(JournalLine.debit_paise - JournalLine.credit_paise).label("net"))
        .where(JournalLine.business_date == on, JournalLine.gl_account_id.in_(cash_ids))
        .group_by(JournalLine.entry_id)
        .subquery()
    )
    receipts, payments = db.session.execute(
        select(
            func.coalesce(func.sum(case((per_entry.c.net > 0, per_entry.c.net), else_=0)), 0),
            func.coalesce(func.sum(case((per_entry.c.net < 0, -per_entry.c.net), else_=0)), 0),
        )
    ).one()
    return CashPosition(opening, int(receipts), int(payments))


def day_summary(on: date) -> DaySummary:
    """Entry count, debit and credit totals and the cash position of one business date."""
    count = db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.business_date == on))
    dr, cr = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit_paise), 0), func.coalesce(func.sum(JournalLine.credit_paise), 0)
        ).where(JournalLine.business_date == on)
    ).one()
    return DaySummary(on, int(count or 0), int(dr), int(cr), cash_position(on))


def _day_entries(on: date) -> Select:
    return (
        select(JournalEntry)
        .where(JournalEntry.business_date == on)
        .order_by(JournalEntry.id)
        .options(
            selectinload(JournalEntry.lines).joinedload(JournalLine.gl_account),
            selectinload(JournalEntry.lines).joinedload(JournalLine.account),
        )
    )


def day_book(on: date, *, page: int = 1, per_page: int | None = None) -> DayBook:
    """The day book of ``on``: a page of entries with lines, the day's totals, cash and GL summary."""
    sums = {
        gl_id: (int(dr or 0), int(cr or 0))
        for gl_id, dr, cr in db.session.execute(
            select(JournalLine.gl_account_id, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise))
            .where(JournalLine.business_date == on)
            .group_by(JournalLine.gl_account_id)
        )
    }
    gls = (
        db.session.scalars(select(GLAccount).where(GLAccount.id.in_(list(sums))).order_by(GLAccount.code))
        if sums
        else []
    )
    return DayBook(
        summary=day_summary(on),
        entries=paginate(_day_entries(on), page, per_page),
        gl_summary=[(gl, *sums[gl.id]) for gl in gls],
    )


def day_lines(on: date) -> list[JournalLine]:
    """Every line of ``on`` in entry order (CSV export of the day book)."""
    return list(
        db.session.scalars(
            select(JournalLine)
            .where(JournalLine.business_date == on)
            .order_by(JournalLine.entry_id, JournalLine.id)
            .options(joinedload(JournalLine.entry), joinedload(JournalLine.gl_account), joinedload(JournalLine.account))
        )
    )


# ---------------------------------------------------------------- trial balance


@dataclass
class TrialBalanceRow:
    """A GL account with a non-zero balance, in the debit or the credit column."""

    gl: GLAccount
    debit_paise: int
    credit_paise: int


@dataclass
class TrialBalance:
    """Every GL account with a non-zero balance as of a date, and the column totals."""

    as_of: date
    rows: list[TrialBalanceRow]

    @property
    def total_debit(self) -> int:
        """Sum of the debit column."""
        return sum(r.debit_paise for r in self.rows)

    @property
    def total_credit(self) -> int:
        """Sum of the credit column."""
        return sum(r.credit_paise for r in self.rows)

    @property
    def difference(self) -> int:
        """Debit total minus credit total (zero when the books agree)."""
        return self.total_debit - self.total_credit

    @property
    def balanced(self) -> bool:
        """Whether the two columns agree."""
        return self.difference == 0


def trial_balance(as_of: date) -> TrialBalance:
    """The trial balance as of the end of ``as_of``."""
    rows = []
    for bal in balances.gl_balances(as_of):
        net = bal.net_debit
        if net:
            rows.append(TrialBalanceRow(bal.gl, max(net, 0), max(-net, 0)))
    return TrialBalance(as_of, rows)
