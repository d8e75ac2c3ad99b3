"""The counter: teller cash drawers and the register of cash transactions.

A drawer is one cashier's cash for one business date. Its money sits in a sub-ledger
``Account`` of kind ``drawer`` under the TELLER_CASH control GL, so the drawer balance is
exact and ``ledger verify`` proves the control total. ``CashTransaction`` rows record every
cash deposit and withdrawal with the identity proof used (PAN / Form 60) and feed the Cash
Transaction Report; the money itself is only ever in journal lines.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

DRAWER_STATUSES = ("open", "closing", "closed")
ID_PROOFS = ("pan", "form60", "none")

# Denominations on the closing count: (key, label, value in paise). Notes first, then coins.
DENOMINATIONS: tuple[tuple[str, str, int], ...] = (
    ("n2000", "₹2000 notes", 2000_00),
    ("n500", "₹500 notes", 500_00),
    ("n200", "₹200 notes", 200_00),
    ("n100", "₹100 notes", 100_00),
    ("n50", "₹50 notes", 50_00),
    ("n20", "₹20 notes", 20_00),
    ("n10", "₹10 notes", 10_00),
    ("c20", "₹20 coins", 20_00),
    ("c10", "₹10 coins", 10_00),
    ("c5", "₹5 coins", 5_00),
    ("c2", "₹2 coins", 2_00),
    ("c1", "₹1 coins", 1_00),
    ("c050", "50 paise coins", 50),
)


class TellerDrawer(db.Model):
    """One cashier's cash drawer for one business date."""

    __tablename__ = "teller_drawers"
    __table_args__ = (
        UniqueConstraint("cashier_id", "business_date", name="uq_teller_drawers_cashier_date"),
        CheckConstraint("status IN ('open','closing','closed')", name="status_valid"),
        CheckConstraint("opening_float_paise >= 0", name="float_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cashier_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    opening_float_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The closing count: denominations (key → number of pieces), what the ledger expected
    # in the drawer, what was counted, and counted − expected (negative = shortage).
    denominations: Mapped[dict | None] = mapped_column(JSON)
    expected_paise: Mapped[int | None] = mapped_column(BigInteger)
    counted_paise: Mapped[int | None] = mapped_column(BigInteger)
    difference_paise: Mapped[int | None] = mapped_column(BigInteger)
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_request_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    close_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    cashier = relationship("StaffUser", foreign_keys=[cashier_id])
    closed_by = relationship("StaffUser", foreign_keys=[closed_by_id])
    account = relationship("Account")
    close_request = relationship("ApprovalRequest")

    def __repr__(self) -> str:
        return f"<TellerDrawer {self.cashier_id} {self.business_date} {self.status}>"


class CashTransaction(db.Model):
    """One cash deposit or withdrawal at the counter (the register behind the CTR)."""

    __tablename__ = "cash_transactions"
    __table_args__ = (
        CheckConstraint("direction IN ('in','out')", name="direction_valid"),
        CheckConstraint("amount_paise > 0", name="amount_positive"),
        CheckConstraint("id_proof IN ('pan','form60','none')", name="id_proof_valid"),
        Index("ix_cash_transactions_member_date", "member_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    drawer_id: Mapped[int | None] = mapped_column(ForeignKey("teller_drawers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    business_date: Mapped[date] = mapped_column(Date, index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in = deposit, out = withdrawal
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    balance_after_paise: Mapped[int] = mapped_column(BigInteger)
    id_proof: Mapped[str] = mapped_column(String(10), default="none")
    form60_ref: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10), default="branch")
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry = relationship("JournalEntry")
    drawer = relationship("TellerDrawer")
    account = relationship("Account")
    member = relationship("Member")
    cashier = relationship("StaffUser", foreign_keys=[cashier_id])
