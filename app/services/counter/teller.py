"""The counter: teller cash drawers, cash deposits and withdrawals, closing counts, receipts, CTR.

Every cashier works from a drawer for the open business date. The drawer's cash is a
sub-ledger ``Account`` (kind ``drawer``) under the TELLER_CASH control GL:

- open:        Dr drawer / Cr VAULT_CASH (the opening float)
- deposit:     Dr drawer / Cr member account (credit lines from ``deposit_rules``)
- withdrawal:  Dr member account (floor from ``deposit_rules``) / Cr drawer
- vault moves: Dr VAULT_CASH / Cr drawer (return) and Dr drawer / Cr VAULT_CASH (replenish)
- close:       Dr VAULT_CASH counted, Dr CASH_OVER_SHORT shortage / Cr drawer expected,
               Cr CASH_OVER_SHORT excess; a difference needs a manager's approval first.

Withdrawals above LARGE_WITHDRAWAL_PAISE go to maker-checker and post only on approval.
Cash of CASH_PAN_THRESHOLD_PAISE or more in a day needs the member's PAN or a Form 60.
Services never read ``request``; callers commit.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.ledger import Account, GLAccount, JournalEntry, JournalLine
from app.models.members import Member
from app.models.teller import DENOMINATIONS, CashTransaction, TellerDrawer
from app.models.users import StaffUser
from app.money import MAX_INPUT_PAISE, format_inr
from app.services import ledger
from app.services.common import Conflict, DomainError, NotFound, PermissionDenied, ValidationError, approvals, audit
from app.services.ledger import calendar, coa
from app.services.ledger import kinds as deposit_rules

DEFAULTS: dict[str, Any] = {
    "LARGE_WITHDRAWAL_PAISE": 2_00_000_00,
    "LARGE_TRANSFER_PAISE": 5_00_000_00,
    "CASH_PAN_THRESHOLD_PAISE": 50_000_00,
    "CTR_THRESHOLD_PAISE": 10_00_000_00,
    "CTR_BASIS": "combined",
    "CASH_SMALLEST_PAISE": 50,
}
DENOMINATION_VALUES = {key: value for key, _label, value in DENOMINATIONS}
MAX_PIECES = 1_000_000
WITHDRAWAL_KIND = "teller.withdrawal"
DIFFERENCE_KIND = "teller.drawer_difference"


class IdentityProofRequired(ValidationError):
    type = "pan-or-form60-required"
    title = "PAN or Form 60 required"


class DrawerNotOpen(Conflict):
    type = "drawer-not-open"
    title = "No open cash drawer"


class DrawerShort(ledger.InsufficientFunds):
    type = "drawer-short"
    title = "Not enough cash in the drawer"


class AccountRefused(ledger.AccountNotOperable):
    """A frozen, closed or dormant account refused for this operation (422)."""


def setting(name: str) -> Any:
    """A counter setting from the app config (falls back to the documented default)."""
    return current_app.config.get(name, DEFAULTS[name])


# ---------------------------------------------------------------- checks shared with transfers


def check_amount(amount_paise: int, *, cash: bool = False) -> int:
    """Refuse non-int, zero, negative or absurd amounts; cash must be countable in coins."""
    if not isinstance(amount_paise, int) or isinstance(amount_paise, bool):
        raise ValidationError("Amounts must be whole paise.", field="amount")
    if amount_paise <= 0:
        raise ValidationError("The amount must be more than zero.", field="amount")
    if amount_paise > MAX_INPUT_PAISE:
        raise ValidationError("The amount is larger than any single transaction this bank accepts.", field="amount")
    smallest = int(setting("CASH_SMALLEST_PAISE"))
    if cash and smallest > 1 and amount_paise % smallest:
        raise ValidationError(
            f"Cash is paid and received in multiples of {format_inr(smallest)} (the smallest coin); "
            f"{format_inr(amount_paise)} cannot be counted out.",
            field="amount",
        )
    return amount_paise


def holder_name(account: Account) -> str:
    """The account holder's name (the member's, else the account title)."""
    member = db.session.get(Member, account.member_id) if account.member_id else None
    return member.name if member is not None else account.title


def check_credit_target(account: Account, amount_paise: int) -> None:
    """Refuse a credit to a closed or frozen account or one whose kind does not take it."""
    if account.status == "closed":
        raise AccountRefused(f"Account {account.account_no} is closed; it cannot take deposits.", field="account")
    if account.status == "frozen":
        reason = f" ({account.status_reason})" if account.status_reason else ""
        raise AccountRefused(
            f"Account {account.account_no} is frozen{reason}; it cannot take deposits.", field="account"
        )
    deposit_rules.check_credit(account, amount_paise)


def check_debit_source(account: Account, amount_paise: int) -> int:
    """Refuse a debit the account cannot bear; return the floor the posting must respect."""
    if account.status == "closed":
        raise AccountRefused(f"Account {account.account_no} is closed.", field="account")
    if account.status == "frozen":
        reason = f" ({account.status_reason})" if account.status_reason else ""
        raise AccountRefused(f"Account {account.account_no} is frozen{reason}; no withdrawals.", field="account")
    if account.status == "dormant":
        raise AccountRefused(
            f"Account {account.account_no} is dormant; it must be reactivated before any withdrawal.", field="account"
        )
    floor = deposit_rules.withdrawal_floor(account)
    if account.enforce_limit and account.balance_paise - amount_paise < floor:
        available = max(0, account.balance_paise - floor)
        below_min = " without going below its minimum balance" if floor > 0 else ""
        raise ledger.InsufficientFunds(
            f"Account {account.account_no} can pay out at most {format_inr(available)}{below_min}; "
            f"{format_inr(amount_paise)} was asked for.",
            field="amount",
        )
    return floor


def find_account(account_no: str) -> Account:
    """The account with this number (NotFound otherwise)."""
    number = (account_no or "").strip().upper()
    account = db.session.scalar(select(Account).where(Account.account_no == number)) if number else None
    if account is None or account.kind == "drawer":
        raise NotFound(f"No account {number or '(blank)'}.", field="account_no")
    return account


def already_posted(idempotency_key: str | None) -> JournalEntry | None:
    """The entry already posted under this key, if any (a retry)."""
    if not idempotency_key:
        return None
    return db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))


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


def _operable_drawer(drawer: TellerDrawer | None, cashier: StaffUser) -> TellerDrawer:
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
            posted_by_id=cashier.id,
            branch_id=cashier.branch_id,
            reference=account.account_no,
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
    drawer = _operable_drawer(drawer, cashier)
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
        posted_by_id=cashier.id,
        branch_id=drawer.branch_id,
        reference=account.account_no,
    )
    audit.record(
        "teller.vault_transfer",
        "teller_drawer",
        drawer.id,
        after={"direction": direction, "amount_paise": amount_paise, "entry": entry.number},
    )
    return entry


# ---------------------------------------------------------------- identity proof (PAN / Form 60)


def _cash_today(account: Account, direction: str, on: date) -> int:
    """The holder's cash in one direction today (by member, or by account when it has none)."""
    who = (
        CashTransaction.member_id == account.member_id
        if account.member_id
        else CashTransaction.account_id == account.id
    )
    total = db.session.scalar(
        select(func.coalesce(func.sum(CashTransaction.amount_paise), 0)).where(
            who, CashTransaction.business_date == on, CashTransaction.direction == direction
        )
    )
    return int(total or 0)


