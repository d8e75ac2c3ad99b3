"""Financial statements: profit and loss, balance sheet, receipts and payments.

Every figure comes from ``ledger.gl_totals(as_of)`` — the latest day-end GL snapshot on or
before the date plus the lines after it — so a statement never scans the whole journal.
A period's movement is the difference of two such reads. The year-end closing entry
(which empties income and expense into the appropriation account) is added back to a
period's P&L, so the P&L of a closed year still shows the year's income and expenses.

Signs: each row's ``amount_paise`` is on the side the statement shows it (income and
liabilities credit-positive, expenses and assets debit-positive); provisions netted
against loans appear among the assets as negative rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.calendar import BusinessDay
from app.models.ledger import GLAccount, JournalEntry, JournalLine
from app.models.reports import YearEndRun
from app.services import ledger
from app.services.common import ValidationError
from app.services.ledger import coa

# ---------------------------------------------------------------- dates


def first_day() -> date | None:
    """The society's first business day (None before any day was opened)."""
    return db.session.scalar(select(func.min(BusinessDay.business_date)))


def last_day() -> date | None:
    """The latest business day (the open one, or the last closed)."""
    return db.session.scalar(select(func.max(BusinessDay.business_date)))


def default_date() -> date:
    """The open business date, else the last business day, else today."""
    return ledger.business_date_or_none() or last_day() or date.today()


def check_date(on: date, name: str = "date") -> date:
    """Refuse a date before the first business day or after the latest one."""
    first, last = first_day(), last_day()
    if first is None:
        raise ValidationError("No business day has been opened yet, so there is nothing to report.", field=name)
    if on < first:
        raise ValidationError(
            f"{on:%d-%m-%Y} is before the society's first business day ({first:%d-%m-%Y}).", field=name
        )
    if on > last:
        raise ValidationError(
            f"{on:%d-%m-%Y} is in the future; the latest business day is {last:%d-%m-%Y}.", field=name
        )
    return on


def check_period(date_from: date, date_to: date) -> tuple[date, date]:
    """Refuse an inverted period, or either end outside the business days."""
    if date_from > date_to:
        raise ValidationError(f"The period is inverted: {date_from:%d-%m-%Y} is after {date_to:%d-%m-%Y}.", field="to")
    check_date(date_from, "from")
    check_date(date_to, "to")
    return date_from, date_to


def parse_date(raw: str | None, name: str, default: date | None = None) -> date:
    """An ISO date from user input (``default`` when blank); ValidationError when malformed."""
    text = (raw or "").strip()
    if not text:
        if default is None:
            raise ValidationError(f"A {name} date is required (YYYY-MM-DD).", field=name)
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-04-01.", field=name) from None


def fy_start(on: date) -> date:
    """1 April of the financial year that contains ``on``."""
    return date(on.year if on.month >= 4 else on.year - 1, 4, 1)


def fy_end(on: date) -> date:
    """31 March that ends the financial year containing ``on``."""
    return date(fy_start(on).year + 1, 3, 31)


def year_before(on: date) -> date:
    """The same day a year earlier (28 Feb for 29 Feb)."""
    try:
        return on.replace(year=on.year - 1)
    except ValueError:
        return on.replace(year=on.year - 1, day=28)


# ---------------------------------------------------------------- GL reads


@dataclass
class _Chart:
    accounts: dict[int, GLAccount]
    by_code: dict[str, GLAccount]

    def ancestors(self, gl: GLAccount) -> list[GLAccount]:
        out, cur = [], gl
        while cur is not None:
            out.append(cur)
            cur = self.accounts.get(cur.parent_id) if cur.parent_id else None
        return out


def _chart() -> _Chart:
    accounts = {gl.id: gl for gl in db.session.scalars(select(GLAccount).order_by(GLAccount.code))}
    return _Chart(accounts, {gl.code: gl for gl in accounts.values()})


def net_debits(as_of: date) -> dict[int, int]:
    """GL id → debits minus credits to the end of ``as_of`` (snapshot plus later lines)."""
    return {gl_id: dr - cr for gl_id, (dr, cr) in ledger.gl_totals(as_of).items()}


def _closing_entry_ids(date_from: date, date_to: date) -> list[int]:
    return [
        entry_id
        for entry_id in db.session.scalars(
            select(YearEndRun.closing_entry_id)
            .join(JournalEntry, JournalEntry.id == YearEndRun.closing_entry_id)
            .where(
                YearEndRun.status == "closed",
                JournalEntry.business_date >= date_from,
                JournalEntry.business_date <= date_to,
            )
        )
        if entry_id
    ]


