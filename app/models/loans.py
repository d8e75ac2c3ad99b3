"""Loans: products with dated rate cards, loans, stored schedules, events, security, charges.

Nouns: a ``LoanProduct`` (terms and limits; its rate card ``LoanProductRate`` is dated and
never edited), a ``Loan`` (the contract; once disbursed it owns one ledger ``Account`` of
kind ``loan`` under the product's control GL, whose cached balance is the outstanding
principal), its stored ``LoanScheduleRow`` rows (one per instalment and schedule version;
a prepayment or reschedule writes a new version and keeps the old), ``LoanEvent`` (every
transition, prepayment and reschedule, with remarks), ``LoanGuarantor``,
``LoanCollateral`` (gold items, a lien on a deposit, property/vehicle details),
``LoanCharge`` (penal charges per date: a memorandum, never capitalised) and
``LoanClassification`` (the asset-class history). ``GoldRate`` holds the day's 22 carat rate.

Invariants (service, CHECK constraints): paid ≤ due on every instalment and charge; an
instalment's EMI = principal + interest and its closing = opening − principal; money is
integer paise, rates integer basis points. Money moves only through ``ledger.post``.
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

BigId = BigInteger().with_variant(Integer, "sqlite")

LOAN_KINDS = ("personal", "gold", "agri", "housing", "vehicle", "deposit", "business")
INTEREST_TYPES = ("reducing", "flat")
FREQUENCIES = {"monthly": 1, "quarterly": 3, "half_yearly": 6}
PENAL_MODES = ("percent", "fixed")
SECURITY_TYPES = ("none", "gold", "deposit", "property", "vehicle")
LOAN_DOC_TYPES = {
    "income_proof": "Income proof (salary slips, ITR)", "bank_statement": "Bank statement",
    "property_papers": "Property papers (title, 7/12 extract)", "valuation": "Valuation report",
    "quotation": "Quotation / estimate", "sanction_letter": "Signed sanction letter",
    "progress": "Construction progress certificate", "other": "Other",
}  # fmt: skip
LOAN_STATUSES = (
    "applied", "appraised", "sanctioned", "rejected", "disbursed", "active", "closed", "foreclosed", "written_off",
)  # fmt: skip
ASSET_CLASSES = ("standard", "sma0", "sma1", "sma2", "substandard", "d1", "d2", "d3", "loss")
NPA_CLASSES = ("substandard", "d1", "d2", "d3", "loss")
ASSET_CLASS_LABELS = {
    "standard": "Standard",
    "sma0": "SMA-0",
    "sma1": "SMA-1",
    "sma2": "SMA-2",
    "substandard": "Sub-standard",
    "d1": "Doubtful D1",
    "d2": "Doubtful D2",
    "d3": "Doubtful D3",
    "loss": "Loss",
}
SCHEDULE_STATUSES = ("due", "partial", "paid")


def _in(column: str, values: tuple[str, ...] | dict) -> str:
    return f"{column} IN (" + ",".join(f"'{v}'" for v in values) + ")"


def rate_of(bp: int | None) -> Decimal | None:
    """Basis points as a Decimal percentage (1150 → Decimal('11.50'))."""
    return None if bp is None else (Decimal(bp) / 100).quantize(Decimal("0.01"))


class LoanProduct(db.Model):
    """A loan scheme: its terms and limits (validated by the service); ``settings`` holds bands."""

    __tablename__ = "loan_products"
    __table_args__ = (
        CheckConstraint(_in("kind", LOAN_KINDS), name="kind_valid"),
        CheckConstraint(_in("interest_type", INTEREST_TYPES), name="interest_type_valid"),
        CheckConstraint(_in("frequency", FREQUENCIES), name="frequency_valid"),
        CheckConstraint(_in("penal_mode", PENAL_MODES), name="penal_mode_valid"),
        CheckConstraint(_in("security_type", SECURITY_TYPES), name="security_valid"),
        CheckConstraint("min_rate_bp >= 0 AND max_rate_bp >= min_rate_bp", name="rate_range"),
        CheckConstraint("min_amount_paise > 0 AND max_amount_paise >= min_amount_paise", name="amount_range"),
        CheckConstraint("min_months > 0 AND max_months >= min_months", name="tenure_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    prefix: Mapped[str] = mapped_column(String(4), unique=True)  # loan numbers start with it
    control_gl_id: Mapped[int] = mapped_column(ForeignKey("gl_accounts.id"))  # "loans to members" of this product
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    interest_type: Mapped[str] = mapped_column(String(10), default="reducing")
    floating_rate: Mapped[bool] = mapped_column(Boolean, default=True)
    min_rate_bp: Mapped[int] = mapped_column(Integer)
    max_rate_bp: Mapped[int] = mapped_column(Integer)
    min_amount_paise: Mapped[int] = mapped_column(BigInteger)
    max_amount_paise: Mapped[int] = mapped_column(BigInteger)
    min_months: Mapped[int] = mapped_column(Integer)
    max_months: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(12), default="monthly")
    processing_fee_bp: Mapped[int] = mapped_column(Integer, default=0)
    gst_bp: Mapped[int] = mapped_column(Integer, default=1800)
    penal_mode: Mapped[str] = mapped_column(String(8), default="percent")
    penal_rate_bp: Mapped[int] = mapped_column(Integer, default=200)  # % a year on the overdue amount
    penal_fixed_paise: Mapped[int] = mapped_column(BigInteger, default=0)  # once per overdue instalment
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    security_type: Mapped[str] = mapped_column(String(10), default="none")
    max_ltv_bp: Mapped[int] = mapped_column(Integer, default=7500)
    share_link_bp: Mapped[int] = mapped_column(Integer, default=500)
    foreclosure_charge_bp: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # guarantor bands, sanction limits
    description: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rates: Mapped[list[LoanProductRate]] = relationship(
        back_populates="product", order_by="[LoanProductRate.effective_from.desc(), LoanProductRate.id.desc()]"
    )
    control_gl = relationship("GLAccount")

    def setting(self, name: str, default=None):
        return (self.settings or {}).get(name, default)

    @property
    def months_per_installment(self) -> int:
        return FREQUENCIES[self.frequency]

    def __repr__(self) -> str:
        return f"<LoanProduct {self.code}>"


class LoanProductRate(db.Model):
    """The product's standard rate from ``effective_from`` (a dated card; history kept)."""

    __tablename__ = "loan_product_rates"
    __table_args__ = (
        CheckConstraint("rate_bp >= 0", name="rate_non_negative"),
        Index("ix_loan_product_rates_product_from", "product_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"))
    effective_from: Mapped[date] = mapped_column(Date)
    rate_bp: Mapped[int] = mapped_column(Integer)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[LoanProduct] = relationship(back_populates="rates")


