"""Share capital: admission (membership fee + minimum shares), purchases, refunds and transfers.

Every rupee moves through ``ledger.post``. A member's shares sit in a share ``Account``
(sub-ledger of GL ``coa.SHARE_CAPITAL``) and are evidenced by numbered certificates, each
covering a contiguous range of share numbers. Refunds and transfers are maker-checker
requests (kind ``shares.refund`` / ``shares.transfer``, permission ``shares.approve``); the
approval posts the reverse movement and closes (or splits) the certificates concerned.

Settings: ``SHARE_FACE_VALUE_PAISE`` (₹100), ``MIN_SHARES`` (10), ``MEMBERSHIP_FEE_PAISE`` (₹100).
Callers commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, GLAccount, JournalEntry
from app.models.members import Member, ShareCertificate
from app.models.numbering import Counter
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, NotFound, ValidationError, approvals, audit, numbering
from app.services.counter import teller
from app.services.ledger import coa

from . import registry as members_service

MODES = ("cash", "transfer")
FUNDING_KINDS = ("savings", "current")  # member accounts that may pay for or receive share money
SHARE_NUMBER_COUNTER = "share_no"
CERTIFICATE_COUNTER = "share_certificate"
SHARE_ACCOUNT_COUNTER = "account:share"
MAX_SHARES_PER_ENTRY = 100_000
REQUEST_KINDS = ("shares.refund", "shares.transfer")


# ---------------------------------------------------------------- settings


def face_value() -> int:
    """Face value of one share in paise (``SHARE_FACE_VALUE_PAISE``)."""
    return int(current_app.config["SHARE_FACE_VALUE_PAISE"])


def min_shares() -> int:
    """Minimum shares a member must hold (``MIN_SHARES``)."""
    return int(current_app.config["MIN_SHARES"])


def membership_fee() -> int:
    """Admission fee in paise (``MEMBERSHIP_FEE_PAISE``)."""
    return int(current_app.config["MEMBERSHIP_FEE_PAISE"])


# ---------------------------------------------------------------- reads


def share_account(member: Member) -> Account | None:
    """The member's share account (the newest one), or None before admission."""
    return db.session.scalar(
        select(Account).where(Account.member_id == member.id, Account.kind == "share").order_by(Account.id.desc())
    )


def certificates(member: Member, *, active_only: bool = False) -> list[ShareCertificate]:
    """The member's share certificates in share-number order."""
    stmt = select(ShareCertificate).where(ShareCertificate.member_id == member.id)
    if active_only:
        stmt = stmt.where(ShareCertificate.status == "active")
    return list(db.session.scalars(stmt.order_by(ShareCertificate.first_share_no, ShareCertificate.id)))


def shares_held(member: Member) -> int:
    """Number of shares on the member's active certificates."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(ShareCertificate.shares), 0)).where(
                ShareCertificate.member_id == member.id, ShareCertificate.status == "active"
            )
        )
        or 0
    )


@dataclass
class Holding:
    """A member's shareholding: account, share count, paid-up value and certificates."""

    account: Account | None
    shares: int
    amount_paise: int
    certificates: list[ShareCertificate] = field(default_factory=list)


def holding(member: Member) -> Holding:
    """What the member holds now."""
    certs = certificates(member)
    active = [c for c in certs if c.status == "active"]
    return Holding(
        account=share_account(member),
        shares=sum(c.shares for c in active),
        amount_paise=sum(c.amount_paise for c in active),
        certificates=certs,
    )


def pending_requests(member: Member) -> list[ApprovalRequest]:
    """Refund / transfer requests for this member awaiting a checker."""
    return list(
        db.session.scalars(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.kind.in_(REQUEST_KINDS),
                ApprovalRequest.status == "pending",
                ApprovalRequest.entity_type == "member",
                ApprovalRequest.entity_id == member.member_no,
            )
            .order_by(ApprovalRequest.id)
        )
    )


# ---------------------------------------------------------------- helpers


def parse_shares(raw: Any, *, field: str = "shares") -> int:
    """A whole, positive number of shares."""
    if isinstance(raw, (bool, float)):
        raise ValidationError("Enter the number of shares as a whole number.", field=field)
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text.isdigit():
        raise ValidationError("Enter the number of shares as a whole number.", field=field)
    count = int(text)
    if count <= 0:
        raise ValidationError("The number of shares must be at least 1.", field=field)
    if count > MAX_SHARES_PER_ENTRY:
        raise ValidationError(f"At most {MAX_SHARES_PER_ENTRY:,} shares at a time.", field=field)
    return count


