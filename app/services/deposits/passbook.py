"""Passbook / statement of member accounts: lines over a date range with an opening balance,
a running balance, narration and mode, paged.

The running balance is a SQL window sum over the account's lines in the range (ordered by
business date and line id) plus the balance brought forward, so any page is correct on its
own without reading the pages before it. Balances are on the account's normal side
(credits increase a deposit; debits increase a loan).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, exists, func, select

from app.extensions import db
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.money import format_plain

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MODE_BY_KIND = {
    "interest": "Interest",
    "tds": "TDS",
    "fee": "Charges",
    "charge": "Charges",
    "maturity": "Transfer",
    "payout": "Transfer",
    "transfer": "Transfer",
    "reversal": "Reversal",
    "opening": "Opening",
    "dividend": "Dividend",
    "payment": "Online",
}


@dataclass(frozen=True)
class StatementLine:
    line_id: int
    account_no: str
    business_date: date
    value_date: date
    entry_no: str
    kind: str
    channel: str
    mode: str
    narration: str
    debit_paise: int
    credit_paise: int
    balance_paise: int


@dataclass
class Statement:
    account: Account | None
    start: date | None
    end: date | None
    opening_paise: int
    closing_paise: int
    lines: list[StatementLine]
    page: int
    per_page: int
    total: int
    debits_paise: int = 0
    credits_paise: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def mode_of(kind: str, has_cash: bool, channel: str) -> str:
    """How a line came about, for the passbook's mode column."""
    if has_cash:
        return "Cash"
    if kind in MODE_BY_KIND:
        return MODE_BY_KIND[kind]
    if channel in ("api", "portal"):
        return "Online"
    return "Transfer" if kind in ("deposit", "withdrawal") else kind.title()


def _signed():
    """A line's effect on its account's balance: credit − debit for deposits, debit − credit for loans."""
    return case(
        (GLAccount.normal_side == "credit", JournalLine.credit_paise - JournalLine.debit_paise),
        else_=JournalLine.debit_paise - JournalLine.credit_paise,
    )


def balance_before(account_ids: Sequence[int], start: date | None) -> dict[int, int]:
    """Each account's balance at the close of the day before ``start`` (0 without a start)."""
    if start is None or not account_ids:
        return dict.fromkeys(account_ids, 0)
    rows = db.session.execute(
        select(JournalLine.account_id, func.sum(_signed()))
        .join(Account, Account.id == JournalLine.account_id)
        .join(GLAccount, GLAccount.id == Account.control_gl_id)
        .where(JournalLine.account_id.in_(account_ids), JournalLine.business_date < start)
        .group_by(JournalLine.account_id)
    ).all()
    out = dict.fromkeys(account_ids, 0)
    out.update({a: int(v or 0) for a, v in rows})
    return out


