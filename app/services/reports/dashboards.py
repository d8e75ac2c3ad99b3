"""The figures on each role's dashboard for a business date, and the small charts' series.

Every figure is a bounded read: GL balances through ``net_debits`` (snapshot plus later
lines), a day's or a month's lines for movements, and counts of pending work. Dashboards
ask these functions; templates never compute a figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.audit import AuditLog
from app.models.base import UTC, utcnow
from app.models.calendar import BusinessDay
from app.models.eod import EodRun
from app.models.ledger import GLAccount, JournalEntry, JournalLine
from app.models.members import Member, Notification
from app.models.users import StaffUser
from app.permissions import has_permission
from app.services import ledger
from app.services.common import approvals
from app.services.counter import teller
from app.services.ledger import coa
from app.services.ledger import reports as ledger_reports

from . import loans as loan_reports
from . import statements

DEPOSIT_GROUP = "2100"
LOAN_GROUP = "1300"


def _subtree(code: str) -> list[int]:
    rows = db.session.execute(select(GLAccount.id, GLAccount.parent_id, GLAccount.code)).all()
    children: dict[int | None, list[int]] = defaultdict(list)
    root = None
    for gl_id, parent_id, gl_code in rows:
        children[parent_id].append(gl_id)
        if gl_code == code:
            root = gl_id
    out, stack = [], [root] if root is not None else []
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, []))
    return out


def _balance(ids: list[int], net: dict[int, int], credit_normal: bool) -> int:
    total = sum(net.get(i, 0) for i in ids)
    return -total if credit_normal else total


def month_start(on: date) -> date:
    return on.replace(day=1)


def _day_bounds(on: date) -> tuple[datetime, datetime]:
    start = datetime.combine(on, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


# ---------------------------------------------------------------- figures


@dataclass
class Movement:
    """A balance with its change today and this month."""

    balance: int
    today: int
    month: int


def movement(code: str, on: date, *, credit_normal: bool) -> Movement:
    """Balance of a chart heading at the end of ``on`` and its change on the day and in the month."""
    ids = _subtree(code)
    end = statements.net_debits(on)
    day_before = statements.net_debits(on - timedelta(days=1))
    before_month = statements.net_debits(month_start(on) - timedelta(days=1))
    balance = _balance(ids, end, credit_normal)
    return Movement(
        balance,
        balance - _balance(ids, day_before, credit_normal),
        balance - _balance(ids, before_month, credit_normal),
    )


def disbursed(on: date, since: date) -> int:
    """Loans paid out (debits to loan accounts, reversals excluded) from ``since`` to ``on``."""
    ids = _subtree(LOAN_GROUP)
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit_paise), 0))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalLine.gl_account_id.in_(ids),
                JournalLine.business_date >= since,
                JournalLine.business_date <= on,
                JournalEntry.kind != "reversal",
            )
        )
        or 0
    )


def pending_by_kind() -> list[tuple[str, str, int]]:
    """Pending maker-checker requests by kind: (kind, label, count)."""
    rows = db.session.execute(
        select(ApprovalRequest.kind, func.count())
        .where(ApprovalRequest.status == "pending")
        .group_by(ApprovalRequest.kind)
        .order_by(ApprovalRequest.kind)
    ).all()
    return [(kind, approvals.HANDLERS[kind].label if kind in approvals.HANDLERS else kind, n) for kind, n in rows]


def kyc_awaiting_review(user: StaffUser | None = None) -> int:
    """Members whose KYC was submitted and waits for a reviewer (not counting the user's own submissions)."""
    stmt = select(func.count()).select_from(Member).where(Member.kyc_status == "submitted")
    if user is not None:
        stmt = stmt.where((Member.kyc_submitted_by_id.is_(None)) | (Member.kyc_submitted_by_id != user.id))
    return int(db.session.scalar(stmt) or 0)


def awaiting_decision(user: StaffUser) -> int:
    """What this user may decide now: approval requests of others in kinds they check, plus KYC reviews."""
    mine = 0
    if has_permission(user, "approvals.decide"):
        for kind, maker_id, n in db.session.execute(
            select(ApprovalRequest.kind, ApprovalRequest.maker_id, func.count())
            .where(ApprovalRequest.status == "pending")
            .group_by(ApprovalRequest.kind, ApprovalRequest.maker_id)
        ):
            handler = approvals.HANDLERS.get(kind)
            if handler is not None and maker_id != user.id and has_permission(user, handler.permission):
                mine += n
    if has_permission(user, "kyc.review"):
        mine += kyc_awaiting_review(user)
    return mine


def loan_quality(on: date) -> dict[str, Any] | None:
    """Overdue and NPA share of the loan book (None while no loan is on the books)."""
    return loan_reports.quality(on) if loan_reports.available() else None


@dataclass
class Dashboard:
    """Figures for one role on one business date (keys per role; see ``for_user``)."""

    on: date
    role: str
    figures: dict[str, Any] = field(default_factory=dict)
    charts: dict[str, Any] = field(default_factory=dict)


def manager_figures(on: date, user: StaffUser) -> dict[str, Any]:
    deposits = movement(DEPOSIT_GROUP, on, credit_normal=True)
    loans = movement(LOAN_GROUP, on, credit_normal=False)
    members_today = db.session.scalar(select(func.count()).select_from(Member).where(Member.joined_on == on))
    members_month = db.session.scalar(
        select(func.count()).select_from(Member).where(Member.joined_on >= month_start(on), Member.joined_on <= on)
    )
    return {
        "deposits": deposits,
        "loans": loans,
        "disbursed_today": disbursed(on, on),
        "disbursed_month": disbursed(on, month_start(on)),
        "new_members_today": int(members_today or 0),
        "new_members_month": int(members_month or 0),
        "kyc_waiting": kyc_awaiting_review(),
        "pending": pending_by_kind(),
        "awaiting_decision": awaiting_decision(user),
        "cash": ledger_reports.cash_position(on),
        "loan_quality": loan_quality(on),
    }


def cashier_figures(on: date, user: StaffUser) -> dict[str, Any]:
    drawer = teller.current_drawer(user, on)
    summary = teller.drawer_summary(drawer) if drawer is not None else None
    pending = db.session.scalar(
        select(func.count())
        .select_from(ApprovalRequest)
        .where(
            ApprovalRequest.status == "pending",
            ApprovalRequest.maker_id == user.id,
            ApprovalRequest.kind.startswith("teller.") | ApprovalRequest.kind.startswith("transfers."),
        )
    )
    return {
        "drawer": drawer,
        "opening": drawer.opening_float_paise if drawer else 0,
        "received": summary.received_paise if summary else 0,
        "paid": summary.paid_paise if summary else 0,
        "from_vault": (summary.from_vault_paise - (drawer.opening_float_paise if drawer else 0)) if summary else 0,
        "to_vault": summary.to_vault_paise if summary else 0,
        "balance": summary.balance_paise if summary else 0,
        "transactions": summary.transactions if summary else 0,
        "pending_counter": int(pending or 0),
    }


def clerk_figures(on: date, user: StaffUser) -> dict[str, Any]:
    def count(*where) -> int:
        return int(db.session.scalar(select(func.count()).select_from(Member).where(*where)) or 0)

    start, end = _day_bounds(on)
    return {
        "kyc_to_complete": count(Member.status == "applicant", Member.kyc_status == "pending"),
        "kyc_rejected": count(Member.kyc_status == "rejected", Member.status == "applicant"),
        "kyc_submitted": count(Member.kyc_status == "submitted"),
        "to_admit": count(Member.status == "applicant", Member.kyc_status == "approved"),
        "rekyc_due": count(Member.status == "active", Member.rekyc_due_on.is_not(None), Member.rekyc_due_on <= on),
        "registered_today": count(Member.created_at >= start, Member.created_at < end),
        "loan_applications": loan_reports.applications_waiting(),
        "my_pending": int(
            db.session.scalar(
                select(func.count())
                .select_from(ApprovalRequest)
                .where(ApprovalRequest.status == "pending", ApprovalRequest.maker_id == user.id)
            )
            or 0
        ),
    }


SUSPENSE_CODES = (coa.SUSPENSE, coa.CASH_OVER_SHORT, coa.SUNDRY_PAYABLE)


def day_end_status(on: date) -> dict[str, Any]:
    last_closed = db.session.scalar(select(func.max(BusinessDay.business_date)).where(BusinessDay.status == "closed"))
    last_run = db.session.scalar(select(EodRun).order_by(EodRun.id.desc()).limit(1))
    return {"open_day": ledger.business_date_or_none(), "last_closed": last_closed, "last_run": last_run}


def accountant_figures(on: date, user: StaffUser) -> dict[str, Any]:
    net = statements.net_debits(on)
    gls = {gl.code: gl for gl in db.session.scalars(select(GLAccount).where(GLAccount.code.in_(SUSPENSE_CODES)))}
    suspense = [(gls[c], -net.get(gls[c].id, 0)) for c in SUSPENSE_CODES if c in gls]
    vouchers = db.session.scalar(
        select(func.count())
        .select_from(ApprovalRequest)
        .where(ApprovalRequest.status == "pending", ApprovalRequest.kind.startswith("ledger."))
    )
    return {"suspense": suspense, "pending_vouchers": int(vouchers or 0), **day_end_status(on)}


def auditor_figures(on: date, user: StaffUser) -> dict[str, Any]:
    def reversals(since: date) -> int:
        return int(
            db.session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.reverses_id.is_not(None), JournalEntry.business_date.between(since, on))
            )
            or 0
        )

    start, end = _day_bounds(on)
    tb = ledger_reports.trial_balance(on)
    # Before the first business day there is no balance sheet to check (nothing is posted).
    bs_ok = statements.balance_sheet(on, comparative=False).balanced if statements.first_day() else True
    return {
        "reversals_today": reversals(on),
        "reversals_month": reversals(month_start(on)),
        "audit_rows_today": int(
            db.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.occurred_at >= start, AuditLog.occurred_at < end)
            )
            or 0
        ),
        "trial_balance_agrees": tb.balanced,
        "balance_sheet_balances": bs_ok,
        "backdated_month": int(
            db.session.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(
                    JournalEntry.business_date.between(month_start(on), on),
                    JournalEntry.value_date < JournalEntry.business_date,
                )
            )
            or 0
        ),
    }


