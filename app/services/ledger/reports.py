"""Ledger reads for the screens and the API: chart tree, journal search, GL statement, day book, trial balance.

Pure reads over the journal: nothing here writes or commits. Balances come from
``ledger.gl_totals`` (day-end snapshot plus later lines), so reports stay fast as the
ledger grows. Amounts are integer paise; "net debit" is debits minus credits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.money import MoneyError, parse_amount
from app.pagination import Page, paginate

from . import balances, calendar
from . import posting as ledger
from .daybook import (  # noqa: F401  (the day book and trial balance live there)
    CashPosition,
    DayBook,
    DaySummary,
    TrialBalance,
    TrialBalanceRow,
    cash_position,
    day_book,
    day_lines,
    day_summary,
    trial_balance,
)

ENTRY_NO = re.compile(r"^\s*(?:JE)?0*(\d{1,15})\s*$", re.IGNORECASE)


# ---------------------------------------------------------------- small helpers


def business_date() -> date | None:
    """The open business date, or None when no day is open."""
    return calendar.business_date_or_none()


def default_date() -> date:
    """The open business date, or today when no day is open."""
    return calendar.business_date_or_today()


def parse_date(raw: str | None, name: str, errors: dict[str, list[str]]) -> date | None:
    """An ISO date from user input; records a field error (and returns None) when malformed."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.setdefault(name, []).append(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-04-01.")
        return None


def parse_entry_no(text: str | None) -> int | None:
    """The entry id in ``JE00000012`` (or ``12``); None when it is not an entry number."""
    match = ENTRY_NO.match(text or "")
    return int(match.group(1)) if match else None


def gl_by_code(code: str) -> GLAccount | None:
    """The GL account with this code, or None."""
    return db.session.scalar(select(GLAccount).where(GLAccount.code == (code or "").strip()))


def gl_subtree_ids(gl: GLAccount) -> list[int]:
    """The ids of ``gl`` and every account below it in the chart."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for gl_id, parent_id in db.session.execute(select(GLAccount.id, GLAccount.parent_id)):
        children[parent_id].append(gl_id)
    out, stack = [], [gl.id]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, []))
    return out


def gl_names(codes: Iterable[str] | None = None) -> dict[str, str]:
    """GL code → name (all accounts, or only ``codes``)."""
    stmt = select(GLAccount.code, GLAccount.name)
    if codes is not None:
        stmt = stmt.where(GLAccount.code.in_(set(codes)))
    return dict(db.session.execute(stmt).all())


def manual_gl_accounts() -> list[GLAccount]:
    """Accounts a manual journal voucher may use: active, postable, not control, manual allowed."""
    return list(
        db.session.scalars(
            select(GLAccount)
            .where(
                GLAccount.active.is_(True),
                GLAccount.allow_manual.is_(True),
                GLAccount.is_group.is_(False),
                GLAccount.is_control.is_(False),
            )
            .order_by(GLAccount.code)
        )
    )


def group_accounts() -> list[GLAccount]:
    """Heading (group) accounts, for choosing a new account's parent."""
    return list(db.session.scalars(select(GLAccount).where(GLAccount.is_group.is_(True)).order_by(GLAccount.code)))


def entry_kinds() -> list[str]:
    """Every journal entry kind, sorted (for filters)."""
    return sorted(ledger.KINDS)


# ---------------------------------------------------------------- chart of accounts


@dataclass
class TreeRow:
    """One chart-of-accounts row: own lines plus (for headings) everything below it."""

    gl: GLAccount
    depth: int
    debit_paise: int = 0
    credit_paise: int = 0
    pending: list[ApprovalRequest] = field(default_factory=list)

    @property
    def net_debit(self) -> int:
        """Debits minus credits."""
        return self.debit_paise - self.credit_paise

    @property
    def balance_paise(self) -> int:
        """Balance on the account's normal side."""
        return self.net_debit * self.gl.sign


def pending_gl_changes() -> list[ApprovalRequest]:
    """Chart-of-accounts change requests awaiting a checker."""
    return list(
        db.session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.kind == "ledger.coa", ApprovalRequest.status == "pending")
            .options(selectinload(ApprovalRequest.maker))
            .order_by(ApprovalRequest.id)
        )
    )


def pending_for_gl(gl: GLAccount) -> list[ApprovalRequest]:
    """Pending change requests that concern one GL account."""
    return [
        req
        for req in pending_gl_changes()
        if req.entity_id in {str(gl.id), gl.code} and req.payload.get("action") != "create"
    ]


