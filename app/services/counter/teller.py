"""The counter: cash deposits and withdrawals at a cashier's drawer, and cash taken or paid
for other domains (a deposit opened with cash, shares, a closing balance).

- deposit:     Dr drawer / Cr member account (credit lines from ``deposit_rules``)
- withdrawal:  Dr member account (floor from ``deposit_rules``) / Cr drawer

A cash deposit above LARGE_CASH_DEPOSIT_PAISE and a withdrawal above LARGE_WITHDRAWAL_PAISE
go to maker-checker and post only on approval. Cash of CASH_PAN_THRESHOLD_PAISE or more in a
day needs the member's PAN or a Form 60 for that transaction (``rules.identity_proof``).
Drawers and the closing count are in ``drawers``; the account card, receipts and the CTR in
``receipts``. This module also re-exports those names, so ``teller.X`` stays the counter's
one namespace for its screens. Services never read ``request``; callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict, Unpack

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.base import utcnow
from app.models.ledger import Account, JournalEntry
from app.models.teller import CashTransaction, TellerDrawer
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import NotFound, ValidationError, approvals
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from .drawers import (  # noqa: F401  (re-exported: the counter's screens use teller.X)
    DENOMINATION_VALUES,
    DIFFERENCE_KIND,
    MAX_PIECES,
    DrawerNotOpen,
    DrawerShort,
    DrawerSummary,
    cashier_drawer,
    check_drawer_cash,
    close_drawer,
    count_total,
    current_drawer,
    drawer_summary,
    drawers_for,
    get_drawer,
    open_drawer,
    operable_drawer,
    parse_denominations,
    pending_requests,
    recent_cash,
    reopen_drawer,
    seed_demo_vault,
    vault_transfer,
)
from .receipts import (  # noqa: F401  (re-exported)
    AccountCard,
    CtrRow,
    Receipt,
    account_card,
    amount_in_words,
    cash_day_totals,
    cash_transaction_report,
    month_bounds,
    over_ctr_threshold,
    receipt,
)
from .rules import (  # noqa: F401  (re-exported)
    AccountRefused,
    IdentityProofRequired,
    already_posted,
    check_amount,
    check_credit_target,
    check_debit_source,
    find_account,
    holder_name,
    id_proof_needed,
    identity_proof,
)

WITHDRAWAL_KIND = "teller.withdrawal"
DEPOSIT_KIND = "teller.deposit"


class CashOptions(TypedDict, total=False):
    """The options of a cash transaction, as keywords of the public functions."""

    narration: str | None
    form60_ref: str | None
    idempotency_key: str | None
    channel: str
    kind: str
    approved_by: StaffUser | None
    opening: bool  # the cash opens the account (the KYC file's Form 60 covers it)


@dataclass(frozen=True)
class Ticket:
    """One cash transaction as the counter handles it: who, how much, and its options."""

    account: Account
    amount_paise: int
    direction: str  # "in" | "out"
    cashier: StaffUser
    narration: str = ""
    form60_ref: str | None = None
    idempotency_key: str | None = None
    channel: str = "branch"
    kind: str = ""
    approved_by: StaffUser | None = None
    opening: bool = False

    @property
    def entry_kind(self) -> str:
        return self.kind or ("deposit" if self.direction == "in" else "withdrawal")


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
    entry: JournalEntry, drawer: TellerDrawer, ticket: Ticket, proof: tuple[str, str | None]
) -> CashTransaction:
    txn = CashTransaction(
        entry_id=entry.id,
        drawer_id=drawer.id,
        account_id=ticket.account.id,
        member_id=ticket.account.member_id,
        business_date=entry.business_date,
        direction=ticket.direction,
        amount_paise=ticket.amount_paise,
        balance_after_paise=ticket.account.balance_paise,
        id_proof=proof[0],
        form60_ref=proof[1],
        channel=ticket.channel,
        cashier_id=ticket.cashier.id,
        approved_by_id=ticket.approved_by.id if ticket.approved_by is not None else None,
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


def _post(ticket: Ticket, drawer: TellerDrawer, lines: list[ledger.Line], proof: tuple[str, str | None]) -> CashResult:
    """Post the entry and write the cash register row (the CTR reads it)."""
    entry = ledger.post(
        lines,
        kind=ticket.entry_kind,
        narration=ticket.narration,
        idempotency_key=ticket.idempotency_key,
        reference=ticket.account.account_no,
        options=ledger.PostOptions(
            posted_by_id=ticket.cashier.id,
            approved_by_id=ticket.approved_by.id if ticket.approved_by is not None else None,
            branch_id=drawer.branch_id,
            channel=ticket.channel,
        ),
    )
    txn = _register(entry, drawer, ticket, proof)
    return CashResult(
        ticket.account,
        ticket.amount_paise,
        ticket.direction,
        entry=entry,
        txn=txn,
        ctr_flag=over_ctr_threshold(ticket.account),
    )


def _take_cash(ticket: Ticket, drawer: TellerDrawer, credit_lines: list[ledger.Line]) -> CashResult:
    """PAN / Form 60 check, Dr drawer / Cr ``credit_lines``, and the cash register row."""
    proof = identity_proof(ticket.account, ticket.amount_paise, "in", ticket.form60_ref, opening=ticket.opening)
    lines = [ledger.Line.dr(drawer.account, ticket.amount_paise, "Cash received"), *credit_lines]
    return _post(ticket, drawer, lines, proof)


def _pay_cash(ticket: Ticket, drawer: TellerDrawer, floor: int, proof: tuple[str, str | None]) -> CashResult:
    lines = [
        ledger.Line.dr(ticket.account, ticket.amount_paise, floor_paise=floor),
        ledger.Line.cr(drawer.account, ticket.amount_paise, "Cash paid"),
    ]
    return _post(ticket, drawer, lines, proof)


def _waiting(kind: str, key: str | None) -> ApprovalRequest | None:
    """The pending request of ``kind`` submitted under this idempotency key (a double submit)."""
    if not key:
        return None
    for req in approvals.pending(kind):
        if (req.payload or {}).get("key") == key:
            return req
    return None


def _submit(kind: str, ticket: Ticket, drawer: TellerDrawer, proof: tuple[str, str | None]) -> CashResult:
    """Queue a large cash transaction for a checker; the money moves on approval."""
    word = "Cash deposit" if ticket.direction == "in" else "Cash withdrawal"
    prep = "to" if ticket.direction == "in" else "from"
    req = approvals.submit(
        kind,
        {
            "drawer_id": drawer.id,
            "account_id": ticket.account.id,
            "account_no": ticket.account.account_no,
            "amount_paise": ticket.amount_paise,
            "narration": ticket.narration,
            "form60_ref": proof[1],
            "channel": ticket.channel,
            "key": ticket.idempotency_key,
        },
        maker=ticket.cashier,
        summary=(
            f"{word} {format_inr(ticket.amount_paise)} {prep} {ticket.account.account_no} "
            f"({holder_name(ticket.account)})"
        ),
        entity=("account", ticket.account.account_no),
        amount_paise=ticket.amount_paise,
    )
    return CashResult(ticket.account, ticket.amount_paise, ticket.direction, approval=req)


def _ticket(account: Account, amount_paise: int, direction: str, cashier: StaffUser, options: CashOptions) -> Ticket:
    return Ticket(account, amount_paise, direction, cashier, **options)  # type: ignore[arg-type]


def cash_deposit(
    drawer: TellerDrawer | None,
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser,
    **options: Unpack[CashOptions],
) -> CashResult:
    """Take cash into the drawer and credit the account (Dr drawer / Cr account).

    Above LARGE_CASH_DEPOSIT_PAISE the deposit is queued for a checker (``teller.approve``)
    and posts on approval. Options: ``narration``, ``form60_ref``, ``idempotency_key``, ``channel``.
    """
    check_amount(amount_paise, cash=True)
    ticket = _ticket(account, amount_paise, "in", cashier, options)
    ticket = replace(ticket, narration=_narration("Cash deposit to", account, ticket.narration))
    done = already_posted(ticket.idempotency_key)
    if done is not None:
        return _replay(done, account, amount_paise, "in")
    waiting = _waiting(DEPOSIT_KIND, ticket.idempotency_key)
    if waiting is not None:
        return CashResult(account, amount_paise, "in", approval=waiting, replayed=True)
    drawer = operable_drawer(drawer, cashier)
    check_credit_target(account, amount_paise)
    if amount_paise > int(setting("LARGE_CASH_DEPOSIT_PAISE")):
        proof = identity_proof(account, amount_paise, "in", ticket.form60_ref)
        return _submit(DEPOSIT_KIND, ticket, drawer, proof)
    result = _take_cash(ticket, drawer, deposit_rules.credit_lines(account, amount_paise))
    assert result.entry is not None
    deposit_rules.after_credit(account, amount_paise, result.entry)
    return result


def receive_cash(
    account: Account,
    amount_paise: int,
    credit_lines: list[ledger.Line],
    *,
    cashier: StaffUser | None,
    narration: str,
    **options: Unpack[CashOptions],
) -> CashResult:
    """Cash received for ``account`` outside the counter screen (e.g. a deposit opened with cash, shares).

    The same rules as ``cash_deposit``: countable amount, the acting cashier's open drawer
    (Dr drawer / Cr ``credit_lines``), PAN or a Form 60 for this transaction at the threshold
    (``opening=True``: the KYC file's Form 60 covers an account opening), a cash register row
    (so the CTR sees it). Unless a checker already approved it (``approved_by``), cash above
    LARGE_CASH_DEPOSIT_PAISE is refused here: take it at the counter, where it goes to a
    checker. The caller has already checked the credit side.
    """
    check_amount(amount_paise, cash=True)
    done = already_posted(options.get("idempotency_key"))
    if done is not None:
        return _replay(done, account, amount_paise, "in")
    large = int(setting("LARGE_CASH_DEPOSIT_PAISE"))
    if amount_paise > large and options.get("approved_by") is None:
        raise ValidationError(
            f"Cash above {format_inr(large)} needs a manager's approval at the counter: deposit the "
            f"{format_inr(amount_paise)} into the member's savings account at the counter and transfer it.",
            field="amount",
        )
    drawer = cashier_drawer(cashier)
    assert cashier is not None
    ticket = _ticket(account, amount_paise, "in", cashier, {**options, "narration": narration})
    return _take_cash(ticket, drawer, credit_lines)


def pay_cash(
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser | None,
    narration: str,
    **options: Unpack[CashOptions],
) -> CashResult:
    """Pay out ``account``'s money in cash outside the counter screen (e.g. a closing balance).

    The counter's withdrawal rules apply: countable amount, the acting cashier's open drawer
    holding enough cash, PAN or a Form 60 for this transaction at the threshold, a cash
    register row. Unless a checker already approved it (``approved_by``), a payout above
    LARGE_WITHDRAWAL_PAISE is refused here (only the counter's withdrawal screen queues that
    approval): pay it to the member's savings account instead. The caller has already checked
    the account may pay this out (Dr account, no floor).
    """
    check_amount(amount_paise, cash=True)
    large = int(setting("LARGE_WITHDRAWAL_PAISE"))
    if amount_paise > large and options.get("approved_by") is None:
        raise ValidationError(
            f"Cash payouts above {format_inr(large)} need a manager's approval at the counter: pay the "
            f"{format_inr(amount_paise)} to the member's savings account and withdraw it at the counter.",
            field="mode",
        )
    drawer = cashier_drawer(cashier)
    assert cashier is not None
    ticket = _ticket(account, amount_paise, "out", cashier, {**options, "narration": narration})
    proof = identity_proof(account, amount_paise, "out", ticket.form60_ref)
    check_drawer_cash(drawer, amount_paise)
    return _pay_cash(ticket, drawer, 0, proof)


def cash_withdrawal(
    drawer: TellerDrawer | None,
    account: Account,
    amount_paise: int,
    *,
    cashier: StaffUser,
    **options: Unpack[CashOptions],
) -> CashResult:
    """Pay cash from the drawer (Dr account / Cr drawer); above LARGE_WITHDRAWAL_PAISE, queue for approval."""
    check_amount(amount_paise, cash=True)
    ticket = _ticket(account, amount_paise, "out", cashier, options)
    ticket = replace(ticket, narration=_narration("Cash withdrawal from", account, ticket.narration))
    done = already_posted(ticket.idempotency_key)
    if done is not None:
        return _replay(done, account, amount_paise, "out")
    waiting = _waiting(WITHDRAWAL_KIND, ticket.idempotency_key)
    if waiting is not None:
        return CashResult(account, amount_paise, "out", approval=waiting, replayed=True)
    drawer = operable_drawer(drawer, cashier)
    floor = check_debit_source(account, amount_paise)
    proof = identity_proof(account, amount_paise, "out", ticket.form60_ref)
    check_drawer_cash(drawer, amount_paise)
    if amount_paise > int(setting("LARGE_WITHDRAWAL_PAISE")):
        return _submit(WITHDRAWAL_KIND, ticket, drawer, proof)
    return _pay_cash(ticket, drawer, floor, proof)


def _approved_ticket(req: ApprovalRequest, checker: StaffUser, direction: str) -> tuple[Ticket, TellerDrawer]:
    """The ticket of an approved request, re-checked: the maker's drawer must still be operable."""
    data = req.payload
    maker = db.session.get(StaffUser, req.maker_id)
    account = db.session.get(Account, int(data["account_id"]))
    if maker is None or account is None:
        raise NotFound("The account or cashier of this request no longer exists.")
    drawer = operable_drawer(get_drawer(int(data["drawer_id"])), maker)
    ticket = Ticket(
        account,
        int(data["amount_paise"]),
        direction,
        maker,
        narration=data["narration"],
        form60_ref=data.get("form60_ref"),
        idempotency_key=data.get("key") or f"approval:{req.id}",
        channel=data.get("channel") or "branch",
        approved_by=checker,
    )
    return ticket, drawer


def _result_of(result: CashResult) -> dict:
    assert result.entry is not None
    return {
        "entry_id": result.entry.id,
        "entry_no": result.entry.number,
        "account_no": result.account.account_no,
        "balance_paise": result.account.balance_paise,
    }


def _execute_withdrawal(req: ApprovalRequest, checker: StaffUser) -> dict:
    """Approval of a large withdrawal: re-check everything and post it in the checker's unit of work."""
    ticket, drawer = _approved_ticket(req, checker, "out")
    floor = check_debit_source(ticket.account, ticket.amount_paise)
    proof = identity_proof(ticket.account, ticket.amount_paise, "out", ticket.form60_ref)
    check_drawer_cash(drawer, ticket.amount_paise)
    return _result_of(_pay_cash(ticket, drawer, floor, proof))


def _execute_deposit(req: ApprovalRequest, checker: StaffUser) -> dict:
    """Approval of a large cash deposit: re-check the account and post it in the checker's unit of work."""
    ticket, drawer = _approved_ticket(req, checker, "in")
    check_credit_target(ticket.account, ticket.amount_paise)
    result = _take_cash(ticket, drawer, deposit_rules.credit_lines(ticket.account, ticket.amount_paise))
    assert result.entry is not None
    deposit_rules.after_credit(ticket.account, ticket.amount_paise, result.entry)
    return _result_of(result)


approvals.register(
    WITHDRAWAL_KIND, label="Large cash withdrawal", permission="teller.approve", execute=_execute_withdrawal
)
approvals.register(DEPOSIT_KIND, label="Large cash deposit", permission="teller.approve", execute=_execute_deposit)
