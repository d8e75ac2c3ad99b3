"""Housekeeping of the API tables: old idempotent responses and fully expired refresh tokens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs.maintenance import purge_api_records
from app.models.api import IdempotencyRecord, RefreshToken
from app.models.audit import AuditLog
from app.models.base import utcnow
from app.services.access import staff_auth, tokens
from app.services.common import idempotency, uow


def _record(key: str, age_hours: int) -> None:
    row = idempotency.claim("staff:1", key, "f" * 64, method="POST", path="/api/v1/x")
    idempotency.complete(row, 201, {"ok": True})
    row.created_at = utcnow() - timedelta(hours=age_hours)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_purge_keeps_recent_responses_and_live_token_families(app, runner):
    app.config["IDEMPOTENCY_RETENTION_HOURS"] = 48
    user = staff_auth.create_user(username="kiran", password="Correct-Horse-9", role="cashier")
    _record("old", 49)
    _record("recent", 47)
    subject = tokens.staff_subject(user)
    tokens.issue_pair(subject)  # a family whose only token has expired
    live = tokens.issue_pair(subject)  # a family rotated once: the parent expired, the child lives
    uow.commit()
    rotated = tokens.refresh(live.refresh_token)
    uow.commit()
    stale_row, parent, child = db.session.scalars(select(RefreshToken).order_by(RefreshToken.id)).all()
    assert stale_row.family_id != parent.family_id == child.family_id and child.parent_id == parent.id
    stale_row.expires_at = utcnow() - timedelta(days=1)
    parent.expires_at = utcnow() - timedelta(days=1)
    uow.commit()

    counts = purge_api_records()
    assert counts == {"idempotency_records": 1, "refresh_tokens": 1}
    assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["recent"]
    assert {r.id for r in db.session.scalars(select(RefreshToken))} == {parent.id, child.id}
    # The surviving family still rotates.
    assert tokens.refresh(rotated.refresh_token).refresh_token
    uow.commit()
    logged = db.session.scalar(select(AuditLog).where(AuditLog.action == "maintenance.purge"))
    assert logged.after["idempotency_records"] == 1 and logged.after["refresh_tokens"] == 1
    # Nothing left to purge: the command says so.
    result = runner.invoke(args=["purge-api-records"])
    assert result.exit_code == 0, result.output
    assert "0 idempotency records deleted, 0 refresh tokens deleted" in result.output
    assert _count(IdempotencyRecord) == 1