def period_net_debits(date_from: date, date_to: date, *, add_back_closing: bool = True) -> dict[int, int]:
    """GL id → net debit movement from ``date_from`` to ``date_to`` (two snapshot reads).

    With ``add_back_closing`` the year-end closing entries inside the period are undone, so
    income and expense accounts show the year's figures rather than zero.
    """
    end = net_debits(date_to)
    start = net_debits(date_from - timedelta(days=1))
    out = {gl_id: end.get(gl_id, 0) - start.get(gl_id, 0) for gl_id in set(end) | set(start)}
    if add_back_closing:
        ids = _closing_entry_ids(date_from, date_to)
        if ids:
            for gl_id, net in db.session.execute(
                select(JournalLine.gl_account_id, func.sum(JournalLine.debit_paise - JournalLine.credit_paise))
                .where(JournalLine.entry_id.in_(ids))
                .group_by(JournalLine.gl_account_id)
            ):
                out[gl_id] = out.get(gl_id, 0) - int(net or 0)
    return out


# ---------------------------------------------------------------- profit and loss


@dataclass
class Row:
    """One statement line: a GL account (or a computed figure) and its amount."""

    code: str
    name: str
    amount_paise: int
    previous_paise: int | None = None
    schedule: str | None = None


@dataclass
class ProfitAndLoss:
    date_from: date
    date_to: date
    income: list[Row]
    expense: list[Row]
    previous_from: date | None = None
    previous_to: date | None = None

    @property
    def total_income(self) -> int:
        return sum(r.amount_paise for r in self.income)

    @property
    def total_expense(self) -> int:
        return sum(r.amount_paise for r in self.expense)

    @property
    def net_profit(self) -> int:
        """Income less expenses (a loss is negative)."""
        return self.total_income - self.total_expense

    @property
    def previous_income(self) -> int:
        return sum(r.previous_paise or 0 for r in self.income)

    @property
    def previous_expense(self) -> int:
        return sum(r.previous_paise or 0 for r in self.expense)

    @property
    def previous_net_profit(self) -> int:
        return self.previous_income - self.previous_expense


def _pl_rows(chart: _Chart, movement: dict[int, int], previous: dict[int, int] | None, type_: str) -> list[Row]:
    sign = -1 if type_ == "income" else 1
    rows = []
    for gl in chart.accounts.values():
        if gl.type != type_ or gl.is_group:
            continue
        amount = sign * movement.get(gl.id, 0)
        prev = sign * previous.get(gl.id, 0) if previous is not None else None
        if amount or prev:
            rows.append(Row(gl.code, gl.name, amount, prev))
    return rows


def _previous_period(date_from: date, date_to: date) -> tuple[date, date] | None:
    first = first_day()
    p_from, p_to = year_before(date_from), year_before(date_to)
    if first is None or p_to < first:
        return None
    return max(p_from, first), p_to


def profit_and_loss(date_from: date, date_to: date, *, comparative: bool = True) -> ProfitAndLoss:
    """Income and expenses for a period (ValidationError for a bad period), with last year's column."""
    check_period(date_from, date_to)
    chart = _chart()
    movement = period_net_debits(date_from, date_to)
    prev_period = _previous_period(date_from, date_to) if comparative else None
    previous = period_net_debits(*prev_period) if prev_period else None
    return ProfitAndLoss(
        date_from,
        date_to,
        _pl_rows(chart, movement, previous, "income"),
        _pl_rows(chart, movement, previous, "expense"),
        *(prev_period or (None, None)),
    )


# ---------------------------------------------------------------- balance sheet

# Schedules in the order co-operative societies publish them. Each names the chart headings
# (or accounts) whose balances it gathers; an account belongs to the first schedule that
# names it or one of its ancestors.
LIABILITY_SCHEDULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("share_capital", "Share capital", (coa.SHARE_CAPITAL,)),
    ("reserves", "Reserves and other funds", (coa.STATUTORY_RESERVE, "3300")),
    ("profit_loss", "Profit and loss", ("3400",)),
    ("deposits", "Deposits", ("2100",)),
    ("borrowings", "Borrowings", ("2700",)),
    ("interest_payable", "Interest payable", ("2200",)),
    ("other_liabilities", "Other liabilities", ("2300", "2400", "2600")),
]
ASSET_SCHEDULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("cash", "Cash in hand", ("1100",)),
    ("bank", "Balances with banks", ("1200",)),
    ("investments", "Investments", ("1500",)),
    ("loans", "Loans and advances (net of provisions)", ("1300", "2500")),
    ("interest_receivable", "Interest receivable", ("1400",)),
    ("fixed_assets", "Fixed assets", ("1601",)),
    ("other_assets", "Other assets", ("1600",)),
]
SURPLUS_CODE = "P&L"
SURPLUS_NAME = "Surplus for the year (not yet appropriated)"