def chart_tree(as_of: date | None = None) -> list[TreeRow]:
    """The chart in tree order (depth-first by code) with balances; headings carry group totals."""
    totals = balances.gl_totals(as_of)
    accounts = list(db.session.scalars(select(GLAccount).order_by(GLAccount.code)))
    ids = {gl.id for gl in accounts}
    children: dict[int | None, list[GLAccount]] = defaultdict(list)
    for gl in accounts:
        children[gl.parent_id if gl.parent_id in ids else None].append(gl)
    pending: dict[str, list[ApprovalRequest]] = defaultdict(list)
    for req in pending_gl_changes():
        if req.payload.get("action") != "create" and req.entity_id:
            pending[req.entity_id].append(req)

    out: list[TreeRow] = []

    def walk(gl: GLAccount, depth: int) -> TreeRow:
        dr, cr = totals.get(gl.id, (0, 0))
        row = TreeRow(gl, depth, dr, cr, pending.get(str(gl.id), []))
        out.append(row)
        for child in children.get(gl.id, []):
            sub = walk(child, depth + 1)
            row.debit_paise += sub.debit_paise
            row.credit_paise += sub.credit_paise
        return row

    for root in children.get(None, []):
        walk(root, 0)
    return out


# ---------------------------------------------------------------- journal search


@dataclass
class JournalFilter:
    """Journal search criteria (all optional)."""

    date_from: date | None = None
    date_to: date | None = None
    kind: str | None = None
    gl_code: str | None = None
    account_no: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    text: str | None = None


def _amount(raw: str | None, name: str, errors: dict[str, list[str]]) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return parse_amount(text, allow_zero=True, field=name)
    except MoneyError as exc:
        errors.setdefault(name, []).append(str(exc).split(": ", 1)[-1])
        return None


def parse_journal_filter(args: Mapping[str, str]) -> tuple[JournalFilter, dict[str, list[str]]]:
    """Read ``from, to, kind, gl, account_no, min, max, q`` from query arguments; field errors alongside."""
    errors: dict[str, list[str]] = {}
    f = JournalFilter(
        date_from=parse_date(args.get("from"), "from", errors),
        date_to=parse_date(args.get("to"), "to", errors),
        kind=(args.get("kind") or "").strip() or None,
        gl_code=(args.get("gl") or "").strip() or None,
        account_no=(args.get("account_no") or "").strip().upper() or None,
        amount_min=_amount(args.get("min"), "min", errors),
        amount_max=_amount(args.get("max"), "max", errors),
        text=(args.get("q") or "").strip()[:100] or None,
    )
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors.setdefault("to", []).append("The end date is before the start date.")
    if f.kind and f.kind not in ledger.KINDS:
        errors.setdefault("kind", []).append(f"Unknown entry kind {f.kind!r}.")
    if f.gl_code and gl_by_code(f.gl_code) is None:
        errors.setdefault("gl", []).append(f"No GL account {f.gl_code}.")
    if f.amount_min is not None and f.amount_max is not None and f.amount_min > f.amount_max:
        errors.setdefault("max", []).append("The maximum is below the minimum.")
    return f, errors


def journal_query(f: JournalFilter) -> Select:
    """Entries matching ``f``, newest first (amount filters apply to the entry total)."""
    stmt = select(JournalEntry).order_by(JournalEntry.id.desc())
    if f.date_from:
        stmt = stmt.where(JournalEntry.business_date >= f.date_from)
    if f.date_to:
        stmt = stmt.where(JournalEntry.business_date <= f.date_to)
    if f.kind:
        stmt = stmt.where(JournalEntry.kind == f.kind)
    if f.gl_code:
        gl = gl_by_code(f.gl_code)
        ids = gl_subtree_ids(gl) if gl is not None else []
        stmt = stmt.where(exists().where(JournalLine.entry_id == JournalEntry.id, JournalLine.gl_account_id.in_(ids)))
    if f.account_no:
        stmt = stmt.where(
            exists()
            .where(JournalLine.entry_id == JournalEntry.id)
            .where(JournalLine.account_id == Account.id, Account.account_no == f.account_no)
        )
    if f.amount_min is not None:
        stmt = stmt.where(JournalEntry.total_paise >= f.amount_min)
    if f.amount_max is not None:
        stmt = stmt.where(JournalEntry.total_paise <= f.amount_max)
    if f.text:
        entry_id = parse_entry_no(f.text) if f.text.upper().startswith("JE") else None
        if entry_id is not None:
            stmt = stmt.where(JournalEntry.id == entry_id)
        else:
            stmt = stmt.where(
                or_(
                    JournalEntry.narration.icontains(f.text, autoescape=True),
                    JournalEntry.reference.icontains(f.text, autoescape=True),
                )
            )
    return stmt


def _with_people(stmt: Select) -> Select:
    return stmt.options(selectinload(JournalEntry.posted_by), selectinload(JournalEntry.approved_by))


def search_journal(f: JournalFilter, page: int = 1, per_page: int | None = None) -> Page:
    """One page of matching entries (with who posted and approved them loaded)."""
    return paginate(_with_people(journal_query(f)), page, per_page)


def all_journal(f: JournalFilter) -> list[JournalEntry]:
    """Every matching entry, newest first (CSV export)."""
    return list(db.session.scalars(_with_people(journal_query(f))))


