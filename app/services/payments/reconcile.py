"""Reconciliation: settle orders stuck in ``created`` and payouts stuck in ``processing`` from the gateway.

:func:`run` (the job and the staff screen's button) asks the gateway about each order created
more than ``PAYMENT_STUCK_MINUTES`` ago that is still ``created`` (a captured payment credits
once, exactly as the webhook would), sends payouts still ``queued`` (same idempotency key) and
fetches payouts ``processing`` past the same age. :func:`daily` lists the day's gateway
collections and payouts against the clearing accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import JournalEntry
from app.models.payments import Payment, PaymentEvent, Payout
from app.settings import setting

from .. import ledger
from ..common import ValidationError
from ..ledger import coa
from . import gateway, history, orders, payouts


@dataclass
class Result:
    orders_checked: int = 0
    orders_credited: int = 0
    payouts_sent: int = 0
    payouts_settled: int = 0
    errors: list[str] = field(default_factory=list)


def run(now: datetime | None = None) -> Result:
    """One reconciliation pass; caller commits."""
    now = now or utcnow()
    cutoff = now - timedelta(minutes=int(setting("PAYMENT_STUCK_MINUTES")))
    gw = gateway.current()
    out = Result()
    stuck = db.session.scalars(select(Payment).where(Payment.status == "created", Payment.created_at < cutoff))
    for payment in list(stuck):
        out.orders_checked += 1
        try:
            captured = [p for p in gw.order_payments(payment.gateway_order_id) if p.get("status") == "captured"]
        except (gateway.GatewayUnavailable, gateway.GatewayRefused) as exc:
            out.errors.append(f"{payment.payment_id}: {exc.message}")
            continue
        if captured:
            pay = captured[0]
            done = orders.credit(
                payment,
                gateway_payment_id=pay.get("id"),
                amount_paise=int(pay.get("amount", -1)),
                currency=str(pay.get("currency", "")),
                source="reconcile",
            )
            out.orders_credited += done.status == "paid"
        else:
            history.note("reconcile.checked", payment=payment, detail={"captured": 0})
    for payout in list(db.session.scalars(select(Payout).where(Payout.status == "queued"))):
        if payouts.send(payout).status != "queued":
            out.payouts_sent += 1
    late = db.session.scalars(select(Payout).where(Payout.status == "processing", Payout.updated_at < cutoff))
    for payout in list(late):
        try:
            answer = gw.fetch_payout(payout.gateway_payout_id)
        except (gateway.GatewayUnavailable, gateway.GatewayRefused) as exc:
            out.errors.append(f"{payout.payout_id}: {exc.message}")
            continue
        done = payouts.settle(
            payout,
            answer.get("status", ""),
            utr=answer.get("utr"),
            gateway_payout_id=answer.get("id"),
            source="reconcile",
        )
        out.payouts_settled += done.status != "processing"
    return out


@dataclass(frozen=True)
class Daily:
    on: date
    collected_paise: int
    refunded_paise: int
    paid_out_paise: int
    clearing_paise: int
    in_transit_paise: int
    open_payouts_paise: int
    differences: list[str]


def daily(on: date) -> Daily:
    """The day's gateway figures, and the clearing and in-transit GL balances now against the open items."""
    start = datetime(on.year, on.month, on.day, tzinfo=UTC)
    end = start + timedelta(days=1)

    def total(model, *conds):
        return int(db.session.scalar(select(func.coalesce(func.sum(model.amount_paise), 0)).where(*conds)) or 0)

    collected = total(
        Payment, Payment.status.in_(("paid", "refunded")), Payment.updated_at >= start, Payment.updated_at < end
    )
    refunded = total(Payment, Payment.status == "refunded", Payment.updated_at >= start, Payment.updated_at < end)
    paid_out = total(Payout, Payout.status == "processed", Payout.updated_at >= start, Payout.updated_at < end)
    all_credited = total(Payment, Payment.status == "paid") - settled_paise()
    open_payouts = total(Payout, Payout.status.in_(("queued", "processing")), Payout.entry_id.is_not(None))
    clearing_paise = ledger.gl_balance(coa.RAZORPAY_CLEARING)
    transit_paise = ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT)
    diffs = []
    if clearing_paise != all_credited:
        diffs.append(
            f"Razorpay clearing {clearing_paise} paise vs credited payments not yet settled to the bank {all_credited} paise"
        )
    if transit_paise != open_payouts:
        diffs.append(f"Payouts in transit {transit_paise} paise vs open payouts {open_payouts} paise")
    return Daily(on, collected, refunded, paid_out, clearing_paise, transit_paise, open_payouts, diffs)


def settle_to_bank(settlement_id: str, *, gross_paise: int, fee_paise: int, gst_paise: int) -> int:
    """A Razorpay settlement paid to the society's bank: Dr bank (net), Dr gateway fees, Dr GST input / Cr clearing.

    Once per ``settlement_id`` (the ledger idempotency key); returns the journal entry id. Caller commits.
    """
    net = gross_paise - fee_paise - gst_paise
    if gross_paise <= 0 or fee_paise < 0 or gst_paise < 0 or net <= 0:
        raise ValidationError("A settlement needs a gross amount above its fees and GST.", field="gross")
    lines = [ledger.Line.dr(coa.BANK_CURRENT, net, f"Razorpay settlement {settlement_id}")]
    if fee_paise:
        lines.append(ledger.Line.dr(coa.EXP_GATEWAY_FEES, fee_paise, "Gateway fee"))
    if gst_paise:
        lines.append(ledger.Line.dr(coa.GST_INPUT, gst_paise, "GST on gateway fee"))
    lines.append(ledger.Line.cr(coa.RAZORPAY_CLEARING, gross_paise, settlement_id))
    key = f"settlement:{settlement_id}"
    already = db.session.scalar(select(JournalEntry.id).where(JournalEntry.idempotency_key == key))
    entry = ledger.post(
        lines,
        kind="payment",
        narration=f"Razorpay settlement {settlement_id}",
        idempotency_key=key,
        reference=settlement_id,
        options=ledger.PostOptions(channel="gateway"),
    )
    if already is None:
        history.note(
            "settlement",
            detail={
                "settlement_id": settlement_id,
                "gross_paise": gross_paise,
                "fee_paise": fee_paise,
                "gst_paise": gst_paise,
                "entry": entry.number,
            },
        )
    return entry.id


def settled_paise() -> int:
    rows = db.session.scalars(select(PaymentEvent.detail).where(PaymentEvent.kind == "settlement"))
    return sum(int((d or {}).get("gross_paise", 0)) for d in rows)
