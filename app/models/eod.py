"""Day-end runs: one row per run, one per (date, step), one per chunk of a chunked step; holidays.

A day-end for a business date runs the registered steps in order. ``EodStepRun`` is unique
per (date, step): a step that is ``done`` is never run again for that date. A chunked step
cuts its accounts into id ranges (``EodChunk``); a chunk is claimed, worked and marked done
in one transaction, so a worker killed mid-chunk leaves it ``pending`` and nothing posted,
and the next run picks it up. ``EodRun`` records each attempt (a resume is a new run).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

RUN_STATUSES = ("running", "done", "failed")
STEP_STATUSES = ("pending", "running", "done", "failed", "skipped")
CHUNK_STATUSES = ("pending", "done", "failed")


class EodRun(db.Model):
    __tablename__ = "eod_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running','done','failed')", name="status_valid"),
        Index("ix_eod_runs_date", "business_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="running")
    trigger: Mapped[str] = mapped_column(String(20), default="cli")  # screen, cli, schedule
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    current_step: Mapped[str | None] = mapped_column(String(60))
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def seconds(self) -> float | None:
        end = self.finished_at or utcnow()
        return (end - self.started_at).total_seconds() if self.started_at else None


class EodStepRun(db.Model):
    __tablename__ = "eod_step_runs"
    __table_args__ = (
        UniqueConstraint("business_date", "step", name="uq_eod_step_runs_date_step"),
        CheckConstraint("status IN ('pending','running','done','failed','skipped')", name="status_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("eod_runs.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()


class EodChunk(db.Model):
    __tablename__ = "eod_chunks"
    __table_args__ = (
        UniqueConstraint("step_run_id", "lo", name="uq_eod_chunks_step_lo"),
        CheckConstraint("status IN ('pending','done','failed')", name="status_valid"),
        CheckConstraint("lo <= hi", name="range_valid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_run_id: Mapped[int] = mapped_column(ForeignKey("eod_step_runs.id", ondelete="CASCADE"), index=True)
    lo: Mapped[int] = mapped_column(BigInteger)
    hi: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Holiday(db.Model):
    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holiday_date: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
