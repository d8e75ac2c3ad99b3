"""Staff screens in a real browser: sign-in, htmx live filtering, htmx actions with toasts."""

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_sign_in_and_live_filter_the_audit_log(browser_page, live_app):
    page = browser_page
    _, base = live_app
    sign_in(page, base, "auditor")
    assert "Auditor" in page.inner_text(".sidebar")
    assert page.evaluate("typeof window.htmx") == "object"  # htmx loaded (from the intercepted CDN URL)
    page.goto(f"{base}/staff/audit")
    page.fill("input[name=action]", "staff.create")
    page.wait_for_function("() => !document.querySelector('#results').innerText.includes('auth.login')")
    text = page.inner_text("#results")
    assert "staff.create" in text
    assert "action=staff.create" in page.url  # hx-push-url kept the filter in the address bar


def test_admin_deactivates_a_user_inline_with_a_toast(browser_page, live_app):
    page = browser_page
    _, base = live_app
    sign_in(page, base, "admin")
    page.goto(f"{base}/staff/users")
    row = page.locator("tr", has_text="Demo Clerk")
    row.get_by_role("button", name="Deactivate").click()
    page.wait_for_selector(".toast:has-text('clerk deactivated.')")
    assert "Deactivated" in page.locator("tr", has_text="Demo Clerk").inner_text()
    assert page.url.endswith("/staff/users")  # no full page navigation
