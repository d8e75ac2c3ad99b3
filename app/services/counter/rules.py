"""The counter's rules for one cash transaction: countable amounts, which accounts may take
or pay it, and the PAN / Form 60 rule (cash of CASH_PAN_THRESHOLD_PAISE or more in a day
needs the PAN, or a Form 60 for that transaction — the KYC file's Form 60 covers the
account opening only). Shared by the cash screens, transfers and other domains' cash.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.teller import CashTransaction
from app.money import MAX_INPUT_PAISE, format_inr
from app.services import ledger
from app.services.common import NotFound, ValidationError
from app.services.ledger import calendar
from app.services.ledger import kinds as deposit_rules
from app.settings import setting


class IdentityProofRequired(ValidationError):
    type = "pan-or-form60-required"
    title = "PAN or Form 60 required"


class AccountRefused(ledger.AccountNotOperable):
    """A frozen, closed or dormant account refused for this operation (422)."""


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
    return ledger.entry_by_key(idempotency_key)


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
    """True when this cash needs a PAN or a Form 60 for this transaction: the holder has no
    PAN and their cash in this direction today, with this amount, reaches the threshold.

    A Form 60 in the KYC file covers the account opening only (Rule 114B: a Form 60 gives
    the particulars of the transaction it covers), so it does not count here.
    """
    member = db.session.get(Member, account.member_id) if account.member_id else None
    if member is not None and member.pan:
        return False
    today = calendar.current_business_date()
    return _cash_today(account, direction, today) + amount_paise >= int(setting("CASH_PAN_THRESHOLD_PAISE"))


def identity_proof(
    account: Account, amount_paise: int, direction: str, form60_ref: str | None, *, opening: bool = False
) -> tuple[str, str | None]:
    """Which proof covers this cash: ("pan"|"form60"|"none", Form 60 reference); refuse when none does.

    ``opening``: the cash opens the account, which the Form 60 in the member's KYC file covers.
    """
    ref = (form60_ref or "").strip()[:40] or None
    member = db.session.get(Member, account.member_id) if account.member_id else None
    if member is not None and member.pan:
        return "pan", None
    if ref:
        return "form60", ref
    if opening and member is not None and member.form60_on_file:
        return "form60", None
    if id_proof_needed(account, amount_paise, direction):
        threshold = format_inr(int(setting("CASH_PAN_THRESHOLD_PAISE")))
        who = member.name if member is not None else f"The holder of {account.account_no}"
        on_file = (
            " The Form 60 in the KYC file covers the account opening only." if member and member.form60_on_file else ""
        )
        raise IdentityProofRequired(
            f"Cash of {threshold} or more in a day needs a PAN or Form 60 for this transaction. "
            f"{who} has no PAN on file: collect a signed Form 60 for this transaction and enter its reference."
            + on_file,
            field="form60_ref",
        )
    return "none", None