def id_proof_needed(account: Account, amount_paise: int, direction: str) -> bool:
    """True when this cash needs a PAN or Form 60 and neither is on file."""
    member = db.session.get(Member, account.member_id) if account.member_id else None
    if member is not None and (member.pan or member.form60_on_file):
        return False
    today = calendar.current_business_date()
    return _cash_today(account, direction, today) + amount_paise >= int(setting("CASH_PAN_THRESHOLD_PAISE"))


def identity_proof(
    account: Account, amount_paise: int, direction: str, form60_ref: str | None
) -> tuple[str, str | None]:
    """Which proof covers this cash: ("pan"|"form60"|"none", Form 60 reference); refuse when none does."""
    ref = (form60_ref or "").strip()[:40] or None
    member = db.session.get(Member, account.member_id) if account.member_id else None
    if member is not None and member.pan:
        return "pan", None
    if ref:
        return "form60", ref
    if member is not None and member.form60_on_file:
        return "form60", None
    if id_proof_needed(account, amount_paise, direction):
        threshold = format_inr(int(setting("CASH_PAN_THRESHOLD_PAISE")))
        who = member.name if member is not None else f"The holder of {account.account_no}"
        raise IdentityProofRequired(
            f"Cash of {threshold} or more in a day needs a PAN or Form 60. {who} has neither on file: "
            "collect a signed Form 60 and enter its reference.",
            field="form60_ref",
        )
    return "none", None


