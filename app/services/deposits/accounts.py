"""Deposit accounts: product-prefixed check-digit numbers, lookups, status changes
(freeze/unfreeze by maker-checker, dormancy), payouts, closure and the day-end entry points.

What differs by kind (opening terms, closing, maturities, accruals) is asked of the kind
registry (``kinds``); this module imports no kind module and never branches on a kind.
Every movement of money goes through ``ledger.post``; every state change is audited;
nothing here commits (the caller's unit of work does) and nothing reads ``request``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.deposits import DEPOSIT_KINDS, AccountHolder, DepositAccount, DepositProduct
from app.models.ledger import Account, JournalEntry, JournalLine
from app.models.members import Member
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services.common import Conflict, DomainError, NotFound, ValidationError, approvals, audit, numbering
from app.services.ledger import Line, calendar, coa
from app.settings import setting

from . import kinds
from .interest import add_months

# ---------------------------------------------------------------- account numbers


def _digits(text: str) -> str:
    """Letters to numbers (A=10 … Z=35) so the check digit also protects the prefix."""
    return "".join(ch if ch.isdigit() else str(ord(ch) - 55) for ch in text.upper())


def new_account_no(product: DepositProduct) -> str:
    """The next account number of a product: prefix + 7-digit serial + Luhn check digit."""
    serial = numbering.next_value(f"account:{product.prefix}")
    body = f"{product.prefix}{serial:07d}"
    return body + numbering.luhn_check_digit(_digits(body))


def valid_account_no(account_no: str) -> bool:
    """Whether a deposit account number's check digit is right (catches most typing slips)."""
    text = (account_no or "").strip().upper()
    if len(text) < 4 or not text[-1].isdigit() or not text[:-1].isalnum():
        return False
    return numbering.luhn_check_digit(_digits(text[:-1])) == text[-1]


# ---------------------------------------------------------------- lookups


def get_account(account_no: str) -> Account:
    """A deposit account (savings, FD or RD) by its number; NotFound otherwise."""
    account = db.session.scalar(select(Account).where(Account.account_no == (account_no or "").strip().upper()))
    if account is None or account.kind not in DEPOSIT_KINDS:
        raise NotFound(f"No deposit account {account_no!r}.")
    return account


def deposit_of(account: Account) -> DepositAccount:
    """The deposit details of a ledger account."""
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == account.id))
    if da is None:
        raise NotFound(f"Account {account.account_no} is not a deposit account.")
    return da


def get_member(member_no: str) -> Member:
    member = db.session.scalar(select(Member).where(Member.member_no == (member_no or "").strip().upper()))
    if member is None:
        raise ValidationError(f"No member {member_no!r}.", field="member_no")
    return member


def member_accounts(member: Member, kind: str | None = None, *, open_only: bool = True) -> list[Account]:
    """The deposit accounts a member holds (first holder), oldest first."""
    stmt = select(Account).where(Account.member_id == member.id, Account.kind.in_(DEPOSIT_KINDS)).order_by(Account.id)
    if kind:
        stmt = stmt.where(Account.kind == kind)
    if open_only:
        stmt = stmt.where(Account.status != "closed")
    return list(db.session.scalars(stmt))


def joint_accounts(member: Member) -> list[Account]:
    """Accounts where the member is a joint (not the first) holder."""
    return list(
        db.session.scalars(
            select(Account)
            .join(AccountHolder, AccountHolder.account_id == Account.id)
            .where(AccountHolder.member_id == member.id)
            .order_by(Account.id)
        )
    )


def holders(account: Account) -> list[Member]:
    """Joint holders after the first, in order."""
    return [
        h.member
        for h in db.session.scalars(
            select(AccountHolder).where(AccountHolder.account_id == account.id).order_by(AccountHolder.position)
        )
    ]


def held_by(account: Account, member_id: int) -> bool:
    """Whether ``member_id`` is the first or a joint holder of ``account``."""
    if account.member_id == member_id:
        return True
    return bool(
        db.session.scalar(
            select(AccountHolder.id).where(AccountHolder.account_id == account.id, AccountHolder.member_id == member_id)
        )
    )


def savings_floor(account: Account) -> int:
    """The lowest balance a withdrawal may leave on a savings account: the product minimum balance."""
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == account.id))
    product_min = int(da.product.setting("min_balance_paise", 0) or 0) if da is not None else 0
    return max(int(account.min_balance_paise or 0), product_min)


