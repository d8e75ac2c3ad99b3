"""Cash drawers: a cashier's drawer for the business date (a ledger sub-account of kind
``drawer`` under TELLER_CASH), its opening float and vault moves, the closing count by
denomination (a difference needs a manager's approval), its summary and history.

- open:        Dr drawer / Cr VAULT_CASH (the opening float)
- vault moves: Dr VAULT_CASH / Cr drawer (return) and Dr drawer / Cr VAULT_CASH (replenish)
- close:       Dr VAULT_CASH counted, Dr CASH_OVER_SHORT shortage / Cr drawer expected,
               Cr CASH_OVER_SHORT excess.

A business day closes only when every drawer of that day is counted and closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.models.teller import DENOMINATIONS, CashTransaction, TellerDrawer
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, NotFound, PermissionDenied, ValidationError, approvals, audit
from app.services.ledger import calendar, coa

from .rules import check_amount

DENOMINATION_VALUES = {key: value for key, _label, value in DENOMINATIONS}
MAX_PIECES = 1_000_000
DIFFERENCE_KIND = "teller.drawer_difference"


class DrawerNotOpen(Conflict):
    type = "drawer-not-open"
    title = "No open cash drawer"


class DrawerShort(ledger.InsufficientFunds):
    type = "drawer-short"
    title = "Not enough cash in the drawer"


# ---------------------------------------------------------------- drawers


def get_drawer(drawer_id: int) -> TellerDrawer:
    """The drawer with this id (NotFound otherwise)."""
    drawer = db.session.get(TellerDrawer, drawer_id)
    if drawer is None:
        raise NotFound("No such cash drawer.")
    return drawer


def current_drawer(cashier: StaffUser, on: date | None = None) -> TellerDrawer | None:
    """The cashier's drawer for the open business date (or ``on``), whatever its status."""
    day = on or calendar.business_date_or_none()
    if day is None:
        return None
    return db.session.scalar(
        select(TellerDrawer).where(TellerDrawer.cashier_id == cashier.id, TellerDrawer.business_date == day)
    )


def drawers_for(on: date) -> list[TellerDrawer]:
    """Every drawer of a business date (the manager's view; the day-end checks none is open)."""
    return list(
        db.session.scalars(select(TellerDrawer).where(TellerDrawer.business_date == on).order_by(TellerDrawer.id))
    )