# ---------------------------------------------------------------- cash deposit and withdrawal


@dataclass
class CashResult:
    """What a counter transaction produced: a posted entry, or a request awaiting approval."""

    account: Account
    amount_paise: int
    direction: str
    entry: JournalEntry | None = None
    txn: CashTransaction | None = None
    approval: ApprovalRequest | None = None
    ctr_flag: bool = False
    replayed: bool = False

    @property
    def pending(self) -> bool:
        return self.approval is not None and self.entry is None


def _register(
    entry: JournalEntry,
    drawer: TellerDrawer,
    account: Account,
    direction: str,
    amount_paise: int,
    proof: tuple[str, str | None],
    *,
    cashier: StaffUser,
    channel: str,
    approved_by: StaffUser | None = None,
) -> CashTransaction:
    txn = CashTransaction(
        entry_id=entry.id,
        drawer_id=drawer.id,
        account_id=account.id,
        member_id=account.member_id,
        business_date=entry.business_date,
        direction=direction,
        amount_paise=amount_paise,
        balance_after_paise=account.balance_paise,
        id_proof=proof[0],
        form60_ref=proof[1],
        channel=channel,
        cashier_id=cashier.id,
        approved_by_id=approved_by.id if approved_by is not None else None,
        created_at=utcnow(),
    )
    db.session.add(txn)
    db.session.flush()
    return txn


def _replay(entry: JournalEntry, account: Account, amount_paise: int, direction: str) -> CashResult:
    """The result of a transaction already posted under the same key (a retry posts nothing)."""
    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.entry_id == entry.id))
    if txn is None or txn.account_id != account.id or txn.amount_paise != amount_paise or txn.direction != direction:
        raise ledger.IdempotencyConflict(
            f"Idempotency key {entry.idempotency_key!r} was already used for a different request ({entry.number})."
        )
    return CashResult(account, amount_paise, direction, entry=entry, txn=txn, replayed=True)


def _narration(base: str, account: Account, narration: str | None) -> str:
    extra = (narration or "").strip()
    return f"{base} {account.account_no}" + (f" - {extra}" if extra else "")


