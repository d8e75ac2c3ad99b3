"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.jobs.context import job
from app.models.base import utcnow
from app.services.access import tokens
from app.services.common import audit, idempotency, uow


@job
def seal_audit() -> int:
    """Seal every committed, unsealed audit row; returns how many."""
    total = 0
    while (n := audit.seal_pending(wait=True)) > 0:
        total += n
    return total


@job
def purge_api_records() -> dict[str, int]:
    """Delete stored idempotent responses past their retention and fully expired refresh tokens."""
    now = utcnow()
    hours = int(current_app.config["IDEMPOTENCY_RETENTION_HOURS"])
    counts = {
        "idempotency_records": idempotency.purge_before(now - timedelta(hours=hours)),
        "refresh_tokens": tokens.purge_expired_before(now),
    }
    audit.record("maintenance.purge", "api", None, after={**counts, "idempotency_retention_hours": hours})
    uow.commit()
    return counts
