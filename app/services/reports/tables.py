"""Tabular reports: a ``Table`` of typed columns and rows, shown as a page and exported as CSV.

Deposit reports (by kind and maturity bucket, FDs maturing, interest paid, dormant accounts,
the DEAF list) and the regulatory returns (liquidity, CRAR, large exposures, TDS Form 26Q
rows) are each a function ``(params) -> Table`` registered in ``TABLES`` under a slug.
Money cells are integer paise; ``pct`` cells are Decimals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import DepositAccount, TdsDeduction
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.models.members import Member
from app.services.common import ValidationError
from app.services.ledger import coa

from . import asof, statements


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, money, int, date, pct


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TableReport:
    slug: str
    title: str
    group: str  # deposits, returns, loans
    build: Callable[[Mapping[str, str]], Table]
    params: tuple[str, ...] = ("date",)


TABLES: dict[str, TableReport] = {}


def register(slug: str, title: str, group: str, params: tuple[str, ...] = ("date",)):
    def decorator(fn: Callable[[Mapping[str, str]], Table]) -> Callable[[Mapping[str, str]], Table]:
        TABLES[slug] = TableReport(slug, title, group, fn, params)
        return fn

    return decorator


def build(slug: str, args: Mapping[str, str]) -> Table:
    """The table report ``slug`` for the query arguments (ValidationError for bad input)."""
    report = TABLES.get(slug)
    if report is None:
        raise ValidationError(f"There is no report {slug!r}.")
    return report.build(args)


def _on(args: Mapping[str, str]) -> date:
    return statements.check_date(statements.parse_date(args.get("date"), "date", statements.default_date()))


def _period(args: Mapping[str, str]) -> tuple[date, date]:
    to = statements.parse_date(args.get("to"), "to", statements.default_date())
    start = statements.parse_date(args.get("from"), "from", max(statements.fy_start(to), statements.first_day() or to))
    return statements.check_period(start, to)


def _subtree_ids(code: str) -> list[int]:
    rows = db.session.execute(select(GLAccount.id, GLAccount.parent_id, GLAccount.code)).all()
    children: dict[int | None, list[int]] = defaultdict(list)
    root = None
    for gl_id, parent_id, gl_code in rows:
        children[parent_id].append(gl_id)
        if gl_code == code:
            root = gl_id
    out, stack = [], [root] if root is not None else []
    while stack:
        cur = stack.pop()
        out.append(cur)
        stack.extend(children.get(cur, []))
    return out


def _sum(ids: list[int], net: dict[int, int], sign: int) -> int:
    return sign * sum(net.get(i, 0) for i in ids)


def pct(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole`` to two decimals, half-up (0 when whole is 0)."""
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- deposit reports

KIND_NAMES = {"savings": "Savings", "current": "Current", "fd": "Fixed deposits", "rd": "Recurring deposits"}
DEPOSIT_KINDS = tuple(KIND_NAMES)
BUCKETS: list[tuple[str, int | None, int | None]] = [
    ("Matured, not yet paid", None, -1),
    ("Up to 30 days", 0, 30),
    ("31 to 90 days", 31, 90),
    ("91 to 180 days", 91, 180),
    ("181 days to 1 year", 181, 365),
    ("1 to 3 years", 366, 1095),
    ("Over 3 years", 1096, None),
]


def _bucket(days: int | None) -> str:
    if days is None:
        return "On demand"
    for label, low, high in BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return label
    return "On demand"  # pragma: no cover


