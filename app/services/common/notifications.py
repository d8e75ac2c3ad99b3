"""The notification outbox: SMS and e-mail messages are queued as rows, then delivered by a job.

``queue`` adds a row to the caller's unit of work (so a message exists only if the work
that caused it commits). After committing, the caller calls ``dispatch`` which enqueues the
delivery job on the ``notifications`` queue (or runs it inline without Redis). No SMS or
mail gateway is wired in yet: delivery (``deliver``) writes the message to the log and the
row is marked sent.

Secrets inside a message (one-time codes) are wrapped with ``secret()``: the recipient gets
the text as is, but once the message is sent the stored body keeps only a placeholder, so
the outbox never holds a live code after delivery.
"""

from __future__ import annotations

import logging
import re

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.members import Notification

from .validators import mask_mobile

log = logging.getLogger(__name__)
CHANNELS = ("sms", "email")
SECRET_OPEN, SECRET_CLOSE = "\u27e6", "\u27e7"  # ⟦ and ⟧: never typed in a message
_SECRET = re.compile(f"{SECRET_OPEN}([^{SECRET_CLOSE}]*){SECRET_CLOSE}")
REDACTED = "[code removed]"


def secret(value: str) -> str:
    """Mark a secret (a one-time code) in a message body: delivered, but removed from the stored copy once sent."""
    return f"{SECRET_OPEN}{value}{SECRET_CLOSE}"


def delivered_text(body: str) -> str:
    """The text the recipient gets (secret markers removed, secrets kept)."""
    return _SECRET.sub(lambda m: m.group(1), body)


def redacted(body: str) -> str:
    """The text kept in the outbox after sending (secrets replaced by a placeholder)."""
    return _SECRET.sub(REDACTED, body)


def queue(channel: str, recipient: str, template: str, body: str, *, member_id: int | None = None) -> Notification:
    """Queue one message in the outbox (the caller commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    row = Notification(
        channel=channel,
        recipient=recipient,
        template=template,
        body=body,
        member_id=member_id,
        status="queued",
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    log.info("notification %s queued: %s to %s", row.id, template, _masked(channel, recipient))
    return row


def sms(mobile: str, template: str, body: str, *, member_id: int | None = None) -> Notification:
    """Queue an SMS."""
    return queue("sms", mobile, template, body, member_id=member_id)


def dispatch() -> None:
    """Enqueue delivery of queued messages (call after the commit that queued them)."""
    from app.jobs import enqueue
    from app.jobs.notifications import deliver_notifications

    enqueue(deliver_notifications, queue="notifications")


def deliver(row: Notification, text: str) -> None:
    """Hand one message to the gateway. None is wired in yet: the message goes to the log."""
    shown = "(body withheld)" if current_app.config.get("ENV_NAME") == "production" else text
    log.info("notification %s sent by %s to %s: %s", row.id, row.channel, _masked(row.channel, row.recipient), shown)


def send_queued(limit: int = 500) -> int:
    """Deliver queued messages, mark them sent and drop their secrets, commit; returns how many."""
    rows = db.session.scalars(
        select(Notification).where(Notification.status == "queued").order_by(Notification.id).limit(limit)
    ).all()
    for row in rows:
        deliver(row, delivered_text(row.body))
        row.body = redacted(row.body)
        row.status = "sent"
        row.sent_at = utcnow()
    db.session.commit()
    return len(rows)


def _masked(channel: str, recipient: str) -> str:
    if channel == "sms":
        return mask_mobile(recipient)
    name, _, domain = recipient.partition("@")
    return f"{name[:2]}***@{domain}"
