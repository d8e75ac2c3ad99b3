"""The reconciliation's day is the Indian calendar day: ``reconcile.daily(on)`` counts what moved
between 00:00 and 24:00 IST of ``on`` (a payment credited at 23:45 IST belongs to that day, one
at 00:15 IST the next day to the next, although both fall on the same UTC day); collections,
refunds and payouts count on the day of their status move (a processed payout leaves transit at
once: decision 0050); the payout cooling message reads IST."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.clock import IST, ist_date, ist_day_bounds
from app.extensions import db
from app.models.base import utcnow
from app.models.payments import PaymentEvent
from app.services import ledger, payments
from app.services.common import ValidationError, uow
from app.services.ledger import coa
from app.settings import setting
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import member_with_loan

DAY = date(2026, 11, 30)


@pytest.fixture
def gw(app, books, razorpay):
    point_at(app, razorpay)
    return razorpay


def _at_ist(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST)


def _move_to(obj_filter, status: str, when: datetime) -> None:
    """Put the status move's history row at ``when`` (as if the webhook had come then)."""
    row = db.session.scalar(select(PaymentEvent).where(obj_filter, PaymentEvent.status_to == status))
    row.created_at = when
    uow.commit()


def _paid(gw, m, sb, paise: int, when: datetime):
    payment = payments.create_order(m, payments.OrderRequest("deposit", sb.account_no, paise))
    uow.commit()
    pay = gw.capture(payment.gateway_order_id)
    payments.credit(payment, gateway_payment_id=pay["id"], amount_paise=paise, currency="INR", source="webhook")
    uow.commit()
    _move_to(PaymentEvent.payment_id == payment.id, "paid", when)
    return payment, pay


def test_ist_day_bounds_are_utc_instants_of_indian_midnight():
    start, end = ist_day_bounds(DAY)
    assert start.isoformat() == "2026-11-29T18:30:00+00:00" and end.isoformat() == "2026-11-30T18:30:00+00:00"
    assert ist_date(datetime.fromisoformat("2026-11-30T18:15:00+00:00")) == DAY  # 23:45 IST
    assert ist_date(datetime.fromisoformat("2026-11-30T18:45:00+00:00")) == DAY + timedelta(days=1)  # 00:15 IST


def test_daily_counts_by_the_indian_day_not_the_utc_day(gw):
    m, sb, _loan = member_with_loan()
    late, late_pay = _paid(gw, m, sb, 1_000_00, _at_ist(DAY, 23, 45))  # 18:15 UTC on DAY
    _paid(gw, m, sb, 250_00, _at_ist(DAY + timedelta(days=1), 0, 15))  # 18:45 UTC, the same UTC day
    report = payments.reconcile.daily(DAY)
    assert (report.collected_paise, report.refunded_paise) == (1_000_00, 0)
    assert report.start == _at_ist(DAY, 0, 0) and report.end == _at_ist(DAY + timedelta(days=1), 0, 0)
    nxt = payments.reconcile.daily(DAY + timedelta(days=1))
    assert nxt.collected_paise == 250_00
    assert payments.reconcile.daily(DAY - timedelta(days=1)).collected_paise == 0

    # refunded the next morning: still collected on DAY, refunded on DAY + 1
    payments.refund_processed(late, amount_paise=1_000_00, refund_id="rfnd_ist")
    uow.commit()
    _move_to(PaymentEvent.payment_id == late.id, "refunded", _at_ist(DAY + timedelta(days=1), 10, 0))
    assert payments.reconcile.daily(DAY).collected_paise == 1_000_00
    nxt = payments.reconcile.daily(DAY + timedelta(days=1))
    assert (nxt.collected_paise, nxt.refunded_paise) == (250_00, 1_000_00)
    # clearing: 1,000 in and back out, 250 waiting for the settlement
    assert nxt.clearing_paise == 250_00 and nxt.awaiting_settlement_paise == 250_00 and nxt.differences == []
    assert late_pay["id"]


def test_payout_processed_late_evening_ist_is_paid_out_that_day_and_its_transit_is_explained(gw):
    m, sb, _loan = member_with_loan()
    ben = {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
    payout = payments.create_payout(m, payments.PayoutRequest(sb.account_no, 1_500_00, "IMPS", ben))
    uow.commit()
    payments.send(payout)
    uow.commit()
    open_now = payments.reconcile.daily(DAY)
    assert (open_now.open_payouts_paise, open_now.in_transit_paise, open_now.differences) == (1_500_00, 1_500_00, [])
    payments.settle(payout, "processed", utr="UTR9", gateway_payout_id=payout.gateway_payout_id, source="webhook")
    uow.commit()
    _move_to(PaymentEvent.payout_id == payout.id, "processed", _at_ist(DAY, 23, 50))
    report = payments.reconcile.daily(DAY)
    assert report.paid_out_paise == 1_500_00 and report.open_payouts_paise == 0
    assert payments.reconcile.daily(DAY + timedelta(days=1)).paid_out_paise == 0
    # processed moved the money out of transit to the RazorpayX balance (decision 0050): no difference
    assert report.differences == [] and report.in_transit_paise == 0 and report.razorpayx_paise == -1_500_00
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0


def test_the_cooling_period_message_reads_ist(gw):
    m, sb, _loan = member_with_loan()
    ben = {"name": "New Payee", "account_number": "998877665544", "ifsc": "HDFC0001234"}
    above = int(setting("BENEFICIARY_COOLING_PAISE")) + 100_00
    expected = (utcnow() + timedelta(hours=int(setting("BENEFICIARY_COOLING_HOURS")))).astimezone(IST)
    with pytest.raises(ValidationError) as refused:
        payments.create_payout(m, payments.PayoutRequest(sb.account_no, above, "NEFT", ben))
    db.session.rollback()
    message = refused.value.message
    assert "UTC" not in message
    found = re.search(r"until (\d\d \w{3} \d{4} \d\d:\d\d) IST payouts", message)
    assert found, message
    shown = datetime.strptime(found.group(1), "%d %b %Y %H:%M").replace(tzinfo=IST)
    assert abs((shown - expected.replace(second=0, microsecond=0)).total_seconds()) <= 120


def test_a_journal_to_the_clearing_gl_by_hand_is_a_difference_with_its_explanation(gw):
    m, sb, _loan = member_with_loan()
    _paid(gw, m, sb, 600_00, _at_ist(DAY, 12, 0))
    assert payments.reconcile.daily(DAY).differences == []
    ledger.post(
        [ledger.Line.dr(coa.RAZORPAY_CLEARING, 50_00, "by hand"), ledger.Line.cr(coa.SUSPENSE, 50_00, "by hand")],
        kind="journal",
        narration="A voucher to the clearing GL",
    )
    uow.commit()
    (diff,) = payments.reconcile.daily(DAY).differences
    assert (diff.gl_paise, diff.expected_paise, diff.amount_paise) == (650_00, 600_00, 50_00)
    assert diff.title.startswith("Razorpay clearing") and "holds ₹50.00 more" in diff.explanation
    assert "₹650.00" in diff.text and "₹600.00 expected" in diff.text
