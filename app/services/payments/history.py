"""Status moves and the append-only history of payments and payouts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.clock import ist
from app.extensions import db
from app.models.base import utcnow
from app.models.payments import PAYMENT_MOVES, PAYOUT_MOVES, Payment, PaymentEvent, Payout

from ..common import Conflict, NotFound, ValidationError, audit, numbering


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


RESOLUTION_MAX = 255


def attention_events(payment: Payment | None = None) -> list[PaymentEvent]:
    """Unresolved events for staff: mismatches and unknown orders/payouts (of one payment if given)."""
    stmt = select(PaymentEvent).where(PaymentEvent.needs_attention.is_(True), PaymentEvent.resolved_at.is_(None))
    if payment is not None:
        stmt = stmt.where(PaymentEvent.payment_id == payment.id)
    return list(db.session.scalars(stmt.order_by(PaymentEvent.id.desc())))


def resolved_events(limit: int = 20) -> list[PaymentEvent]:
    """The events staff resolved most recently, newest first (who, when, the remark)."""
    return list(
        db.session.scalars(
            select(PaymentEvent)
            .where(PaymentEvent.needs_attention.is_(True), PaymentEvent.resolved_at.is_not(None))
            .order_by(PaymentEvent.resolved_at.desc(), PaymentEvent.id.desc())
            .limit(limit)
        )
    )


def get_event(event_pk: int) -> PaymentEvent:
    row = db.session.get(PaymentEvent, event_pk)
    if row is None:
        raise NotFound("No such event.")
    return row


def clean_remark(remark: Any) -> str:
    text = " ".join(str(remark or "").split())
    if not text:
        raise ValidationError("Say how it was resolved.", field="remark")
    if len(text) > RESOLUTION_MAX:
        raise ValidationError(f"Keep the remark to {RESOLUTION_MAX} characters (it has {len(text)}).", field="remark")
    return text


def resolve_event(event_pk: int, *, by: Any, remark: str) -> PaymentEvent:
    """Staff record how a mismatch or unknown event was settled; it leaves the to-resolve list. Caller commits.

    The event row gets ``resolved_at``/``resolved_by``/``resolution`` once (a second resolve is a
    Conflict), a ``staff.resolved`` history row is appended and the change is audited.
    """
    text = clean_remark(remark)
    row = db.session.scalar(
        select(PaymentEvent)
        .where(PaymentEvent.id == event_pk)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or not row.needs_attention:
        raise NotFound("No such event to resolve.")
    if row.resolved_at is not None:
        who = row.resolved_by.username if row.resolved_by is not None else "someone"
        raise Conflict(f"Already resolved by {who} on {ist(row.resolved_at)}.")
    row.resolved_at = utcnow()
    row.resolved_by_id = by.id
    row.resolution = text
    payment = db.session.get(Payment, row.payment_id) if row.payment_id else None
    payout = db.session.get(Payout, row.payout_id) if row.payout_id else None
    note(
        "staff.resolved",
        payment=payment,
        payout=payout,
        detail={"event": row.id, "what": row.kind, "remark": text, "by": by.username},
    )
    audit.record(
        "payment_event.resolve",
        "payment_event",
        row.id,
        before={"resolved": False},
        after={
            "resolved": True,
            "kind": row.kind,
            "payment": payment.payment_id if payment is not None else None,
            "payout": payout.payout_id if payout is not None else None,
            "remark": text,
        },
    )
    return row