def _lines_query(ids: list[int], start: date | None, end: date | None):
    """The accounts' journal lines in the range, each with its running sum (a subquery)."""
    cash_gl = select(GLAccount.id).where(GLAccount.is_cash.is_(True)).scalar_subquery()
    other = JournalLine.__table__.alias("other")
    has_cash = exists().where(and_(other.c.entry_id == JournalLine.entry_id, other.c.gl_account_id.in_(cash_gl)))
    signed = _signed()
    running = func.sum(signed).over(
        partition_by=JournalLine.account_id, order_by=(JournalLine.business_date, JournalLine.id)
    )
    conditions = [JournalLine.account_id.in_(ids)]
    if start is not None:
        conditions.append(JournalLine.business_date >= start)
    if end is not None:
        conditions.append(JournalLine.business_date <= end)
    return (
        select(
            JournalLine.id.label("line_id"),
            JournalLine.account_id.label("account_id"),
            JournalLine.business_date.label("business_date"),
            JournalLine.debit_paise.label("debit"),
            JournalLine.credit_paise.label("credit"),
            JournalLine.narration.label("line_narration"),
            JournalEntry.id.label("entry_id"),
            JournalEntry.value_date.label("value_date"),
            JournalEntry.kind.label("kind"),
            JournalEntry.channel.label("channel"),
            JournalEntry.narration.label("narration"),
            has_cash.label("has_cash"),
            running.label("running"),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(Account, Account.id == JournalLine.account_id)
        .join(GLAccount, GLAccount.id == Account.control_gl_id)
        .where(*conditions)
        .subquery()
    )


def transactions(
    accounts: Sequence[Account],
    start: date | None = None,
    end: date | None = None,
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    newest_first: bool = False,
) -> Statement:
    """Lines of one or more accounts in a date range, each with its account's running balance."""
    per_page = max(1, min(int(per_page or DEFAULT_PER_PAGE), MAX_PER_PAGE))
    page = max(1, int(page or 1))
    ids = [a.id for a in accounts]
    opening = balance_before(ids, start)
    inner = _lines_query(ids, start, end)
    total, debits, credits = db.session.execute(
        select(func.count(), func.coalesce(func.sum(inner.c.debit), 0), func.coalesce(func.sum(inner.c.credit), 0))
    ).one()
    order = (
        (inner.c.business_date.desc(), inner.c.line_id.desc())
        if newest_first
        else (inner.c.business_date, inner.c.line_id)
    )
    rows = db.session.execute(select(inner).order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    numbers = {a.id: a.account_no for a in accounts}
    lines = [
        StatementLine(
            line_id=r.line_id,
            account_no=numbers[r.account_id],
            business_date=r.business_date,
            value_date=r.value_date,
            entry_no=f"JE{r.entry_id:08d}",
            kind=r.kind,
            channel=r.channel,
            mode=mode_of(r.kind, bool(r.has_cash), r.channel),
            narration=r.line_narration or r.narration,
            debit_paise=int(r.debit),
            credit_paise=int(r.credit),
            balance_paise=opening[r.account_id] + int(r.running),
        )
        for r in rows
    ]
    single = accounts[0] if len(accounts) == 1 else None
    opening_total = sum(opening.values())
    closing = opening_total
    if single is not None:
        net = int(credits) - int(debits)
        closing = opening_total + (net if single.control_gl.normal_side == "credit" else -net)
    return Statement(
        account=single,
        start=start,
        end=end,
        opening_paise=opening_total,
        closing_paise=closing,
        lines=lines,
        page=page,
        per_page=per_page,
        total=int(total),
        debits_paise=int(debits),
        credits_paise=int(credits),
    )


def statement(
    account: Account,
    start: date | None = None,
    end: date | None = None,
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Statement:
    """One account's passbook page for a date range (oldest first), with opening and closing balance."""
    return transactions([account], start, end, page=page, per_page=per_page)


def csv_text(stmt: Statement, all_lines: Sequence[StatementLine] | None = None) -> str:
    """The statement as CSV (amounts in rupees with two decimals, no grouping)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Value date", "Entry", "Account", "Narration", "Mode", "Debit", "Credit", "Balance"])
    if stmt.start is not None:
        writer.writerow([stmt.start.isoformat(), "", "", "", "Opening balance", "", "", "", _plain(stmt.opening_paise)])
    for ln in all_lines if all_lines is not None else stmt.lines:
        writer.writerow(
            [
                ln.business_date.isoformat(),
                ln.value_date.isoformat(),
                ln.entry_no,
                ln.account_no,
                ln.narration,
                ln.mode,
                _plain(ln.debit_paise) if ln.debit_paise else "",
                _plain(ln.credit_paise) if ln.credit_paise else "",
                _plain(ln.balance_paise),
            ]
        )
    return out.getvalue()


def _plain(paise: int) -> str:
    return format_plain(paise).replace(",", "")


def all_lines(account: Account, start: date | None, end: date | None) -> tuple[Statement, list[StatementLine]]:
    """Every line of the range (for CSV and the printable passbook), in pages of MAX_PER_PAGE."""
    first = statement(account, start, end, page=1, per_page=MAX_PER_PAGE)
    lines = list(first.lines)
    for page in range(2, first.pages + 1):
        lines.extend(statement(account, start, end, page=page, per_page=MAX_PER_PAGE).lines)
    return first, lines