@register("deposits-by-kind", "Deposits by kind and maturity bucket", "deposits")
def deposits_by_kind(args: Mapping[str, str]) -> Table:
    """Open deposit accounts by kind and residual maturity (savings and current: on demand)."""
    on = _on(args)
    later = asof.later_movements(on, kinds=DEPOSIT_KINDS)
    stmt = (
        select(DepositAccount.kind, DepositAccount.maturity_date, asof.balance_column(later))
        .join(Account, Account.id == DepositAccount.account_id)
        .where(asof.open_at(on))
    )
    rows = db.session.execute(asof.join_later(stmt, later)).all()
    grouped: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, maturity, balance in rows:
        days = (maturity - on).days if maturity is not None and kind in ("fd", "rd") else None
        cell = grouped[(kind, _bucket(days))]
        cell[0] += 1
        cell[1] += int(balance)
    order = [b[0] for b in BUCKETS] + ["On demand"]
    out = [
        {"kind": KIND_NAMES.get(k, k), "bucket": b, "accounts": n, "balance": bal}
        for (k, b), (n, bal) in sorted(grouped.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1])))
    ]
    net = statements.net_debits(on)
    by_gl = {
        code: _sum(_subtree_ids(code), net, -1)
        for code in (coa.SB_DEPOSITS, coa.FD_DEPOSITS, coa.RD_DEPOSITS, coa.CURRENT_DEPOSITS)
    }
    return Table(
        "deposits-by-kind",
        f"Deposits by kind and maturity bucket, {on:%d-%m-%Y}",
        [
            Column("kind", "Kind"),
            Column("bucket", "Residual maturity"),
            Column("accounts", "Accounts", "int"),
            Column("balance", "Balance (₹)", "money"),
        ],
        out,
        {"accounts": sum(r["accounts"] for r in out), "balance": sum(r["balance"] for r in out)},
        [
            "Buckets from each account's maturity date against the report date; accounts open at the end of the date.",
            asof.note(on),
            "General ledger as of the date: "
            + ", ".join(
                f"{KIND_NAMES[k]} ₹{Decimal(v) / 100:,.2f}"
                for k, v in zip(
                    KIND_NAMES,
                    [
                        by_gl[coa.SB_DEPOSITS],
                        by_gl[coa.CURRENT_DEPOSITS],
                        by_gl[coa.FD_DEPOSITS],
                        by_gl[coa.RD_DEPOSITS],
                    ],
                    strict=True,
                )
            ),
        ],
        {"date": on.isoformat()},
    )


@register("fd-maturing", "Fixed deposits maturing in the next 30 / 60 / 90 days", "deposits", ("date", "days"))
def fds_maturing(args: Mapping[str, str]) -> Table:
    on = _on(args)
    raw = (args.get("days") or "30").strip()
    if raw not in ("30", "60", "90"):
        raise ValidationError(f"Choose 30, 60 or 90 days, not {raw!r}.", field="days")
    until = on + timedelta(days=int(raw))
    rows = db.session.execute(
        select(DepositAccount, Account, Member)
        .join(Account, Account.id == DepositAccount.account_id)
        .join(Member, Member.id == DepositAccount.member_id)
        .where(
            DepositAccount.kind == "fd",
            asof.active_at(on),
            DepositAccount.maturity_date >= on,
            DepositAccount.maturity_date <= until,
        )
        .order_by(DepositAccount.maturity_date, Account.account_no)
    ).all()
    out = [
        {
            "account_no": acc.account_no,
            "member_no": m.member_no,
            "name": m.name,
            "maturity_date": d.maturity_date,
            "principal": d.principal_paise,
            "maturity_amount": d.principal_paise + (d.expected_interest_paise or 0),
            "action": d.maturity_action or "",
        }
        for d, acc, m in rows
    ]
    return Table(
        "fd-maturing",
        f"Fixed deposits maturing {on:%d-%m-%Y} to {until:%d-%m-%Y}",
        [
            Column("account_no", "Account"),
            Column("member_no", "Member"),
            Column("name", "Name"),
            Column("maturity_date", "Matures", "date"),
            Column("principal", "Principal (₹)", "money"),
            Column("maturity_amount", "Maturity value (₹)", "money"),
            Column("action", "On maturity"),
        ],
        out,
        {"principal": sum(r["principal"] for r in out), "maturity_amount": sum(r["maturity_amount"] for r in out)},
        params={"date": on.isoformat(), "days": raw},
    )


