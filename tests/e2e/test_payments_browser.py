"""Pay an EMI in the sandbox in a real browser at 390 px: the demo member signs in, opens the loan,
"Pay EMI online", continues, presses the sandbox pay button (a signed webhook reaches the app) and
sees the payment credited; the staff payments list shows it. Screenshots go to $PAYMENT_SHOTS if set."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.members import MemberLogin
from app.models.payments import Payment
from app.services import ledger
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot, sign_in
from tests.integration.portal.helpers import (
    last_code,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("PAYMENT_SHOTS")


def _shot(page, name: str) -> None:
    screenshot(page, SHOTS, name)


def test_member_pays_an_emi_in_the_sandbox(browser_page, live_app, sms):
    page = browser_page
    application, base = live_app
    with application.app_context():
        login = db.session.scalar(
            select(MemberLogin).where(MemberLogin.verified_at.is_not(None)).order_by(MemberLogin.id)
        )
        mobile = login.mobile
        loan_no = db.session.scalar(
            select(Account.account_no).where(Account.member_id == login.member_id, Account.kind == "loan")
        )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/portal/login")
    page.fill("input[name=mobile]", mobile)
    page.fill("input[name=password]", "Demo@12345")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/portal/code/login")
    page.fill("input[name=code]", last_code(mobile))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/portal/home")
    page.goto(f"{base}/portal/loans/{loan_no}")
    page.click("text=Pay EMI online")
    page.wait_for_url(f"{base}/portal/loans/{loan_no}/pay")
    assert_no_horizontal_scroll(page)
    _shot(page, "pay-emi-390")
    page.click("main button[type=submit]")
    page.wait_for_url("**/portal/pay/PAY*")
    assert "Waiting for payment" in page.inner_text("#payment-status")
    assert_no_horizontal_scroll(page)
    _shot(page, "checkout-sandbox-390")
    page.click("#sandbox-pay")
    page.wait_for_selector("text=Paid — credited")
    _shot(page, "paid-390")
    with application.app_context():
        payment = db.session.scalar(select(Payment))
        assert payment.status == "paid" and payment.entry_id is not None
        assert ledger.verify().ok
        payment_id = payment.payment_id

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, base, "manager")
    page.goto(f"{base}/staff/payments")
    assert payment_id in page.inner_text("#payments-list")
    _shot(page, "staff-payments-1280")
    page.goto(f"{base}/staff/payments/{payment_id}")
    assert "webhook.credited" in page.inner_text("main")
    _shot(page, "staff-payment-detail-1280")
