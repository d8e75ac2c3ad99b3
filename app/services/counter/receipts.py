"""What the counter shows and reports: the account card as a number is typed, receipts (with
the amount in words), and the Cash Transaction Report (cash above CTR_THRESHOLD_PAISE for a
member in a month, counted "combined" or "separate" by CTR_BASIS).
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.members import Member
from app.models.teller import CashTransaction
from app.services import ledger
from app.services.common import DomainError, NotFound
from app.services.ledger import calendar
from app.services.ledger import kinds as deposit_rules
from app.settings import setting

from .rules import find_account, holder_name

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
