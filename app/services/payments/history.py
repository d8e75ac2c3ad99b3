"""Status moves and the append-only history of payments and payouts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.payments import PAYMENT_MOVES, PAYOUT_MOVES, Payment, PaymentEvent, Payout

from ..common import NotFound, ValidationError, audit, numbering


def new_payment_id() -> str:
    return f"PAY{numbering.next_value('payment'):09d}"


def new_payout_id() -> str:
    return f"PO{numbering.next_value('payout'):09d}"


def note(  # noqa: PLR0913
    kind: str,
    *,
    payment: Payment | None = None,
    payout: Payout | None = None,
    detail: dict | None = None,
    status_from: str | None = None,
    status_to: str | None = None,
    attention: bool = False,
    event_id: str | None = None,
) -> PaymentEvent:
    row = PaymentEvent(
        payment_id=payment.id if payment is not None else None,
        payout_id=payout.id if payout is not None else None,
        kind=kind,
        detail=detail,
        status_from=status_from,
        status_to=status_to,
        needs_attention=attention,
        event_id=event_id,
        created_at=utcnow(),
    )
    db.session.add(row)
    return row


def move(obj: Payment | Payout, status: str, kind: str, detail: dict | None = None, *, attention: bool = False) -> bool:
    """Move ``obj`` forward to ``status`` (False, nothing changed, when that is not a forward move)."""
    moves = PAYMENT_MOVES if isinstance(obj, Payment) else PAYOUT_MOVES
    if status not in moves.get(obj.status, set()):
        return False
    before = obj.status
    obj.status = status
    obj.updated_at = utcnow()
    is_payment = isinstance(obj, Payment)
    note(
        kind,
        payment=obj if is_payment else None,
        payout=None if is_payment else obj,
        detail=detail,
        status_from=before,
        status_to=status,
        attention=attention,
    )
    number = obj.payment_id if is_payment else obj.payout_id
    audit.record(
        f"{'payment' if is_payment else 'payout'}.{status}",
        "payment" if is_payment else "payout",
        number,
        before={"status": before},
        after={"status": status, **(detail or {})},
    )
    return True


def lock_payment(payment_pk: int) -> Payment:
    """The payment row under a row lock (PostgreSQL ``FOR UPDATE``), fresh from the database."""
    return db.session.scalar(
        select(Payment).where(Payment.id == payment_pk).with_for_update().execution_options(populate_existing=True)
    )


def lock_payout(payout_pk: int) -> Payout:
    return db.session.scalar(
        select(Payout).where(Payout.id == payout_pk).with_for_update().execution_options(populate_existing=True)
    )


def attention_events() -> list[PaymentEvent]:
    """Unresolved events for staff: mismatches and unknown orders/payouts."""
    return list(
        db.session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.needs_attention.is_(True), PaymentEvent.resolved_at.is_(None))
            .order_by(PaymentEvent.id.desc())
        )
    )


def get_event(event_pk: int) -> PaymentEvent:
    row = db.session.get(PaymentEvent, event_pk)
    if row is None:
        raise NotFound("No such event.")
    return row


def resolve_event(event_pk: int, *, by: Any, remark: str) -> PaymentEvent:
    row = db.session.get(PaymentEvent, event_pk)
    if row is None or not row.needs_attention:
        raise NotFound("No such event to resolve.")
    if not (remark or "").strip():
        raise ValidationError("Say how it was resolved.", field="remark")
    if row.resolved_at is None:
        row.resolved_at = utcnow()
        row.resolved_by_id = by.id
        note(
            "staff.resolved",
            payment=db.session.get(Payment, row.payment_id) if row.payment_id else None,
            detail={"event": row.id, "remark": remark.strip()},
        )
        audit.record("payment_event.resolve", "payment_event", row.id, after={"remark": remark.strip()})
    return row
