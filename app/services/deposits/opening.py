"""Opening a deposit account (savings, FD, RD): one path for every kind.

``open_account`` checks the member (the members rule ``eligibility_problem``), the product,
joint holders and nominee, asks the kind (``kinds.get(req.kind).prepare``) for its terms
and the first money, creates the ledger account and its deposit details, takes the first
money in cash at the acting cashier's drawer (the counter's rules) or by transfer from the
member's SB, and lets the kind finish (``after_open``: SB daily products, RD schedule).
It never branches on the kind. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DEPOSIT_KINDS, AccountHolder, DepositAccount
from app.models.ledger import Account, GLAccount, JournalEntry
from app.models.members import Member, Nominee
from app.models.users import StaffUser
from app.money import format_inr
from app.services import counter, ledger
from app.services import members as member_rules
from app.services.common import ValidationError, audit
from app.services.ledger import Line, calendar
from app.services.ledger import kinds as deposit_rules

from . import kinds
from .accounts import get_member, new_account_no, own_savings
from .catalogue import product_for
from .kinds import NewDeposit, Opening, Quote

FUNDING_MODES = ("cash", "transfer")


@dataclass
class OpenRequest:
    """What it takes to open a deposit account (amounts in paise)."""

    member_no: str
    kind: str  # savings | fd | rd
    product_code: str | None = None
    amount_paise: int = 0  # SB initial deposit; FD principal; RD first instalment (defaults to it)
    months: int = 0
    days: int = 0
    installment_paise: int = 0
    payout: str = "cumulative"
    maturity_action: str = "credit_sb"
    funding_mode: str = "cash"
    from_account_no: str | None = None
    payout_account_no: str | None = None
    si_account_no: str | None = None  # RD standing instruction from this SB
    joint_member_nos: list[str] = field(default_factory=list)
    nominee_id: int | None = None
    form60_ref: str | None = None  # a Form 60 collected now, for cash of ₹50,000+ without PAN


@dataclass(frozen=True)
class Channel:
    """Who opens the account and through which channel (with the request's idempotency key)."""

    by: StaffUser | None = None
    channel: str = "branch"
    idempotency_key: str | None = None


def check_member(member: Member, field_name: str = "member_no") -> None:
    """Refuse a member who may not open an account now (the members rule)."""
    member_rules.ensure_eligible(member, "account", field=field_name)


def funding_lines(member: Member, amount_paise: int, mode: str, from_account_no: str | None) -> tuple[Line, str]:
    """The debit line that funds a new deposit by transfer from the member's SB (kept above its floor).

    Cash is not a line here: it is received through the counter's rules (``counter.receive_cash``).
    """
    if mode == "cash":
        raise ValidationError(
            "Cash is received through a cashier's drawer (teller.receive_cash), not posted here.", field="funding"
        )
    if mode != "transfer":
        raise ValidationError("Funding is by cash or transfer from the member's savings account.", field="funding")
    sb = own_savings(member, from_account_no, "from_account")
    if sb.status == "dormant":
        raise ValidationError(
            f"Savings account {sb.account_no} is dormant; reactivate it before transferring from it.",
            field="from_account",
        )
    floor = deposit_rules.withdrawal_floor(sb)
    if sb.balance_paise - amount_paise < floor:
        raise ledger.InsufficientFunds(
            f"Account {sb.account_no} has {format_inr(max(0, sb.balance_paise - floor))} available "
            f"above its minimum balance; this needs {format_inr(amount_paise)}.",
            field="from_account",
        )
    return Line.dr(sb, amount_paise, "Transfer to new deposit", floor_paise=floor), "transfer"


def opened_under_key(idempotency_key: str) -> Account | None:
    """The account an earlier opening with this key opened (a retry or double submit).

    The first money of an opening is posted under the request's key, so the ledger's entry
    key finds it: the entry's reference is the new account. (An opening with no first money
    posts nothing; the API's stored response answers its retries.)
    """
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))
    if entry is None or not entry.reference:
        return None
    account = db.session.scalar(select(Account).where(Account.account_no == entry.reference))
    return account if account is not None and account.kind in DEPOSIT_KINDS else None


def _joint_holders(req: OpenRequest, member: Member) -> list[Member]:
    joint: list[Member] = []
    for no in req.joint_member_nos:
        if not (no or "").strip():
            continue
        other = get_member(no)
        check_member(other, "joint_holders")
        if other.id == member.id or other in joint:
            raise ValidationError(f"Member {other.member_no} is listed twice.", field="joint_holders")
        joint.append(other)
    return joint


def _nominee(req: OpenRequest, member: Member) -> Nominee | None:
    if not req.nominee_id:
        return None
    nominee = db.session.get(Nominee, req.nominee_id)
    if nominee is None or nominee.member_id != member.id:
        raise ValidationError("Choose one of the member's registered nominees.", field="nominee")
    return nominee


def _check_funding(new: NewDeposit, opening: Opening, by: StaffUser | None) -> Line | None:
    """Refuse early what the first money cannot do; the transfer's debit line, if it is one."""
    req, amount = new.req, opening.amount_paise
    if not amount:
        return None
    if req.funding_mode == "cash":
        counter.check_amount(amount, cash=True)
        counter.cashier_drawer(by)  # cash needs the acting cashier's open drawer
        return None
    line, _kind = funding_lines(new.member, amount, req.funding_mode, req.from_account_no)
    return line


