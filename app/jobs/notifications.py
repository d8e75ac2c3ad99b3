"""Notification jobs (queue "notifications")."""

from __future__ import annotations

from app.jobs.context import job
from app.services.common import notifications


@job
def deliver_notifications() -> int:
    """Deliver every queued SMS / e-mail in the outbox; returns how many were sent."""
    total = 0
    while (n := notifications.send_queued()) > 0:
        total += n
    return total