@dataclass
class Schedule:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(r.amount_paise for r in self.rows)

    @property
    def previous_total(self) -> int:
        return sum(r.previous_paise or 0 for r in self.rows)


@dataclass
class BalanceSheet:
    as_of: date
    assets: list[Schedule]
    liabilities: list[Schedule]  # deposits, borrowings, payables
    equity: list[Schedule]  # share capital, reserves, profit and loss
    previous_date: date | None = None

    @staticmethod
    def _rows(schedules: list[Schedule]) -> list[Row]:
        return [r for s in schedules for r in s.rows]

    @property
    def asset_rows(self) -> list[Row]:
        return self._rows(self.assets)

    @property
    def liability_rows(self) -> list[Row]:
        return self._rows(self.liabilities)

    @property
    def equity_rows(self) -> list[Row]:
        return self._rows(self.equity)

    @property
    def total_assets(self) -> int:
        return sum(s.total for s in self.assets)

    @property
    def total_liabilities(self) -> int:
        return sum(s.total for s in self.liabilities)

    @property
    def total_equity(self) -> int:
        return sum(s.total for s in self.equity)

    @property
    def difference(self) -> int:
        """Assets less (liabilities + equity): zero when the books agree."""
        return self.total_assets - self.total_liabilities - self.total_equity

    @property
    def balanced(self) -> bool:
        return self.difference == 0

    @property
    def previous_total_assets(self) -> int:
        return sum(s.previous_total for s in self.assets)

    @property
    def previous_total_funds(self) -> int:
        return sum(s.previous_total for s in self.liabilities + self.equity)


def _schedule_of(chart: _Chart, gl: GLAccount, table: list[tuple[str, str, tuple[str, ...]]]) -> str | None:
    codes = [a.code for a in chart.ancestors(gl)]
    for code in codes:  # nearest ancestor first, so 1601 wins over 1600
        for key, _title, members in table:
            if code in members:
                return key
    return None


def balance_sheet(as_of: date, *, comparative: bool = True) -> BalanceSheet:
    """The balance sheet at the end of ``as_of`` in the co-operative format, with last year's column.

    The year's surplus (every income less every expense account, not yet closed by a
    year-end) sits in equity under profit and loss, so assets = liabilities + equity.
    """
    check_date(as_of)
    chart = _chart()
    now = net_debits(as_of)
    prev_date = year_before(as_of) if comparative else None
    first = first_day()
    if prev_date is not None and (first is None or prev_date < first):
        prev_date = None
    prev = net_debits(prev_date) if prev_date else None

    assets = {key: Schedule(key, title) for key, title, _ in ASSET_SCHEDULES}
    funds = {key: Schedule(key, title) for key, title, _ in LIABILITY_SCHEDULES}
    other_asset, other_liab = (
        Schedule("other_assets", "Other assets"),
        Schedule("other_liabilities", "Other liabilities"),
    )
    surplus = surplus_prev = 0
    for gl in chart.accounts.values():
        if gl.is_group:
            continue
        net, pnet = now.get(gl.id, 0), (prev.get(gl.id, 0) if prev is not None else None)
        if gl.type in ("income", "expense"):
            surplus -= net
            surplus_prev -= pnet or 0
            continue
        if not net and not pnet:
            continue
        asset_key = _schedule_of(chart, gl, ASSET_SCHEDULES)
        if gl.type == "asset" or asset_key == "loans":
            # Debit-positive; a provision (credit) nets against the loans as a negative row.
            row = Row(gl.code, gl.name, net, pnet, asset_key or "other_assets")
            (assets.get(asset_key) or other_asset).rows.append(row)
        else:
            key = _schedule_of(chart, gl, LIABILITY_SCHEDULES)
            row = Row(gl.code, gl.name, -net, -pnet if pnet is not None else None, key or "other_liabilities")
            (funds.get(key) or other_liab).rows.append(row)
    if surplus or surplus_prev:
        funds["profit_loss"].rows.append(
            Row(SURPLUS_CODE, SURPLUS_NAME, surplus, surplus_prev if prev is not None else None, "profit_loss")
        )
    if other_asset.rows and "other_assets" in assets:
        assets["other_assets"].rows.extend(other_asset.rows)
    if other_liab.rows:
        funds["other_liabilities"].rows.extend(other_liab.rows)
    equity_keys = {"share_capital", "reserves", "profit_loss"}
    return BalanceSheet(
        as_of,
        assets=list(assets.values()),
        liabilities=[s for k, s in funds.items() if k not in equity_keys],
        equity=[s for k, s in funds.items() if k in equity_keys],
        previous_date=prev_date,
    )


