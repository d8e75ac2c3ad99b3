"""Maker-checker requests: a pending action another user must approve."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class ApprovalRequest(db.Model):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(
        String(10), default="pending", index=True
    )  # pending, approved, rejected, cancelled
    summary: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict] = mapped_column(JSON)
    entity_type: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    amount_paise: Mapped[int | None] = mapped_column(db.BigInteger)
    maker_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id")
    )  # None: asked by a member (payload names them)
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)

    maker = relationship("StaffUser", foreign_keys=[maker_id])
    checker = relationship("StaffUser", foreign_keys=[checker_id])
