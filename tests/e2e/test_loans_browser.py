"""Loans in a real browser: apply (live EMI preview) → sanction by another user (inline, htmx) →
disburse → repay at the counter as the cashier; screenshots at 1280 and 390 px."""

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.common import SYSTEM, acting_as
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("LOAN_SHOTS_DIR", "/tmp/shots/loans"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _switch(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    sign_in(page, base, username)


def test_apply_sanction_disburse_and_repay_at_the_counter(browser_page, live_app):
    page = browser_page
    application, base = live_app
    with application.app_context(), acting_as(SYSTEM):
        from app.extensions import db
        from app.models.ledger import Account
        from app.models.loans import Loan

        with_loans = select(Loan.member_id)
        sb = db.session.scalar(
            select(Account).where(Account.kind == "savings", Account.member_id.not_in(with_loans)).order_by(Account.id)
        )
        from app.models.members import Member

        member_no, sb_no = db.session.get(Member, sb.member_id).member_no, sb.account_no

    _switch(page, base, "clerk")
    page.goto(f"{base}/loans/apply")
    page.fill("#member_no", member_no)
    page.fill("#amount", "1,00,000")
    page.fill("#months", "12")
    page.fill("#purpose", "Dairy shed")
    page.wait_for_selector("#emi:has-text('₹8,884.88')")  # live preview (hx-get) as the fields change
    assert "Active member" in page.inner_text("#preview")
    _shot(page, "apply")
    page.click("button:has-text('Submit application')")
    page.wait_for_selector("text=Waiting for sanction")
    loan_no = page.url.rstrip("/").rsplit("/", 1)[-1]

    _switch(page, base, "manager")
    page.goto(f"{base}/loans/sanction")
    row = f"#sanction-{loan_no}"
    page.fill(f"{row} input[name=remarks]", "Income and KYC verified")
    page.click(f"{row} button:has-text('Sanction')")
    page.wait_for_selector(f"{row} [data-status=sanctioned]")  # the row swapped in place
    assert page.url.endswith("/loans/sanction")
    _shot(page, "sanction")

    _switch(page, base, "clerk")
    page.goto(f"{base}/loans/{loan_no}")
    page.fill("#disburse-form input[name=to_account]", sb_no)
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#loan-status [data-status=active]")
    assert "₹1,00,000.00" in page.inner_text("#outstanding")
    _shot(page, "loan")

    _switch(page, base, "cashier")
    page.goto(f"{base}/teller")
    page.fill("#account_no", loan_no)
    page.wait_for_selector(f"#account-card:has-text('{loan_no}')")
    page.fill("#amount", "8,884.88")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error:has-text('multiples of ₹0.50')")  # cash is counted in coins
    page.fill("#amount", "8,885")  # the EMI and 12 paise that prepay principal
    page.keyboard.press("Enter")
    page.wait_for_selector(".result.ok")
    _shot(page, "counter")

    _switch(page, base, "manager")
    page.goto(f"{base}/loans/{loan_no}")
    assert "₹92,115.00" in page.inner_text("#outstanding")  # 1,00,000 − 7,884.88 − 0.12
    first = page.locator("#schedule tbody tr").first
    assert "paid" in first.inner_text() and "₹8,884.88" in first.inner_text()
    _shot(page, "loan-after-repayment")


def test_housing_loan_documents_and_tranches_in_the_browser(browser_page, live_app, tmp_path):
    page = browser_page
    application, base = live_app
    with application.app_context(), acting_as(SYSTEM):
        from app.extensions import db
        from app.models.ledger import Account
        from app.models.loans import Loan
        from app.models.members import Member
        from app.models.users import StaffUser
        from app.services import loans
        from app.services.common import uow

        free = Account.member_id.not_in(select(Loan.member_id))
        rich = Account.balance_paise >= 20_000_00
        sb = db.session.scalar(select(Account).where(Account.kind == "savings", free, rich).order_by(Account.id))
        member = db.session.get(Member, sb.member_id)
        clerk = db.session.scalar(select(StaffUser).where(StaffUser.username == "clerk"))
        manager = db.session.scalar(select(StaffUser).where(StaffUser.username == "manager"))
        loan = loans.apply(loans.Application(member_no=member.member_no, principal_paise=2_00_000_00, months=60,
                                             product_code="HL", purpose="House", security_details="Plot 9, Nashik",
                                             security_value_paise=6_00_000_00), by=clerk)  # fmt: skip
        uow.commit()
        loans.sanction(loan, by=manager, remarks="Site inspected")
        uow.commit()
        loan_no, sb_no = loan.loan_no, sb.account_no
    pdf = tmp_path / "estimate.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    _switch(page, base, "clerk")
    page.goto(f"{base}/loans/{loan_no}")
    page.select_option("#documents select[name=doc_type]", "quotation")
    page.set_input_files("#documents input[type=file]", str(pdf))
    page.click("#documents button[type=submit]")
    page.wait_for_selector("#documents a:has-text('Quotation / estimate')")
    page.fill("#disburse-form input[name=to_account]", sb_no)
    page.fill("#disburse-form input[name=amount]", "1,20,000")
    page.click("#disburse-form button[type=submit]")
    page.wait_for_selector("#loan-status [data-status=active]")
    assert "₹80,000.00 still to release" in page.inner_text("#released")
    _shot(page, "tranche")
    page.fill("#disburse-form input[name=to_account]", sb_no)
    page.click("#disburse-form button:has-text('Release tranche')")
    page.wait_for_selector("#outstanding:has-text('₹2,00,000.00')")
    assert page.locator("#disburse-form").count() == 0 and "still to release" not in page.inner_text("#released")
    _shot(page, "tranche-done")
    page.fill("#repay-form input[name=amount]", "5,000")
    page.select_option("#repay-form select[name=mode]", "transfer")
    page.fill("#repay-form input[name=from_account]", sb_no)
    page.click("#repay-form button[type=submit]")
    page.wait_for_selector("#repay-result a:has-text('Print receipt')")  # swapped in place by htmx
    page.goto(base + page.get_attribute("#repay-result a", "href"))
    assert "Total received" in page.inner_text("#loan-receipt") and "₹5,000.00" in page.inner_text("#loan-receipt")
    _shot(page, "receipt")
