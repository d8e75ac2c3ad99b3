"""Payments end to end on SQLite: the real ``razorpay`` SDK against a local imitation of Razorpay,
orders through the API, signed webhooks (good, forged, replayed, both events for one payment,
mismatch, refund, unknown order), payouts with a retry after a 5xx, reconciliation of a stuck
order, and ``ledger verify`` after each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.clock import ist_date
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import JournalEntry, JournalLine
from app.models.members import Member
from app.models.payments import Payment, PaymentEvent, Payout
from app.services import ledger, payments
from app.services.common import uow
from app.services.ledger import coa
from tests.deposit_helpers import member, open_sb
from tests.integration.payments.conftest import point_at
from tests.integration.payments.helpers import event, member_token, member_with_loan, post_webhook
from tests.integration.portal.helpers import last_code, sms_fixture  # noqa: F401  (the "sms" fixture)


@pytest.fixture
def gw(app, books, razorpay, sms):
    point_at(app, razorpay)
    return razorpay


def _entries() -> int:
    return db.session.scalar(select(func.count(JournalEntry.id))) or 0


def _verified() -> None:
    db.session.expire_all()
    report = ledger.verify()
    assert report.ok, report.problems


def _order(client, headers, key: str, **body):
    return client.post("/api/v1/payments/orders", json=body, headers={**headers, "Idempotency-Key": key})


def _payment(payment_id: str) -> Payment:
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.payment_id == payment_id))


def _captured_event(fake, order_id: str, name: str = "payment.captured", **kw) -> dict:
    pay = fake.capture(order_id, **kw)
    return event(name, payment=pay, **({"order": fake.orders[order_id]} if name == "order.paid" else {}))


def test_order_through_the_sdk_then_the_verified_return_credits_the_emi(app, client, gw):
    m, _sb, loan = member_with_loan()
    headers = member_token(m)
    r = _order(client, headers, "ord-1", purpose="emi", loan_no=loan.loan_no, amount="8884.88")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["gateway"], body["amount"], body["currency"], body["key_id"], body["status"]) == (
        "razorpay", "8884.88", "INR", "rzp_test_fake", "created")  # fmt: skip
    sent = gw.requests[-1]
    assert (sent["method"], sent["path"], sent["body"]["amount"], sent["body"]["receipt"]) == (
        "POST", "/v1/orders", 888488, body["payment_id"])  # fmt: skip
    assert gw.orders[body["gateway_order_id"]]["amount"] == 888488
    # the same Idempotency-Key replays the order: no second order at the gateway
    again = _order(client, headers, "ord-1", purpose="emi", loan_no=loan.loan_no, amount="8884.88")
    assert again.get_json()["payment_id"] == body["payment_id"] and len(gw.orders) == 1

    pay = gw.capture(body["gateway_order_id"])
    payment = _payment(body["payment_id"])
    before = loan.outstanding_paise
    with app.test_request_context():
        sig = payments.sign(f"{body['gateway_order_id']}|{pay['id']}", "fake-secret")
        payments.verify_return(payment, razorpay_order_id=body["gateway_order_id"], razorpay_payment_id=pay["id"],
                               razorpay_signature=sig)  # fmt: skip
        uow.commit()
    assert gw.requests[-1]["path"] == f"/v1/payments/{pay['id']}"  # the browser is not trusted: fetched
    payment = _payment(body["payment_id"])
    assert payment.status == "paid" and payment.gateway_payment_id == pay["id"]
    entry = db.session.get(JournalEntry, payment.entry_id)
    lines = db.session.scalars(select(JournalLine).where(JournalLine.entry_id == entry.id)).all()
    assert sum(ln.debit_paise for ln in lines if ln.gl_account.code == coa.RAZORPAY_CLEARING) == 888488
    assert sum(ln.credit_paise for ln in lines) == 888488
    db.session.refresh(loan)
    assert loan.outstanding_paise < before  # principal part of the EMI repaid

    read = client.get(f"/api/v1/payments/{body['payment_id']}", headers=headers).get_json()
    assert (read["status"], read["amount"], read["purpose"], read["entry_no"]) == (
        "paid",
        "8884.88",
        "emi",
        entry.number,
    )
    # the webhook arriving after the return credits nothing more
    n = _entries()
    hook = event("payment.captured", payment=gw.payments[pay["id"]])
    assert post_webhook(client, hook, event_id="evt_after_return").status_code == 200
    assert _entries() == n
    _verified()


def test_a_member_may_not_order_for_someone_elses_loan_or_account(client, gw):
    m, _sb, _loan = member_with_loan()
    _other, other_sb, other_loan = member_with_loan()
    headers = member_token(m)
    r = _order(client, headers, "x-1", purpose="emi", loan_no=other_loan.loan_no, amount="100")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    r = _order(client, headers, "x-2", purpose="deposit", account_no=other_sb.account_no, amount="100")
    assert r.status_code == 404
    r = _order(client, headers, "x-3", purpose="emi", loan_no=_loan.loan_no, amount="12.345")
    assert r.status_code in (400, 422)
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert not [q for q in gw.requests if q["path"] == "/v1/orders"]


def test_signed_forged_replayed_and_both_events_credit_once(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    body = _order(client, headers, "dep-1", purpose="deposit", account_no=sb.account_no, amount="2,500").get_json()
    balance = sb.balance_paise
    captured = _captured_event(gw, body["gateway_order_id"])
    n, events = _entries(), db.session.scalar(select(func.count(PaymentEvent.id)))

    forged = post_webhook(client, captured, event_id="evt_1", secret="not-the-secret")
    assert forged.status_code == 400
    missing = post_webhook(client, captured, event_id="evt_1", signature="")
    assert missing.status_code == 400
    assert (_entries(), db.session.scalar(select(func.count(PaymentEvent.id)))) == (n, events)
    assert _payment(body["payment_id"]).status == "created"

    good = post_webhook(client, captured, event_id="evt_1")
    assert (good.status_code, good.get_json()["status"]) == (200, "accepted")
    payment = _payment(body["payment_id"])
    assert payment.status == "paid" and _entries() == n + 1
    db.session.refresh(sb)
    assert sb.balance_paise == balance + 2500_00

    replay = post_webhook(client, captured, event_id="evt_1")
    assert (replay.status_code, replay.get_json()["status"]) == (200, "duplicate")
    paid = event(
        "order.paid", payment=captured["payload"]["payment"]["entity"], order=gw.orders[body["gateway_order_id"]]
    )
    assert post_webhook(client, paid, event_id="evt_2").status_code == 200
    db.session.refresh(sb)
    assert sb.balance_paise == balance + 2500_00 and _entries() == n + 1
    kinds = [e.kind for e in _payment(body["payment_id"]).events]
    assert "webhook.credited" in kinds and "webhook.duplicate" in kinds
    _verified()


def test_failed_then_captured_still_credits_and_an_amount_mismatch_credits_nothing(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    first = _order(client, headers, "f-1", purpose="deposit", account_no=sb.account_no, amount="1000").get_json()
    failed = event("payment.failed", payment={"id": "pay_x", "order_id": first["gateway_order_id"], "amount": 100000,
                                              "currency": "INR", "status": "failed"})  # fmt: skip
    post_webhook(client, failed, event_id="evt_f1")
    assert _payment(first["payment_id"]).status == "failed"
    post_webhook(client, _captured_event(gw, first["gateway_order_id"]), event_id="evt_f2")
    assert _payment(first["payment_id"]).status == "paid"
    # a late failure cannot move it back
    post_webhook(client, failed, event_id="evt_f3")
    assert _payment(first["payment_id"]).status == "paid"

    second = _order(client, headers, "f-2", purpose="deposit", account_no=sb.account_no, amount="1000").get_json()
    n = _entries()
    wrong = _captured_event(gw, second["gateway_order_id"], amount=99_900)
    assert post_webhook(client, wrong, event_id="evt_m1").status_code == 200
    payment = _payment(second["payment_id"])
    assert (payment.status, payment.entry_id, payment.received_paise) == ("mismatch", None, 99_900)
    assert _entries() == n
    assert any(e.payment_id == payment.id for e in payments.attention_events())
    currency = _order(client, headers, "f-3", purpose="deposit", account_no=sb.account_no, amount="10").get_json()
    post_webhook(client, _captured_event(gw, currency["gateway_order_id"], currency="USD"), event_id="evt_m2")
    assert _payment(currency["payment_id"]).status == "mismatch" and _entries() == n
    _verified()


def test_unknown_order_is_recorded_for_staff(client, gw):
    member_with_loan()
    hook = event(
        "payment.captured", payment={"id": "pay_zz", "order_id": "order_nobody", "amount": 100, "currency": "INR"}
    )
    assert post_webhook(client, hook, event_id="evt_u1").status_code == 200
    unknown = [e for e in payments.attention_events() if e.kind == "webhook.unknown"]
    assert unknown and unknown[0].detail["ref"] == "order_nobody"


def test_refund_processed_reverses_the_credit_once(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    body = _order(client, headers, "r-1", purpose="deposit", account_no=sb.account_no, amount="700").get_json()
    captured = _captured_event(gw, body["gateway_order_id"])
    post_webhook(client, captured, event_id="evt_r0")
    db.session.refresh(sb)
    balance = sb.balance_paise
    pay_id = captured["payload"]["payment"]["entity"]["id"]
    refund = event(
        "refund.processed", refund={"id": "rfnd_1", "payment_id": pay_id, "amount": 70000, "status": "processed"}
    )
    post_webhook(client, refund, event_id="evt_r1")
    post_webhook(client, refund, event_id="evt_r2")  # the same refund told twice under two event ids
    payment = _payment(body["payment_id"])
    assert payment.status == "refunded" and payment.refund_entry_id is not None
    reversal = db.session.get(JournalEntry, payment.refund_entry_id)
    assert reversal.kind == "reversal" and reversal.reverses_id == payment.entry_id
    db.session.refresh(sb)
    assert sb.balance_paise == balance - 700_00
    _verified()


def test_an_emi_refund_reverses_the_repayment_and_unpays_the_instalment(client, gw):
    from app.services import loans

    m, _sb, loan = member_with_loan()
    headers = member_token(m)
    body = _order(client, headers, "re-1", purpose="emi", loan_no=loan.loan_no, amount="8884.88").get_json()
    captured = _captured_event(gw, body["gateway_order_id"])
    post_webhook(client, captured, event_id="evt_re0")
    db.session.expire_all()
    first = loans.schedule.rows(loan)[0]
    assert first.interest_paid_paise + first.principal_paid_paise == 8884_88
    outstanding = loan.outstanding_paise
    pay_id = captured["payload"]["payment"]["entity"]["id"]
    refund = event(
        "refund.processed", refund={"id": "rfnd_e", "payment_id": pay_id, "amount": 888488, "status": "processed"}
    )
    post_webhook(client, refund, event_id="evt_re1")
    post_webhook(client, refund, event_id="evt_re2")
    payment = _payment(body["payment_id"])
    assert payment.status == "refunded"
    reversal = db.session.get(JournalEntry, payment.refund_entry_id)
    assert reversal.kind == "reversal" and reversal.reverses_id == payment.entry_id
    first = loans.schedule.rows(loan)[0]
    assert (first.interest_paid_paise, first.principal_paid_paise, first.status) == (0, 0, "due")
    assert loan.outstanding_paise > outstanding and [e.kind for e in loans.history(loan)][-1] == "repayment_reversed"
    _verified()


def _payout(client, headers, key: str, sb, amount: str = "1500", mode: str = "IMPS", beneficiary=None):
    """A member's payout through the API, with the SMS code step when it is asked (428)."""
    ben = beneficiary or {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
    body = {"from_account": sb.account_no, "amount": amount, "mode": mode, "beneficiary": ben, "narration": "rent"}
    h = {**headers, "Idempotency-Key": key}
    first = client.post("/api/v1/payouts", json=body, headers=h)
    if first.status_code != 428:
        return first
    return client.post(
        "/api/v1/payouts", json={**body, "otp": last_code(db.session.get(Member, sb.member_id).mobile)}, headers=h
    )


def test_payout_retried_after_a_5xx_with_the_same_key_then_processed(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    balance = sb.balance_paise
    gw.fail_next_payouts = 1
    r = _payout(client, headers, "po-1", sb)
    assert r.status_code == 202, r.get_json()
    payout_id = r.get_json()["payout_id"]
    sent = [q for q in gw.requests if q["path"] == "/v1/payouts"]
    assert len(sent) == 2  # one 500, one retry
    keys = {q["headers"]["X-Payout-Idempotency"] for q in sent}
    assert len(keys) == 1
    assert sent[-1]["body"]["reference_id"] == payout_id and sent[-1]["body"]["account_number"] == "7878780080316316"
    assert len(gw.payouts) == 1
    read = client.get(f"/api/v1/payouts/{payout_id}", headers=headers).get_json()
    assert (read["status"], read["amount"], read["utr"], read["attempts"]) == ("processing", "1500.00", None, 2)
    db.session.refresh(sb)
    assert sb.balance_paise == balance - 1500_00  # debited once
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 1500_00

    gw_id = next(iter(gw.payouts))
    done = event(
        "payout.processed", payout={"id": gw_id, "reference_id": payout_id, "status": "processed", "utr": "UTR123"}
    )
    post_webhook(client, done, event_id="evt_p1")
    read = client.get(f"/api/v1/payouts/{payout_id}", headers=headers).get_json()
    assert (read["status"], read["utr"]) == ("processed", "UTR123")
    # processed moves the money out of transit to the RazorpayX balance (decision 0050)
    assert ledger.gl_balance(coa.PAYOUTS_IN_TRANSIT) == 0
    assert ledger.gl_balance(coa.RAZORPAYX_BALANCE) == -1500_00
    db.session.refresh(sb)
    assert sb.balance_paise == balance - 1500_00
    _verified()


def test_reversed_payout_returns_the_money_once_and_bad_requests_post_nothing(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    db.session.refresh(sb)
    balance = sb.balance_paise
    payout_id = _payout(client, headers, "po-2", sb, amount="2000", mode="UPI",
                        beneficiary={"name": "Asha", "vpa": "asha@okaxis"}).get_json()["payout_id"]  # fmt: skip
    gw_id = next(iter(gw.payouts))
    rev = event("payout.reversed", payout={"id": gw_id, "reference_id": payout_id, "status": "reversed"})
    post_webhook(client, rev, event_id="evt_v1")
    post_webhook(client, rev, event_id="evt_v2")
    post_webhook(client, event("payout.failed", payout={"id": gw_id, "status": "failed"}), event_id="evt_v3")
    db.session.refresh(sb)
    assert sb.balance_paise == balance
    assert client.get(f"/api/v1/payouts/{payout_id}", headers=headers).get_json()["status"] == "reversed"

    n = _entries()
    bad = [
        _payout(
            client, headers, "b-1", sb, beneficiary={"name": "X Y", "account_number": "12345", "ifsc": "SBIN0001234"}
        ),
        _payout(
            client,
            headers,
            "b-2",
            sb,
            beneficiary={"name": "X Y", "account_number": "123456789", "ifsc": "SBIN1001234"},
        ),
        _payout(client, headers, "b-3", sb, mode="UPI", beneficiary={"name": "X Y", "vpa": "no-at-sign"}),
        _payout(client, headers, "b-4", sb, amount="99,99,999"),
        _payout(client, headers, "b-5", sb, mode="CHEQUE"),
    ]
    assert [r.status_code for r in bad] == [422] * 5, [r.get_json() for r in bad]
    assert "ifsc" in str(bad[1].get_json()) and "vpa" in str(bad[2].get_json())
    assert _entries() == n
    other_sb = open_sb(member(), 10_000_00)
    n = _entries()
    assert _payout(client, headers, "b-6", other_sb).status_code == 404
    assert _entries() == n
    _verified()


def test_reconciliation_credits_a_stuck_order_from_the_gateway(app, client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    body = _order(client, headers, "s-1", purpose="deposit", account_no=sb.account_no, amount="300").get_json()
    gw.capture(body["gateway_order_id"])  # paid at the gateway, the webhook never came
    fresh = payments.reconcile.run()
    assert fresh.orders_checked == 0  # not old enough yet
    with app.test_request_context():
        result = payments.reconcile.run(now=utcnow() + timedelta(hours=1))
        uow.commit()
    assert (result.orders_checked, result.orders_credited) == (1, 1)
    assert _payment(body["payment_id"]).status == "paid"
    assert gw.requests[-1]["path"] == f"/v1/orders/{body['gateway_order_id']}/payments"
    report = payments.reconcile.daily(ist_date(utcnow()))
    assert report.clearing_paise == 300_00 and report.differences == []
    _verified()


def test_settlement_moves_clearing_to_the_bank_with_fee_and_gst_once(client, gw):
    m, sb, _loan = member_with_loan()
    headers = member_token(m)
    body = _order(client, headers, "st-1", purpose="deposit", account_no=sb.account_no, amount="1000").get_json()
    post_webhook(client, _captured_event(gw, body["gateway_order_id"]), event_id="evt_st")
    bank = ledger.gl_balance(coa.BANK_CURRENT)
    for _ in range(2):  # the same settlement told twice books once
        payments.reconcile.settle_to_bank("setl_1", gross_paise=1000_00, fee_paise=20_00, gst_paise=3_60)
        uow.commit()
    assert ledger.gl_balance(coa.RAZORPAY_CLEARING) == 0
    assert ledger.gl_balance(coa.BANK_CURRENT) - bank == 976_40
    assert (ledger.gl_balance(coa.EXP_GATEWAY_FEES), ledger.gl_balance(coa.GST_INPUT)) == (20_00, 3_60)
    assert payments.reconcile.daily(ist_date(utcnow())).differences == []
    _verified()


def test_large_staff_payout_waits_for_a_checker_then_is_debited_and_sent(app, gw):
    from app.services.common import approvals
    from tests.integration.loans.helpers import staff

    _m, sb, _loan = member_with_loan()
    db.session.refresh(sb)
    balance = sb.balance_paise
    clerk, manager = staff("clerk"), staff("manager")
    req = payments.PayoutRequest(sb.account_no, 1_20_000_00, "NEFT",
                                 {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"})  # fmt: skip
    with app.test_request_context():
        payout = payments.create_payout(clerk, req, by=clerk)
        uow.commit()
        assert payout.status == "pending_approval" and payout.entry_id is None
        db.session.refresh(sb)
        assert sb.balance_paise == balance  # nothing leaves before the checker
        with pytest.raises(Exception, match="different user must approve"):
            approvals.approve(payout.approval_id, checker=clerk)
        db.session.rollback()
        approvals.approve(payout.approval_id, checker=manager)
        uow.commit()
        payout = db.session.get(Payout, payout.id)
        assert payout.status == "queued" and payout.entry_id is not None
        payments.send(payout)
        uow.commit()
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == "processing" and len(gw.payouts) == 1
    db.session.refresh(sb)
    assert sb.balance_paise == balance - 1_20_000_00
    _verified()


def test_cli_reconcile_prints_the_days_figures(app, client, gw):
    m, sb, _loan = member_with_loan()
    body = _order(
        client, member_token(m), "cli-1", purpose="deposit", account_no=sb.account_no, amount="300"
    ).get_json()
    post_webhook(client, _captured_event(gw, body["gateway_order_id"]), event_id="evt_cli")
    day = ist_date(utcnow())
    out = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", day.isoformat()])
    assert out.exit_code == 0, out.output
    assert "orders checked 0" in out.output
    assert f"{day:%d-%m-%Y} collected: ₹300.00" in out.output and "gateway clearing GL: ₹300.00" in out.output
    bad = app.test_cli_runner().invoke(args=["payments", "reconcile", "--date", "31-12-2026"])
    assert bad.exit_code == 2 and "Invalid value" in bad.output
