"""Housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from app.jobs.context import job
from app.models.base import utcnow
from app.services.access import tokens
from app.services.common import audit, idempotency, uow
from app.settings import setting


@job
def seal_audit() -> int:
    """Seal every committed, unsealed audit row and anchor the chain's tail; returns how many were sealed.

    Run it every minute or so (cron / the RQ schedule): it chains what a killed process left
    unsealed and writes a checkpoint that a crash or a storage outage left unwritten.
    """
    total = 0
    while (n := audit.seal_pending(wait=True)) > 0:
        total += n
    audit.anchor_tail()
    return total


@job
def purge_api_records() -> dict[str, int]:
    """Delete stored idempotent responses past their retention and fully expired refresh tokens."""
    now = utcnow()
    hours = setting("IDEMPOTENCY_RETENTION_HOURS")
    counts = {
        "idempotency_records": idempotency.purge_before(now - timedelta(hours=hours)),
        "refresh_tokens": tokens.purge_expired_before(now),
    }
    audit.record("maintenance.purge", "api", None, after={**counts, "idempotency_retention_hours": hours})
    uow.commit()
    return counts