def _lock_member(member: Member) -> Member:
    locked = db.session.scalar(
        select(Member).where(Member.id == member.id).with_for_update().execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFound("No such member.")
    return locked


def _share_gl() -> GLAccount:
    gl = db.session.scalar(select(GLAccount).where(GLAccount.code == coa.SHARE_CAPITAL))
    if gl is None:
        raise ValidationError("The chart of accounts has no share capital account; seed the chart first.")
    return gl


def _next_share_account_no() -> str:
    base = f"{numbering.next_value(SHARE_ACCOUNT_COUNTER):07d}"
    return f"SH{base}{numbering.luhn_check_digit(base)}"


def open_share_account(member: Member) -> Account:
    """Create the member's share account under the share-capital control GL."""
    account = Account(
        account_no=_next_share_account_no(),
        kind="share",
        title=f"Share capital — {member.name}"[:160],
        member_id=member.id,
        control_gl=_share_gl(),
        balance_paise=0,
        min_balance_paise=0,
        enforce_limit=True,
        status="active",
        branch_id=member.branch_id,
        opened_on=members_service.today(),
    )
    db.session.add(account)
    db.session.flush()
    audit.record("account.open", "account", account.account_no, after={"kind": "share", "member_no": member.member_no})
    return account


def _allocate_share_numbers(count: int) -> int:
    """Reserve ``count`` consecutive share numbers atomically; returns the first."""
    stmt = (
        update(Counter)
        .where(Counter.name == SHARE_NUMBER_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
    )
    last = db.session.execute(stmt).scalar()
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(Counter).values(name=SHARE_NUMBER_COUNTER, value=count))
            last = count
        except IntegrityError:
            last = db.session.execute(stmt).scalar_one()
    return int(last) - count + 1


def _issue_certificate(
    member: Member,
    account: Account,
    *,
    shares: int,
    first_share_no: int,
    face_value_paise: int,
    entry: JournalEntry | None,
    source: ShareCertificate | None = None,
) -> ShareCertificate:
    cert = ShareCertificate(
        certificate_no=f"SC{numbering.next_value(CERTIFICATE_COUNTER):06d}",
        member_id=member.id,
        account_id=account.id,
        shares=shares,
        first_share_no=first_share_no,
        last_share_no=first_share_no + shares - 1,
        face_value_paise=face_value_paise,
        issued_on=members_service.today(),
        status="active",
        entry_id=entry.id if entry is not None else None,
        source_certificate_id=source.id if source is not None else None,
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def _member_account(member: Member, account_no: str | None, *, field: str, allow_other_member: bool = False) -> Account:
    number = (account_no or "").strip().upper()
    if not number:
        raise ValidationError("Enter the savings account number.", field=field)
    account = db.session.scalar(select(Account).where(Account.account_no == number))
    if account is None:
        raise ValidationError(f"No account {number}.", field=field)
    if account.member_id != member.id and not allow_other_member:
        raise ValidationError(f"Account {number} does not belong to {member.member_no}.", field=field)
    if account.kind not in FUNDING_KINDS:
        raise ValidationError(f"Account {number} is a {account.kind} account; use a savings account.", field=field)
    if account.status != "active":
        raise ValidationError(f"Account {number} is {account.status}.", field=field)
    return account


def _check_mode(mode: str) -> str:
    mode = (mode or "").strip().lower()
    if mode not in MODES:
        raise ValidationError("Choose how the money is paid: cash or transfer (from a savings account).", field="mode")
    return mode


@dataclass
class ShareReceipt:
    """What a collection posted: the entry, the share account, the certificate and the amounts."""

    member: Member
    entry: JournalEntry
    account: Account
    certificates: list[ShareCertificate]
    shares: int
    share_paise: int
    fee_paise: int
    mode: str
    from_account_no: str | None = None

    @property
    def total_paise(self) -> int:
        """Fee plus share money."""
        return self.share_paise + self.fee_paise

    @property
    def certificate(self) -> ShareCertificate | None:
        """The (first) certificate issued by this collection."""
        return self.certificates[0] if self.certificates else None


# ---------------------------------------------------------------- admission and purchase


def admit(
    member: Member,
    *,
    shares: Any,
    mode: str,
    from_account_no: str | None = None,
    by: StaffUser | None,
    channel: str = "branch",
) -> ShareReceipt:
    """Admit an applicant: collect the fee and at least the minimum shares; the member becomes active.

    Posts Dr cash (or the member's savings account) / Cr membership-fee income and Cr the
    new share account, issues a certificate, sets ``joined_on`` and records the status change.
    """
    member = _lock_member(member)
    if member.status != "applicant":
        raise Conflict(
            f"{member.member_no} is already {member.status}"
            + (f" (member since {member.joined_on:%d-%m-%Y})." if member.joined_on else ".")
        )
    if member.kyc_status != "approved":
        raise ValidationError(
            f"{member.member_no}'s KYC is {member.kyc_status}; it must be approved before admission.",
            field="member_no",
        )
    count = parse_shares(shares)
    minimum, face, fee = min_shares(), face_value(), membership_fee()
    if count < minimum:
        raise ValidationError(
            f"Membership needs at least {minimum} shares ({format_inr(minimum * face)} at {format_inr(face)} each); "
            f"{count} {'was' if count == 1 else 'were'} entered.",
            field="shares",
        )
    mode = _check_mode(mode)
    share_paise = count * face
    funding_account = _member_account(member, from_account_no, field="from_account") if mode == "transfer" else None
    account = open_share_account(member)
    narration = f"Admission of {member.member_no} {member.name}: fee {format_inr(fee)} + {count} shares"
    credits = []
    if fee:
        credits.append(ledger.Line.cr(coa.INCOME_MEMBERSHIP_FEE, fee, f"Membership fee {member.member_no}"))
    credits.append(ledger.Line.cr(account, share_paise, f"{count} shares of {format_inr(face)}"))
    entry = _collect(
        member, account, funding_account, share_paise + fee, credits,
        what="Admission fee and shares", kind="admission", narration=narration,
        idempotency_key=f"admission:{member.member_no}", by=by, channel=channel,
    )  # fmt: skip
    first = _allocate_share_numbers(count)
    cert = _issue_certificate(member, account, shares=count, first_share_no=first, face_value_paise=face, entry=entry)
    member.joined_on = members_service.today()
    members_service.record_status(
        member,
        "active",
        by=by,
        reason=f"Admitted: fee {format_inr(fee)} and {count} shares ({cert.certificate_no})",
        effective_on=member.joined_on,
    )
    audit.record(
        "member.admit",
        "member",
        member.member_no,
        before={"status": "applicant"},
        after={
            "status": "active",
            "joined_on": member.joined_on,
            "entry": entry.number,
            "share_account": account.account_no,
            "certificate": cert.certificate_no,
            "shares": count,
            "share_paise": share_paise,
            "fee_paise": fee,
            "mode": mode,
        },
    )
    return ShareReceipt(
        member, entry, account, [cert], count, share_paise, fee, mode,
        funding_account.account_no if funding_account else None,
    )  # fmt: skip


def purchase(
    member: Member,
    *,
    shares: Any,
    mode: str,
    from_account_no: str | None = None,
    by: StaffUser | None,
    channel: str = "branch",
    idempotency_key: str | None = None,
) -> ShareReceipt:
    """An active member buys more shares (cash or from their savings account)."""
    member = _lock_member(member)
    if member.status != "active":
        raise ValidationError(
            f"{member.member_no} is {member.status}; only active members can buy shares"
            + (" (admit the applicant first)." if member.status == "applicant" else "."),
            field="member_no",
        )
    count = parse_shares(shares)
    mode = _check_mode(mode)
    face = face_value()
    amount = count * face
    funding_account = _member_account(member, from_account_no, field="from_account") if mode == "transfer" else None
    account = share_account(member)
    if account is None or account.status == "closed":
        account = open_share_account(member)
    entry = _collect(
        member, account, funding_account, amount, [ledger.Line.cr(account, amount, f"{count} shares of {format_inr(face)}")],
        what="Share purchase", kind="shares", narration=f"Share purchase {member.member_no} {member.name}: {count} shares",
        idempotency_key=idempotency_key, by=by, channel=channel,
    )  # fmt: skip
    if idempotency_key and _issued_for(entry):
        # The same key again (a double submit or a retry): the entry was already posted and
        # its certificate issued, so answer the first purchase's receipt and post nothing.
        return receipt(member, entry.id)
    first = _allocate_share_numbers(count)
    cert = _issue_certificate(member, account, shares=count, first_share_no=first, face_value_paise=face, entry=entry)
    audit.record(
        "shares.purchase",
        "member",
        member.member_no,
        after={"entry": entry.number, "certificate": cert.certificate_no, "shares": count, "amount_paise": amount},
    )
    return ShareReceipt(
        member, entry, account, [cert], count, amount, 0, mode, funding_account.account_no if funding_account else None
    )


def _collect(
    member: Member,
    share_acct: Account,
    funding_account: Account | None,
    amount: int,
    credits: list[ledger.Line],
    *,
    what: str,
    kind: str,
    narration: str,
    idempotency_key: str | None,
    by: StaffUser | None,
    channel: str,
) -> JournalEntry:
    """Take ``amount`` for ``credits``: from the member's savings account, or in cash.

    Cash is received like any cash at the branch (``teller.receive_cash``): into the acting
    cashier's open drawer, with PAN / Form 60 at the threshold and a cash register row.
    """
    if funding_account is None:
        result = teller.receive_cash(
            share_acct, amount, credits, cashier=by, narration=narration,
            idempotency_key=idempotency_key, channel=channel, kind=kind,
        )  # fmt: skip
        assert result.entry is not None
        return result.entry
    return ledger.post(
        [ledger.Line.dr(funding_account, amount, what), *credits],
        kind=kind,
        narration=narration,
        idempotency_key=idempotency_key,
        posted_by_id=by.id if by is not None else None,
        branch_id=member.branch_id,
        channel=channel,
        reference=member.member_no,
    )


def _issued_for(entry: JournalEntry) -> bool:
    """Whether certificates were already issued against this entry (a replayed idempotent purchase)."""
    return (
        db.session.scalar(select(ShareCertificate.id).where(ShareCertificate.entry_id == entry.id).limit(1)) is not None
    )


# ---------------------------------------------------------------- refunds and transfers (maker-checker)


def _check_reduction(member: Member, count: int, *, close_membership: bool, what: str) -> int:
    """Validate giving up ``count`` shares; returns the shares held."""
    if member.status == "applicant":
        raise ValidationError(f"{member.member_no} is an applicant and holds no shares.", field="shares")
    held = shares_held(member)
    if held == 0:
        raise ValidationError(f"{member.member_no} holds no shares.", field="shares")
    if count > held:
        raise ValidationError(f"{member.member_no} holds only {held} shares; cannot {what} {count}.", field="shares")
    if member.status in {"deceased", "expelled", "resigned"}:
        if count != held:
            raise ValidationError(
                f"{member.member_no} is {member.status}: settle all {held} shares at once.", field="shares"
            )
        return held
    remaining = held - count
    if close_membership:
        if remaining:
            raise ValidationError(f"To close the membership, {what} all {held} shares (not {count}).", field="shares")
    elif remaining < min_shares():
        raise ValidationError(
            f"A member must keep at least {min_shares()} shares; {what}ing {count} of {held} would leave "
            f"{remaining}. To leave the society, tick 'close membership' and {what} all {held}.",
            field="shares",
        )
    return held


def _no_pending(member: Member) -> None:
    open_requests = pending_requests(member)
    if open_requests:
        raise Conflict(
            f"A share {open_requests[0].kind.split('.')[1]} for {member.member_no} is already awaiting approval "
            f"(request #{open_requests[0].id})."
        )


def request_refund(
    member: Member,
    *,
    shares: Any,
    mode: str,
    to_account_no: str | None = None,
    reason: str,
    close_membership: bool = False,
    maker: StaffUser,
) -> ApprovalRequest:
    """Ask for a share refund (paid in cash or to a savings account); a checker approves it."""
    count = parse_shares(shares)
    mode = _check_mode(mode)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give the reason for the refund.", field="reason")
    _check_reduction(member, count, close_membership=close_membership, what="refund")
    to_account = None
    if mode == "transfer":
        to_account = _member_account(
            member, to_account_no, field="to_account", allow_other_member=member.status == "deceased"
        )
    else:
        teller.cashier_drawer(maker)  # cash is paid from the maker's drawer once approved
    _no_pending(member)
    amount = _value_of_top_shares(member, count)
    return approvals.submit(
        "shares.refund",
        {
            "member_no": member.member_no,
            "shares": count,
            "mode": mode,
            "to_account_no": to_account.account_no if to_account else None,
            "reason": reason,
            "close_membership": bool(close_membership),
        },
        maker=maker,
        summary=f"Refund {count} shares ({format_inr(amount)}) to {member.member_no} {member.name}: {reason[:80]}",
        entity_type="member",
        entity_id=member.member_no,
        amount_paise=amount,
    )


def request_transfer(
    member: Member,
    *,
    to_member_no: str,
    shares: Any,
    reason: str,
    close_membership: bool = False,
    maker: StaffUser,
) -> ApprovalRequest:
    """Ask to transfer shares (with their numbers) to another active member; a checker approves it."""
    count = parse_shares(shares)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Give the reason for the transfer.", field="reason")
    target = members_service.find(to_member_no)
    if target is None:
        raise ValidationError(f"No member {to_member_no!r}.", field="to_member_no")
    if target.id == member.id:
        raise ValidationError("Shares cannot be transferred to the same member.", field="to_member_no")
    if target.status != "active":
        raise ValidationError(
            f"{target.member_no} is {target.status}; shares can go only to an active member.", field="to_member_no"
        )
    _check_reduction(member, count, close_membership=close_membership, what="transfer")
    _no_pending(member)
    amount = _value_of_top_shares(member, count)
    return approvals.submit(
        "shares.transfer",
        {
            "member_no": member.member_no,
            "to_member_no": target.member_no,
            "shares": count,
            "reason": reason,
            "close_membership": bool(close_membership),
        },
        maker=maker,
        summary=f"Transfer {count} shares ({format_inr(amount)}) from {member.member_no} to {target.member_no}",
        entity_type="member",
        entity_id=member.member_no,
        amount_paise=amount,
    )


@dataclass
class _Piece:
    """Part of a certificate being given up: the highest ``shares`` numbers of ``cert``."""

    cert: ShareCertificate
    shares: int

    @property
    def first(self) -> int:
        return self.cert.last_share_no - self.shares + 1

    @property
    def amount_paise(self) -> int:
        return self.shares * self.cert.face_value_paise


def _take_top(member: Member, count: int) -> list[_Piece]:
    """The highest-numbered ``count`` active shares, newest certificates first."""
    pieces: list[_Piece] = []
    remaining = count
    for cert in sorted(certificates(member, active_only=True), key=lambda c: c.first_share_no, reverse=True):
        if remaining == 0:
            break
        take = min(cert.shares, remaining)
        pieces.append(_Piece(cert, take))
        remaining -= take
    if remaining:
        raise ValidationError(f"{member.member_no} does not hold {count} shares.", field="shares")
    return pieces


def _value_of_top_shares(member: Member, count: int) -> int:
    return sum(p.amount_paise for p in _take_top(member, count))


def _give_up(member: Member, pieces: Iterable[_Piece], *, status: str, entry: JournalEntry) -> list[str]:
    """Close the certificates in ``pieces``; a partly used one gets a balance certificate."""
    closed = []
    for piece in pieces:
        cert = piece.cert
        cert.status = status
        cert.closed_on = members_service.today()
        closed.append(cert.certificate_no)
        kept = cert.shares - piece.shares
        if kept:
            account = db.session.get(Account, cert.account_id)
            balance = _issue_certificate(
                member,
                account,  # type: ignore[arg-type]
                shares=kept,
                first_share_no=cert.first_share_no,
                face_value_paise=cert.face_value_paise,
                entry=entry,
                source=cert,
            )
            closed.append(f"{balance.certificate_no} (balance)")
    return closed


def _close_membership(member: Member, account: Account, *, checker: StaffUser, reason: str) -> None:
    account.status = "closed"
    account.closed_on = members_service.today()
    account.status_reason = "Membership closed"
    if member.status in {"active", "inactive"}:
        members_service.record_status(member, "resigned", by=checker, reason=reason)


def _execute_refund(req: ApprovalRequest, checker: StaffUser) -> dict:
    data = req.payload
    member = _lock_member(members_service.get(data["member_no"]))
    count = int(data["shares"])
    close = bool(data.get("close_membership"))
    _check_reduction(member, count, close_membership=close, what="refund")
    account = share_account(member)
    if account is None:
        raise ValidationError(f"{member.member_no} has no share account.")
    pieces = _take_top(member, count)
    amount = sum(p.amount_paise for p in pieces)
    narration = f"Share refund {member.member_no} {member.name}: {count} shares — {data['reason']}"[:255]
    if data["mode"] == "transfer":
        pay_to = _member_account(
            member, data["to_account_no"], field="to_account", allow_other_member=member.status == "deceased"
        )
        entry = ledger.post(
            [
                ledger.Line.dr(account, amount, f"Refund of {count} shares"),
                ledger.Line.cr(pay_to, amount, f"Share refund {member.member_no}"),
            ],
            kind="shares",
            narration=narration,
            idempotency_key=f"approval:{req.id}",
            posted_by_id=req.maker_id,
            approved_by_id=checker.id,
            branch_id=member.branch_id,
            reference=member.member_no,
        )
    else:  # paid in cash from the maker's drawer, with the counter's rules
        paid = teller.pay_cash(
            account, amount, cashier=db.session.get(StaffUser, req.maker_id), narration=narration,
            kind="shares", idempotency_key=f"approval:{req.id}", approved_by=checker,
        )  # fmt: skip
        assert paid.entry is not None
        entry = paid.entry
    closed = _give_up(member, pieces, status="refunded", entry=entry)
    if close or shares_held(member) == 0:
        _close_membership(member, account, checker=checker, reason=f"Shares refunded: {data['reason']}")
    audit.record(
        "shares.refund",
        "member",
        member.member_no,
        after={"entry": entry.number, "shares": count, "amount_paise": amount, "certificates": closed},
    )
    return {"entry_id": entry.id, "entry_no": entry.number, "shares": count, "amount_paise": amount}


def _execute_transfer(req: ApprovalRequest, checker: StaffUser) -> dict:
    data = req.payload
    source_member = members_service.get(data["member_no"])
    target_member = members_service.get(data["to_member_no"])
    first_locked, second_locked = sorted([source_member, target_member], key=lambda m: m.id)
    _lock_member(first_locked)
    _lock_member(second_locked)
    count = int(data["shares"])
    close = bool(data.get("close_membership"))
    if target_member.status != "active":
        raise ValidationError(f"{target_member.member_no} is {target_member.status}; the transfer cannot proceed.")
    _check_reduction(source_member, count, close_membership=close, what="transfer")
    from_account = share_account(source_member)
    if from_account is None:
        raise ValidationError(f"{source_member.member_no} has no share account.")
    to_account = share_account(target_member)
    if to_account is None or to_account.status == "closed":
        to_account = open_share_account(target_member)
    pieces = _take_top(source_member, count)
    amount = sum(p.amount_paise for p in pieces)
    entry = ledger.post(
        [
            ledger.Line.dr(from_account, amount, f"{count} shares to {target_member.member_no}"),
            ledger.Line.cr(to_account, amount, f"{count} shares from {source_member.member_no}"),
        ],
        kind="shares",
        narration=(
            f"Share transfer {source_member.member_no} → {target_member.member_no}: {count} shares — {data['reason']}"
        )[:255],
        idempotency_key=f"approval:{req.id}",
        posted_by_id=req.maker_id,
        approved_by_id=checker.id,
        branch_id=source_member.branch_id,
        reference=source_member.member_no,
    )
    issued = []
    for piece in pieces:
        cert = _issue_certificate(
            target_member,
            to_account,
            shares=piece.shares,
            first_share_no=piece.first,
            face_value_paise=piece.cert.face_value_paise,
            entry=entry,
            source=piece.cert,
        )
        issued.append(cert.certificate_no)
    closed = _give_up(source_member, pieces, status="transferred", entry=entry)
    if close or shares_held(source_member) == 0:
        _close_membership(
            source_member, from_account, checker=checker, reason=f"Shares transferred to {target_member.member_no}"
        )
    audit.record(
        "shares.transfer",
        "member",
        source_member.member_no,
        after={
            "entry": entry.number,
            "to": target_member.member_no,
            "shares": count,
            "amount_paise": amount,
            "closed": closed,
            "issued": issued,
        },
    )
    return {"entry_id": entry.id, "entry_no": entry.number, "shares": count, "issued": issued}


approvals.register("shares.refund", label="Share refund", permission="shares.approve", execute=_execute_refund)
approvals.register("shares.transfer", label="Share transfer", permission="shares.approve", execute=_execute_transfer)


# ---------------------------------------------------------------- receipts and the share register


def receipt(member: Member, entry_id: int) -> ShareReceipt:
    """Rebuild the receipt of an admission or share purchase of this member."""
    entry = db.session.get(JournalEntry, entry_id)
    account = share_account(member)
    if (
        entry is None
        or account is None
        or entry.kind not in {"admission", "shares"}
        or not any(ln.account_id == account.id and ln.credit_paise for ln in entry.lines)
    ):
        raise NotFound("No such receipt for this member.")
    certs = list(
        db.session.scalars(
            select(ShareCertificate)
            .where(ShareCertificate.entry_id == entry.id, ShareCertificate.member_id == member.id)
            .order_by(ShareCertificate.id)
        )
    )
    fee = sum(ln.credit_paise for ln in entry.lines if ln.gl_account.code == coa.INCOME_MEMBERSHIP_FEE)
    share_paise = sum(ln.credit_paise for ln in entry.lines if ln.account is not None and ln.account.kind == "share")
    debit = next((ln for ln in entry.lines if ln.debit_paise), None)
    from_member = debit is not None and debit.account is not None and debit.account.kind != "drawer"
    mode = "transfer" if from_member else "cash"
    if account is None or not share_paise:
        raise NotFound("No such receipt for this member.")
    return ShareReceipt(
        member, entry, account, certs, sum(c.shares for c in certs if c.source_certificate_id is None), share_paise,
        fee, mode, debit.account.account_no if from_member else None,
    )  # fmt: skip


def register_query(*, q: str | None = None, status: str | None = "active", on: date | None = None) -> Select:
    """Certificates with their members, in share-number order (the share register)."""
    stmt = (
        select(ShareCertificate, Member)
        .join(Member, Member.id == ShareCertificate.member_id)
        .order_by(ShareCertificate.first_share_no, ShareCertificate.id)
    )
    if status:
        stmt = stmt.where(ShareCertificate.status == status)
    text = (q or "").strip()
    if text:
        stmt = stmt.where(
            (Member.member_no == text.upper())
            | func.lower(Member.name).contains(text.lower(), autoescape=True)
            | (ShareCertificate.certificate_no == text.upper())
        )
    return stmt


@dataclass(frozen=True)
class RegisterTotals:
    """Totals of the active register and the share-capital GL balance they must agree with."""

    members: int
    shares: int
    amount_paise: int
    gl_balance_paise: int

    @property
    def agrees(self) -> bool:
        """Whether the certificates add up to the share-capital ledger."""
        return self.amount_paise == self.gl_balance_paise


def register_totals() -> RegisterTotals:
    """Active shares, paid-up capital and holders, reconciled with the share-capital GL."""
    members_count, shares_count, amount = db.session.execute(
        select(
            func.count(func.distinct(ShareCertificate.member_id)),
            func.coalesce(func.sum(ShareCertificate.shares), 0),
            func.coalesce(func.sum(ShareCertificate.shares * ShareCertificate.face_value_paise), 0),
        ).where(ShareCertificate.status == "active")
    ).one()
    try:
        gl = ledger.gl_balance(coa.SHARE_CAPITAL)
    except ValidationError:
        gl = 0
    return RegisterTotals(int(members_count), int(shares_count), int(amount), gl)


REGISTER_COLUMNS = (
    "certificate_no", "member_no", "member_name", "first_share_no", "last_share_no", "shares",
    "face_value", "amount", "issued_on", "status", "closed_on",
)  # fmt: skip


def register_csv(rows: Iterable[tuple[ShareCertificate, Member]]) -> str:
    """The share register as CSV (amounts in rupees with two decimals)."""
    from app.money import to_json

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTER_COLUMNS)
    for cert, member in rows:
        writer.writerow(
            [
                cert.certificate_no,
                member.member_no,
                member.name,
                cert.first_share_no,
                cert.last_share_no,
                cert.shares,
                to_json(cert.face_value_paise),
                to_json(cert.amount_paise),
                cert.issued_on.isoformat(),
                cert.status,
                cert.closed_on.isoformat() if cert.closed_on else "",
            ]
        )
    return out.getvalue()