class Loan(db.Model):
    """One loan from application to closure; ``account`` exists from disbursement on."""

    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(_in("status", LOAN_STATUSES), name="status_valid"),
        CheckConstraint(_in("asset_class", ASSET_CLASSES), name="asset_class_valid"),
        CheckConstraint("principal_paise > 0 AND months > 0 AND rate_bp >= 0", name="terms_positive"),
        CheckConstraint("dpd >= 0", name="dpd_non_negative"),
        Index("ix_loans_status_class", "status", "asset_class"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_no: Mapped[str] = mapped_column(String(20), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), unique=True)
    si_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # EMI debit on the due date
    principal_paise: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)
    months: Mapped[int] = mapped_column(Integer)
    interest_type: Mapped[str] = mapped_column(String(10), default="reducing")
    frequency: Mapped[str] = mapped_column(String(12), default="monthly")
    purpose: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="applied")
    secured: Mapped[bool] = mapped_column(Boolean, default=False)
    emi_paise: Mapped[int | None] = mapped_column(BigInteger)
    processing_fee_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    applied_on: Mapped[date] = mapped_column(Date)
    sanctioned_on: Mapped[date | None] = mapped_column(Date)
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    asset_class: Mapped[str] = mapped_column(String(12), default="standard")
    npa_since: Mapped[date | None] = mapped_column(Date)
    loss_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    provision_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    schedule_version: Mapped[int] = mapped_column(Integer, default=0)
    eligibility: Mapped[list | None] = mapped_column(JSON)  # the checks as the appraiser saw them
    remarks: Mapped[str | None] = mapped_column(String(255))
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    appraised_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    sanctioned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    disbursed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member = relationship("Member")
    product: Mapped[LoanProduct] = relationship()
    account: Mapped[Account | None] = relationship(foreign_keys=[account_id])
    si_account: Mapped[Account | None] = relationship(foreign_keys=[si_account_id])
    guarantors: Mapped[list[LoanGuarantor]] = relationship(back_populates="loan", order_by="LoanGuarantor.id")
    collateral: Mapped[list[LoanCollateral]] = relationship(back_populates="loan", order_by="LoanCollateral.id")

    @property
    def rate(self) -> Decimal:
        return rate_of(self.rate_bp)  # type: ignore[return-value]

    @property
    def outstanding_paise(self) -> int:
        return self.account.balance_paise if self.account is not None else 0

    @property
    def asset_class_label(self) -> str:
        return ASSET_CLASS_LABELS[self.asset_class]

    @property
    def is_npa(self) -> bool:
        return self.asset_class in NPA_CLASSES

    def __repr__(self) -> str:
        return f"<Loan {self.loan_no} {self.status}>"