def own_savings(member: Member, account_no: str | None, field_name: str) -> Account:
    """A savings account of ``member`` (first or joint holder), open for transactions."""
    if not account_no:
        raise ValidationError("Give the member's savings account number.", field=field_name)
    account = db.session.scalar(select(Account).where(Account.account_no == account_no.strip().upper()))
    if account is None or account.kind != "savings":
        raise ValidationError(f"No savings account {account_no!r}.", field=field_name)
    if not held_by(account, member.id):
        raise ValidationError(
            f"Savings account {account.account_no} does not belong to {member.name}.", field=field_name
        )
    if account.status in ("closed", "frozen"):
        raise ValidationError(f"Savings account {account.account_no} is {account.status}.", field=field_name)
    return account


def check_amount(paise: Any, field_name: str, *, allow_zero: bool = False) -> int:
    """Whole, non-negative paise (zero only when ``allow_zero``)."""
    if isinstance(paise, bool) or not isinstance(paise, int):
        raise ValidationError("Amounts must be whole paise.", field=field_name)
    if paise < 0:
        raise ValidationError("The amount cannot be negative.", field=field_name)
    if paise == 0 and not allow_zero:
        raise ValidationError("The amount must be more than zero.", field=field_name)
    return paise


def payout_target(member: Member, account_no: str | None, field_name: str = "payout_account") -> Account:
    """The SB account that receives payouts: the one given, else the member's oldest open SB."""
    if account_no:
        return own_savings(member, account_no, field_name)
    for account in member_accounts(member, "savings"):
        if account.status in ("active", "dormant"):
            return account
    raise ValidationError(
        f"{member.name} has no open savings account to receive the interest or maturity; open one first "
        "or choose auto-renew.",
        field=field_name,
    )


# ---------------------------------------------------------------- status: freeze, unfreeze, dormancy


def submit_status_change(account: Account, action: str, reason: str, *, maker: StaffUser) -> ApprovalRequest:
    """Queue a freeze or unfreeze of a deposit account for a checker (``accounts.approve``)."""
    reason = (reason or "").strip()
    if action not in ("freeze", "unfreeze"):
        raise ValidationError("Choose freeze or unfreeze.", field="action")
    if not reason:
        raise ValidationError("Give a reason.", field="reason")
    if account.kind not in DEPOSIT_KINDS:
        raise NotFound("No such deposit account.")
    if account.status == "closed":
        raise ValidationError(f"Account {account.account_no} is closed.")
    if action == "freeze" and account.status == "frozen":
        raise ValidationError(f"Account {account.account_no} is already frozen.")
    if action == "unfreeze" and account.status != "frozen":
        raise ValidationError(f"Account {account.account_no} is not frozen.")
    pending = db.session.scalar(
        select(ApprovalRequest.id).where(
            ApprovalRequest.kind == "deposits.status",
            ApprovalRequest.status == "pending",
            ApprovalRequest.entity_id == account.account_no,
        )
    )
    if pending:
        raise Conflict(f"A status change of {account.account_no} is already awaiting approval (request #{pending}).")
    return approvals.submit(
        "deposits.status",
        {"account_no": account.account_no, "action": action, "reason": reason[:200]},
        maker=maker,
        summary=f"{action.title()} account {account.account_no}: {reason[:150]}",
        entity=("account", account.account_no),
    )


def _execute_status(req: ApprovalRequest, checker: StaffUser) -> dict:
    account = get_account(req.payload["account_no"])
    action, reason = req.payload["action"], req.payload["reason"]
    before = {"status": account.status, "reason": account.status_reason}
    if action == "freeze":
        if account.status in ("frozen", "closed"):
            raise ValidationError(f"Account {account.account_no} is {account.status}.")
        account.status = "frozen"
        account.status_reason = f"{reason} (was {before['status']})"[:255]
    else:
        if account.status != "frozen":
            raise ValidationError(f"Account {account.account_no} is not frozen.")
        previous = "dormant" if (account.status_reason or "").endswith("(was dormant)") else "active"
        account.status = previous
        account.status_reason = f"Unfrozen: {reason}"[:255]
    audit.record(
        f"deposits.{action}",
        "account",
        account.account_no,
        before=before,
        after={"status": account.status, "reason": account.status_reason, "approval": req.id},
    )
    return {"account_no": account.account_no, "status": account.status}


def pending_status_changes(account: Account) -> list[ApprovalRequest]:
    return list(
        db.session.scalars(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.kind == "deposits.status",
                ApprovalRequest.status == "pending",
                ApprovalRequest.entity_id == account.account_no,
            )
            .order_by(ApprovalRequest.id)
        )
    )


CUSTOMER_KINDS = ("deposit", "withdrawal", "transfer", "payment", "opening")