@register("interest-paid", "Interest paid on deposits", "deposits", ("from", "to"))
def interest_paid(args: Mapping[str, str]) -> Table:
    start, end = _period(args)
    movement = statements.period_net_debits(start, end)
    gls = {gl.code: gl for gl in db.session.scalars(select(GLAccount))}
    tds = dict(
        db.session.execute(
            select(DepositAccount.kind, func.sum(TdsDeduction.tds_paise))
            .join(DepositAccount, DepositAccount.account_id == TdsDeduction.account_id)
            .where(TdsDeduction.credited_on.between(start, end))
            .group_by(DepositAccount.kind)
        ).all()
    )
    out = []
    for code, kind in ((coa.EXP_SB_INTEREST, "savings"), (coa.EXP_FD_INTEREST, "fd"), (coa.EXP_RD_INTEREST, "rd")):
        gl = gls.get(code)
        if gl is None:
            continue
        out.append({"code": code, "name": gl.name, "interest": movement.get(gl.id, 0), "tds": int(tds.get(kind) or 0)})
    return Table(
        "interest-paid",
        f"Interest on deposits {start:%d-%m-%Y} to {end:%d-%m-%Y}",
        [
            Column("code", "GL"),
            Column("name", "Head"),
            Column("interest", "Interest expense (₹)", "money"),
            Column("tds", "TDS deducted (₹)", "money"),
        ],
        out,
        {"interest": sum(r["interest"] for r in out), "tds": sum(r["tds"] for r in out)},
        ["Interest expense is the GL movement of the period (credited and accrued)."],
        {"from": start.isoformat(), "to": end.isoformat()},
    )


NON_OPERATIONS = ("interest", "tds", "eod", "dividend", "provision")
DEAF_YEARS = 10


def last_operations(account_ids: list[int], until: date | None = None) -> dict[int, date]:
    """Account id → the business date of its last customer-induced entry (interest credits excluded), up to ``until``."""
    if not account_ids:
        return {}
    stmt = (
        select(JournalLine.account_id, func.max(JournalLine.business_date))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id.in_(account_ids), JournalEntry.kind.not_in(NON_OPERATIONS))
        .group_by(JournalLine.account_id)
    )
    if until is not None:
        stmt = stmt.where(JournalLine.business_date <= until)
    return dict(db.session.execute(stmt).all())


@register("dormant", "Dormant and unclaimed deposits (DEAF list)", "deposits", ("date",))
def dormant_and_unclaimed(args: Mapping[str, str]) -> Table:
    """Dormant accounts, and those without a customer operation for ten years (transfer to DEAF)."""
    on = _on(args)
    later = asof.later_movements(on, kinds=DEPOSIT_KINDS)
    balance = asof.balance_column(later)
    stmt = (
        select(Account, Member, balance)
        .outerjoin(Member, Member.id == Account.member_id)
        .where(Account.kind.in_(DEPOSIT_KINDS), asof.open_at(on), balance > 0)
    )
    accounts = db.session.execute(asof.join_later(stmt, later).order_by(Account.account_no)).all()
    last = last_operations([a.id for a, _m, _b in accounts], until=on)
    cutoff = (
        on.replace(year=on.year - DEAF_YEARS) if not (on.month == 2 and on.day == 29) else date(on.year - 10, 2, 28)
    )
    out = []
    for acc, member, held in accounts:
        last_op = last.get(acc.id) or acc.opened_on
        deaf = last_op is not None and last_op <= cutoff
        if acc.status != "dormant" and not deaf:
            continue
        out.append(
            {
                "account_no": acc.account_no,
                "kind": KIND_NAMES.get(acc.kind, acc.kind),
                "member_no": member.member_no if member else "",
                "name": member.name if member else acc.title,
                "last_operation": last_op,
                "balance": int(held),
                "status": "DEAF (10 years)" if deaf else "Dormant",
            }
        )
    return Table(
        "dormant",
        f"Dormant and unclaimed deposits, {on:%d-%m-%Y}",
        [
            Column("account_no", "Account"),
            Column("kind", "Kind"),
            Column("member_no", "Member"),
            Column("name", "Name"),
            Column("last_operation", "Last operation", "date"),
            Column("balance", "Balance (₹)", "money"),
            Column("status", "Status"),
        ],
        out,
        {"balance": sum(r["balance"] for r in out)},
        [
            f"DEAF: no customer operation since {cutoff:%d-%m-%Y} (interest credits do not count as operations).",
            asof.note(on) + " Dormant is the account's status now.",
        ],
        {"date": on.isoformat()},
    )


