"""Pay an EMI in the sandbox in a real browser at 390 px: the demo member signs in, opens the loan,
"Pay EMI online", continues, presses the sandbox pay button (a signed webhook reaches the app) and
sees the payment credited; the staff payments list shows it. Staff reconcile the IST day (a stuck
order settled by "Run reconciliation now") and resolve a mismatch with a remark, at 1280 and
390 px. Screenshots go to $PAYMENT_SHOTS if set."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import ist_date
from app.extensions import db
from app.models.base import utcnow
from app.models.ledger import Account
from app.models.members import Member, MemberLogin
from app.models.payments import Payment
from app.services import ledger, payments
from app.services.common import SYSTEM, acting_as, uow
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


def _recon_and_resolve_data(application) -> tuple[str, list[int]]:
    """A stuck order (paid at the sandbox gateway, its webhook lost, two hours old), a processed payout
    and two mismatches."""
    with application.app_context(), acting_as(SYSTEM):
        sb = db.session.scalar(
            select(Account).where(Account.kind == "savings", Account.status == "active").order_by(Account.id)
        )
        member = db.session.get(Member, sb.member_id)
        stuck = payments.create_order(member, payments.OrderRequest("deposit", sb.account_no, 300_00))
        payments.gateway.sandbox().capture(stuck.gateway_order_id)
        stuck.created_at = utcnow() - timedelta(hours=2)
        ben = {"name": "Ravi Kumar", "account_number": "123456789012", "ifsc": "SBIN0001234"}
        payout = payments.create_payout(member, payments.PayoutRequest(sb.account_no, 150_00, "IMPS", ben))
        payments.send(payout)
        payments.settle(payout, "processed", utr="UTR77", gateway_payout_id=payout.gateway_payout_id, source="webhook")
        flagged = []
        for ordered, received in ((500_00, 400_00), (200_00, 250_00)):
            wrong = payments.create_order(member, payments.OrderRequest("deposit", sb.account_no, ordered))
            capture = payments.gateway.sandbox().capture(wrong.gateway_order_id, amount_paise=received)
            payments.credit(wrong, gateway_payment_id=capture["id"], amount_paise=received, currency="INR",
                            source="webhook")  # fmt: skip
            uow.commit()
            flagged += [e.id for e in payments.attention_events(wrong)]
        return stuck.payment_id, flagged


def _tile(page, label: str) -> str:
    return page.inner_text(f"#recon-figures .tile:has(.label:text-is('{label}')) .value")


def test_staff_reconcile_the_ist_day_and_resolve_a_mismatch(browser_page, live_app):
    page = browser_page
    application, base = live_app
    stuck_id, (event_id, other_id) = _recon_and_resolve_data(application)
    today = ist_date(utcnow())
    sign_in(page, base, "manager")
    page.goto(f"{base}/staff/payments")
    page.click("nav.tabs >> text=Reconciliation")
    page.wait_for_url(f"{base}/staff/payments-reconciliation")
    assert "Figures for" in page.inner_text("#recon-panel")
    page.fill("input[name=date]", today.isoformat())
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**/staff/payments-reconciliation?date={today.isoformat()}")  # HTMX pushed the day
    assert f"Figures for {today:%d-%m-%Y}" in page.inner_text("#recon-h")
    assert _tile(page, "Collected") == "₹0.00" and _tile(page, "Paid out") == "₹150.00"
    # the processed payout has left in-transit for the RazorpayX account (decision 0050): no difference
    assert "No differences" in page.inner_text("#recon-differences")
    assert _tile(page, "RazorpayX balance GL") == "-₹150.00"  # drawn by the processed payout, not yet funded
    _shot(page, "recon-1280")

    page.click("#recon-run")
    page.wait_for_selector("#recon-result")
    assert "credited 1" in page.inner_text("#recon-result")
    assert _tile(page, "Collected") == "₹300.00" and _tile(page, "Razorpay clearing GL") == "₹300.00"
    page.wait_for_selector("#toasts .toast-success")
    assert "credited 1" in page.inner_text("#toasts")
    _shot(page, "recon-run-1280")
    with application.app_context():
        assert db.session.scalar(select(Payment.status).where(Payment.payment_id == stuck_id)) == "paid"
        assert ledger.verify().ok

    page.goto(f"{base}/staff/payments-attention")
    row = f"#event-{event_id}"
    # the browser's own check is lifted so the server's refusal shows (422 swapped into the panel)
    page.eval_on_selector(f"{row} input[name=remark]", "el => el.removeAttribute('required')")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"{row} [role=alert]")
    assert "Say how it was resolved." in page.inner_text(f"{row} [role=alert]")
    _shot(page, "resolve-refused-1280")
    page.fill(f"{row} input[name=remark]", "Member paid ₹400; ₹100 short collected at the counter")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"#resolved {row}")
    assert page.locator(f"#to-resolve {row}").count() == 0
    resolved = page.inner_text(f"#resolved {row}")
    assert "Resolved" in resolved and "IST" in resolved and "₹100 short" in resolved
    assert page.inner_text("#to-resolve-count") == "(1)"  # the tab's count follows
    assert page.locator(f"#to-resolve #event-{other_id} input[name=remark]").count() == 1
    _shot(page, "resolve-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/staff/payments-reconciliation?date={today.isoformat()}")
    _shot(page, "recon-390")
    assert_no_horizontal_scroll(page)
    page.goto(f"{base}/staff/payments-attention")
    assert page.is_visible(f"#event-{other_id} input[name=remark]")  # the form is on screen, not scrolled off
    box = page.locator(f"#event-{other_id} button[type=submit]").bounding_box()
    assert box and box["x"] + box["width"] <= 390
    _shot(page, "resolve-390")
    assert_no_horizontal_scroll(page)
