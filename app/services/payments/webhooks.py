"""Razorpay webhooks: verify, record once, then process in a job (DESIGN.md §9).

:func:`receive` runs in the request: it checks ``X-Razorpay-Signature`` (hex HMAC-SHA256 of
the raw body with ``RAZORPAY_WEBHOOK_SECRET``) and records the event under its
``X-Razorpay-Event-Id`` (UNIQUE): an event id seen before is answered 200 and changes
nothing. :func:`process` (the job) does the work: ``payment.captured`` / ``order.paid``
credit once, ``payment.failed`` marks failed (a later capture still credits),
``refund.processed`` reverses, ``payout.*`` settle a payout; an unknown order or payout is
recorded for staff.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import utcnow
from app.models.payments import Payment, PaymentEvent
from app.settings import setting

from ..common import ValidationError
from . import gateway, history, orders, payouts


class BadSignature(ValidationError):
    status = 400
    title = "Bad webhook signature"


def receive(raw: bytes, signature: str | None, event_id: str | None) -> tuple[PaymentEvent, bool]:
    """Verify and record an event; returns (the event row, whether it is new). Caller commits."""
    if not gateway.signature_ok(raw, signature, setting("RAZORPAY_WEBHOOK_SECRET")):
        raise BadSignature("The webhook signature does not match; nothing was changed.")
    try:
        payload = json.loads(raw)
        event = str(payload["event"])
    except (ValueError, KeyError, TypeError):
        raise ValidationError("The webhook body is not a Razorpay event.") from None
    key = (event_id or "").strip() or "body:" + hashlib.sha256(raw).hexdigest()[:40]
    seen = db.session.scalar(select(PaymentEvent).where(PaymentEvent.event_id == key))
    if seen is not None:
        return seen, False
    row = PaymentEvent(event_id=key[:64], kind=f"webhook.{event}"[:40], detail=payload, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.scalar(select(PaymentEvent).where(PaymentEvent.event_id == key)), False
    return row, True


def _entity(payload: dict, name: str) -> dict:
    return ((payload.get("payload") or {}).get(name) or {}).get("entity") or {}


def _unknown(row: PaymentEvent, what: str, ref: Any) -> str:
    history.note("webhook.unknown", detail={"event": row.id, "what": what, "ref": ref}, attention=True)
    return "unknown"


def process(event_pk: int) -> str:
    """Act on a recorded webhook event; returns what was done. Caller commits."""
    row = db.session.get(PaymentEvent, event_pk)
    payload = row.detail or {}
    event = payload.get("event", "")
    if event in ("payment.captured", "order.paid", "payment.failed"):
        pay = _entity(payload, "payment")
        order_id = pay.get("order_id") or _entity(payload, "order").get("id")
        payment = orders.by_order(order_id)
        if payment is None:
            return _unknown(row, "order", order_id)
        history.note(f"webhook.{event}", payment=payment, detail={"event": row.id, "gateway_payment_id": pay.get("id")})
        if event == "payment.failed":
            orders.mark_failed(payment, source="webhook", detail={"reason": pay.get("error_description")})
            return "failed"
        amount = pay.get("amount", _entity(payload, "order").get("amount_paid"))
        try:
            amount_paise = int(amount)
        except (TypeError, ValueError):
            amount_paise = -1
        done = orders.credit(
            payment,
            gateway_payment_id=pay.get("id"),
            amount_paise=amount_paise,
            currency=str(pay.get("currency", "")),
            source="webhook",
        )
        return done.status
    if event == "refund.processed":
        refund = _entity(payload, "refund")
        payment = db.session.scalar(select(Payment).where(Payment.gateway_payment_id == refund.get("payment_id")))
        if payment is None:
            return _unknown(row, "payment", refund.get("payment_id"))
        return orders.refund_processed(
            payment, amount_paise=int(refund.get("amount") or 0), refund_id=refund.get("id")
        ).status
    if event.startswith("payout."):
        entity = _entity(payload, "payout")
        payout = payouts.match(entity.get("id"), entity.get("reference_id"))
        if payout is None:
            return _unknown(row, "payout", entity.get("id") or entity.get("reference_id"))
        status = event.split(".", 1)[1]
        return payouts.settle(
            payout, status, utr=entity.get("utr"), gateway_payout_id=entity.get("id"), source="webhook"
        ).status
    history.note("webhook.ignored", detail={"event": row.id, "name": event})
    return "ignored"


def signed_event(event: str, payload: dict, *, event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A webhook body and headers signed with our secret, as Razorpay would send (sandbox page, tests)."""
    body = json.dumps({"entity": "event", "event": event, "payload": payload}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": gateway.sign(body, setting("RAZORPAY_WEBHOOK_SECRET")),
        "X-Razorpay-Event-Id": event_id or f"evt_{secrets.token_hex(8)}",
    }
    return body, headers
