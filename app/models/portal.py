"""Member portal: signed-in devices, the member's portal preferences and statement PDFs.

* ``MemberSession`` — one row per signed-in browser (device). The portal keeps only the
  session's random token in the signed cookie; the row holds its keyed hash, so "sign out
  the others" and a branch-side block take effect on the next request of every device.
* ``MemberPreference`` — the member's chosen language (the cookie remembers it before
  sign-in; after sign-in this row wins).
* ``StatementFile`` — a PDF statement made by a background job (statements over
  ``STATEMENT_INLINE_MAX_LINES`` lines); the page polls it until ``status`` is ``ready``.
  ``requested_by_member_id`` scopes the download to the member who asked (staff requests
  leave it empty and are read with ``accounts.view``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

STATEMENT_STATUSES = ("queued", "running", "ready", "failed")


class MemberSession(db.Model):
    __tablename__ = "member_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login_id: Mapped[int] = mapped_column(ForeignKey("member_logins.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    login = relationship("MemberLogin")

    @property
    def live(self) -> bool:
        return self.revoked_at is None


class MemberPreference(db.Model):
    __tablename__ = "member_preferences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementFile(db.Model):
    __tablename__ = "statement_files"
    __table_args__ = (CheckConstraint("status IN ('queued','running','ready','failed')", name="status_valid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)  # the public handle in URLs
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    requested_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    requested_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    lines: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("Account")