class LoanScheduleRow(db.Model):
    """One stored instalment of one schedule version, and what has been paid against it.

    ``interest_accrued_on`` / ``accrued_to`` record the month-end accrual of this
    instalment's unpaid interest (to income, or to interest suspense for an NPA).
    """

    __tablename__ = "loan_schedule_rows"
    __table_args__ = (
        UniqueConstraint("loan_id", "version", "installment", name="uq_loan_schedule_rows_loan_version_no"),
        CheckConstraint(_in("status", SCHEDULE_STATUSES), name="status_valid"),
        CheckConstraint("principal_paise >= 0 AND interest_paise >= 0", name="amounts_non_negative"),
        CheckConstraint("emi_paise = principal_paise + interest_paise", name="emi_sum"),
        CheckConstraint("closing_principal_paise = opening_principal_paise - principal_paise", name="closing_sum"),
        CheckConstraint(
            "principal_paid_paise >= 0 AND principal_paid_paise <= principal_paise", name="principal_paid_le_due"
        ),
        CheckConstraint(
            "interest_paid_paise >= 0 AND interest_paid_paise <= interest_paise", name="interest_paid_le_due"
        ),
        CheckConstraint("accrued_to IS NULL OR accrued_to IN ('income','suspense')", name="accrued_to_valid"),
        Index("ix_loan_schedule_rows_due", "due_date", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    installment: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    opening_principal_paise: Mapped[int] = mapped_column(BigInteger)
    principal_paise: Mapped[int] = mapped_column(BigInteger)
    interest_paise: Mapped[int] = mapped_column(BigInteger)
    emi_paise: Mapped[int] = mapped_column(BigInteger)
    closing_principal_paise: Mapped[int] = mapped_column(BigInteger)
    principal_paid_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(8), default="due")
    paid_on: Mapped[date | None] = mapped_column(Date)
    interest_accrued_on: Mapped[date | None] = mapped_column(Date)
    accrued_to: Mapped[str | None] = mapped_column(String(8))

    @property
    def paid_paise(self) -> int:
        return self.principal_paid_paise + self.interest_paid_paise

    @property
    def unpaid_paise(self) -> int:
        return self.emi_paise - self.paid_paise


class LoanEvent(db.Model):
    """A transition, prepayment, reschedule or repayment of a loan, with the remarks given."""

    __tablename__ = "loan_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    amount_paise: Mapped[int | None] = mapped_column(BigInteger)
    remarks: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict | None] = mapped_column(JSON)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    business_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("StaffUser")


class LoanGuarantor(db.Model):
    __tablename__ = "loan_guarantors"
    __table_args__ = (UniqueConstraint("loan_id", "member_id", name="uq_loan_guarantors_loan_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="guarantors")
    member = relationship("Member")


class LoanCollateral(db.Model):
    """Security for a loan: gold (weights in milligrams, purity in carats), a deposit lien, or details."""

    __tablename__ = "loan_collateral"
    __table_args__ = (
        CheckConstraint("kind IN ('gold','deposit','property','vehicle')", name="kind_valid"),
        CheckConstraint("net_weight_mg IS NULL OR net_weight_mg <= gross_weight_mg", name="net_le_gross"),
        CheckConstraint("lien_paise IS NULL OR lien_paise >= 0", name="lien_non_negative"),
        Index("ix_loan_collateral_deposit_active", "deposit_account_id", "lien_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(String(255))
    gross_weight_mg: Mapped[int | None] = mapped_column(Integer)
    net_weight_mg: Mapped[int | None] = mapped_column(Integer)
    purity_carat: Mapped[int | None] = mapped_column(Integer)
    rate_per_gram_paise: Mapped[int | None] = mapped_column(BigInteger)  # 22 carat rate used
    value_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    lien_paise: Mapped[int | None] = mapped_column(BigInteger)
    lien_active: Mapped[bool] = mapped_column(Boolean, default=False)
    ownership_declared: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    loan: Mapped[Loan] = relationship(back_populates="collateral")
    deposit_account: Mapped[Account | None] = relationship()


class LoanCharge(db.Model):
    """A penal charge accrued on a date (memorandum until paid; never capitalised, no charge on it)."""

    __tablename__ = "loan_charges"
    __table_args__ = (
        UniqueConstraint("loan_id", "charge_date", "kind", name="uq_loan_charges_loan_date_kind"),
        CheckConstraint("amount_paise > 0", name="amount_positive"),
        CheckConstraint("paid_paise >= 0 AND paid_paise <= amount_paise", name="paid_le_amount"),
        Index("ix_loan_charges_loan_open", "loan_id", "status"),
        Index("ix_loan_charges_date", "charge_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"))
    charge_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10), default="penal")
    base_paise: Mapped[int] = mapped_column(BigInteger)  # the overdue amount it was charged on
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    paid_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, paid


class LoanClassification(db.Model):
    """A change of a loan's asset class on a business date."""

    __tablename__ = "loan_classifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    on_date: Mapped[date] = mapped_column(Date)
    from_class: Mapped[str] = mapped_column(String(12))
    to_class: Mapped[str] = mapped_column(String(12))
    dpd: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldRate(db.Model):
    """The day's rate of 22 carat gold per gram (entered daily)."""

    __tablename__ = "gold_rates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rate_date: Mapped[date] = mapped_column(Date, unique=True)
    rate_22k_paise: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoanDocument(db.Model):
    """A document filed with a loan application (stored like KYC documents: private key, type sniffed)."""

    __tablename__ = "loan_documents"
    __table_args__ = (CheckConstraint(_in("doc_type", LOAN_DOC_TYPES), name="doc_type_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
