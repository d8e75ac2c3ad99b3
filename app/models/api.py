"""JSON API state: rotating refresh tokens and stored responses of idempotent requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class RefreshToken(db.Model):
    """One opaque refresh token, stored only as its SHA-256.

    Tokens issued by one sign-in form a family: each refresh marks the presented token used and
    issues its successor (``parent_id``) in the same family. Presenting a used or revoked token
    again is treated as theft and revokes the whole family.
    """

    __tablename__ = "api_refresh_tokens"
    __table_args__ = (Index("ix_api_refresh_tokens_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # staff, member
    subject_id: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("api_refresh_tokens.id")
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))

    def __repr__(self) -> str:
        return f"<RefreshToken {self.id} {self.subject_kind}:{self.subject_id} family={self.family_id[:8]}>"


class IdempotencyRecord(db.Model):
    """The stored response of a request made with an ``Idempotency-Key``.

    ``scope`` is the principal ("staff:3", "member:12"), so two callers never share keys.
    The record is written in the same transaction as the work it describes; a retry with the
    same key and the same request (``request_hash``) gets the stored response back.
    """

    __tablename__ = "api_idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    # NULL only inside the transaction that claimed the key; committed rows always carry it.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict | list | None] = mapped_column(JSON)
    response_headers: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<IdempotencyRecord {self.scope} {self.key!r} -> {self.response_status}>"
