"""Deposits: products with rate history, deposit accounts (SB, FD, RD), RD instalments, TDS.

Money is integer paise; interest rates are integer basis points (``725`` = 7.25 % p.a.) so
that no rate ever passes through a float, in Python or in SQL. A ``DepositAccount`` holds
the product details of one ledger ``Account`` (one-to-one); the money itself lives in the
ledger and moves only through ``app.services.ledger.post``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.ledger import Account

DEPOSIT_KINDS = ("savings", "fd", "rd")
FD_PAYOUTS = ("cumulative", "monthly", "quarterly")
MATURITY_ACTIONS = ("credit_sb", "auto_renew")
RD_INSTALLMENT_STATUSES = ("due", "overdue", "paid")
TDS_REASONS = ("below_threshold", "form_15g", "form_15h", "pan", "no_pan")
TDS_FORMS = ("15G", "15H")


def rate_of(bp: int | None) -> Decimal | None:
    """A rate in basis points as a Decimal percentage (725 → Decimal('7.25'))."""
    return None if bp is None else (Decimal(bp) / 100).quantize(Decimal("0.01"))


class DepositProduct(db.Model):
    """A savings scheme, FD scheme or RD scheme; settings are validated by the service."""

    __tablename__ = "deposit_products"
    __table_args__ = (CheckConstraint("kind IN ('savings','fd','rd')", name="kind_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), index=True)
    prefix: Mapped[str] = mapped_column(String(4), unique=True)  # account numbers start with it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # the type's default product
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rates: Mapped[list[ProductRate]] = relationship(
        back_populates="product", order_by="[ProductRate.effective_from.desc(), ProductRate.id]"
    )

    def setting(self, name: str, default=None):
        return (self.settings or {}).get(name, default)

    def __repr__(self) -> str:
        return f"<DepositProduct {self.code} {self.kind}>"


class ProductRate(db.Model):
    """One row of a product's rate card from ``effective_from`` (history is kept, never edited).

    A rate change inserts a whole new card (all its bands) with a later ``effective_from``;
    the card in force on a day is the one with the latest ``effective_from`` on or before it.
    Savings cards have one row without bands; FD bands are by tenure in days, RD bands by
    tenure in months.
    """

    __tablename__ = "deposit_product_rates"
    __table_args__ = (
        CheckConstraint("rate_bp >= 0 AND senior_extra_bp >= 0", name="rates_non_negative"),
        Index("ix_deposit_product_rates_product_from", "product_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("deposit_products.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    min_days: Mapped[int | None] = mapped_column(Integer)  # FD bands
    max_days: Mapped[int | None] = mapped_column(Integer)
    min_months: Mapped[int | None] = mapped_column(Integer)  # RD bands
    max_months: Mapped[int | None] = mapped_column(Integer)
    rate_bp: Mapped[int] = mapped_column(Integer)
    senior_extra_bp: Mapped[int] = mapped_column(Integer, default=0)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[DepositProduct] = relationship(back_populates="rates")

    @property
    def rate(self) -> Decimal:
        return rate_of(self.rate_bp)  # type: ignore[return-value]

    @property
    def senior_extra(self) -> Decimal:
        return rate_of(self.senior_extra_bp)  # type: ignore[return-value]


class DepositAccount(db.Model):
    """The deposit details of one ledger account (savings, fixed or recurring deposit)."""

    __tablename__ = "deposit_accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('savings','fd','rd')", name="kind_valid"),
        CheckConstraint("payout IS NULL OR payout IN ('cumulative','monthly','quarterly')", name="payout_valid"),
        CheckConstraint(
            "maturity_action IS NULL OR maturity_action IN ('credit_sb','auto_renew')", name="maturity_action_valid"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("deposit_products.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    nominee_id: Mapped[int | None] = mapped_column(ForeignKey("member_nominees.id"))
    # Term deposits (FD and RD). rate_bp is the contracted rate including any senior extra.
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    senior: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date, index=True)
    months: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)
    principal_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    expected_interest_paise: Mapped[int | None] = mapped_column(BigInteger)
    payout: Mapped[str | None] = mapped_column(String(12))
    maturity_action: Mapped[str | None] = mapped_column(String(12))
    payout_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    installment_paise: Mapped[int | None] = mapped_column(BigInteger)
    due_day: Mapped[int | None] = mapped_column(Integer)
    si_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # RD standing instruction
    accrued_paise: Mapped[int] = mapped_column(BigInteger, default=0)  # in interest payable, not yet paid
    accrued_through: Mapped[date | None] = mapped_column(Date)
    interest_paid_paise: Mapped[int] = mapped_column(BigInteger, default=0)  # paid out in this term
    last_payout_date: Mapped[date | None] = mapped_column(Date)
    matured_on: Mapped[date | None] = mapped_column(Date)
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    product: Mapped[DepositProduct] = relationship()
    member = relationship("Member")
    nominee = relationship("Nominee")
    payout_account: Mapped[Account | None] = relationship(foreign_keys=[payout_account_id])
    si_account: Mapped[Account | None] = relationship(foreign_keys=[si_account_id])
    sb: Mapped[SbDailyProduct | None] = relationship(
        primaryjoin="DepositAccount.account_id == foreign(SbDailyProduct.account_id)", viewonly=True, uselist=False
    )

    @property
    def rate(self) -> Decimal | None:
        return rate_of(self.rate_bp)

    def __repr__(self) -> str:
        return f"<DepositAccount {self.account_id} {self.kind}>"


class SbDailyProduct(db.Model):
    """The running daily product of one savings account (DESIGN.md §6), kept narrow on purpose.

    ``product_paise`` is Σ end-of-day balances (paise-days) of the current rate segment since
    ``period_start``; ``last_product_date`` is the last day added. The day-end updates every
    row once a day with one set-based UPDATE, so the table holds nothing else and has no
    index besides its key (PostgreSQL can then update rows in place, "HOT", with the page
    space left free by fillfactor 50 — set in the migration).
    """

    __tablename__ = "sb_daily_products"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("deposit_products.id"))
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    product_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    period_start: Mapped[date | None] = mapped_column(Date)
    last_product_date: Mapped[date | None] = mapped_column(Date)
    interest_through: Mapped[date | None] = mapped_column(Date)


class AccountHolder(db.Model):
    """A joint holder of a deposit account (the first holder is ``Account.member_id``)."""

    __tablename__ = "deposit_account_holders"
    __table_args__ = (UniqueConstraint("account_id", "member_id", name="uq_deposit_account_holders_account_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 2 = second holder, 3 = third ...

    member = relationship("Member")


class SbProductSegment(db.Model):
    """A closed rate segment of a savings account's daily product inside a crediting period."""

    __tablename__ = "sb_product_segments"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    period_start: Mapped[date | None] = mapped_column(Date)
    rate_bp: Mapped[int] = mapped_column(Integer)
    product_paise: Mapped[int] = mapped_column(BigInteger)
    closed_on: Mapped[date] = mapped_column(Date)  # the last day in this segment
    credited_on: Mapped[date | None] = mapped_column(Date)  # the period end whose interest used it


