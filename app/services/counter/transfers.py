"""Internal transfers between any two accounts in the bank.

Member to member, between a member's own accounts, into an RD instalment or (later) a loan
repayment: one entry ``Dr source (floor from deposit_rules) / Cr target (lines from
deposit_rules)``, then the target kind's ``after_credit`` hook. What a kind accepts is
decided by ``app.services.deposit_rules`` — the loans domain plugs repayments in with
``register_credit_check("loan", ...)`` and ``register_credit_lines("loan", ...)`` (to split a
repayment into charges, interest and principal) without touching this module.

Staff transfers above LARGE_TRANSFER_PAISE go to maker-checker (permission teller.approve)
and post on approval. Member-initiated transfers (channel "api"/"portal") may only debit the
member's own accounts; another member's account is reported as not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict, Unpack

from sqlalchemy import select

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, JournalEntry
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import NotFound, ValidationError, approvals
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from .rules import already_posted, check_amount, check_credit_target, check_debit_source, holder_name

APPROVAL_KIND = "transfers.large"
MODES = ("transfer", "internal")


@dataclass
class TransferResult:
    """A posted transfer, or one waiting for a checker."""

    source: Account
    target: Account
    amount_paise: int
    entry: JournalEntry | None = None
    approval: ApprovalRequest | None = None
    replayed: bool = False

    @property
    def pending(self) -> bool:
        return self.entry is None and self.approval is not None


def find_account(
    account_no: str, *, field: str = "account_no", member_id: int | None = None, locked: dict | None = None
) -> Account:
    """An account by number; with ``member_id``, only that member's own (NotFound otherwise).

    ``locked``: accounts already read and locked by ``ledger.lock_accounts`` (no second read).
    """
    number = (account_no or "").strip().upper()
    if locked is not None:
        account = locked.get(number)
    else:
        account = db.session.scalar(select(Account).where(Account.account_no == number)) if number else None
    if account is None or account.kind == "drawer" or (member_id is not None and account.member_id != member_id):
        raise NotFound(f"No account {number or '(blank)'}.", field=field)
    return account


def _narration(source: Account, target: Account, narration: str | None) -> str:
    extra = (narration or "").strip()
    return f"Transfer {source.account_no} to {target.account_no}" + (f" - {extra}" if extra else "")


def _pending_for_key(key: str) -> ApprovalRequest | None:
    for req in approvals.pending(APPROVAL_KIND):
        if (req.payload or {}).get("key") == key:
            return req
    return None


class TransferOptions(TypedDict, total=False):
    """Who asks for a transfer and how (keywords of ``transfer`` / ``transfer_by_number``)."""

    narration: str | None
    maker: StaffUser | None  # a staff maker, or
    member_id: int | None  # the member who asks (their own source account only)
    channel: str
    idempotency_key: str | None
    approved_by: StaffUser | None  # set when a checker's approval carries it out


def transfer(source: Account, target: Account, amount_paise: int, **options: Unpack[TransferOptions]) -> TransferResult:
    """Move money between two accounts (Dr source / Cr target); large staff transfers wait for approval."""
    narration, maker, member_id = options.get("narration"), options.get("maker"), options.get("member_id")
    channel, idempotency_key = options.get("channel") or "branch", options.get("idempotency_key")
    approved_by = options.get("approved_by")
    if maker is None and member_id is None:
        raise ValidationError("A transfer needs a staff maker or the member who asks for it.")
    if member_id is not None and source.member_id != member_id:
        raise NotFound(f"No account {source.account_no}.", field="from_account")
    check_amount(amount_paise)
    if source.id == target.id:
        raise ValidationError(
            "Choose two different accounts: the money cannot go to the account it leaves.", field="to_account"
        )
    text = _narration(source, target, narration)
    done = already_posted(idempotency_key)
    if done is not None:
        entry = ledger.post(
            [ledger.Line.dr(source, amount_paise), *deposit_rules.credit_lines(target, amount_paise)],
            kind="transfer",
            narration=text,
            idempotency_key=idempotency_key,
        )  # same request: returns the posted entry; a different one: IdempotencyConflict
        return TransferResult(source, target, amount_paise, entry=entry, replayed=True)
    if idempotency_key and approved_by is None:
        waiting = _pending_for_key(idempotency_key)
        if waiting is not None:
            return TransferResult(source, target, amount_paise, approval=waiting, replayed=True)
    floor = check_debit_source(source, amount_paise)
    check_credit_target(target, amount_paise)
    if maker is not None and approved_by is None and amount_paise > int(setting("LARGE_TRANSFER_PAISE")):
        req = approvals.submit(
            APPROVAL_KIND,
            {
                "from_account_id": source.id,
                "to_account_id": target.id,
                "amount_paise": amount_paise,
                "narration": (narration or "").strip(),
                "channel": channel,
                "key": idempotency_key,
            },
            maker=maker,
            summary=(
                f"Transfer {format_inr(amount_paise)} from {source.account_no} ({holder_name(source)}) "
                f"to {target.account_no} ({holder_name(target)})"
            ),
            entity=("account", source.account_no),
            amount_paise=amount_paise,
        )
        return TransferResult(source, target, amount_paise, approval=req)
    entry = ledger.post(
        [
            ledger.Line.dr(
                source,
                amount_paise,
                f"To {target.account_no}" + (f" - {narration.strip()}" if (narration or "").strip() else ""),
                floor_paise=floor,
            ),
            *deposit_rules.credit_lines(target, amount_paise),
        ],
        kind="transfer",
        narration=text,
        idempotency_key=idempotency_key,
        reference=source.account_no,
        options=ledger.PostOptions(
            posted_by_id=maker.id if maker is not None else None,
            approved_by_id=approved_by.id if approved_by is not None else None,
            channel=channel,
        ),
    )
    deposit_rules.after_credit(target, amount_paise, entry)
    return TransferResult(source, target, amount_paise, entry=entry)


def transfer_by_number(
    from_account: str, to_account: str, amount_paise: int, **options: Unpack[TransferOptions]
) -> TransferResult:
    """``transfer`` with account numbers (a member may only name their own source account)."""
    # One read of both accounts that also locks them (ascending id): the posting reads them no more.
    locked = ledger.lock_accounts([(from_account or "").strip().upper(), (to_account or "").strip().upper()])
    source = find_account(from_account, field="from_account", member_id=options.get("member_id"), locked=locked)
    target = find_account(to_account, field="to_account", locked=locked)
    return transfer(source, target, amount_paise, **options)


def _execute_large(req: ApprovalRequest, checker: StaffUser) -> dict:
    """Approval of a large transfer: re-check and post it in the checker's unit of work."""
    data = req.payload
    source = db.session.get(Account, int(data["from_account_id"]))
    target = db.session.get(Account, int(data["to_account_id"]))
    maker = db.session.get(StaffUser, req.maker_id)
    if source is None or target is None or maker is None:
        raise NotFound("An account of this transfer no longer exists.")
    result = transfer(
        source,
        target,
        int(data["amount_paise"]),
        narration=data.get("narration"),
        maker=maker,
        channel=data.get("channel") or "branch",
        idempotency_key=data.get("key") or f"approval:{req.id}",
        approved_by=checker,
    )
    assert result.entry is not None
    return {"entry_id": result.entry.id, "entry_no": result.entry.number, "from_account": source.account_no}


approvals.register(APPROVAL_KIND, label="Large transfer", permission="teller.approve", execute=_execute_large)
