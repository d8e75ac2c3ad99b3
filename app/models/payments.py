"""Online payments through Razorpay: collections (``Payment``), their history (``PaymentEvent``),
payouts to outside accounts (``Payout``) and saved ``Beneficiary`` rows (DESIGN.md §9).

* ``Payment`` — one gateway order: the purpose (an EMI, an RD instalment, a deposit into SB),
  the member, the account credited, the amount, every gateway id and the journal entry of the
  credit. The status only moves forward: created → paid / failed / mismatch; paid → refunded;
  a failed payment may still be captured later (events arrive out of order).
* ``PaymentEvent`` — append-only history of payments and payouts, including every webhook
  seen (``event_id`` UNIQUE: a replayed event changes nothing) and unknown events for staff.
* ``Payout`` — money from a member's SB to an outside bank account or VPA; the amount sits in
  the payouts-in-transit GL until the gateway says processed (then it moves to the RazorpayX
  balance GL); reversed/failed — even after processed — returns it once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

PAYMENT_PURPOSES = ("emi", "deposit", "rd")
PAYMENT_STATUSES = ("created", "paid", "failed", "refunded", "mismatch")
PAYOUT_MODES = ("NEFT", "IMPS", "UPI", "RTGS")
PAYOUT_STATUSES = ("queued", "pending_approval", "processing", "processed", "reversed", "failed")

# Allowed forward moves (a status never goes back; paid→refunded is the only move out of paid).
PAYMENT_MOVES = {
    "created": {"paid", "failed", "mismatch"},
    "failed": {"paid", "mismatch"},
    "mismatch": set(),
    "paid": {"refunded"},
    "refunded": set(),
}
PAYOUT_MOVES = {
    "pending_approval": {"queued", "failed"},
    "queued": {"processing", "processed", "reversed", "failed"},
    "processing": {"processed", "reversed", "failed"},
    "processed": {"reversed", "failed"},  # rare: the beneficiary bank returns a processed payout (0050)
    "reversed": set(),
    "failed": set(),
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_paise > 0", name="ck_payments_amount_positive"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="ck_payments_status"),
        CheckConstraint(_in("purpose", PAYMENT_PURPOSES), name="ck_payments_purpose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(20), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    status: Mapped[str] = mapped_column(String(10), default="created", index=True)
    gateway: Mapped[str] = mapped_column(String(20), default="razorpay")
    gateway_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    gateway_payment_id: Mapped[str | None] = mapped_column(String(40), index=True)
    received_paise: Mapped[int | None] = mapped_column(BigInteger)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    refund_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    loan = relationship("Loan")
    account = relationship("Account")
    entry = relationship("JournalEntry", foreign_keys=[entry_id])
    events = relationship("PaymentEvent", order_by="PaymentEvent.id", viewonly=True,
                          primaryjoin="Payment.id == foreign(PaymentEvent.payment_id)")  # fmt: skip


class Payout(db.Model):
    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_paise > 0", name="ck_payouts_amount_positive"),
        CheckConstraint(_in("status", PAYOUT_STATUSES), name="ck_payouts_status"),
        CheckConstraint(_in("mode", PAYOUT_MODES), name="ck_payouts_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payout_id: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiaries.id"))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(4))
    beneficiary: Mapped[dict] = mapped_column(JSON)
    narration: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    utr: Mapped[str | None] = mapped_column(String(40))
    gateway_key: Mapped[str] = mapped_column(String(64), unique=True)  # X-Payout-Idempotency
    gateway_payout_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    return_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    account = relationship("Account")


class PaymentEvent(db.Model):
    """Append-only: one row per status change or gateway event (never updated but ``resolved_*`` and
    ``resolution``, set once when staff resolve an event that needs attention)."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    event_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict | None] = mapped_column(JSON)
    needs_attention: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    resolution: Mapped[str | None] = mapped_column(String(255))  # the staff remark on resolving it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    resolved_by = relationship("StaffUser", foreign_keys=[resolved_by_id])
    payment = relationship("Payment", foreign_keys=[payment_id], viewonly=True)
    payout = relationship("Payout", foreign_keys=[payout_id], viewonly=True)


class Beneficiary(db.Model):
    """A member's saved payee; the first large payout waits out ``cooling_until``."""

    __tablename__ = "beneficiaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    account_number: Mapped[str | None] = mapped_column(String(18))
    ifsc: Mapped[str | None] = mapped_column(String(11))
    vpa: Mapped[str | None] = mapped_column(String(100))
    cooling_until: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
