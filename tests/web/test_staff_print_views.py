"""Print views and PDFs of staff screens: the share register, the FD receipt and the RD passbook
printed at opening (same mechanism as the ledger's: ``printing.printed`` around a partial)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from app.extensions import db
from app.models.members import Nominee
from app.models.users import Branch
from app.money import format_inr
from app.services import deposits
from app.services.common import uow
from app.services.deposits import OpenRequest
from app.services.members import shares
from tests.conftest import PASSWORD, login_as
from tests.deposit_helpers import F60, cashier, member, open_sb
from tests.helpers.members import ready_member
from tests.web.test_member_screens import till


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def assert_pdf(response, filename: str) -> str:
    """Check a PDF response and return its text."""
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'filename="{filename}"' in response.headers["Content-Disposition"]
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def permission_of(app, endpoint: str) -> str:
    return app.view_functions[endpoint]._permission


# ---------------------------------------------------------------- share register


def test_share_register_print_view_and_pdf(app, client, make_user, books):
    clerk = make_user("clerk")
    member_a = ready_member(clerk, make_user("manager"))
    shares.admit(member_a, shares=10, mode="cash", by=till(make_user))
    uow.commit()
    login_as(client, "clerk_user", PASSWORD)
    screen = client.get("/staff/shares/register").get_data(as_text=True)
    assert 'href="/staff/shares/register?print=1&amp;q=&amp;status=active"' in screen
    assert 'href="/staff/shares/register.pdf?q=&amp;status=active"' in screen
    response = client.get("/staff/shares/register?print=1&status=active")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = text(response)
    assert "<h1>Share register as of 01-04-2026</h1>" in page and "window.print" in page
    assert "SC000001" in page and member_a.member_no in page and member_a.name in page
    assert 'id="reg-capital">₹1,000.00<' in page and "agrees with the certificates" in page
    assert "1 certificate." in page and "m-pager" not in page
    pdf = assert_pdf(client.get("/staff/shares/register.pdf?status=active"), "share-register-2026-04-01.pdf")
    assert "SC000001" in pdf and member_a.member_no in pdf and "1,000.00" in pdf
    # the filter carries into the printout
    assert "SC000001" not in text(client.get("/staff/shares/register?print=1&status=refunded"))


def test_share_register_print_needs_members_view(app, client):
    assert permission_of(app, "staff.share_register") == "members.view"  # the screen's permission (every role holds it)
    for url in ("/staff/shares/register?print=1", "/staff/shares/register.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# ---------------------------------------------------------------- FD receipt and RD passbook


def _holder():
    branch = Branch(code="NSK", name="Nashik Main", ifsc="SAHK0000001")
    db.session.add(branch)
    db.session.flush()
    m = member(name="Kavita Joshi", branch_id=branch.id)
    db.session.add(Nominee(member_id=m.id, name="Ravi Joshi", relationship_="son", share_bp=10_000))
    uow.commit()
    return m


def test_clerk_prints_the_fd_receipt_after_opening(deposit_products, client, login):
    login("clerk")
    m = _holder()
    sb = open_sb(m, 1_000_00)
    fd = deposits.open_account(
        OpenRequest(
            member_no=m.member_no, kind="fd", amount_paise=1_00_000_00, months=12, form60_ref=F60,
            nominee_id=m.nominees[0].id,
        ),
        by=cashier(),
    )  # fmt: skip
    uow.commit()
    account_page = client.get(f"/staff/deposits/{fd.account_no}").get_data(as_text=True)
    assert f'href="/staff/deposits/{fd.account_no}/receipt"' in account_page and "Print receipt" in account_page
    assert f'href="/staff/deposits/{fd.account_no}/receipt.pdf"' in account_page
    assert 'id="opening-print"' in account_page  # opened today: the receipt is offered at the top
    response = client.get(f"/staff/deposits/{fd.account_no}/receipt")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = text(response)
    assert "<h1>Fixed deposit receipt</h1>" in page and "window.print" in page
    assert "Nashik Main (NSK)" in page and "Kavita Joshi" in page and f'id="pr-member-no">{m.member_no}<' in page
    assert f'id="pr-account-no">{fd.account_no}<' in page
    assert 'id="pr-principal">₹1,00,000.00<' in page
    # the maturity figure is the FD service's (see test_rd_and_fd_pages_show_schedule_and_premature_quote)
    assert 'id="pr-maturity">₹1,07,450.00<' in page
    assert 'id="pr-maturity-date">01-04-2027<' in page and 'id="pr-tenure">12 months, from 01-04-2026<' in page
    assert 'id="pr-opened">01-04-2026 · ' in page and " IST" in page
    assert "Cumulative (paid at maturity)" in page and "Ravi Joshi (son)" in page
    assert f"Paid to the savings account {sb.account_no}" in page
    assert "computer-generated receipt" in page
    pdf = assert_pdf(client.get(f"/staff/deposits/{fd.account_no}/receipt.pdf"), f"fd-receipt-{fd.account_no}.pdf")
    assert fd.account_no in pdf and "1,07,450.00" in pdf and "01-04-2027" in pdf and "Ravi Joshi" in pdf
    assert client.get(f"/staff/deposits/{fd.account_no}/rd-passbook").status_code == 404  # not an RD


def test_rd_passbook_lists_the_instalment_schedule(deposit_products, client, login):
    login("clerk")
    m = _holder()
    open_sb(m, 1_000_00)
    rd = deposits.open_account(
        OpenRequest(member_no=m.member_no, kind="rd", installment_paise=500_00, months=12), by=cashier()
    )
    uow.commit()
    account_page = client.get(f"/staff/deposits/{rd.account_no}").get_data(as_text=True)
    assert f'href="/staff/deposits/{rd.account_no}/rd-passbook"' in account_page and "Print passbook" in account_page
    response = client.get(f"/staff/deposits/{rd.account_no}/rd-passbook")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Recurring deposit passbook</h1>" in page and f'id="pr-account-no">{rd.account_no}<' in page
    assert 'id="pr-installment">₹500.00<' in page and "Nashik Main (NSK)" in page
    assert f'id="pr-maturity">{format_inr(deposits.account_view(rd).maturity_paise)} ' in page  # the service's figure
    schedule = re.findall(r'<td class="date">(\d\d-\d\d-\d{4})</td><td class="num">500.00</td>', page)
    assert len(schedule) == 12 and schedule[0] == "01-04-2026" and schedule[-1] == "01-03-2027"
    # the first instalment is paid by the opening entry; the rest are blank for the counter to fill in
    assert '<td class="date">01-04-2026</td><td class="num">500.00</td><td>01-04-2026</td>' in page
    assert '<td class="date">01-05-2026</td><td class="num">500.00</td><td></td>' in page
    assert "computer-generated passbook" in page
    pdf = assert_pdf(client.get(f"/staff/deposits/{rd.account_no}/rd-passbook.pdf"), f"rd-passbook-{rd.account_no}.pdf")
    assert rd.account_no in pdf and "01-03-2027" in pdf and "500.00" in pdf
    assert client.get(f"/staff/deposits/{rd.account_no}/receipt").status_code == 404  # not an FD


def test_deposit_printouts_need_accounts_view(app, client, deposit_products):
    for endpoint in ("staff.deposit_fd_receipt", "staff.deposit_rd_passbook"):
        assert permission_of(app, endpoint) == "accounts.view"  # the account page's permission
    for url in (
        "/staff/deposits/FD0001/receipt",
        "/staff/deposits/FD0001/receipt.pdf",
        "/staff/deposits/X/rd-passbook",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
