"""Payment screens: the portal's pay-EMI flow in the sandbox (a signed webhook credits the EMI once)
and send money, and the staff payments list, history, events to resolve, payouts and reconciliation."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.payments import Payment, Payout
from app.services import ledger, payments
from app.services.access import member_auth
from app.services.common import uow
from tests.integration.payments.helpers import member_with_loan
from tests.integration.portal.helpers import PASSWORD, last_code, sign_in, sms_fixture  # noqa: F401  (the "sms" fixture)


@pytest.fixture
def borrower_in_portal(books, client, sms):
    m, sb, loan = member_with_loan()
    member_auth.create_login(m, PASSWORD)
    uow.commit()
    sign_in(client, m.mobile)
    return m, sb, loan


def test_pay_emi_in_the_sandbox_credits_once(client, borrower_in_portal):
    _m, _sb, loan = borrower_in_portal
    page = client.get(f"/portal/loans/{loan.loan_no}").get_data(as_text=True)
    assert f"/portal/loans/{loan.loan_no}/pay" in page
    form = client.get(f"/portal/loans/{loan.loan_no}/pay")
    assert form.status_code == 200 and 'value="8,884.88"' in form.get_data(as_text=True)
    bad = client.post(f"/portal/loans/{loan.loan_no}/pay", data={"amount": "12.345"})
    assert bad.status_code == 422
    r = client.post(f"/portal/loans/{loan.loan_no}/pay", data={"amount": "8,884.88"})
    assert r.status_code == 302
    checkout = r.headers["Location"]
    payment_id = re.search(r"/pay/(PAY\d+)", checkout).group(1)
    text = client.get(checkout).get_data(as_text=True)
    assert "Waiting for payment" in text and "sandbox" in text.lower()
    before = loan.outstanding_paise
    done = client.post(f"/portal/pay/{payment_id}/sandbox")
    assert done.status_code == 302
    text = client.get(checkout).get_data(as_text=True)
    assert "Paid — credited" in text
    client.post(f"/portal/pay/{payment_id}/sandbox")  # a second click changes nothing
    db.session.expire_all()
    payment = db.session.scalar(select(Payment).where(Payment.payment_id == payment_id))
    assert payment.status == "paid" and payment.entry_id is not None
    db.session.refresh(loan)
    assert loan.outstanding_paise < before
    assert ledger.verify().ok


def test_another_members_loan_and_payment_are_404(client, borrower_in_portal):
    _o, osb, other_loan = member_with_loan()
    assert client.get(f"/portal/loans/{other_loan.loan_no}/pay").status_code == 404
    other = payments.create_order(other_loan.member, payments.OrderRequest("deposit", osb.account_no, 100_00))
    uow.commit()
    assert client.get(f"/portal/pay/{other.payment_id}").status_code == 404


def test_send_money_debits_once_and_shows_processing(client, borrower_in_portal):
    m, sb, _loan = borrower_in_portal
    db.session.refresh(sb)
    balance = sb.balance_paise
    page = client.get("/portal/send-money")
    assert page.status_code == 200 and sb.account_no in page.get_data(as_text=True)
    bad = client.post("/portal/send-money", data={"from_account": sb.account_no, "mode": "NEFT", "name": "Ravi",
                                                  "account_number": "12", "ifsc": "SBIN0001234", "amount": "100"})  # fmt: skip
    assert bad.status_code == 422 and "9 to 18 digits" in bad.get_data(as_text=True)
    r = client.post("/portal/send-money", data={"from_account": sb.account_no, "mode": "IMPS", "name": "Ravi Kumar",
                                                "account_number": "123456789012", "ifsc": "sbin0001234", "amount": "1,000"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/send-money/confirm")
    db.session.expire_all()
    assert db.session.scalar(select(Payout)) is None  # nothing leaves before the SMS code
    confirm = client.get("/portal/send-money/confirm").get_data(as_text=True)
    assert "Ravi Kumar · 123456789012 · SBIN0001234 · IMPS" in confirm and "₹1,000.00" in confirm
    wrong = client.post("/portal/send-money/confirm", data={"code": "000000"})
    assert wrong.status_code == 422 and db.session.scalar(select(Payout)) is None
    r = client.post("/portal/send-money/confirm", data={"code": last_code(m.mobile)})
    assert r.status_code == 302
    status = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Processing" in status and "₹1,000.00" in status
    db.session.expire_all()
    payout = db.session.scalar(select(Payout))
    assert (payout.status, payout.gateway_payout_id is not None) == ("processing", True)
    db.session.refresh(sb)
    assert sb.balance_paise == balance - 1000_00


def test_send_money_refused_after_the_code_changes_nothing(client, borrower_in_portal):
    m, sb, _loan = borrower_in_portal
    db.session.refresh(sb)
    balance = sb.balance_paise
    too_much = f"{(balance + 100_00) // 100}"
    r = client.post("/portal/send-money", data={"from_account": sb.account_no, "mode": "NEFT", "name": "Ravi Kumar",
                                                "account_number": "123456789012", "ifsc": "SBIN0001234", "amount": too_much})  # fmt: skip
    assert r.status_code == 302
    refused = client.post("/portal/send-money/confirm", data={"code": last_code(m.mobile)})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "is a new payee" in page and 'value="Ravi Kumar"' in page
    db.session.expire_all()
    assert db.session.scalar(select(Payout)) is None and db.session.get(type(sb), sb.id).balance_paise == balance
    assert client.get("/portal/send-money/confirm").status_code == 302  # the step is gone: start again


def test_staff_list_history_resolve_payouts_and_reconcile(books, client, login):
    m, sb, _loan = member_with_loan()
    payment = payments.create_order(m, payments.OrderRequest("deposit", sb.account_no, 500_00))
    uow.commit()
    capture = payments.gateway.sandbox().capture(payment.gateway_order_id, amount_paise=400_00)
    body, headers = payments.signed_event("payment.captured", {"payment": {"entity": capture}})
    assert client.post("/api/v1/payments/webhook", data=body, headers=headers).status_code == 200
    login("manager")
    page = client.get("/staff/payments")
    assert page.status_code == 200 and payment.payment_id in page.get_data(as_text=True)
    part = client.get("/staff/payments?status=paid", headers={"HX-Request": "true"})
    assert "<html" not in part.get_data(as_text=True) and payment.payment_id not in part.get_data(as_text=True)
    detail = client.get(f"/staff/payments/{payment.payment_id}").get_data(as_text=True)
    assert "mismatch" in detail and "webhook.mismatch" in detail and "₹400.00" in detail
    assert " IST" in detail  # staff read event times in Indian time
    attention = client.get("/staff/payments-attention").get_data(as_text=True)
    event_id = int(re.search(r'id="event-(\d+)"', attention).group(1))
    empty = client.post(
        f"/staff/payments-attention/{event_id}/resolve", data={"remark": ""}, headers={"HX-Request": "true"}
    )
    assert empty.status_code == 422 and "Say how it was resolved" in empty.get_data(as_text=True)
    done = client.post(f"/staff/payments-attention/{event_id}/resolve", data={"remark": "Refunded ₹400 by the bank"},
                       headers={"HX-Request": "true"})  # fmt: skip
    assert done.status_code == 200 and "Resolved" in done.get_data(as_text=True)
    assert "HX-Trigger" in done.headers
    assert client.get("/staff/payouts").status_code == 200
    rec = client.post("/staff/payments-reconcile", headers={"HX-Request": "true"})
    assert rec.status_code == 200 and "Orders checked" in rec.get_data(as_text=True)