# ---------------------------------------------------------------- regulatory returns


@dataclass
class Position:
    """The balances the liquidity and capital returns are built from, as of a date."""

    cash: int
    bank: int
    investments: int
    govt_securities: int
    loans_net: int
    interest_receivable: int
    other_assets: int
    demand_liabilities: int
    time_liabilities: int
    tier1: int
    standard_provision: int


def position(on: date) -> Position:
    net = statements.net_debits(on)
    bs = statements.balance_sheet(on, comparative=False)
    totals = {s.key: s.total for s in bs.assets + bs.liabilities + bs.equity}
    gls = {gl.code: gl.id for gl in db.session.scalars(select(GLAccount))}

    def bal(code: str, sign: int) -> int:
        return sign * net.get(gls.get(code, -1), 0)

    demand = bal(coa.SB_DEPOSITS, -1) + bal(coa.CURRENT_DEPOSITS, -1) + totals.get("other_liabilities", 0)
    demand += totals.get("interest_payable", 0)
    time_ = bal(coa.FD_DEPOSITS, -1) + bal(coa.RD_DEPOSITS, -1)
    return Position(
        cash=totals.get("cash", 0),
        bank=totals.get("bank", 0),
        investments=totals.get("investments", 0),
        govt_securities=bal("1502", 1),
        loans_net=totals.get("loans", 0) + bal(coa.STANDARD_ASSET_PROVISION, -1),  # standard provision is Tier II
        interest_receivable=totals.get("interest_receivable", 0),
        other_assets=totals.get("other_assets", 0) + totals.get("fixed_assets", 0),
        demand_liabilities=demand,
        time_liabilities=time_,
        tier1=totals.get("share_capital", 0) + totals.get("reserves", 0) + totals.get("profit_loss", 0),
        standard_provision=bal(coa.STANDARD_ASSET_PROVISION, -1),
    )


@register("liquidity", "Liquidity (CRR / SLR style): liquid assets against demand and time liabilities", "returns")
def liquidity(args: Mapping[str, str]) -> Table:
    on = _on(args)
    p = position(on)
    ndtl = p.demand_liabilities + p.time_liabilities
    rows = [
        {"item": "Cash in hand", "amount": p.cash, "ratio": pct(p.cash, ndtl)},
        {"item": "Balances with banks", "amount": p.bank, "ratio": pct(p.bank, ndtl)},
        {"item": "Investments", "amount": p.investments, "ratio": pct(p.investments, ndtl)},
        {"item": "Cash + bank (CRR style)", "amount": p.cash + p.bank, "ratio": pct(p.cash + p.bank, ndtl)},
        {
            "item": "Cash + bank + investments (SLR style)",
            "amount": p.cash + p.bank + p.investments,
            "ratio": pct(p.cash + p.bank + p.investments, ndtl),
        },
        {"item": "Demand liabilities", "amount": p.demand_liabilities, "ratio": None},
        {"item": "Time liabilities", "amount": p.time_liabilities, "ratio": None},
        {"item": "Net demand and time liabilities (NDTL)", "amount": ndtl, "ratio": None},
    ]
    return Table(
        "liquidity",
        f"Liquidity as of {on:%d-%m-%Y}",
        [Column("item", "Item"), Column("amount", "Amount (₹)", "money"), Column("ratio", "% of NDTL", "pct")],
        rows,
        notes=[
            "Demand liabilities: savings and current deposits, interest payable and other liabilities; "
            "time liabilities: fixed and recurring deposits."
        ],
        params={"date": on.isoformat()},
    )