def reversals_of(entry_ids: Iterable[int]) -> dict[int, JournalEntry]:
    """Original entry id → the entry that reversed it, for those that were reversed."""
    ids = list(entry_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(JournalEntry).where(JournalEntry.reverses_id.in_(ids)))
    return {row.reverses_id: row for row in rows if row.reverses_id is not None}


@dataclass
class EntryDetail:
    """One entry with its lines, reversal links and any reversal awaiting approval."""

    entry: JournalEntry
    lines: list[JournalLine]
    reversed_by: JournalEntry | None
    pending_reversal: ApprovalRequest | None

    @property
    def total_debit(self) -> int:
        """Sum of the debit lines."""
        return sum(ln.debit_paise for ln in self.lines)

    @property
    def total_credit(self) -> int:
        """Sum of the credit lines."""
        return sum(ln.credit_paise for ln in self.lines)


def entry_detail(entry_no: str) -> EntryDetail | None:
    """The entry numbered ``entry_no`` (``JE00000012``), or None."""
    entry_id = parse_entry_no(entry_no)
    if entry_id is None:
        return None
    entry = db.session.scalar(
        select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(
            selectinload(JournalEntry.lines).joinedload(JournalLine.gl_account),
            selectinload(JournalEntry.lines).joinedload(JournalLine.account),
        )
    )
    if entry is None:
        return None
    pending = db.session.scalar(
        select(ApprovalRequest).where(
            ApprovalRequest.kind == "ledger.reversal",
            ApprovalRequest.status == "pending",
            ApprovalRequest.entity_id == str(entry.id),
        )
    )
    return EntryDetail(entry, list(entry.lines), ledger.reversal_of(entry), pending)


# ---------------------------------------------------------------- GL statement


@dataclass
class StatementLine:
    """A statement line with the running balance after it."""

    line: JournalLine
    net_debit_after: int  # running debits minus credits
    balance_paise: int  # the same on the account's normal side


@dataclass
class Statement:
    """A GL account's lines over a date range, with opening, running and closing balances."""

    gl: GLAccount
    date_from: date
    date_to: date
    opening_net_debit: int
    total_debit: int
    total_credit: int
    lines: list[StatementLine]
    page: Page | None = None
    brought_forward_net_debit: int = 0
    includes_children: bool = False

    @property
    def closing_net_debit(self) -> int:
        """Closing debits minus credits."""
        return self.opening_net_debit + self.total_debit - self.total_credit

    @property
    def opening_paise(self) -> int:
        """Opening balance on the account's normal side."""
        return self.opening_net_debit * self.gl.sign

    @property
    def closing_paise(self) -> int:
        """Closing balance on the account's normal side."""
        return self.closing_net_debit * self.gl.sign


def gl_statement(
    gl: GLAccount, date_from: date, date_to: date, *, page: int | None = None, per_page: int | None = None
) -> Statement:
    """Lines of ``gl`` (and, for a heading, every account under it) from ``date_from`` to ``date_to``.

    With ``page`` only that page of lines is loaded; the running balance starts from the
    balance brought forward to the page's first line.
    """
    ids = gl_subtree_ids(gl)
    before = balances.gl_totals(date_from - timedelta(days=1))
    opening = sum(before.get(i, (0, 0))[0] - before.get(i, (0, 0))[1] for i in ids)
    in_range = (
        JournalLine.gl_account_id.in_(ids),
        JournalLine.business_date >= date_from,
        JournalLine.business_date <= date_to,
    )
    dr, cr = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit_paise), 0), func.coalesce(func.sum(JournalLine.credit_paise), 0)
        ).where(*in_range)
    ).one()
    order = (JournalLine.business_date, JournalLine.entry_id, JournalLine.id)
    stmt = (
        select(JournalLine)
        .where(*in_range)
        .order_by(*order)
        .options(joinedload(JournalLine.entry), joinedload(JournalLine.gl_account), joinedload(JournalLine.account))
    )
    page_obj: Page | None = None
    brought_forward = opening
    if page is not None:
        page_obj = paginate(stmt, page, per_page)
        offset = (page_obj.page - 1) * page_obj.per_page
        if offset:
            earlier = (
                select((JournalLine.debit_paise - JournalLine.credit_paise).label("net"))
                .where(*in_range)
                .order_by(*order)
                .limit(offset)
                .subquery()
            )
            brought_forward += int(db.session.scalar(select(func.coalesce(func.sum(earlier.c.net), 0))) or 0)
        rows = page_obj.items
    else:
        rows = list(db.session.scalars(stmt))
    running = brought_forward
    lines = []
    for ln in rows:
        running += ln.debit_paise - ln.credit_paise
        lines.append(StatementLine(ln, running, running * gl.sign))
    return Statement(
        gl=gl,
        date_from=date_from,
        date_to=date_to,
        opening_net_debit=opening,
        total_debit=int(dr),
        total_credit=int(cr),
        lines=lines,
        page=page_obj,
        brought_forward_net_debit=brought_forward,
        includes_children=len(ids) > 1,
    )