def _lock_drawer(drawer: TellerDrawer) -> TellerDrawer:
    """Re-read the drawer under a row lock (serialises its transactions against its close)."""
    return db.session.scalars(
        select(TellerDrawer)
        .where(TellerDrawer.id == drawer.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def operable_drawer(drawer: TellerDrawer | None, cashier: StaffUser) -> TellerDrawer:
    if drawer is None:
        raise DrawerNotOpen("Open your cash drawer before taking or paying cash.")
    drawer = _lock_drawer(drawer)
    if drawer.cashier_id != cashier.id:
        raise PermissionDenied("This is another cashier's drawer.")
    if drawer.status == "closing":
        raise DrawerNotOpen("Your drawer has been counted and awaits approval; reopen it to take more cash.")
    if drawer.status != "open":
        raise DrawerNotOpen("Your drawer is closed for the day.")
    today = calendar.current_business_date()
    if drawer.business_date != today:
        raise DrawerNotOpen(
            f"This drawer belongs to {drawer.business_date:%d-%m-%Y}; count and close it, then open one for today."
        )
    db.session.refresh(drawer.account)
    return drawer


def open_drawer(cashier: StaffUser, float_paise: int) -> TellerDrawer:
    """Open the cashier's drawer for today with an opening float drawn from the vault."""
    if not isinstance(float_paise, int) or isinstance(float_paise, bool) or float_paise < 0:
        raise ValidationError("The opening float must be zero or more.", field="opening_float")
    if float_paise:
        check_amount(float_paise, cash=True)
    today = calendar.current_business_date()
    existing = current_drawer(cashier, today)
    if existing is not None:
        raise Conflict(f"Your drawer for {today:%d-%m-%Y} is already {existing.status}.")
    if float_paise:
        vault = ledger.gl_balance(coa.VAULT_CASH)
        if vault < float_paise:
            raise ValidationError(
                f"The vault holds {format_inr(vault)}; a float of {format_inr(float_paise)} cannot be issued.",
                field="opening_float",
            )
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.TELLER_CASH))
    if gl is None:
        raise ValidationError("The chart of accounts has no teller cash account; seed it first.")
    account = Account(
        account_no=f"TD{today:%y%m%d}{cashier.id:05d}",
        kind="drawer",
        title=f"Cash drawer of {cashier.username} for {today:%d-%m-%Y}",
        member_id=None,
        control_gl=gl,
        balance_paise=0,
        min_balance_paise=0,
        enforce_limit=True,
        status="active",
        branch_id=cashier.branch_id,
        opened_on=today,
    )
    drawer = TellerDrawer(
        cashier_id=cashier.id,
        business_date=today,
        branch_id=cashier.branch_id,
        status="open",
        opening_float_paise=float_paise,
        opened_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(account)
            db.session.flush()
            drawer.account_id = account.id
            db.session.add(drawer)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Your drawer for {today:%d-%m-%Y} is already open.") from exc
    if float_paise:
        ledger.post(
            [
                ledger.Line.dr(account, float_paise, "Opening float"),
                ledger.Line.cr(coa.VAULT_CASH, float_paise, f"Float to {cashier.username}"),
            ],
            kind="teller",
            narration=f"Opening float to cash drawer {account.account_no} ({cashier.username})",
            reference=account.account_no,
            options=ledger.PostOptions(
                posted_by_id=cashier.id,
                branch_id=cashier.branch_id,
            ),
        )
    audit.record(
        "teller.drawer_open",
        "teller_drawer",
        drawer.id,
        after={"cashier": cashier.username, "business_date": today, "opening_float_paise": float_paise},
    )
    return drawer


def vault_transfer(drawer: TellerDrawer, amount_paise: int, *, direction: str, cashier: StaffUser) -> JournalEntry:
    """Move cash between the drawer and the vault (``to_vault`` or ``from_vault``) mid-day."""
    check_amount(amount_paise, cash=True)
    drawer = operable_drawer(drawer, cashier)
    account = drawer.account
    if direction == "to_vault":
        if account.balance_paise < amount_paise:
            raise DrawerShort(
                f"Your drawer holds {format_inr(account.balance_paise)}; {format_inr(amount_paise)} cannot go to the vault.",
                field="amount",
            )
        lines = [ledger.Line.dr(coa.VAULT_CASH, amount_paise), ledger.Line.cr(account, amount_paise)]
        narration = f"Cash from drawer {account.account_no} to vault"
    elif direction == "from_vault":
        vault = ledger.gl_balance(coa.VAULT_CASH)
        if vault < amount_paise:
            raise ValidationError(
                f"The vault holds {format_inr(vault)}; {format_inr(amount_paise)} cannot be issued.", field="amount"
            )
        lines = [ledger.Line.dr(account, amount_paise), ledger.Line.cr(coa.VAULT_CASH, amount_paise)]
        narration = f"Cash from vault to drawer {account.account_no}"
    else:
        raise ValidationError("Choose to or from the vault.", field="direction")
    entry = ledger.post(
        lines,
        kind="teller",
        narration=f"{narration} ({cashier.username})",
        reference=account.account_no,
        options=ledger.PostOptions(
            posted_by_id=cashier.id,
            branch_id=drawer.branch_id,
        ),
    )
    audit.record(
        "teller.vault_transfer",
        "teller_drawer",
        drawer.id,
        after={"direction": direction, "amount_paise": amount_paise, "entry": entry.number},
    )
    return entry


def cashier_drawer(cashier: StaffUser | None) -> TellerDrawer:
    """The acting cashier's open drawer for today, locked (DrawerNotOpen when there is none)."""
    if cashier is None:
        raise DrawerNotOpen(
            "Cash is taken and paid only at the counter, from a cashier's open drawer; "
            "no cashier is acting here. Use a transfer, or do it at the counter."
        )
    drawer = current_drawer(cashier)
    if drawer is None:
        raise DrawerNotOpen(
            f"Cash goes through the acting cashier's drawer and {cashier.username} has no cash drawer open "
            "today: use a transfer from or to the member's savings account (the member deposits or "
            "withdraws the cash at the counter), or have a cashier with an open drawer do it.",
            field="funding",
        )
    return operable_drawer(drawer, cashier)


def check_drawer_cash(drawer: TellerDrawer, amount_paise: int) -> None:
    if drawer.account.balance_paise < amount_paise:
        raise DrawerShort(
            f"Your drawer holds {format_inr(drawer.account.balance_paise)}; it cannot pay {format_inr(amount_paise)}. "
            "Bring cash from the vault first.",
            field="amount",
        )


# ---------------------------------------------------------------- closing count


def parse_denominations(raw: dict[str, Any]) -> dict[str, int]:
    """Denomination counts from a form or JSON: whole pieces ≥ 0 for the known keys."""
    counts: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for key, label, _value in DENOMINATIONS:
        value = raw.get(key)
        text = str(value).strip() if value is not None else ""
        if not text:
            counts[key] = 0
            continue
        if not text.isdigit() or int(text) > MAX_PIECES:
            errors[key] = [f"{label}: enter a whole number of pieces."]
            continue
        counts[key] = int(text)
    if errors:
        raise ValidationError("Check the denomination counts.", errors=errors)
    return counts


def count_total(counts: dict[str, int]) -> int:
    """The value (paise) of a denomination count."""
    return sum(DENOMINATION_VALUES[key] * int(n) for key, n in counts.items() if key in DENOMINATION_VALUES)


def close_drawer(drawer: TellerDrawer, denominations: dict[str, Any], *, cashier: StaffUser) -> TellerDrawer:
    """Count the drawer; an exact count closes it, a difference goes to a manager first."""
    counts = parse_denominations(denominations)
    drawer = _lock_drawer(drawer)
    if drawer.cashier_id != cashier.id:
        raise PermissionDenied("Only the drawer's own cashier can count it.")
    if drawer.status == "closed":
        raise Conflict("This drawer is already closed.")
    if drawer.status == "closing" and drawer.close_request is not None and drawer.close_request.status == "pending":
        raise Conflict("The count of this drawer is awaiting a manager's approval.")
    db.session.refresh(drawer.account)
    expected = drawer.account.balance_paise
    counted = count_total(counts)
    before = {"status": drawer.status}
    drawer.denominations = counts
    drawer.expected_paise = expected
    drawer.counted_paise = counted
    drawer.difference_paise = counted - expected
    drawer.counted_at = utcnow()
    if counted == expected:
        _post_close(drawer, cashier=cashier, approved_by=None)
    else:
        word = "shortage" if counted < expected else "excess"
        drawer.status = "closing"
        req = approvals.submit(
            DIFFERENCE_KIND,
            {"drawer_id": drawer.id, "expected_paise": expected, "counted_paise": counted},
            maker=cashier,
            summary=(
                f"Cash {word} of {format_inr(abs(counted - expected))} in {cashier.username}'s drawer "
                f"for {drawer.business_date:%d-%m-%Y} (expected {format_inr(expected)}, counted {format_inr(counted)})"
            ),
            entity=("teller_drawer", drawer.id),
            amount_paise=abs(counted - expected),
        )
        drawer.close_request_id = req.id
    audit.record(
        "teller.drawer_count",
        "teller_drawer",
        drawer.id,
        before=before,
        after={
            "status": drawer.status,
            "expected_paise": expected,
            "counted_paise": counted,
            "difference_paise": counted - expected,
            "denominations": counts,
        },
    )
    return drawer


def _post_close(drawer: TellerDrawer, *, cashier: StaffUser, approved_by: StaffUser | None) -> None:
    """Return the counted cash to the vault, book any difference, close the drawer."""
    account = drawer.account
    expected, counted = int(drawer.expected_paise or 0), int(drawer.counted_paise or 0)
    if account.balance_paise != expected:
        raise Conflict("The drawer balance changed after it was counted; count it again.")
    lines: list[ledger.Line] = []
    if counted:
        lines.append(ledger.Line.dr(coa.VAULT_CASH, counted, "Cash returned at close"))
    if counted < expected:
        lines.append(ledger.Line.dr(coa.CASH_OVER_SHORT, expected - counted, "Cash shortage"))
    if expected:
        lines.append(ledger.Line.cr(account, expected, "Drawer closed"))
    if counted > expected:
        lines.append(ledger.Line.cr(coa.CASH_OVER_SHORT, counted - expected, "Cash excess"))
    if lines:
        entry = ledger.post(
            lines,
            kind="teller",
            narration=f"Close cash drawer {account.account_no} (counted {format_inr(counted)}, "
            f"expected {format_inr(expected)})",
            reference=account.account_no,
            options=ledger.PostOptions(
                posted_by_id=cashier.id,
                approved_by_id=approved_by.id if approved_by is not None else None,
                branch_id=drawer.branch_id,
            ),
        )
        drawer.close_entry_id = entry.id
    drawer.status = "closed"
    drawer.closed_at = utcnow()
    drawer.closed_by_id = (approved_by or cashier).id


def _execute_difference(req: ApprovalRequest, checker: StaffUser) -> dict:
    """Approval of a counted difference: post it to cash over/short and close the drawer."""
    drawer = _lock_drawer(get_drawer(int(req.payload["drawer_id"])))
    if drawer.status != "closing" or drawer.close_request_id != req.id:
        raise Conflict("This drawer is no longer waiting for this count to be approved.")
    db.session.refresh(drawer.account)
    maker = db.session.get(StaffUser, req.maker_id)
    _post_close(drawer, cashier=maker, approved_by=checker)
    audit.record(
        "teller.drawer_close",
        "teller_drawer",
        drawer.id,
        before={"status": "closing"},
        after={"status": "closed", "difference_paise": drawer.difference_paise},
    )
    return {"drawer_id": drawer.id, "difference_paise": drawer.difference_paise, "entry_id": drawer.close_entry_id}


def reopen_drawer(drawer: TellerDrawer, *, cashier: StaffUser) -> TellerDrawer:
    """Take back a count (withdrawn, or rejected by the manager) so the cashier can carry on."""
    drawer = _lock_drawer(drawer)
    if drawer.cashier_id != cashier.id:
        raise PermissionDenied("Only the drawer's own cashier can reopen it.")
    if drawer.status != "closing":
        raise Conflict(f"The drawer is {drawer.status}; only a drawer awaiting approval of its count can reopen.")
    req = drawer.close_request
    if req is not None and req.status == "pending":
        approvals.cancel(req.id, maker=cashier)
    drawer.status = "open"
    drawer.close_request_id = None
    drawer.denominations = None
    drawer.expected_paise = drawer.counted_paise = drawer.difference_paise = None
    drawer.counted_at = None
    audit.record(
        "teller.drawer_reopen", "teller_drawer", drawer.id, before={"status": "closing"}, after={"status": "open"}
    )
    return drawer


# ---------------------------------------------------------------- drawer summary and history


@dataclass
class DrawerSummary:
    """The drawer's day at a glance (from its journal lines)."""

    drawer: TellerDrawer
    balance_paise: int = 0
    received_paise: int = 0
    paid_paise: int = 0
    from_vault_paise: int = 0
    to_vault_paise: int = 0
    transactions: int = 0


def drawer_summary(drawer: TellerDrawer) -> DrawerSummary:
    """Cash received, paid, moved to and from the vault, and the exact balance of a drawer."""
    rows = db.session.execute(
        select(JournalEntry.kind, func.sum(JournalLine.debit_paise), func.sum(JournalLine.credit_paise), func.count())
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id == drawer.account_id)
        .group_by(JournalEntry.kind)
    ).all()
    summary = DrawerSummary(drawer, balance_paise=drawer.account.balance_paise)
    for kind, dr, cr, n in rows:
        if kind == "teller":
            summary.from_vault_paise += int(dr or 0)
            summary.to_vault_paise += int(cr or 0)
        else:
            summary.received_paise += int(dr or 0)
            summary.paid_paise += int(cr or 0)
            summary.transactions += int(n)
    return summary


