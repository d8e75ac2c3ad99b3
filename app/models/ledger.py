"""The general ledger: GL accounts, member sub-ledger accounts, journal entries and lines.

Journal rows are written only by ``app.services.ledger.post`` and never updated or
deleted (PostgreSQL triggers enforce it); corrections are reversal entries.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
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

GL_TYPES = ("asset", "liability", "equity", "income", "expense")
NORMAL_SIDE = {"asset": "debit", "expense": "debit", "liability": "credit", "equity": "credit", "income": "credit"}
ACCOUNT_STATUSES = ("active", "dormant", "frozen", "closed")

BigId = BigInteger().with_variant(Integer, "sqlite")


class GLAccount(db.Model):
    __tablename__ = "gl_accounts"
    __table_args__ = (
        CheckConstraint("type IN ('asset','liability','equity','income','expense')", name="type_valid"),
        CheckConstraint("normal_side IN ('debit','credit')", name="side_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(10))
    normal_side: Mapped[str] = mapped_column(String(6))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("gl_accounts.id"))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)  # a heading: no postings
    is_control: Mapped[bool] = mapped_column(Boolean, default=False)  # has a member sub-ledger
    is_cash: Mapped[bool] = mapped_column(Boolean, default=False)  # counts in the day book's cash
    allow_manual: Mapped[bool] = mapped_column(Boolean, default=True)  # usable in manual vouchers
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[GLAccount | None] = relationship(remote_side="GLAccount.id")

    @property
    def sign(self) -> int:
        """+1 when debits increase the natural balance, -1 when credits do."""
        return 1 if self.normal_side == "debit" else -1

    def __repr__(self) -> str:
        return f"<GL {self.code} {self.name}>"


class Account(db.Model):
    """A member-facing sub-ledger account (savings, FD, RD, share, loan ...).

    ``balance_paise`` is a cache on the control account's normal side (credits increase a
    deposit, debits increase a loan), changed only by the posting service under a row lock.
    Product-specific details live in tables that point here (deposits, loans, shares).
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("status IN ('active','dormant','frozen','closed')", name="status_valid"),
        CheckConstraint(
            "balance_paise >= min_balance_paise OR status = 'closed' OR enforce_limit = false", name="within_limit"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_no: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)  # savings, fd, rd, share, loan, ...
    title: Mapped[str] = mapped_column(String(160))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    control_gl_id: Mapped[int] = mapped_column(ForeignKey("gl_accounts.id"), index=True)
    balance_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    min_balance_paise: Mapped[int] = mapped_column(BigInteger, default=0)  # negative = overdraft limit
    enforce_limit: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    status_reason: Mapped[str | None] = mapped_column(String(255))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    control_gl: Mapped[GLAccount] = relationship()

    def __repr__(self) -> str:
        return f"<Account {self.account_no} {self.kind} {self.balance_paise}>"


class JournalEntry(db.Model):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    value_date: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    narration: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(10), default="branch")  # branch, api, portal, system
    reference: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), unique=True)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"))
    total_paise: Mapped[int] = mapped_column(BigInteger)  # sum of debits (= sum of credits)

    lines: Mapped[list[JournalLine]] = relationship(back_populates="entry", order_by="JournalLine.id")
    reverses: Mapped[JournalEntry | None] = relationship(remote_side="JournalEntry.id", foreign_keys=[reverses_id])
    posted_by = relationship("StaffUser", foreign_keys=[posted_by_id])
    approved_by = relationship("StaffUser", foreign_keys=[approved_by_id])

    @property
    def number(self) -> str:
        """The human entry number (the id, zero-padded)."""
        return f"JE{self.id:08d}"


class JournalLine(db.Model):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit_paise >= 0 AND credit_paise >= 0", name="non_negative"),
        CheckConstraint(
            "(debit_paise > 0 AND credit_paise = 0) OR (credit_paise > 0 AND debit_paise = 0)", name="one_side"
        ),
        Index("ix_journal_lines_gl_date", "gl_account_id", "business_date"),
        Index("ix_journal_lines_account_date", "account_id", "business_date"),
        # A day's lines (day book, lines after a snapshot) without touching the table (migration 0011).
        Index(
            "ix_journal_lines_date_gl",
            "business_date",
            "gl_account_id",
            postgresql_include=["debit_paise", "credit_paise", "entry_id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    gl_account_id: Mapped[int] = mapped_column(ForeignKey("gl_accounts.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    business_date: Mapped[date] = mapped_column(Date)  # copied from the entry for fast per-account reads
    debit_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    narration: Mapped[str | None] = mapped_column(String(255))

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    gl_account: Mapped[GLAccount] = relationship()
    account: Mapped[Account | None] = relationship()


class GLDailyBalance(db.Model):
    """Closing balance snapshot per GL account per business date (written by the day-end)."""

    __tablename__ = "gl_daily_balances"
    __table_args__ = (UniqueConstraint("gl_account_id", "business_date", name="gl_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gl_account_id: Mapped[int] = mapped_column(ForeignKey("gl_accounts.id"))
    business_date: Mapped[date] = mapped_column(Date, index=True)
    debit_total_paise: Mapped[int] = mapped_column(BigInteger)  # cumulative debits to end of day
    credit_total_paise: Mapped[int] = mapped_column(BigInteger)