def mark_dormant(on: date) -> list[str]:
    """Mark savings accounts dormant after DORMANT_AFTER_MONTHS with no customer-induced transaction.

    Interest, charges and TDS do not count as customer activity (RBI). Returns the account
    numbers marked; each change is audited.
    """
    months = int(setting("DORMANT_AFTER_MONTHS"))
    cutoff = add_months(on, -months)
    recent = (
        select(JournalLine.id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id == Account.id,
            JournalLine.business_date > cutoff,
            JournalEntry.kind.in_(CUSTOMER_KINDS),
        )
        .exists()
    )
    rows = db.session.scalars(
        select(Account).where(
            Account.kind == "savings", Account.status == "active", Account.opened_on <= cutoff, ~recent
        )
    ).all()
    marked = []
    for account in rows:
        account.status = "dormant"
        account.status_reason = f"No customer transaction since {cutoff:%d-%m-%Y}"
        audit.record(
            "deposits.dormant",
            "account",
            account.account_no,
            before={"status": "active"},
            after={"status": "dormant", "reason": account.status_reason},
        )
        marked.append(account.account_no)
    db.session.flush()
    return marked


def reactivate(account: Account, *, reason: str, by: StaffUser | None = None) -> Account:
    """Bring a dormant account back to active (after fresh KYC, as the manager records)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give a reason.", field="reason")
    if account.status != "dormant":
        raise ValidationError(f"Account {account.account_no} is not dormant.")
    account.status = "active"
    account.status_reason = f"Reactivated: {reason}"[:255]
    audit.record(
        "deposits.reactivate",
        "account",
        account.account_no,
        before={"status": "dormant"},
        after={"status": "active", "reason": account.status_reason},
    )
    return account


# ---------------------------------------------------------------- payouts, interest settlement


@dataclass(frozen=True)
class Payout:
    """How closing money leaves a deposit: ``mode`` cash (the acting cashier ``by``, with a
    Form 60 reference when needed) or transfer to the member's SB ``to_account_no``."""

    mode: str = "transfer"
    to_account_no: str | None = None
    by: StaffUser | None = None
    form60_ref: str | None = None


def pay_out(
    account: Account, amount_paise: int, payout: Payout, *, narration: str, post_kw: dict | None = None
) -> JournalEntry:
    """Pay a closing balance out: in cash from the acting cashier's drawer, under the counter's
    rules (``counter.pay_cash``: PAN / Form 60, cash register, no payout above the
    large-withdrawal threshold without the counter's approval), or to the member's SB."""
    mode, to_account_no, by, form60_ref = payout.mode, payout.to_account_no, payout.by, payout.form60_ref
    if mode == "cash":
        result = counter.pay_cash(
            account,
            amount_paise,
            cashier=by,
            narration=f"{narration} in cash",
            form60_ref=form60_ref,
            channel=(post_kw or {}).get("channel") or "branch",
        )
        assert result.entry is not None
        return result.entry
    line, where = payout_line(account, amount_paise, mode, to_account_no)
    kw = {k: v for k, v in (post_kw or {}).items() if k in ("value_date", "allow_backdate", "channel")}
    return ledger.post(
        [Line.dr(account, amount_paise, "Deposit paid out"), line],
        kind="transfer",
        narration=f"{narration} to {where}",
        reference=account.account_no,
        options=ledger.PostOptions(
            **kw,
            posted_by_id=by.id if by else None,
        ),
    )


def payout_line(account: Account, amount_paise: int, mode: str, to_account_no: str | None) -> tuple[Line, str]:
    """Where closing money goes by transfer: a savings account of the same member (cash: ``pay_out``)."""
    if mode == "transfer":
        member = db.session.get(Member, account.member_id)
        target = own_savings(member, to_account_no, "to_account")
        if target.id == account.id:
            raise ValidationError("Pay the balance to another account.", field="to_account")
        return Line.cr(target, amount_paise, f"From {account.account_no}"), target.account_no
    if mode == "payout" and account.kind == "fd":  # to payouts in transit: only via payments.pay_deposit_proceeds
        return Line.cr(coa.PAYOUTS_IN_TRANSIT, amount_paise, f"From {account.account_no}"), "a beneficiary by payout"
    raise ValidationError("Pay out in cash or by transfer to the member's savings account.", field="mode")


