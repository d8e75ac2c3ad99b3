"""Housekeeping jobs."""

from __future__ import annotations

from app.jobs.context import job
from app.services import audit


@job
def seal_audit() -> int:
    """Seal every committed, unsealed audit row; returns how many."""
    total = 0
    while (n := audit.seal_pending(wait=True)) > 0:
        total += n
    return total