# ---------------------------------------------------------------- receipts and payments


@dataclass
class ReceiptsPayments:
    date_from: date
    date_to: date
    opening_paise: int
    receipts: list[Row]
    payments: list[Row]

    @property
    def total_receipts(self) -> int:
        return sum(r.amount_paise for r in self.receipts)

    @property
    def total_payments(self) -> int:
        return sum(r.amount_paise for r in self.payments)

    @property
    def closing_paise(self) -> int:
        return self.opening_paise + self.total_receipts - self.total_payments


def cash_and_bank_ids(chart: _Chart | None = None) -> list[int]:
    """GL ids of cash (``is_cash``) and bank balances (under heading 1200)."""
    chart = chart or _chart()
    out = []
    for gl in chart.accounts.values():
        if gl.is_group:
            continue
        if gl.is_cash or any(a.code == "1200" for a in chart.ancestors(gl)):
            out.append(gl.id)
    return out


def receipts_and_payments(date_from: date, date_to: date) -> ReceiptsPayments:
    """Cash and bank opening balance, receipts and payments by head of account, closing balance.

    Reads only the period's lines: for every entry touching cash or bank, its other lines
    are the heads (a credit to a head is a receipt, a debit a payment).
    """
    check_period(date_from, date_to)
    chart = _chart()
    money_ids = cash_and_bank_ids(chart)
    before = net_debits(date_from - timedelta(days=1))
    opening = sum(before.get(i, 0) for i in money_ids)
    receipts: dict[int, int] = defaultdict(int)
    payments: dict[int, int] = defaultdict(int)
    if money_ids:
        touching = (
            select(JournalLine.entry_id)
            .where(
                JournalLine.business_date >= date_from,
                JournalLine.business_date <= date_to,
                JournalLine.gl_account_id.in_(money_ids),
            )
            .distinct()
            .scalar_subquery()
        )
        stmt = (
            select(JournalLine.gl_account_id, func.sum(JournalLine.credit_paise), func.sum(JournalLine.debit_paise))
            .where(
                JournalLine.business_date >= date_from,
                JournalLine.business_date <= date_to,
                JournalLine.entry_id.in_(touching),
                JournalLine.gl_account_id.not_in(money_ids),
            )
            .group_by(JournalLine.gl_account_id)
        )
        for gl_id, cr, dr in db.session.execute(stmt):
            receipts[gl_id] += int(cr or 0)
            payments[gl_id] += int(dr or 0)

    def rows(sums: dict[int, int]) -> list[Row]:
        return [
            Row(chart.accounts[i].code, chart.accounts[i].name, v)
            for i, v in sorted(sums.items(), key=lambda kv: chart.accounts[kv[0]].code)
            if v
        ]

    return ReceiptsPayments(date_from, date_to, opening, rows(receipts), rows(payments))


# ---------------------------------------------------------------- reference reads (tests, verification)


def net_debits_full_scan(as_of: date) -> dict[int, int]:
    """GL id → net debit from every line up to ``as_of`` (no snapshot): the reference for tests."""
    return {
        gl_id: int(net or 0)
        for gl_id, net in db.session.execute(
            select(JournalLine.gl_account_id, func.sum(JournalLine.debit_paise - JournalLine.credit_paise))
            .where(JournalLine.business_date <= as_of)
            .group_by(JournalLine.gl_account_id)
        )
    }


def gl_balance_of(code: str, as_of: date) -> int:
    """One GL account's balance on its normal side as of a date (snapshot plus later lines)."""
    chart = _chart()
    gl = chart.by_code[code]
    return net_debits(as_of).get(gl.id, 0) * gl.sign
