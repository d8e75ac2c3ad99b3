"""The share register: share settings, holdings, certificates and the helpers every share
movement uses (member lock, share account, certificate issue). Reads and building blocks
only; admission and purchases are in ``shares``, refunds and transfers in ``share_requests``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.approvals import ApprovalRequest
from app.models.ledger import Account, GLAccount, JournalEntry
from app.models.members import Member, ShareCertificate
from app.models.numbering import Counter
from app.money import to_json
from app.services import ledger
from app.services.common import NotFound, ValidationError, audit, numbering
from app.services.ledger import coa
from app.settings import setting

from .rules import today

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
    return int(setting("SHARE_FACE_VALUE_PAISE"))


def min_shares() -> int:
    """Minimum shares a member must hold (``MIN_SHARES``)."""
    return int(setting("MIN_SHARES"))


def membership_fee() -> int:
    """Admission fee in paise (``MEMBERSHIP_FEE_PAISE``)."""
    return int(setting("MEMBERSHIP_FEE_PAISE"))


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
        opened_on=today(),
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


class _Certificate(TypedDict):
    shares: int
    first_share_no: int
    face_value_paise: int
    entry: JournalEntry | None
    source: NotRequired[ShareCertificate | None]


def _issue_certificate(member: Member, account: Account, **terms: Unpack[_Certificate]) -> ShareCertificate:
    shares, first_share_no, face_value_paise = terms["shares"], terms["first_share_no"], terms["face_value_paise"]
    entry, source = terms["entry"], terms.get("source")
    cert = ShareCertificate(
        certificate_no=f"SC{numbering.next_value(CERTIFICATE_COUNTER):06d}",
        member_id=member.id,
        account_id=account.id,
        shares=shares,
        first_share_no=first_share_no,
        last_share_no=first_share_no + shares - 1,
        face_value_paise=face_value_paise,
        issued_on=today(),
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