def cash_deposit(
    drawer: TellerDrawer | None,
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser,
    narration: str | None = None,
    form60_ref: str | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> CashResult:
    """Take cash into the drawer and credit the account (Dr drawer / Cr account)."""
    check_amount(amount_paise, cash=True)
    text = _narration("Cash deposit to", account, narration)
    done = already_posted(idempotency_key)
    if done is not None:
        return _replay(done, account, amount_paise, "in")
    drawer = _operable_drawer(drawer, cashier)
    check_credit_target(account, amount_paise)
    result = _take_cash(
        drawer,
        account,
        amount_paise,
        deposit_rules.credit_lines(account, amount_paise),
        cashier=cashier,
        narration=text,
        form60_ref=form60_ref,
        idempotency_key=idempotency_key,
        channel=channel,
    )
    assert result.entry is not None
    deposit_rules.after_credit(account, amount_paise, result.entry)
    return result


def _take_cash(
    drawer: TellerDrawer,
    account: Account,
    amount_paise: int,
    credit_lines: list[ledger.Line],
    *,
    cashier: StaffUser,
    narration: str,
    form60_ref: str | None,
    idempotency_key: str | None,
    channel: str,
    kind: str = "deposit",
) -> CashResult:
    """PAN / Form 60 check, Dr drawer / Cr ``credit_lines``, and the cash register row."""
    proof = identity_proof(account, amount_paise, "in", form60_ref)
    entry = ledger.post(
        [ledger.Line.dr(drawer.account, amount_paise, "Cash received"), *credit_lines],
        kind=kind,
        narration=narration,
        idempotency_key=idempotency_key,
        posted_by_id=cashier.id,
        branch_id=drawer.branch_id,
        channel=channel,
        reference=account.account_no,
    )
    txn = _register(entry, drawer, account, "in", amount_paise, proof, cashier=cashier, channel=channel)
    return CashResult(account, amount_paise, "in", entry=entry, txn=txn, ctr_flag=over_ctr_threshold(account))


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
    return _operable_drawer(drawer, cashier)


def receive_cash(
    account: Account,
    amount_paise: int,
    credit_lines: list[ledger.Line],
    *,
    cashier: StaffUser | None,
    narration: str,
    form60_ref: str | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
    kind: str = "deposit",
) -> CashResult:
    """Cash received for ``account`` outside the counter screen (e.g. a deposit opened with cash, shares).

    The same rules as ``cash_deposit``: countable amount, the acting cashier's open drawer
    (Dr drawer / Cr ``credit_lines``), PAN or Form 60 at the threshold, a cash register row
    (so the CTR sees it). The caller has already checked the credit side.
    """
    check_amount(amount_paise, cash=True)
    done = already_posted(idempotency_key)
    if done is not None:
        return _replay(done, account, amount_paise, "in")
    drawer = cashier_drawer(cashier)
    assert cashier is not None
    return _take_cash(
        drawer,
        account,
        amount_paise,
        credit_lines,
        cashier=cashier,
        narration=narration,
        form60_ref=form60_ref,
        idempotency_key=idempotency_key,
        channel=channel,
        kind=kind,
    )


def pay_cash(
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser | None,
    narration: str,
    form60_ref: str | None = None,
    channel: str = "branch",
    kind: str = "withdrawal",
    idempotency_key: str | None = None,
    approved_by: StaffUser | None = None,
) -> CashResult:
    """Pay out ``account``'s money in cash outside the counter screen (e.g. a closing balance).

    The counter's withdrawal rules apply: countable amount, the acting cashier's open drawer
    holding enough cash, PAN or Form 60 at the threshold, a cash register row. Unless a
    checker already approved it (``approved_by``), a payout above LARGE_WITHDRAWAL_PAISE is
    refused here (only the counter's withdrawal screen queues that approval): pay it to the
    member's savings account instead. The caller has already checked the account may pay
    this out (Dr account, no floor).
    """
    check_amount(amount_paise, cash=True)
    large = int(setting("LARGE_WITHDRAWAL_PAISE"))
    if amount_paise > large and approved_by is None:
        raise ValidationError(
            f"Cash payouts above {format_inr(large)} need a manager's approval at the counter: pay the "
            f"{format_inr(amount_paise)} to the member's savings account and withdraw it at the counter.",
            field="mode",
        )
    drawer = cashier_drawer(cashier)
    assert cashier is not None
    proof = identity_proof(account, amount_paise, "out", form60_ref)
    _check_drawer_cash(drawer, amount_paise)
    return _post_withdrawal(
        drawer,
        account,
        amount_paise,
        floor=0,
        proof=proof,
        cashier=cashier,
        narration=narration,
        channel=channel,
        idempotency_key=idempotency_key,
        approved_by=approved_by,
        kind=kind,
    )


def _post_withdrawal(
    drawer: TellerDrawer,
    account: Account,
    amount_paise: int,
    *,
    floor: int,
    proof: tuple[str, str | None],
    cashier: StaffUser,
    narration: str,
    channel: str,
    idempotency_key: str | None,
    approved_by: StaffUser | None = None,
    kind: str = "withdrawal",
) -> CashResult:
    entry = ledger.post(
        [
            ledger.Line.dr(account, amount_paise, floor_paise=floor),
            ledger.Line.cr(drawer.account, amount_paise, "Cash paid"),
        ],
        kind=kind,
        narration=narration,
        idempotency_key=idempotency_key,
        posted_by_id=cashier.id,
        approved_by_id=approved_by.id if approved_by is not None else None,
        branch_id=drawer.branch_id,
        channel=channel,
        reference=account.account_no,
    )
    txn = _register(
        entry, drawer, account, "out", amount_paise, proof, cashier=cashier, channel=channel, approved_by=approved_by
    )
    return CashResult(account, amount_paise, "out", entry=entry, txn=txn, ctr_flag=over_ctr_threshold(account))


def _check_drawer_cash(drawer: TellerDrawer, amount_paise: int) -> None:
    if drawer.account.balance_paise < amount_paise:
        raise DrawerShort(
            f"Your drawer holds {format_inr(drawer.account.balance_paise)}; it cannot pay {format_inr(amount_paise)}. "
            "Bring cash from the vault first.",
            field="amount",
        )


def cash_withdrawal(
    drawer: TellerDrawer | None,
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser,
    narration: str | None = None,
    form60_ref: str | None = None,
    idempotency_key: str | None = None,
    channel: str = "branch",
) -> CashResult:
    """Pay cash from the drawer (Dr account / Cr drawer); above the threshold, queue for approval."""
    check_amount(amount_paise, cash=True)
    text = _narration("Cash withdrawal from", account, narration)
    done = already_posted(idempotency_key)
    if done is not None:
        return _replay(done, account, amount_paise, "out")
    if idempotency_key:
        waiting = _pending_withdrawal(idempotency_key)
        if waiting is not None:
            return CashResult(account, amount_paise, "out", approval=waiting, replayed=True)
    drawer = _operable_drawer(drawer, cashier)
    floor = check_debit_source(account, amount_paise)
    proof = identity_proof(account, amount_paise, "out", form60_ref)
    _check_drawer_cash(drawer, amount_paise)
    if amount_paise > int(setting("LARGE_WITHDRAWAL_PAISE")):
        req = approvals.submit(
            WITHDRAWAL_KIND,
            {
                "drawer_id": drawer.id,
                "account_id": account.id,
                "account_no": account.account_no,
                "amount_paise": amount_paise,
                "narration": text,
                "form60_ref": proof[1],
                "channel": channel,
                "key": idempotency_key,
            },
            maker=cashier,
            summary=f"Cash withdrawal {format_inr(amount_paise)} from {account.account_no} ({holder_name(account)})",
            entity_type="account",
            entity_id=account.account_no,
            amount_paise=amount_paise,
        )
        return CashResult(account, amount_paise, "out", approval=req)
    return _post_withdrawal(
        drawer,
        account,
        amount_paise,
        floor=floor,
        proof=proof,
        cashier=cashier,
        narration=text,
        channel=channel,
        idempotency_key=idempotency_key,
    )


def _pending_withdrawal(key: str) -> ApprovalRequest | None:
    for req in approvals.pending(WITHDRAWAL_KIND):
        if (req.payload or {}).get("key") == key:
            return req
    return None


def _execute_withdrawal(req: ApprovalRequest, checker: StaffUser) -> dict:
    """Approval of a large withdrawal: re-check everything and post it in the checker's unit of work."""
    data = req.payload
    maker = db.session.get(StaffUser, req.maker_id)
    drawer = get_drawer(int(data["drawer_id"]))
    account = db.session.get(Account, int(data["account_id"]))
    if maker is None or account is None:
        raise NotFound("The account or cashier of this request no longer exists.")
    amount = int(data["amount_paise"])
    drawer = _operable_drawer(drawer, maker)
    floor = check_debit_source(account, amount)
    proof = identity_proof(account, amount, "out", data.get("form60_ref"))
    _check_drawer_cash(drawer, amount)
    result = _post_withdrawal(
        drawer,
        account,
        amount,
        floor=floor,
        proof=proof,
        cashier=maker,
        narration=data["narration"],
        channel=data.get("channel") or "branch",
        idempotency_key=data.get("key") or f"approval:{req.id}",
        approved_by=checker,
    )
    assert result.entry is not None
    return {
        "entry_id": result.entry.id,
        "entry_no": result.entry.number,
        "account_no": account.account_no,
        "balance_paise": account.balance_paise,
    }


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
            entity_type="teller_drawer",
            entity_id=drawer.id,
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
            posted_by_id=cashier.id,
            approved_by_id=approved_by.id if approved_by is not None else None,
            branch_id=drawer.branch_id,
            reference=account.account_no,
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


# ---------------------------------------------------------------- account card (counter lookup)


@dataclass
class AccountCard:
    """What the cashier sees as the account number is typed."""

    account: Account
    member: Member | None
    holder: str
    kind_label: str
    can_deposit: bool
    can_withdraw: bool
    available_paise: int | None
    notes: list[str] = field(default_factory=list)


def account_card(account_no: str) -> AccountCard | None:
    """Holder, status, balance and what the counter may do with an account (None if unknown)."""
    try:
        account = find_account(account_no)
    except NotFound:
        return None
    member = db.session.get(Member, account.member_id) if account.member_id else None
    can_deposit = account.status not in {"closed", "frozen"} and deposit_rules.accepts_credit(account.kind)
    can_withdraw = account.status == "active" and deposit_rules.allows_withdrawal(account.kind)
    available = None
    if can_withdraw:
        try:
            available = max(0, account.balance_paise - deposit_rules.withdrawal_floor(account))
        except DomainError:
            can_withdraw = False
    notes = []
    if account.status != "active":
        notes.append(f"Account is {account.status}" + (f": {account.status_reason}" if account.status_reason else "."))
    if member is not None and member.status != "active":
        notes.append(f"Member is {member.status}.")
    if not can_deposit and account.status == "active":
        notes.append(f"A {deposit_rules.kind_label(account.kind)} account takes no cash at the counter.")
    return AccountCard(
        account=account,
        member=member,
        holder=member.name if member is not None else account.title,
        kind_label=deposit_rules.kind_label(account.kind),
        can_deposit=can_deposit,
        can_withdraw=can_withdraw,
        available_paise=available,
        notes=notes,
    )


# ---------------------------------------------------------------- receipts


_ONES = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven",
         "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"]  # fmt: skip
