"""Members: identity, KYC, status history, nominees, documents, shares and portal logins."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

MEMBER_STATUSES = ("applicant", "active", "inactive", "deceased", "expelled", "resigned")
KYC_STATUSES = ("pending", "submitted", "approved", "rejected")
MEMBER_TYPES = ("regular", "nominal", "associate")
GENDERS = ("female", "male", "other")
RISK_CATEGORIES = ("low", "medium", "high")
DOC_TYPES = ("aadhaar", "pan", "photo", "signature", "address_proof", "form60")
DOC_STATUSES = ("pending", "verified", "rejected", "superseded")
CERTIFICATE_STATUSES = ("active", "refunded", "transferred")
OTP_PURPOSES = ("register", "login")


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint(
            "status IN ('applicant','active','inactive','deceased','expelled','resigned')", name="status_valid"
        ),
        CheckConstraint("kyc_status IN ('pending','submitted','approved','rejected')", name="kyc_status_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    name: Mapped[str] = mapped_column(String(120), index=True)
    father_or_spouse_name: Mapped[str | None] = mapped_column(String(120))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(10))
    mobile: Mapped[str] = mapped_column(String(10), index=True)  # normalised: 10 digits, starts 6-9
    email: Mapped[str | None] = mapped_column(String(255))
    address_line: Mapped[str] = mapped_column(String(255))
    village_town: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(60))
    pin: Mapped[str] = mapped_column(String(6))
    occupation: Mapped[str | None] = mapped_column(String(120))
    member_type: Mapped[str] = mapped_column(String(10), default="regular")
    status: Mapped[str] = mapped_column(String(10), default="applicant", index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    # Identity. Aadhaar only encrypted + keyed hash + last four digits; PAN upper-case.
    aadhaar_enc: Mapped[str | None] = mapped_column(Text)
    aadhaar_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    aadhaar_last4: Mapped[str | None] = mapped_column(String(4))
    pan: Mapped[str | None] = mapped_column(String(10), unique=True)
    form60_on_file: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_name: Mapped[str | None] = mapped_column(String(120))  # required for a minor
    guardian_relation: Mapped[str | None] = mapped_column(String(40))
    # KYC.
    kyc_status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    kyc_risk: Mapped[str] = mapped_column(String(10), default="low")
    kyc_submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    kyc_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kyc_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    kyc_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kyc_rejection_reason: Mapped[str | None] = mapped_column(String(255))
    rekyc_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    self_registered: Mapped[bool] = mapped_column(Boolean, default=False)

    nominees: Mapped[list[Nominee]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Nominee.id"
    )
    documents: Mapped[list[KycDocument]] = relationship(back_populates="member", order_by="KycDocument.id")
    status_history: Mapped[list[MemberStatusChange]] = relationship(
        back_populates="member", order_by="MemberStatusChange.id"
    )

    @property
    def aadhaar_masked(self) -> str:
        return f"XXXX XXXX {self.aadhaar_last4}" if self.aadhaar_last4 else ""

    @property
    def pan_masked(self) -> str:
        return f"{self.pan[:2]}XXXXX{self.pan[7:]}" if self.pan else ""

    def age_on(self, on: date) -> int:
        years = on.year - self.date_of_birth.year
        return years - ((on.month, on.day) < (self.date_of_birth.month, self.date_of_birth.day))

    def __repr__(self) -> str:
        return f"<Member {self.member_no} {self.name} {self.status}/{self.kyc_status}>"


class MemberStatusChange(db.Model):
    __tablename__ = "member_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    effective_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(255))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(back_populates="status_history")


class Nominee(db.Model):
    __tablename__ = "member_nominees"
    __table_args__ = (CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    relationship_: Mapped[str] = mapped_column("relationship", String(40))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    share_bp: Mapped[int] = mapped_column(Integer)  # share in basis points: 10000 = 100%
    guardian_name: Mapped[str | None] = mapped_column(String(120))  # when the nominee is a minor
    address: Mapped[str | None] = mapped_column(String(255))

    member: Mapped[Member] = relationship(back_populates="nominees")


class KycDocument(db.Model):
    __tablename__ = "kyc_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, verified, rejected, superseded
    rejection_reason: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(back_populates="documents")


class ShareCertificate(db.Model):
    """Shares held by a member, numbered; the money sits in the member's share account."""

    __tablename__ = "share_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    shares: Mapped[int] = mapped_column(Integer)
    first_share_no: Mapped[int] = mapped_column(BigInteger)
    last_share_no: Mapped[int] = mapped_column(BigInteger)
    face_value_paise: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, refunded, transferred
    closed_on: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    # The certificate these share numbers came from (a split on partial refund, or a transfer).
    source_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("share_certificates.id"))

    member: Mapped[Member] = relationship()

    @property
    def amount_paise(self) -> int:
        """Paid-up value of the shares on this certificate."""
        return self.shares * self.face_value_paise


class MemberLogin(db.Model):
    """A member's portal / app credentials (separate from staff users)."""

    __tablename__ = "member_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    mobile: Mapped[str] = mapped_column(String(10), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # mobile proven by a one-time code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()

    kind = "member"

    def get_id(self) -> str:
        return f"member:{self.id}"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False


class Notification(db.Model):
    """The notification outbox: SMS / e-mail messages (OTPs, alerts) waiting to be sent."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms, email
    recipient: Mapped[str] = mapped_column(String(255), index=True)
    template: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)  # queued, sent, failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MemberOtp(db.Model):
    """A one-time code sent by SMS to a member's mobile (stored only as a keyed hash)."""

    __tablename__ = "member_otps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("member_logins.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # register, login
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