def _create_account(new: NewDeposit, joint: list[Member]) -> Account:
    member, product = new.member, new.product
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == kinds.get(new.req.kind).control_gl))
    account = Account(
        account_no=new_account_no(product),
        kind=new.req.kind,
        title=f"{member.name} — {product.name}"[:160],
        member_id=member.id,
        control_gl=gl,
        balance_paise=0,
        min_balance_paise=0,
        enforce_limit=True,
        status="active",
        branch_id=member.branch_id,
        opened_on=new.on,
    )
    db.session.add(account)
    db.session.flush()
    new.da.account_id = account.id
    db.session.add(new.da)
    for position, other in enumerate(joint, start=2):
        db.session.add(AccountHolder(account_id=account.id, member_id=other.id, position=position))
    db.session.flush()
    return account


def _take_first_money(
    new: NewDeposit, account: Account, opening: Opening, fund_line: Line | None, how: Channel
) -> JournalEntry | None:
    amount, narration = opening.amount_paise, opening.narration
    if not amount:
        return None
    credit = Line.cr(account, amount, narration)
    if fund_line is None:
        return counter.receive_cash(
            account,
            amount,
            [credit],
            cashier=how.by,
            narration=f"{narration} — {account.account_no}",
            form60_ref=new.req.form60_ref,
            idempotency_key=how.idempotency_key,
            channel=how.channel,
            opening=True,  # the Form 60 in the KYC file covers the account opening
        ).entry
    fund_line = replace(fund_line, narration=f"Transfer to new deposit {account.account_no} ({new.product.name})")
    return ledger.post(
        [fund_line, credit],
        kind="transfer",
        narration=f"{narration} — {account.account_no}",
        idempotency_key=how.idempotency_key,
        reference=account.account_no,
        options=ledger.PostOptions(
            posted_by_id=how.by.id if how.by else None,
            branch_id=account.branch_id,
            channel=how.channel,
        ),
    )


def _audit_open(new: NewDeposit, account: Account, opening: Opening, joint: list[Member], entry: JournalEntry | None):
    da, req = new.da, new.req
    audit.record(
        "deposits.open",
        "account",
        account.account_no,
        after={
            "kind": req.kind,
            "product": new.product.code,
            "member": new.member.member_no,
            "amount_paise": opening.amount_paise,
            "rate_bp": opening.rate_bp,
            "start": new.on,
            "maturity": da.maturity_date,
            "months": da.months,
            "days": da.days,
            "payout": da.payout,
            "maturity_action": da.maturity_action,
            "funding": req.funding_mode if opening.amount_paise else None,
            "joint": [m.member_no for m in joint],
            "entry": entry.number if entry is not None else None,
        },
    )


def _lock_member(member: Member) -> None:
    """Serialise openings for this member, so a double submit waits for the first to commit."""
    db.session.scalars(
        select(Member).where(Member.id == member.id).with_for_update().execution_options(populate_existing=True)
    ).one()


def open_account(
    req: OpenRequest, *, by: StaffUser | None = None, channel: str = "branch", idempotency_key: str | None = None
) -> Account:
    """Open a savings, fixed or recurring deposit for a member who may open accounts.

    The account gets a product-prefixed number with a check digit; the first money (SB
    initial deposit, FD principal, RD first instalment) is taken in cash at the acting
    cashier's open drawer under the counter's rules (PAN / Form 60, cash register, CTR), or
    transferred from the member's SB. Raises a DomainError (nothing written) for any bad input.

    ``idempotency_key`` (a form's one-time token, an API key) makes a repeated request return
    the account the first one opened instead of opening another.
    """
    on = calendar.current_business_date()
    if req.kind not in DEPOSIT_KINDS:
        raise ValidationError("Type must be savings, fd or rd.", field="type")
    member = get_member(req.member_no)
    if idempotency_key:
        _lock_member(member)
        done = opened_under_key(idempotency_key)
        if done is not None:
            return done
    check_member(member)
    product = product_for(req.kind, req.product_code)
    if req.funding_mode not in FUNDING_MODES:
        raise ValidationError("Funding is by cash or transfer from the member's savings account.", field="funding")
    joint = _joint_holders(req, member)
    nominee = _nominee(req, member)
    da = DepositAccount(
        kind=req.kind, product_id=product.id, member_id=member.id, nominee_id=nominee.id if nominee else None
    )
    da.start_date = on
    new = NewDeposit(req, product, member, da, on)
    kind = kinds.get(req.kind)
    opening = kind.prepare(new)
    fund_line = _check_funding(new, opening, by)
    account = _create_account(new, joint)
    entry = _take_first_money(new, account, opening, fund_line, Channel(by, channel, idempotency_key))
    if kind.after_open is not None:
        kind.after_open(new, account, opening, entry)
    _audit_open(new, account, opening, joint, entry)
    return account


def preview(req: OpenRequest) -> Quote:
    """What the account ``req`` asks for would be (rate, maturity, interest) — nothing is saved."""
    if req.kind not in DEPOSIT_KINDS:
        raise ValidationError("Type must be savings, fd or rd.", field="type")
    member = get_member(req.member_no)
    product = product_for(req.kind, req.product_code)
    on = calendar.current_business_date()
    da = DepositAccount(kind=req.kind, product_id=product.id, member_id=member.id)
    return kinds.get(req.kind).quote(NewDeposit(req, product, member, da, on))