_TENS = ["", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety"]


def _words_below_thousand(n: int) -> str:
    parts = []
    if n >= 100:
        parts.append(f"{_ONES[n // 100]} Hundred")
        n %= 100
    if n >= 20:
        parts.append(_TENS[n // 10] + (f" {_ONES[n % 10]}" if n % 10 else ""))
    elif n:
        parts.append(_ONES[n])
    return " ".join(parts)


def _words(n: int) -> str:
    if n == 0:
        return "Zero"
    parts = []
    for size, name in ((10_000_000, "Crore"), (100_000, "Lakh"), (1000, "Thousand")):
        if n >= size:
            chunk = n // size
            parts.append(f"{_words(chunk) if chunk >= 1000 else _words_below_thousand(chunk)} {name}")
            n %= size
    if n:
        parts.append(_words_below_thousand(n))
    return " ".join(parts)


def amount_in_words(paise: int) -> str:
    """Indian words for an amount: 1234550 → "Rupees Twelve Thousand Three Hundred Forty Five and Fifty Paise Only"."""
    rupees, rem = divmod(abs(int(paise)), 100)
    text = f"Rupees {_words(rupees)}"
    if rem:
        text += f" and {_words_below_thousand(rem)} Paise"
    return text + " Only"


@dataclass
class Receipt:
    """Printable receipt of a counter transaction or a transfer advice."""

    entry: JournalEntry
    title: str
    amount_paise: int
    amount_words: str
    account_no: str
    holder: str
    counterparty_no: str | None = None
    counterparty_holder: str | None = None
    balance_after_paise: int | None = None
    id_proof: str | None = None
    cashier: str | None = None
    approved_by: str | None = None
    narration: str = ""


def receipt(entry_id: int) -> Receipt:
    """The receipt for a cash deposit/withdrawal or an internal transfer entry."""
    entry = ledger.get_entry(entry_id)
    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.entry_id == entry.id))
    approver = entry.approved_by.username if entry.approved_by is not None else None
    if txn is not None:
        account = txn.account
        member = txn.member
        proof = {"pan": f"PAN {member.pan_masked}" if member and member.pan else "PAN on file", "form60": "Form 60"}
        proof_text = proof.get(txn.id_proof)
        if txn.id_proof == "form60" and txn.form60_ref:
            proof_text = f"Form 60 ref. {txn.form60_ref}"
        return Receipt(
            entry=entry,
            title="Cash deposit" if txn.direction == "in" else "Cash withdrawal",
            amount_paise=txn.amount_paise,
            amount_words=amount_in_words(txn.amount_paise),
            account_no=account.account_no,
            holder=holder_name(account),
            balance_after_paise=txn.balance_after_paise,
            id_proof=proof_text,
            cashier=txn.cashier.full_name if txn.cashier is not None else None,
            approved_by=approver,
            narration=entry.narration,
        )
    if entry.kind != "transfer":
        raise NotFound(f"Entry {entry.number} is not a counter transaction or transfer.")
    debit = next((ln for ln in entry.lines if ln.account is not None and ln.debit_paise), None)
    credit = next((ln for ln in entry.lines if ln.account is not None and ln.credit_paise), None)
    if debit is None or credit is None:
        raise NotFound(f"Entry {entry.number} is not an account-to-account transfer.")
    return Receipt(
        entry=entry,
        title="Transfer advice",
        amount_paise=entry.total_paise,
        amount_words=amount_in_words(entry.total_paise),
        account_no=debit.account.account_no,
        holder=holder_name(debit.account),
        counterparty_no=credit.account.account_no,
        counterparty_holder=holder_name(credit.account),
        cashier=entry.posted_by.full_name if entry.posted_by is not None else None,
        approved_by=approver,
        narration=entry.narration,
    )


# ---------------------------------------------------------------- Cash Transaction Report


def month_bounds(month: date) -> tuple[date, date]:
    """The first and last day of ``month``'s month."""
    last = month_calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=1), month.replace(day=last)


