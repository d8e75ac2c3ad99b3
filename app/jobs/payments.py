"""Payment jobs (queue "default"): act on a webhook event, send a payout, reconcile."""

from __future__ import annotations

from app.jobs.context import job
from app.services import payments
from app.services.common import DomainError, uow
from app.services.payments import history


@job
def process_webhook(event_pk: int) -> str:
    """Do the work of a recorded Razorpay webhook event (credit, refund, payout settlement)."""
    try:
        return uow.run(lambda: payments.process(event_pk), label="payment webhook")
    except DomainError as exc:  # a rule refused the work: keep the event for staff, never lose it
        reason = exc.message
        uow.run(lambda: history.note("webhook.refused", detail={"event": event_pk, "reason": reason}, attention=True))
        return "refused"


@job
def send_payout(payout_pk: int) -> str:
    """Send a queued payout to the gateway (same idempotency key on every try)."""
    return uow.run(lambda: payments.send(history.lock_payout(payout_pk)).status, label="payout send")


@job
def reconcile() -> dict:
    """Settle stuck orders and payouts from the gateway's answer."""
    result = uow.run(payments.reconcile.run, label="payments reconciliation")
    return {
        "orders_checked": result.orders_checked,
        "orders_credited": result.orders_credited,
        "payouts_sent": result.payouts_sent,
        "payouts_settled": result.payouts_settled,
    }
