"""Printouts and the journal voucher in a real browser: a refused voucher's field errors clear
live as the fields are fixed; the FD receipt, GL statement, RD passbook and share register print views read
well at 1280 and 390 px (screenshots in ``SHOTS_DIR``, default /tmp/shots-a, to look at)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.ledger import Account
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("SHOTS_DIR", "/tmp/shots-a")


def test_refused_voucher_errors_clear_as_each_field_is_fixed(browser_page, live_app):
    page = browser_page
    _, base = live_app
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, base, "accountant")
    page.goto(f"{base}/ledger/voucher")
    gls = page.locator("select[name=gl]")
    gls.nth(1).select_option("1201")
    page.locator("input[name=debit]").nth(0).fill("1500")
    page.locator("input[name=credit]").nth(1).fill("1500")
    page.click("button:has-text('Send for approval')")
    page.wait_for_selector("#line-errors-0 .error")
    assert "Choose a GL account." in page.inner_text("#line-errors-0")
    assert "A narration is required." in page.inner_text("#narration-errors")
    assert "has-error" in page.get_attribute("#voucher-lines tbody tr:nth-child(1)", "class")
    # fix line 1's GL: its message and red mark go, without a submit; the narration's stays
    gls.nth(0).select_option("5203")
    page.wait_for_function("() => !document.querySelector('#line-errors-0 .error')")
    page.wait_for_function(
        "() => !document.querySelector('#voucher-lines tbody tr:nth-child(1)').matches('.has-error')"
    )
    assert "A narration is required." in page.inner_text("#narration-errors")
    # type the narration: its message goes too
    page.fill("#narration", "Printing bill for April")
    page.wait_for_function("() => !document.querySelector('#narration-errors .error')")
    page.wait_for_function("() => !document.querySelector('#narration').hasAttribute('aria-invalid')")
    assert page.locator("#voucher-form .error").count() == 0
    assert "Balanced" in page.inner_text("#voucher-difference")
    # a field made wrong again gets its message back
    page.locator("input[name=credit]").nth(0).fill("5")
    page.wait_for_selector("#line-errors-0 .error:has-text('Enter either a debit or a credit.')")
    assert not [e for e in errors if "422" not in e], errors  # the refused submit's 422 is expected
    page.locator("input[name=credit]").nth(0).fill("")
    page.wait_for_function("() => !document.querySelector('#line-errors-0 .error')")
    page.click("button:has-text('Send for approval')")
    page.wait_for_selector(".toast:has-text('sent for approval')")


def _account_no(application, kind: str) -> str:
    with application.app_context():
        account_no = db.session.scalar(
            select(Account.account_no).where(Account.kind == kind, Account.status == "active").order_by(Account.id)
        )
        db.session.remove()
    return account_no


@pytest.mark.parametrize("width", [1280, 390])
def test_fd_receipt_and_gl_statement_print_views_read_well(browser_page, live_app, width):
    page = browser_page
    application, base = live_app
    page.add_init_script("window.print = function () {};")  # no print dialog in the test browser
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base, "manager")
    account_no = _account_no(application, "fd")
    page.goto(f"{base}/staff/deposits/{account_no}/receipt")
    text = page.inner_text("body")
    assert "Fixed deposit receipt" in text and account_no in text and "Maturity amount" in text
    assert "computer-generated receipt" in text
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    screenshot(page, SHOTS, f"fd-receipt-{width}")
    page.goto(f"{base}/ledger/gl/1101/statement?print=1")
    text = page.inner_text("body")
    assert "GL statement 1101" in text and "Opening balance" in text and "Closing balance" in text
    screenshot(page, SHOTS, f"gl-statement-{width}")
    rd_no = _account_no(application, "rd")
    page.goto(f"{base}/staff/deposits/{rd_no}/rd-passbook")
    assert "Recurring deposit passbook" in page.inner_text("body") and rd_no in page.inner_text("body")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    screenshot(page, SHOTS, f"rd-passbook-{width}")
    page.goto(f"{base}/staff/shares/register?print=1")
    assert "Share register as of" in page.inner_text("body") and "SC000001" in page.inner_text("body")
    screenshot(page, SHOTS, f"share-register-{width}")