@dataclass
class CtrRow:
    """One member on the Cash Transaction Report for a month."""

    member: Member
    cash_in_paise: int
    cash_out_paise: int
    transactions: int
    accounts: list[str]

    @property
    def total_paise(self) -> int:
        return self.cash_in_paise + self.cash_out_paise


def _ctr_having(cash_in: Any, cash_out: Any) -> Any:
    threshold = int(setting("CTR_THRESHOLD_PAISE"))
    if setting("CTR_BASIS") == "separate":
        return (cash_in > threshold) | (cash_out > threshold)
    return (cash_in + cash_out) > threshold


def cash_transaction_report(month: date) -> list[CtrRow]:
    """Members whose cash in a calendar month is above CTR_THRESHOLD_PAISE (CTR_BASIS: combined/separate)."""
    start, end = month_bounds(month)
    cash_in = func.coalesce(
        func.sum(case((CashTransaction.direction == "in", CashTransaction.amount_paise), else_=0)), 0
    )
    cash_out = func.coalesce(
        func.sum(case((CashTransaction.direction == "out", CashTransaction.amount_paise), else_=0)), 0
    )
    rows = db.session.execute(
        select(CashTransaction.member_id, cash_in, cash_out, func.count())
        .where(
            CashTransaction.member_id.is_not(None),
            CashTransaction.business_date >= start,
            CashTransaction.business_date <= end,
        )
        .group_by(CashTransaction.member_id)
        .having(_ctr_having(cash_in, cash_out))
    ).all()
    if not rows:
        return []
    ids = [r[0] for r in rows]
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))}
    accounts: dict[int, list[str]] = {}
    for member_id, account_no in db.session.execute(
        select(CashTransaction.member_id, Account.account_no)
        .join(Account, Account.id == CashTransaction.account_id)
        .where(
            CashTransaction.member_id.in_(ids),
            CashTransaction.business_date >= start,
            CashTransaction.business_date <= end,
        )
        .distinct()
        .order_by(Account.account_no)
    ):
        accounts.setdefault(member_id, []).append(account_no)
    out = [
        CtrRow(members[mid], int(cin), int(cout), int(n), accounts.get(mid, []))
        for mid, cin, cout, n in rows
        if mid in members
    ]
    return sorted(out, key=lambda r: (-r.total_paise, r.member.member_no))


