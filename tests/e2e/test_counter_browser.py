"""The cashier's counter in a real browser: lookup as you type, htmx postings, live count, close."""

import pytest

from app.services.common import SYSTEM, acting_as
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_cashier_day_at_the_counter(browser_page, live_app):
    page = browser_page
    application, base = live_app
    with application.app_context(), acting_as(SYSTEM):
        from app.services.access import staff_auth
        from app.services.common import uow
        from tests.teller_helpers import member_account

        account = member_account(opening_paise=20_000_00)
        number, holder = account.account_no, account.title
        # The demo cashier's drawer is already open with the demo day's cash; start a fresh till.
        staff_auth.create_user(username="counter2", password="Counter@12345", role="cashier", full_name="Counter Two")
        uow.commit()
    sign_in(page, base, "counter2", "Counter@12345")
    page.goto(f"{base}/teller/drawer/open")
    page.fill("input[name=opening_float]", "10,000")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/teller")
    assert "₹10,000.00" in page.inner_text("#drawer-badge")

    page.fill("#account_no", number)
    page.wait_for_selector(f"#account-card .holder:has-text('{holder}')")
    assert "₹20,000.00" in page.inner_text("#account-card")
    page.fill("#amount", "2,500")
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.ok:has-text('Cash deposit posted')")
    assert "₹12,500.00" in page.inner_text("#drawer-badge")  # swapped out of band
    assert "₹22,500.00" in page.inner_text("#account-card")
    assert page.url.endswith("/teller")  # no full navigation

    page.check("#txn-1")
    page.fill("#account_no", number)
    page.fill("#amount", "30,000")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error:has-text('can pay out at most')")
    page.fill("#amount", "500")
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.ok:has-text('Cash withdrawal posted')")
    assert "₹12,000.00" in page.inner_text("#drawer-badge")

    page.goto(f"{base}/teller/drawer/close")
    page.fill("#d-n500", "24")
    page.wait_for_selector("#count-total:has-text('Matches the ledger')")
    assert "12,000.00" in page.inner_text("#v-n500")
    page.click("button[value=close]")
    page.wait_for_selector("text=The drawer is closed")