def recent_cash(drawer: TellerDrawer, limit: int = 15) -> list[CashTransaction]:
    """The drawer's latest cash transactions, newest first."""
    return list(
        db.session.scalars(
            select(CashTransaction)
            .where(CashTransaction.drawer_id == drawer.id)
            .order_by(CashTransaction.id.desc())
            .limit(limit)
        )
    )


def pending_requests() -> list[ApprovalRequest]:
    """Counter and transfer requests awaiting a manager."""
    return [r for r in approvals.pending() if r.kind.startswith(("teller.", "transfers."))]


def seed_demo_vault() -> None:
    """Demo society: put ₹5,00,000 drawn from the DCCB in the vault so cashiers can take a float."""
    if calendar.business_date_or_none() is None or ledger.gl_balance(coa.VAULT_CASH) != 0:
        return
    if db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "teller")):
        return
    ledger.post(
        [ledger.Line.dr(coa.VAULT_CASH, 5_00_000_00), ledger.Line.cr(coa.BANK_DCCB, 5_00_000_00)],
        kind="teller",
        narration="Demo: cash drawn from the DCCB for the vault",
    )


def _drawers_settled(on: date) -> list[str]:
    """A day closes only when every cash drawer of that day is counted and closed."""
    return [
        f"the cash drawer of {d.cashier.username} is {d.status} (count and close it first)"
        for d in drawers_for(on)
        if d.status != "closed"
    ]


approvals.register(
    DIFFERENCE_KIND, label="Cash drawer shortage/excess", permission="teller.approve", execute=_execute_difference
)
calendar.register_close_check(_drawers_settled)
