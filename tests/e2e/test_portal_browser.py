"""The member portal in a real browser at 390 px: sign in with the demo member (password, then
the SMS code), the dashboard, an account with "load more", a loan schedule, a statement PDF
downloaded, money sent out with its SMS code; no horizontal scroll on any page. Screenshots go to $PORTAL_SHOTS if set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from app.models.members import MemberLogin
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot
from tests.integration.portal.helpers import (
    last_code,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("PORTAL_SHOTS")


def _shot(page, name: str) -> None:
    screenshot(page, SHOTS, name)


def test_member_signs_in_and_reads_accounts_loan_and_statement_at_390px(browser_page, live_app, sms):
    page = browser_page
    application, base = live_app
    with application.app_context():
        login = db.session.scalar(
            select(MemberLogin).where(MemberLogin.verified_at.is_not(None)).order_by(MemberLogin.id)
        )
        mobile = login.mobile
        savings = db.session.scalar(
            select(Account.account_no).where(Account.member_id == login.member_id, Account.kind == "savings")
        )
        loan_no = db.session.scalar(
            select(Account.account_no).where(Account.member_id == login.member_id, Account.kind == "loan")
        )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/portal/login")
    assert_no_horizontal_scroll(page)
    _shot(page, "login-390")
    page.fill("input[name=mobile]", mobile)
    page.fill("input[name=password]", "Demo@12345")
    page.click("main button[type=submit]")
    try:
        page.wait_for_url(f"{base}/portal/code/login")
    except Exception:
        _shot(page, "login-failed")
        raise
    page.fill("input[name=code]", last_code(mobile))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/portal/home")
    text = page.inner_text("main")
    assert "Total deposits" in text and "₹" in text and "Recent transactions" in text
    assert_no_horizontal_scroll(page)
    _shot(page, "dashboard-390")

    page.goto(f"{base}/portal/accounts/{savings}")
    assert "Transactions" in page.inner_text("main")
    assert_no_horizontal_scroll(page)
    _shot(page, "account-390")

    assert loan_no, "the demo member has a loan"
    page.goto(f"{base}/portal/loans/{loan_no}")
    schedule = page.inner_text("#schedule")
    assert "#1" in schedule and ("Due" in schedule or "Paid" in schedule or "Overdue" in schedule)
    assert_no_horizontal_scroll(page)
    _shot(page, "loan-390")

    page.goto(f"{base}/portal/statements?account={savings}")
    with page.expect_download() as download:
        page.click("main button[type=submit]")
    path = download.value.path()
    assert Path(path).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.startswith(f"statement-{savings}")

    page.goto(f"{base}/portal/send-money")  # money out: checked, then confirmed by the SMS code
    page.select_option("select[name=mode]", "IMPS")
    page.fill("input[name=name]", "Ravi Kumar")
    page.fill("input[name=account_number]", "123456789012")
    page.fill("input[name=ifsc]", "SBIN0001234")
    page.fill("input[name=amount]", "500")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/portal/send-money/confirm")
    assert "Ravi Kumar · 123456789012 · SBIN0001234 · IMPS" in page.inner_text("main")
    assert_no_horizontal_scroll(page)
    _shot(page, "send-money-confirm-390")
    page.fill("input[name=code]", last_code(mobile))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/portal/send-money/PO*")
    assert "₹500.00" in page.inner_text("main")
    _shot(page, "send-money-sent-390")

    page.goto(f"{base}/portal/devices")
    assert "This device" in page.inner_text("main")
    page.click("header .lang button")  # to Hindi
    page.wait_for_selector("html[lang=hi]")
    assert "साइन-इन डिवाइस" in page.inner_text("main")
    assert_no_horizontal_scroll(page)
    _shot(page, "devices-hi-390")
    page.goto(f"{base}/portal/home")
    _shot(page, "dashboard-hi-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    _shot(page, "dashboard-hi-1280")