class RdInstallment(db.Model):
    """One scheduled instalment of a recurring deposit and how it was paid."""

    __tablename__ = "rd_installments"
    __table_args__ = (
        UniqueConstraint("account_id", "seq", name="uq_rd_installments_account_seq"),
        CheckConstraint("status IN ('due','overdue','paid')", name="status_valid"),
        Index("ix_rd_installments_status_due", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 1 = first instalment
    due_date: Mapped[date] = mapped_column(Date)
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="due")
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_month: Mapped[int | None] = mapped_column(Integer)  # month of the term it was paid in (1 = first)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    fee_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))


class TdsDeduction(db.Model):
    """Every interest credit subject to section 194A, with the TDS deducted from it (maybe 0)."""

    __tablename__ = "tds_deductions"
    __table_args__ = (
        Index("ix_tds_deductions_member_fy", "member_id", "fy"),
        CheckConstraint("interest_paise >= 0 AND tds_paise >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    fy: Mapped[str] = mapped_column(String(7))
    credited_on: Mapped[date] = mapped_column(Date, index=True)
    interest_paise: Mapped[int] = mapped_column(BigInteger)
    tds_paise: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)  # the rate applied (0 when nothing was deducted)
    reason: Mapped[str] = mapped_column(String(20))
    senior: Mapped[bool] = mapped_column(Boolean, default=False)
    pan: Mapped[str | None] = mapped_column(String(10))  # as on the credit date, for the return
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))  # the interest credit
    tds_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))  # the deduction
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    account: Mapped[Account] = relationship()

    @property
    def rate(self) -> Decimal:
        return rate_of(self.rate_bp)  # type: ignore[return-value]


class TdsForm(db.Model):
    """A Form 15G / 15H declaration on file for a member and financial year."""

    __tablename__ = "tds_forms"
    __table_args__ = (
        UniqueConstraint("member_id", "fy", name="uq_tds_forms_member_fy"),
        CheckConstraint("form IN ('15G','15H')", name="form_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    fy: Mapped[str] = mapped_column(String(7), index=True)
    form: Mapped[str] = mapped_column(String(3))
    received_on: Mapped[date] = mapped_column(Date)
    estimated_income_paise: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(40))  # UIN given by the bank
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
