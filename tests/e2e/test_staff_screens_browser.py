"""Staff screens as a busy branch uses them, in a real browser at 1280 and 390 px: KYC actions
that visibly update the member page, the menu button on a phone, tables that scroll in their box."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.extensions import db
from app.services import members
from app.services.access import staff_auth
from app.services.common import SYSTEM, acting_as, uow
from tests.e2e.conftest import sign_in
from tests.helpers.members import PDF, PNG, member_data

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots/staff"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _applicant(application) -> str:
    with application.app_context(), acting_as(SYSTEM):
        member = members.register(member_data(77), by=staff_auth.find_by_username("clerk"))
        uow.commit()
        number = member.member_no
        db.session.remove()
    return number


@pytest.mark.parametrize("width", [1280, 390])
def test_kyc_upload_and_submit_update_the_section_with_a_toast(browser_page, live_app, tmp_path, width):
    page = browser_page
    application, base = live_app
    page.set_viewport_size({"width": width, "height": 900})
    member_no = _applicant(application)
    files = {}
    for doc_type, body, ext in (
        ("photo", PNG, "png"),
        ("signature", PNG, "png"),
        ("pan", PDF, "pdf"),
        ("aadhaar", PDF, "pdf"),
    ):
        files[doc_type] = tmp_path / f"{doc_type}.{ext}"
        files[doc_type].write_bytes(body)
    errors: list[str] = []
    page.on(
        "console", lambda msg: errors.append(f"{msg.text} @ {msg.location} {page.url}") if msg.type == "error" else None
    )
    sign_in(page, base, "clerk")
    page.goto(f"{base}/staff/members/{member_no}")
    assert "No documents uploaded yet" in page.inner_text("#kyc")
    for n, (doc_type, path) in enumerate(files.items(), start=1):
        page.select_option("#kyc select[name=doc_type]", doc_type)
        page.set_input_files("#kyc input[type=file]", str(path))
        page.click("#kyc button:has-text('Upload')")
        page.wait_for_function(f"() => document.querySelectorAll('#kyc tr[id^=doc-]').length === {n}")
        page.wait_for_selector(".toast:has-text('uploaded; waiting for review')")
    assert "No documents uploaded yet" not in page.inner_text("#kyc")
    assert page.url.endswith(f"/staff/members/{member_no}")  # no navigation: the section was swapped
    page.click("#kyc button:has-text('Submit KYC for review')")
    page.wait_for_selector(".toast:has-text('KYC submitted for review')")
    page.wait_for_selector("#kyc dt:has-text('Submitted')")
    assert "Submit KYC for review" not in page.inner_text("#kyc")
    _shot(page, f"member-kyc-submitted-{width}")
    assert not [e for e in errors if "Content Security Policy" in e], errors  # htmx's injected style is off


def test_menu_collapses_into_a_button_on_a_phone_and_tables_scroll_in_their_box(browser_page, live_app):
    page = browser_page
    _, base = live_app
    sign_in(page, base, "manager")
    page.goto(f"{base}/staff/members")
    assert page.is_hidden(".menu-toggle")
    assert page.is_visible("#staff-menu")
    _shot(page, "members-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/staff/members")
    assert page.is_visible(".menu-toggle") and page.is_hidden("#staff-menu")
    header = page.eval_on_selector(".sidebar", "el => el.getBoundingClientRect().height")
    assert header < 110, header  # the brand and the search box, not five or six rows of links
    # The page itself never scrolls sideways: wide tables scroll inside their own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert page.locator(".table-wrap table.grid").count() >= 1
    _shot(page, "members-390")
    page.click(".menu-toggle")
    assert page.is_visible("#staff-menu")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    _shot(page, "menu-open-390")
    page.goto(f"{base}/staff/members/new")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nominees stack
    _shot(page, "register-390")


def _holder_account(application) -> tuple[str, str]:
    """A demo savings account whose holder's photo and signature are verified."""
    from sqlalchemy import select

    from app.models.ledger import Account
    from app.models.members import KycDocument

    with application.app_context():
        verified = select(KycDocument.member_id).where(
            KycDocument.doc_type == "signature", KycDocument.status == "verified"
        )
        account = db.session.scalar(
            select(Account)
            .where(Account.kind == "savings", Account.member_id.in_(verified), Account.status == "active")
            .order_by(Account.id)
        )
        found = (account.account_no, account.title)
        db.session.remove()
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_counter_card_shows_photo_and_signature_above_post_on_a_phone(browser_page, live_app, width):
    page = browser_page
    application, base = live_app
    account_no, _ = _holder_account(application)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base, "cashier")
    page.goto(f"{base}/teller")
    page.fill("#account_no", account_no)
    page.wait_for_selector("#account-card img.spec-sign")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#account-card img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "Operation" in page.inner_text("#account-card")
    card = page.eval_on_selector("#account-card", "el => el.getBoundingClientRect().top")
    post = page.eval_on_selector("button:has-text('Post transaction')", "el => el.getBoundingClientRect().top")
    if width == 390:
        assert card < post, (card, post)  # on a phone the card sits above the Post button
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    _shot(page, f"counter-card-{width}")