def admin_figures(on: date, user: StaffUser) -> dict[str, Any]:
    now = utcnow()
    users = db.session.execute(select(StaffUser.active, StaffUser.locked_until)).all()
    return {
        "users_active": sum(1 for active, _ in users if active),
        "users_inactive": sum(1 for active, _ in users if not active),
        "users_locked": sum(1 for _, locked in users if locked is not None and _aware(locked) > now),
        "failed_day_ends": int(
            db.session.scalar(select(func.count()).select_from(EodRun).where(EodRun.status == "failed")) or 0
        ),
        "failed_notifications": int(
            db.session.scalar(select(func.count()).select_from(Notification).where(Notification.status == "failed"))
            or 0
        ),
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


ROLE_FIGURES = {
    "manager": manager_figures,
    "cashier": cashier_figures,
    "clerk": clerk_figures,
    "accountant": accountant_figures,
    "auditor": auditor_figures,
    "admin": admin_figures,
}


def for_user(user: StaffUser, on: date | None = None) -> Dashboard:
    """The dashboard of ``user``'s role for ``on`` (default: the business date)."""
    on = on or statements.default_date()
    board = Dashboard(on, user.role)
    figures = ROLE_FIGURES.get(user.role)
    if figures is not None:
        board.figures = figures(on, user)
    if user.role in ("manager", "accountant", "auditor", "admin"):
        board.charts["balances"] = balances_by_month(on)
        board.charts["channels"] = collections_by_channel(on)
        trend = npa_trend(on)
        if trend:
            board.charts["npa"] = trend
    return board


# ---------------------------------------------------------------- chart series


@dataclass
class Series:
    """A chart: ``labels`` along the x-axis and one or more named value lists (paise or basis points)."""

    title: str
    labels: list[str]
    values: dict[str, list[int]]
    unit: str = "inr"  # inr (paise) or pct (basis points)

    @property
    def maximum(self) -> int:
        return max([1, *(v for vals in self.values.values() for v in vals)])


def month_ends(on: date, months: int = 12) -> list[date]:
    """The last day of each of the past ``months`` months, the current month ending on ``on``."""
    out = [on]
    cursor = month_start(on)
    for _ in range(months - 1):
        cursor = cursor - timedelta(days=1)
        out.append(cursor)
        cursor = month_start(cursor)
    return list(reversed(out))


def balances_by_month(on: date) -> Series:
    """Deposits and loans outstanding at each of the last 12 month ends (before the first day: zero)."""
    first = statements.first_day()
    dep_ids, loan_ids = _subtree(DEPOSIT_GROUP), _subtree(LOAN_GROUP)
    deposits, loans, labels = [], [], []
    for end in month_ends(on):
        labels.append(end.strftime("%b"))
        if first is None or end < first:
            deposits.append(0)
            loans.append(0)
            continue
        net = statements.net_debits(end)
        deposits.append(_balance(dep_ids, net, True))
        loans.append(_balance(loan_ids, net, False))
    return Series("Deposits and loans, last 12 months", labels, {"Deposits": deposits, "Loans": loans})


def collections_by_channel(on: date) -> Series:
    """Money received into members' deposit and loan accounts this month, by channel."""
    ids = _subtree(DEPOSIT_GROUP) + _subtree(LOAN_GROUP)
    rows = db.session.execute(
        select(JournalEntry.channel, func.sum(JournalLine.credit_paise))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.gl_account_id.in_(ids),
            JournalLine.account_id.is_not(None),
            JournalLine.business_date.between(month_start(on), on),
            JournalLine.credit_paise > 0,
            JournalEntry.kind.not_in(("reversal", "interest", "dividend", "eod")),
        )
        .group_by(JournalEntry.channel)
        .order_by(JournalEntry.channel)
    ).all()
    return Series(
        f"Collections by channel, {on:%B %Y}",
        [c or "branch" for c, _ in rows],
        {"Collected": [int(v or 0) for _, v in rows]},
    )


def npa_trend(on: date) -> Series | None:
    """Gross NPA as a share of gross advances, by amount (basis points), at each month end.

    Each point: the outstanding then of the loans classed NPA then (classification history),
    over the outstanding then of every loan on the books (``loans.npa_amounts``).
    """
    if not loan_reports.available():
        return None
    points = loan_reports.npa_share_by_month(month_ends(on))
    if points is None:
        return None
    return Series(
        "Gross NPA % of advances (by amount), last 12 months",
        [d.strftime("%b") for d in month_ends(on)],
        {"NPA %": points},
        "pct",
    )


def pct(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole`` to two decimals, half-up (0 when whole is 0)."""
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