def _share(amount: int, numerator: int, denominator: int = 100) -> int:
    """``amount × numerator / denominator`` in whole paise, half-up."""
    return int((Decimal(amount) * numerator / denominator).quantize(Decimal(1), rounding=ROUND_HALF_UP))


RISK_WEIGHTS = {"cash": 0, "govt_securities": 0, "bank": 20, "other_investments": 20, "loans": 100, "other": 100}


@register("crar", "Capital to risk-weighted assets ratio (CRAR)", "returns")
def crar(args: Mapping[str, str]) -> Table:
    on = _on(args)
    p = position(on)
    other_investments = p.investments - p.govt_securities
    exposures = [
        ("Cash in hand", p.cash, RISK_WEIGHTS["cash"]),
        ("Government securities", p.govt_securities, RISK_WEIGHTS["govt_securities"]),
        ("Balances with banks", p.bank, RISK_WEIGHTS["bank"]),
        ("Deposits with banks (investments)", other_investments, RISK_WEIGHTS["other_investments"]),
        ("Loans and advances (net of NPA provision)", p.loans_net, RISK_WEIGHTS["loans"]),
        ("Interest receivable, fixed and other assets", p.interest_receivable + p.other_assets, RISK_WEIGHTS["other"]),
    ]
    rwa = sum(_share(amount, weight) for _, amount, weight in exposures)
    tier2 = min(p.standard_provision, _share(rwa, 125, 10_000))
    rows = [{"item": name, "amount": amount, "weight": Decimal(weight), "weighted": _share(amount, weight)}
            for name, amount, weight in exposures]  # fmt: skip
    rows += [
        {"item": "Risk-weighted assets", "amount": None, "weight": None, "weighted": rwa},
        {"item": "Tier I: share capital, reserves, surplus", "amount": p.tier1, "weight": None, "weighted": None},
        {
            "item": "Tier II: standard-asset provision (to 1.25% of RWA)",
            "amount": tier2,
            "weight": None,
            "weighted": None,
        },
        {"item": "CRAR %", "amount": None, "weight": pct(p.tier1 + tier2, rwa), "weighted": None},
    ]
    return Table(
        "crar",
        f"CRAR as of {on:%d-%m-%Y}",
        [
            Column("item", "Item"),
            Column("amount", "Amount (₹)", "money"),
            Column("weight", "Risk weight / %", "pct"),
            Column("weighted", "Risk-weighted (₹)", "money"),
        ],
        rows,
        notes=["Risk weights: cash and government securities 0%, banks 20%, loans and other assets 100%."],
        params={"date": on.isoformat()},
    )


@register("large-exposures", "Statement of large exposures (10% of capital funds and above)", "returns")
def large_exposures(args: Mapping[str, str]) -> Table:
    on = _on(args)
    p = position(on)
    capital = p.tier1 + p.standard_provision
    later = asof.later_movements(on, kinds=("loan",))
    balance = asof.balance_column(later)
    stmt = (
        select(Member.member_no, Member.name, func.sum(balance), func.count())
        .join(Member, Member.id == Account.member_id)
        .where(Account.kind == "loan", asof.open_at(on), balance > 0)
    )
    stmt = asof.join_later(stmt, later).group_by(Member.member_no, Member.name).order_by(func.sum(balance).desc())
    rows = db.session.execute(stmt).all()
    threshold = capital // 10
    out = [
        {"member_no": no, "name": name, "loans": n, "exposure": int(total), "share": pct(int(total), capital)}
        for no, name, total, n in rows
        if capital > 0 and int(total) >= threshold
    ]
    return Table(
        "large-exposures",
        f"Large exposures as of {on:%d-%m-%Y} (capital funds ₹{Decimal(capital) / 100:,.2f})",
        [
            Column("member_no", "Member"),
            Column("name", "Borrower"),
            Column("loans", "Loans", "int"),
            Column("exposure", "Outstanding (₹)", "money"),
            Column("share", "% of capital funds", "pct"),
        ],
        out,
        {"exposure": sum(r["exposure"] for r in out)},
        ["Exposure: loan balances outstanding per member.", asof.note(on)],
        {"date": on.isoformat()},
    )


