"""Member-account balances as of a date, set-based, for the reports that take a date.

The ledger snapshots GL balances at each day-end (``ledger.gl_totals``) but keeps no
per-account snapshot: a member account's cached ``balance_paise`` is the sum of all its
lines. So its balance at the end of ``on`` is that balance less its movement after ``on``,
signed as ``ledger.post`` signs it (by the normal side of the line's GL), read through
``ix_journal_lines_account_date``. When ``on`` is the business date no line can be later
and the cached balance is used as it is.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, func, or_, select

from app.extensions import db
from app.models.ledger import Account, GLAccount, JournalLine

from . import statements


def _signed():
    """A line's change to its account's balance, as ``ledger.post`` makes it (by its GL's normal side)."""
    return case(
        (GLAccount.normal_side == "debit", JournalLine.debit_paise - JournalLine.credit_paise),
        else_=JournalLine.credit_paise - JournalLine.debit_paise,
    )


def later_total(on: date, account_ids) -> int:
    """The summed balance change after ``on`` of the accounts whose ids ``account_ids`` (a select) gives."""
    if on >= statements.default_date():
        return 0
    total = db.session.scalar(
        select(func.coalesce(func.sum(_signed()), 0))
        .select_from(JournalLine)
        .join(GLAccount, GLAccount.id == JournalLine.gl_account_id)
        .where(JournalLine.account_id.in_(account_ids), JournalLine.business_date > on)
    )
    return int(total or 0)


def later_movements(on: date, *, kinds: tuple[str, ...]):
    """Subquery (``account_id``, ``delta``): each account's balance change after ``on``; None as of the business date.

    Only accounts of ``kinds`` (``Account.kind``) are read.
    """
    if on >= statements.default_date():
        return None
    return (
        select(JournalLine.account_id.label("account_id"), func.sum(_signed()).label("delta"))
        .join(Account, Account.id == JournalLine.account_id)
        .join(GLAccount, GLAccount.id == JournalLine.gl_account_id)
        .where(JournalLine.business_date > on, Account.kind.in_(kinds))
        .group_by(JournalLine.account_id)
        .subquery()
    )


def balance_column(later):
    """The as-of balance expression for a query joined to ``later`` (see ``join_later``)."""
    if later is None:
        return Account.balance_paise
    return Account.balance_paise - func.coalesce(later.c.delta, 0)


def join_later(stmt, later):
    """``stmt`` (which already selects from ``Account``) left-joined to the later movements."""
    return stmt if later is None else stmt.outerjoin(later, later.c.account_id == Account.id)


def open_at(on: date):
    """Accounts open at the end of ``on``: opened by then and not closed on or before it."""
    return and_(
        or_(Account.opened_on.is_(None), Account.opened_on <= on),
        or_(Account.status != "closed", Account.closed_on > on),
    )


def active_at(on: date):
    """Accounts active at the end of ``on`` as far as the rows tell: active now, or closed only after ``on``."""
    return or_(Account.status == "active", and_(Account.status == "closed", Account.closed_on > on))


def note(on: date) -> str:
    """The line a report prints about its balances."""
    if on >= statements.default_date():
        return "Balances are the accounts' balances at the end of the business date."
    return f"Balances as of the end of {on:%d-%m-%Y}: today's balances less the postings after that date."
