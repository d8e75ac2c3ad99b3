"""Share refunds and transfers: maker-checker requests (``shares.refund`` /
``shares.transfer``, permission ``shares.approve``); the approval posts the reverse movement
and closes (or splits) the certificates concerned. Callers commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, JournalEntry
from app.models.members import Member, ShareCertificate
from app.models.users import StaffUser
from app.money import format_inr
from app.services import ledger
from app.services.common import Conflict, ValidationError, approvals, audit
from app.services.counter import teller

from . import registry as members_service
from .rules import today
from .share_register import (
    _check_mode,
    _issue_certificate,
    _lock_member,
    _member_account,
    certificates,
    min_shares,
    open_share_account,
    parse_shares,
    pending_requests,
    share_account,
    shares_held,
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


class RefundAsk(TypedDict):
    """A share refund asked for (keywords of ``request_refund``)."""

    shares: Any
    mode: str  # cash | transfer
    reason: str
    maker: StaffUser
    to_account_no: NotRequired[str | None]
    close_membership: NotRequired[bool]


def request_refund(member: Member, **ask: Unpack[RefundAsk]) -> ApprovalRequest:
    """Ask for a share refund (paid in cash or to a savings account); a checker approves it."""
    shares, mode, reason, maker = ask["shares"], ask["mode"], ask["reason"], ask["maker"]
    to_account_no, close_membership = ask.get("to_account_no"), bool(ask.get("close_membership"))
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
        entity=("member", member.member_no),
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
        entity=("member", member.member_no),
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
        cert.closed_on = today()
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
    account.closed_on = today()
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
            reference=member.member_no,
            options=ledger.PostOptions(
                posted_by_id=req.maker_id,
                approved_by_id=checker.id,
                branch_id=member.branch_id,
            ),
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
        reference=source_member.member_no,
        options=ledger.PostOptions(
            posted_by_id=req.maker_id,
            approved_by_id=checker.id,
            branch_id=source_member.branch_id,
        ),
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