def over_ctr_threshold(account: Account, on: date | None = None) -> bool:
    """True when the account holder's cash this month puts them on the Cash Transaction Report."""
    if not account.member_id:
        return False
    start, end = month_bounds(on or calendar.current_business_date())
    cash_in = func.coalesce(
        func.sum(case((CashTransaction.direction == "in", CashTransaction.amount_paise), else_=0)), 0
    )
    cash_out = func.coalesce(
        func.sum(case((CashTransaction.direction == "out", CashTransaction.amount_paise), else_=0)), 0
    )
    cin, cout = db.session.execute(
        select(cash_in, cash_out).where(
            CashTransaction.member_id == account.member_id,
            CashTransaction.business_date >= start,
            CashTransaction.business_date <= end,
        )
    ).one()
    threshold = int(setting("CTR_THRESHOLD_PAISE"))
    if setting("CTR_BASIS") == "separate":
        return int(cin) > threshold or int(cout) > threshold
    return int(cin) + int(cout) > threshold


def cash_day_totals(on: date) -> dict[str, int]:
    """Total cash received and paid at the counter on a business date (for dashboards)."""
    rows = db.session.execute(
        select(CashTransaction.direction, func.sum(CashTransaction.amount_paise))
        .where(CashTransaction.business_date == on)
        .group_by(CashTransaction.direction)
    ).all()
    totals = {"in": 0, "out": 0}
    for direction, amount in rows:
        totals[direction] = int(amount or 0)
    return totals


approvals.register(
    WITHDRAWAL_KIND, label="Large cash withdrawal", permission="teller.approve", execute=_execute_withdrawal
)
approvals.register(
    DIFFERENCE_KIND, label="Cash drawer shortage/excess", permission="teller.approve", execute=_execute_difference
)


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


calendar.register_close_check(_drawers_settled)
