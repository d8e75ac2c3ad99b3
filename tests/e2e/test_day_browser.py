"""The business day page in a real browser: a failing pre-check, then the run, its progress, the next day."""

import os

import pytest

from app.services.common import SYSTEM, acting_as
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("SHOTS_DIR", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _close_demo_drawer(application) -> None:
    with application.app_context(), acting_as(SYSTEM):
        from app.services.access import staff_auth
        from app.services.common import uow
        from app.services.counter import teller

        cashier = staff_auth.find_by_username("cashier")
        drawer = teller.current_drawer(cashier)
        if drawer.account.balance_paise:
            teller.vault_transfer(drawer, drawer.account.balance_paise, direction="to_vault", cashier=cashier)
        teller.close_drawer(drawer, {}, cashier=cashier)
        uow.commit()


def test_manager_ends_the_day_in_the_browser(browser_page, live_app):
    page = browser_page
    application, base = live_app
    with application.app_context():
        from app.services.eod import next_business_day
        from app.services.ledger import calendar

        today = calendar.current_business_date()
        tomorrow = next_business_day(today)
    sign_in(page, base, "manager")
    assert f"{today:%d-%m-%Y}" in page.inner_text("#bizdate") and "open" in page.inner_text("#bizdate")
    page.click("nav.sidebar >> text=Business day")
    page.wait_for_url(f"{base}/day")
    checks = page.inner_text("#prechecks")
    assert "Cash drawers counted and closed" in checks and "count and close it first" in checks
    _shot(page, "day-precheck-failing-1280.png")

    # Running now stops at the pre-checks, and the page says why.
    page.click("#run-day-end")
    page.wait_for_selector("#day-page .alert-error:has-text('stopped at')")
    assert "cash drawer" in page.inner_text("#day-page .alert-error")
    assert page.inner_text("#day-date") == f"{today:%d-%m-%Y}"

    _close_demo_drawer(application)
    page.reload()
    assert "✗" not in page.inner_text("#prechecks"), page.inner_text("#prechecks")
    page.click("#run-day-end")
    page.wait_for_selector(f"#day-date:has-text('{tomorrow:%d-%m-%Y}')")
    progress = page.inner_text("#day-progress")
    assert "Finished" in progress and "Savings daily product" in progress and "Stopped" not in progress
    assert f"{tomorrow:%d-%m-%Y}" in page.inner_text("#bizdate")
    history = page.inner_text("#run-history")
    assert "done" in history and "failed" in history
    _shot(page, "day-after-run-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _shot(page, "day-after-run-390.png")
    # The counter screen of the new day carries no "no day open" banner.
    assert page.locator("#no-day-banner").count() == 0