def settlement_lines(exp_gl: str, payable_gl: str, accrued_paise: int, due_paise: int) -> list[Line]:
    """GL lines that fund an interest credit of ``due_paise`` (may be negative: a recovery).

    The interest payable accrued so far is released; the difference goes to the expense
    (a debit when more is due than was accrued, a credit when the accrual was too high).
    The caller adds the member-account line for ``due_paise``.
    """
    lines = []
    if accrued_paise:
        lines.append(Line.dr(payable_gl, accrued_paise, "Interest payable released"))
    diff = due_paise - accrued_paise
    if diff > 0:
        lines.append(Line.dr(exp_gl, diff))
    elif diff < 0:
        lines.append(Line.cr(exp_gl, -diff, "Excess accrual reversed"))
    return lines


def close_account(
    account: Account,
    *,
    mode: str = "transfer",
    to_account_no: str | None = None,
    reason: str = "",
    by: StaffUser | None = None,
    form60_ref: str | None = None,
) -> list[JournalEntry]:
    """Close a deposit account paying out everything due: SB (balance + interest to date),
    FD (premature, or a matured FD being paid), RD (premature or matured). Cash is paid from
    the acting cashier's drawer (``pay_out``)."""
    if account.status == "closed":
        raise ValidationError(f"Account {account.account_no} is already closed.")
    if account.status == "frozen":
        raise ValidationError(f"Account {account.account_no} is frozen and cannot be closed: {account.status_reason}")
    if account.kind not in DEPOSIT_KINDS:
        raise NotFound("No such deposit account.")
    ledger.kinds.check_closure(account)  # e.g. a lien for a loan
    return kinds.get(account.kind).close(
        account, mode=mode, to_account_no=to_account_no, reason=reason, by=by, form60_ref=form60_ref
    )


def mark_closed(account: Account, on: date, reason: str) -> None:
    """Set an account closed (its balance must be zero) and audit it."""
    if account.balance_paise != 0:
        raise ValidationError(f"Account {account.account_no} still has {format_inr(account.balance_paise)}.")
    before = account.status
    account.status = "closed"
    account.closed_on = on
    account.status_reason = (reason or "Closed")[:255]
    audit.record(
        "deposits.close",
        "account",
        account.account_no,
        before={"status": before},
        after={"status": "closed", "closed_on": on, "reason": account.status_reason},
    )


# ---------------------------------------------------------------- day-end entry points


def check_not_after_business_date(on: date, field_name: str = "date") -> date:
    """Refuse a day-end date after the open business date; return the open business date.

    Maturities, payouts, accruals and daily products for a day that has not come would pay
    or count money before it is due.
    """
    today = calendar.current_business_date()
    if not isinstance(on, date):
        raise ValidationError("Give the date as YYYY-MM-DD.", field=field_name)
    if on > today:
        raise ValidationError(
            f"{on:%d-%m-%Y} is after the open business date {today:%d-%m-%Y}; "
            "day-end steps run only for dates up to it.",
            field=field_name,
        )
    return today


@dataclass
class StepReport:
    """What a batch step could not do: accounts that failed (rolled back) or were held."""

    failed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


def isolated(account: Account, step: str, report: StepReport, work: Callable[[], Any]) -> Any:
    """Run one account's part of a batch step in a savepoint; on a DomainError roll it back,
    audit the failure, list it in ``report.failed`` and return None so the batch goes on."""
    try:
        with db.session.begin_nested():
            return work()
    except DomainError as exc:
        report.failed.append(f"{account.account_no}: {exc.message}")
        audit.record("deposits.batch_failed", "account", account.account_no, after={"step": step, "error": exc.message})
        return None


def run_maturities(on: date) -> dict[str, Any]:
    """FD payouts and maturities, RD standing instructions, overdue marking and maturities for ``on``.

    ``on`` may not be after the open business date. Each account is processed in its own
    savepoint: ``failed`` lists accounts whose step failed (and were rolled back), ``held``
    payouts that found no savings account able to take them.
    """
    check_not_after_business_date(on)
    report = StepReport()
    result: dict[str, Any] = {}
    for kind in kinds.all_kinds():
        if kind.maturity_steps is not None:
            result.update(kind.maturity_steps(on, report))
    result["held"] = report.held
    result["failed"] = report.failed
    return result


def accrue_month_end(month_end: date) -> dict[str, int]:
    """Month-end accrual of term-deposit interest payable (GL only); not for a month end still to come."""
    check_not_after_business_date(month_end, "month_end")
    return {k.name: k.accrue_month_end(month_end) for k in kinds.all_kinds() if k.accrue_month_end is not None}


# ---------------------------------------------------------------- registration


approvals.register(
    "deposits.status", label="Freeze / unfreeze account", permission="accounts.approve", execute=_execute_status
)
