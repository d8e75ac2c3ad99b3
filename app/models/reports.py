"""The year-end: one run per financial year, and the dividend register it produces.

A ``YearEndRun`` is prepared (figures computed and proposed), submitted to a checker,
and closed when approved: its three journal entries (income and expenses closed to the
appropriation account, the appropriation to reserves and dividend payable, the dividend
credited to members' SB) are recorded on it. ``fy`` is unique among runs that are not
rejected, so a year is closed at most once. One ``DividendLine`` per member holding paid-up
shares in the year: the share-months held, the dividend, and where it went.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
YEAR_END_STATUSES = ("pending", "closed", "rejected")
DIVIDEND_STATUSES = ("credited", "payable", "paid")


class YearEndRun(db.Model):
    __tablename__ = "year_end_runs"
    __table_args__ = (
        CheckConstraint("status IN ('pending','closed','rejected')", name="status_valid"),
        CheckConstraint("dividend_rate_bp >= 0", name="rate_non_negative"),
        Index(
            "uq_year_end_runs_fy_closed",
            "fy",
            unique=True,
            postgresql_where=text("status = 'closed'"),
            sqlite_where=text("status = 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fy: Mapped[str] = mapped_column(String(7), index=True)  # 2025-26
    year_start: Mapped[date] = mapped_column(Date)
    year_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    net_profit_paise: Mapped[int] = mapped_column(BigInteger)
    dividend_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # 1500 = 15%
    dividend_total_paise: Mapped[int] = mapped_column(BigInteger, default=0)
    appropriation: Mapped[dict] = mapped_column(JSON)  # {"3200": paise, "3301": paise, "dividend": paise, ...}
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    closing_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    appropriation_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    dividend_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dividends: Mapped[list[DividendLine]] = relationship(back_populates="run", order_by="DividendLine.id")


class DividendLine(db.Model):
    __tablename__ = "dividend_lines"
    __table_args__ = (
        CheckConstraint("status IN ('credited','payable','paid')", name="status_valid"),
        CheckConstraint("dividend_paise >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("year_end_runs.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    share_paise_months: Mapped[int] = mapped_column(BigInteger)  # Σ face value × whole months held
    paid_up_paise: Mapped[int] = mapped_column(BigInteger)  # at the year end
    dividend_paise: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="payable")
    credit_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    run: Mapped[YearEndRun] = relationship(back_populates="dividends")
