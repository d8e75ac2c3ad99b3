"""Reconciliation: settle orders stuck in ``created`` and payouts stuck in ``processing`` from the gateway.

:func:`run` (the job and the staff screen's button) asks the gateway about each order created
more than ``PAYMENT_STUCK_MINUTES`` ago that is still ``created`` (a captured payment credits
once, exactly as the webhook would), sends payouts still ``queued`` (same idempotency key) and
fetches payouts ``processing`` past the same age, and posts the move out of transit of any
processed payout still missing it (once per payout: decision 0050). :func:`daily` lists the Indian day's gateway
collections and payouts against the clearing accounts, each difference with its likely cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, literal, select

from app.clock import ist_day_bounds
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import JournalEntry
from app.models.payments import Payment, PaymentEvent, Payout
from app.money import format_inr
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
    for payout in unposted_processed():
        payouts.paid_out(payout)  # processed before decision 0050, or its move out of transit was lost
        out.payouts_settled += 1
    return out


def unposted_processed() -> list[Payout]:
    """Processed payouts (debited) whose money has not been moved out of transit."""
    key = literal(payouts.PAID_KEY_PREFIX) + Payout.payout_id
    posted = select(JournalEntry.id).where(JournalEntry.idempotency_key == key).exists()
    stmt = select(Payout).where(Payout.status == "processed", Payout.entry_id.is_not(None), ~posted)
    return list(db.session.scalars(stmt.order_by(Payout.id)))


@dataclass(frozen=True)
class Difference:
    """One GL balance that does not agree with the payments behind it, and why it may not."""

    title: str
    gl_paise: int  # the balance in the books
    expected_paise: int  # what the payments and payouts say it should be
    explanation: str

    @property
    def amount_paise(self) -> int:
        return self.gl_paise - self.expected_paise

    @property
    def text(self) -> str:
        return f"{self.title}: GL {format_inr(self.gl_paise)} vs {format_inr(self.expected_paise)} expected — {self.explanation}"


@dataclass(frozen=True)
class Daily:
    on: date  # the Indian calendar day (00:00–24:00 IST)
    collected_paise: int
    refunded_paise: int
    paid_out_paise: int
    clearing_paise: int
    in_transit_paise: int
    open_payouts_paise: int
    differences: list[Difference]
    start: datetime | None = None  # the day's bounds in UTC
    end: datetime | None = None
    awaiting_settlement_paise: int = 0  # credited payments not yet settled to the bank
    processed_in_transit_paise: int = 0  # processed payouts whose move out of transit is not posted yet
    razorpayx_paise: int = 0  # the RazorpayX balance GL now (funded by voucher, drawn by processed payouts)
    to_resolve: int = 0  # mismatches and unknown events staff have not resolved


def _moved_paise(model, column, status: str, start: datetime, end: datetime) -> int:
    """The amounts of the payments (or payouts) that moved to ``status`` within ``[start, end)``."""
    moved = (
        select(column)
        .where(PaymentEvent.status_to == status, PaymentEvent.created_at >= start, PaymentEvent.created_at < end)
        .distinct()
    )
    return _sum(model, model.id.in_(moved))


def _sum(model, *conds) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(model.amount_paise), 0)).where(*conds)) or 0)


def daily(on: date) -> Daily:
    """The Indian day's gateway figures, and the clearing and in-transit GL balances now against the open items.

    ``on`` is a calendar day in India: a payment credited at 23:45 IST counts on that day, not
    the next (UTC bounds from :func:`app.clock.ist_day_bounds`). A payment counts as collected on
    the day it moved to ``paid``, refunded on the day it moved to ``refunded``, a payout as paid
    out on the day the gateway said ``processed`` (the append-only history's status moves).
    """
    start, end = ist_day_bounds(on)
    collected = _moved_paise(Payment, PaymentEvent.payment_id, "paid", start, end)
    refunded = _moved_paise(Payment, PaymentEvent.payment_id, "refunded", start, end)
    paid_out = _moved_paise(Payout, PaymentEvent.payout_id, "processed", start, end)
    awaiting = _sum(Payment, Payment.status == "paid") - settled_paise()
    open_payouts = _sum(Payout, Payout.status.in_(("queued", "processing")), Payout.entry_id.is_not(None))
    processed = sum(p.amount_paise for p in unposted_processed())
    clearing = ledger.gl_balance(coa.RAZORPAY_CLEARING)
    transit = ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT)
    diffs = []
    if clearing != awaiting:
        diffs.append(_clearing_difference(clearing, awaiting))
    if transit != open_payouts:
        diffs.append(_transit_difference(transit, open_payouts, processed))
    return Daily(
        on, collected, refunded, paid_out, clearing, transit, open_payouts, diffs,
        start=start, end=end, awaiting_settlement_paise=awaiting, processed_in_transit_paise=processed,
        to_resolve=len(history.attention_events()), razorpayx_paise=ledger.gl_balance(coa.RAZORPAYX_BALANCE),
    )  # fmt: skip


def _clearing_difference(gl: int, expected: int) -> Difference:
    gap = format_inr(abs(gl - expected))
    if gl > expected:
        why = (
            f"the clearing GL holds {gap} more than the credited payments Razorpay has yet to settle: "
            "a mismatched payment credited to the member by a voucher debiting the clearing GL (the "
            "payment still reads mismatch), or another journal debited to it by hand. Find the entry in "
            "the clearing GL's statement."
        )
    else:
        why = (
            f"the clearing GL holds {gap} less than the credited payments Razorpay has yet to settle: "
            "an EMI or RD refund reversed by hand on its own screen (the payment still reads paid), or a "
            "settlement booked by a manual voucher instead of the settlement command. Match each "
            "settlement to the bank statement."
        )
    return Difference("Razorpay clearing vs credited payments not yet settled to the bank", gl, expected, why)


def _transit_difference(gl: int, expected: int, processed: int) -> Difference:
    gap = format_inr(abs(gl - expected))
    if gl > expected and processed:
        why = (
            f"the in-transit GL holds {gap} more than the queued and processing payouts; "
            f"{format_inr(processed)} of payouts the gateway reports processed are still in it: their move "
            "out of transit to the RazorpayX balance is not posted (processed before that posting existed, "
            "or it failed). Run reconciliation now: it posts each once."
        )
        if gl - expected != processed:
            why += f" The other {format_inr(abs(gl - expected - processed))} has no payout behind it."
    elif gl > expected:
        why = (
            f"the in-transit GL holds {gap} with no open payout behind it: a payout returned to the "
            "member without a reversal of its debit, or a journal to the in-transit GL."
        )
    else:
        why = (
            f"open payouts are {gap} more than the in-transit GL: a payout's debit was reversed while the "
            "payout still reads queued or processing. Fetch it from the gateway (Run reconciliation now)."
        )
    return Difference("Payouts in transit vs open payouts (queued or processing)", gl, expected, why)


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
    already = ledger.entry_by_key(key)
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
