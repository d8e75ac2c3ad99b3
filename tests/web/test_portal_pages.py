"""Member portal pages: dashboard, accounts with HTMX "load more" and date filter, statements
(PDF text parsed, in English and Hindi), transfers with the OTP step, profile contact change."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import JournalEntry
from app.models.members import Member, MemberLogin
from app.models.portal import StatementFile
from app.services import ledger
from app.services.common import uow
from app.services.ledger import coa
from tests.conftest import BUSINESS_DATE
from tests.integration.portal.helpers import (
    account_of,
    last_code,
    member_with_login,
    sign_in,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)


@pytest.fixture
def sunita(books, client, sms):
    member, _login = member_with_login(mobile="9812345678")
    sb = account_of(member, opening_paise=1_25_000_00)
    sign_in(client, "9812345678")
    return member, sb


def _cash_in(account, paise, narration="Cash deposit"):
    ledger.post(
        [ledger.Line.dr(coa.VAULT_CASH, paise), ledger.Line.cr(account, paise)], kind="deposit", narration=narration
    )
    uow.commit()


def test_dashboard_shows_totals_accounts_and_recent_transactions(client, sunita):
    member, sb = sunita
    fd = account_of(member, kind="fd", opening_paise=50_000_00)
    response = client.get("/portal/home")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert "₹1,75,000.00" in text  # total deposits, Indian grouping
    assert "X" * (len(sb.account_no) - 4) + sb.account_no[-4:] in text
    assert f"Opening balance {sb.account_no}" in text
    assert len(response.data) < 60_000
    assert fd.account_no[-4:] in text


def test_accounts_list_and_account_page_with_load_more_and_date_filter(client, sunita):
    _member, sb = sunita
    for i in range(25):
        _cash_in(sb, 100_00 + i, narration=f"Cash deposit no {i}")
    page = client.get(f"/portal/accounts/{sb.account_no}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cash deposit no 24<" in text and "Cash deposit no 4<" not in text
    assert 'hx-target="#more"' in text and "Load more" in text
    more = client.get(f"/portal/accounts/{sb.account_no}?page=2", headers={"HX-Request": "true"})
    partial = more.get_data(as_text=True)
    assert more.status_code == 200 and "<html" not in partial and "Cash deposit no 4<" in partial
    assert "Cash deposit no 24<" not in partial and "HX-Request" in more.headers["Vary"]
    plain = client.get(f"/portal/accounts/{sb.account_no}?page=2").get_data(as_text=True)  # "load more" without JS
    assert "<html" in plain and "Cash deposit no 4<" in plain and "Cash deposit no 24<" not in plain
    assert f'href="/portal/accounts/{sb.account_no}?page=1"' in plain and "Newer transactions" in plain
    # the date filter: nothing after the business date
    later = (BUSINESS_DATE + timedelta(days=1)).isoformat()
    filtered = client.get(
        f"/portal/accounts/{sb.account_no}?from={later}", headers={"HX-Request": "true", "HX-Target": "txns"}
    )
    assert "No transactions in this period." in filtered.get_data(as_text=True) and "<html" not in filtered.get_data(
        as_text=True
    )
    listing = client.get("/portal/accounts").get_data(as_text=True)
    assert "₹1,27,503.00" in listing  # ₹1,25,000 + 25 deposits of ₹100.00…₹100.24


def _pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages), len(reader.pages)


@pytest.mark.parametrize(
    ("lang", "opening", "closing", "footer"),
    [
        ("en", "Opening balance", "Closing balance", "computer-generated"),
        ("hi", "प्रारंभिक शेष", "अंतिम शेष", "कंप्यूटर"),
    ],
)
def test_statement_pdf_text_in_both_languages(client, sunita, lang, opening, closing, footer):
    _member, sb = sunita
    _cash_in(sb, 2_500_50, narration="Cash deposit by self")
    client.post(f"/portal/language/{lang}", data={"next": "/portal/statements"})
    day = BUSINESS_DATE.isoformat()
    response = client.post("/portal/statements", data={"account": sb.account_no, "start": day, "end": day})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text, pages = _pdf_text(response.data)
    assert pages == 1
    assert opening in text and closing in text and footer in text
    assert "₹0.00" in text  # opening balance on the first day
    assert "₹1,27,500.50" in text  # closing balance
    assert "Cash deposit by self" in text and "2,500.50" in text
    masked = "X" * (len(sb.account_no) - 4) + sb.account_no[-4:]
    assert masked in text and "Sunita Patil" in text


def test_statement_period_too_long_is_refused_in_the_members_language(client, sunita):
    _member, sb = sunita
    client.post("/portal/language/hi", data={"next": "/portal/statements"})
    response = client.post(
        "/portal/statements", data={"account": sb.account_no, "start": "2025-01-01", "end": "2026-03-31"}
    )
    assert response.status_code == 422 and "अधिकतम 366 दिनों" in response.get_data(as_text=True)


def test_long_statement_is_made_by_the_job_and_the_fragment_polls(client, sunita, app):
    _member, sb = sunita
    app.config["STATEMENT_INLINE_MAX_LINES"] = 0
    day = BUSINESS_DATE.isoformat()
    response = client.post("/portal/statements", data={"account": sb.account_no, "start": day, "end": day})
    assert response.status_code == 302 and "/portal/statements/" in response.headers["Location"]
    row = db.session.scalar(select(StatementFile))
    assert row.status == "ready" and row.pages == 1  # jobs run inline without Redis
    fragment = client.get(response.headers["Location"], headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "Download PDF" in text and "hx-trigger" not in text
    row.status = "running"
    uow.commit()
    polling = client.get(response.headers["Location"], headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' in polling
    row.status = "ready"
    uow.commit()
    pdf = client.get(f"/portal/statements/{row.token}/download")
    assert pdf.headers["Content-Type"] == "application/pdf" and _pdf_text(pdf.data)[1] == 1


def test_transfer_below_the_threshold_posts_at_once(client, sunita, sms):
    _member, sb = sunita
    other, _ = member_with_login(mobile="9812345679", name="Ramesh Kale")
    target = account_of(other)
    before = len(sms)
    response = client.post(
        "/portal/transfer", data={"from_account": sb.account_no, "to_account": target.account_no, "amount": "1,500.25"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Transfer done" in text and "₹1,500.25" in text
    db.session.expire_all()
    assert (sb.balance_paise, target.balance_paise) == (1_25_000_00 - 1_500_25, 1_500_25)
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "transfer"))
    assert entry.channel == "portal" and len(sms) == before


def test_transfer_above_the_threshold_needs_the_code(client, sunita, sms):
    member, sb = sunita
    own_rd = account_of(member, kind="savings")
    response = client.post(
        "/portal/transfer", data={"from_account": sb.account_no, "to_account": own_rd.account_no, "amount": "30000"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/transfer/confirm")
    wrong = client.post("/portal/transfer/confirm", data={"code": "000000"})
    assert wrong.status_code == 422 and "attempt(s) left" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert own_rd.balance_paise == 0
    done = client.post("/portal/transfer/confirm", data={"code": last_code("9812345678")})
    assert done.status_code == 200 and "Transfer done" in done.get_data(as_text=True)
    db.session.expire_all()
    assert own_rd.balance_paise == 30_000_00 and sb.balance_paise == 95_000_00


def test_transfer_bad_input_changes_nothing(client, sunita):
    member, sb = sunita
    frozen = account_of(member, status="frozen")
    count = db.session.scalar(select(func.count()).select_from(JournalEntry))
    refused = client.post(
        "/portal/transfer",
        data={"from_account": sb.account_no, "to_account": frozen.account_no, "amount": "10"},
        follow_redirects=True,
    )
    assert "frozen" in refused.get_data(as_text=True)
    too_much = client.post(
        "/portal/transfer", data={"from_account": sb.account_no, "to_account": "T9999999", "amount": "10"}
    )
    assert too_much.status_code == 422 and "No account" in too_much.get_data(as_text=True)
    other, _ = member_with_login(mobile="9812345670", name="Anil More")
    target = account_of(other)
    huge = client.post(
        "/portal/transfer",
        data={"from_account": sb.account_no, "to_account": target.account_no, "amount": "200000"},
    )  # above the threshold: a code first; above the balance: refused when it posts
    assert huge.status_code == 302
    refused = client.post("/portal/transfer/confirm", data={"code": last_code("9812345678")})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Transfer done" not in page and '="None"' not in page
    assert "can pay out at most" in page and 'value="200000.00"' in page  # the refusal, on the form as filled in
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == count


def test_contact_change_is_confirmed_by_a_code_to_the_new_mobile_and_audited(client, sunita):
    member, _sb = sunita
    response = client.post("/portal/profile/contact", data={"mobile": "9898989898"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, member.id).mobile == "9812345678"  # nothing changes before the code
    done = client.post("/portal/profile/contact/confirm", data={"code": last_code("9898989898")})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Member, member.id).mobile == "9898989898"
    login = db.session.scalar(select(MemberLogin).where(MemberLogin.member_id == member.id))
    assert login.mobile == "9898989898" and login.verified_at is not None
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"member.contact_change_requested", "member.contact_changed", "member.update"} <= actions
    profile = client.get("/portal/profile").get_data(as_text=True)
    assert "98XXXXXX98" in profile or re.search(r"98\S*98", profile)


def test_manifest_and_pages_without_javascript(client):
    manifest = client.get("/portal/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    assert {i["sizes"] for i in manifest.get_json()["icons"]} == {"192x192", "512x512"}
    for path in ("/portal/", "/portal/login", "/portal/activate", "/portal/forgot", "/portal/calculators"):
        page = client.get(path)
        assert page.status_code == 200 and len(page.data) < 60_000, path
        assert "<form" in page.get_data(as_text=True) or "btn" in page.get_data(as_text=True)


def test_nominee_change_request_goes_to_the_staff_approval_queue(client, sunita, app):
    from app.models.approvals import ApprovalRequest
    from app.services.access import staff_auth
    from app.services.common import approvals
    from tests.conftest import login_as

    member, _sb = sunita
    response = client.post("/portal/profile/nominees", data={"details": "Make my son Rahul 100% nominee"})
    assert response.status_code == 302
    again = client.post("/portal/profile/nominees", data={"details": "Once more please"})
    assert again.status_code == 422 and "already have a nominee change request" in again.get_data(as_text=True)
    (req,) = db.session.scalars(select(ApprovalRequest)).all()
    assert req.kind == "members.nominee_change" and req.maker_id is None and req.status == "pending"
    assert req.payload["member_no"] == member.member_no and "Rahul" in req.payload["details"]
    manager = staff_auth.create_user(username="meera", password="Correct-Horse-9", role="manager")
    uow.commit()
    staff = app.test_client()
    login_as(staff, "meera")
    queue = staff.get("/staff/approvals")
    assert queue.status_code == 200 and "Nominee change" in queue.get_data(as_text=True)
    approvals.approve(req.id, checker=manager)
    uow.commit()
    assert db.session.get(ApprovalRequest, req.id).status == "approved"


def test_a_bad_amount_is_a_clear_message_in_hindi(client, sunita):
    _member, sb = sunita
    client.post("/portal/language/hi", data={"next": "/portal/transfer"})
    response = client.post(
        "/portal/transfer", data={"from_account": sb.account_no, "to_account": sb.account_no, "amount": "-5"}
    )
    assert response.status_code == 422 and "1,500.50 जैसी राशि" in response.get_data(as_text=True)
