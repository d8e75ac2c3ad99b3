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

from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.members import Member, ShareCertificate
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, NotFound, ValidationError, audit
from app.services.counter import teller
from app.services.ledger import coa

from . import registry as members_service
from .rules import today
from .share_register import (  # noqa: F401
    CERTIFICATE_COUNTER,
    FUNDING_KINDS,
    MAX_SHARES_PER_ENTRY,
    MODES,
    REGISTER_COLUMNS,
    REQUEST_KINDS,
    SHARE_ACCOUNT_COUNTER,
    SHARE_NUMBER_COUNTER,
    Holding,
    RegisterTotals,
    ShareReceipt,
    _allocate_share_numbers,
    _check_mode,
    _issue_certificate,
    _lock_member,
    _member_account,
    _share_gl,
    certificates,
    face_value,
    holding,
    membership_fee,
    min_shares,
    open_share_account,
    parse_shares,
    pending_requests,
    register_csv,
    register_query,
    register_totals,
    share_account,
    shares_held,
)
from .share_requests import request_refund, request_transfer  # noqa: F401

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
    member.joined_on = today()
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


class ShareOrder(TypedDict):
    """A purchase of shares (keywords of ``purchase``)."""

    shares: Any
    mode: str  # cash | transfer
    by: StaffUser | None
    from_account_no: NotRequired[str | None]
    channel: NotRequired[str]
    idempotency_key: NotRequired[str | None]


def purchase(member: Member, **order: Unpack[ShareOrder]) -> ShareReceipt:
    """An active member buys more shares (cash or from their savings account)."""
    shares, mode, by = order["shares"], order["mode"], order["by"]
    from_account_no, idempotency_key = order.get("from_account_no"), order.get("idempotency_key")
    channel = order.get("channel") or "branch"
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


class _Collection(TypedDict):
    what: str
    kind: str
    narration: str
    idempotency_key: str | None
    by: StaffUser | None
    channel: str


def _collect(
    member: Member,
    share_acct: Account,
    funding_account: Account | None,
    amount: int,
    credits: list[ledger.Line],
    **how: Unpack[_Collection],
) -> JournalEntry:
    """Take ``amount`` for ``credits``: from the member's savings account, or in cash.

    Cash is received like any cash at the branch (``teller.receive_cash``): into the acting
    cashier's open drawer, with PAN / Form 60 at the threshold and a cash register row.
    """
    what, kind, narration, by, channel = how["what"], how["kind"], how["narration"], how["by"], how["channel"]
    idempotency_key = how["idempotency_key"]
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
        reference=member.member_no,
        options=ledger.PostOptions(
            posted_by_id=by.id if by is not None else None,
            branch_id=member.branch_id,
            channel=channel,
        ),
    )


def _issued_for(entry: JournalEntry) -> bool:
    """Whether certificates were already issued against this entry (a replayed idempotent purchase)."""
    return (
        db.session.scalar(select(ShareCertificate.id).where(ShareCertificate.entry_id == entry.id).limit(1)) is not None
    )


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