REASON_CODES = {"form_15g": "B", "form_15h": "B", "no_pan": "C", "below_threshold": "Y"}
QUARTERS = {"Q1": (4, 6), "Q2": (7, 9), "Q3": (10, 12), "Q4": (1, 3)}


def _quarter_bounds(fy: str, quarter: str) -> tuple[date, date]:
    try:
        start_year = int(fy.split("-")[0])
    except (ValueError, IndexError):
        raise ValidationError(f"{fy!r} is not a financial year like 2025-26.", field="fy") from None
    if quarter not in QUARTERS:
        raise ValidationError(f"{quarter!r} is not a quarter (Q1 to Q4).", field="quarter")
    first_month, last_month = QUARTERS[quarter]
    year = start_year + (1 if quarter == "Q4" else 0)
    start = date(year, first_month, 1)
    end = (date(year + (last_month == 12), last_month % 12 + 1, 1)) - timedelta(days=1)
    return start, end


@register("form-26q", "TDS quarterly return data (Form 26Q, section 194A)", "returns", ("fy", "quarter"))
def form_26q(args: Mapping[str, str]) -> Table:
    on = statements.default_date()
    fy = (args.get("fy") or f"{statements.fy_start(on).year}-{(statements.fy_start(on).year + 1) % 100:02d}").strip()
    quarter = (args.get("quarter") or f"Q{((on.month - 4) % 12) // 3 + 1}").strip().upper()
    start, end = _quarter_bounds(fy, quarter)
    rows = db.session.execute(
        select(TdsDeduction, Member)
        .join(Member, Member.id == TdsDeduction.member_id)
        .where(TdsDeduction.credited_on.between(start, end))
        .order_by(TdsDeduction.credited_on, TdsDeduction.id)
    ).all()
    out = [
        {
            "section": "194A",
            "pan": t.pan or "PANNOTAVBL",
            "name": m.name,
            "member_no": m.member_no,
            "date": t.credited_on,
            "amount_paid": t.interest_paise,
            "tds": t.tds_paise,
            "rate": (Decimal(t.rate_bp) / 100).quantize(Decimal("0.01")),
            "reason": REASON_CODES.get(t.reason, ""),
            "senior": "Y" if t.senior else "N",
        }
        for t, m in rows
    ]
    return Table(
        "form-26q",
        f"Form 26Q deductee rows, {fy} {quarter} ({start:%d-%m-%Y} to {end:%d-%m-%Y})",
        [
            Column("section", "Section"),
            Column("pan", "PAN"),
            Column("name", "Deductee"),
            Column("member_no", "Member"),
            Column("date", "Date paid/credited", "date"),
            Column("amount_paid", "Amount paid/credited (₹)", "money"),
            Column("tds", "TDS (₹)", "money"),
            Column("rate", "Rate %", "pct"),
            Column("reason", "Reason code"),
            Column("senior", "Senior"),
        ],
        out,
        {"amount_paid": sum(r["amount_paid"] for r in out), "tds": sum(r["tds"] for r in out)},
        [
            "Reason codes: B = no deduction on a Form 15G/15H declaration, C = higher rate for want of PAN, "
            "Y = below the threshold."
        ],
        {"fy": fy, "quarter": quarter},
    )
