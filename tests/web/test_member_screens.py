"""Staff member screens: list and live search, registration with field errors, profile,
documents, the KYC review queue, admission with receipt, share requests and the register."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.members import KycDocument, Member
from app.services import members
from app.services.common import uow
from app.services.members import kyc, shares
from tests.conftest import PASSWORD, login_as, new_account
from tests.helpers.members import PDF, PNG, aadhaar, member_data, pan, ready_member, upload_all

HX = {"HX-Request": "true"}


def form_of(n: int = 1, **overrides) -> dict:
    """The registration form as the browser posts it."""
    data = member_data(n, **overrides)
    nominees = data.pop("nominees")
    form = {k: ("y" if v is True else v) for k, v in data.items() if v is not None and v is not False}
    form.setdefault("member_type", "regular")
    form.setdefault("kyc_risk", "low")
    for i, row in enumerate(nominees):
        for key, value in row.items():
            form[f"nominees-{i}-{key}"] = value
    return form


def field_block(page: str, field_id: str) -> str:
    """The HTML of one form field's block (label, input and messages)."""
    match = re.search(rf'<div class="field[^"]*" id="field-{field_id}">.*?</span>\s*</div>', page, re.S)
    assert match, f"no field block for {field_id}"
    return match.group(0)


def count_members() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Member))


@pytest.fixture
def clerk(books, client, login):
    return login("clerk")


def test_list_with_live_search_masks_pan(app, client, clerk):
    a = members.register(member_data(1, name="Sunita Patil"), by=clerk)
    members.register(member_data(2, name="Manjunath Gowda"), by=clerk)
    uow.commit()
    page = client.get("/staff/members")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sunita Patil" in html and "Manjunath Gowda" in html
    assert pan(1) not in html and a.pan_masked in html
    assert "Register member" in html
    partial = client.get("/staff/members?q=gowda", headers=HX)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and "Manjunath Gowda" in body and "Sunita Patil" not in body
    assert "HX-Request" in partial.headers["Vary"]
    assert "Sunita" in client.get(f"/staff/members?q={pan(1)}", headers=HX).get_data(as_text=True)
    filtered = client.get("/staff/members?status=active", headers=HX).get_data(as_text=True)
    assert "No members match" in filtered


def test_registration_shows_each_error_next_to_its_field_and_saves_nothing(app, client, clerk):
    bad = form_of(1, aadhaar="234123412347", mobile="12345", pin="022001", date_of_birth="2012-01-01")
    response = client.post("/staff/members/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "check digit does not match" in field_block(page, "aadhaar")
    assert "10 digits; this has 5" in field_block(page, "mobile")
    assert "cannot start with 0" in field_block(page, "pin")
    assert "needs a guardian" in page
    assert "Nothing was saved" in page
    assert count_members() == 0


def test_registration_refuses_a_duplicate_aadhaar(app, client, clerk):
    first = members.register(member_data(1), by=clerk)
    uow.commit()
    response = client.post("/staff/members/new", data=form_of(2, aadhaar=aadhaar(1)))
    assert response.status_code == 422
    assert f"already registered to member {first.member_no}" in field_block(response.get_data(as_text=True), "aadhaar")
    assert count_members() == 1


def test_registration_and_profile_show_only_masked_identity(app, client, clerk):
    response = client.post("/staff/members/new", data=form_of(1))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    member = db.session.scalar(select(Member))
    assert response.headers["Location"].endswith(f"/staff/members/{member.member_no}")
    profile = client.get(f"/staff/members/{member.member_no}").get_data(as_text=True)
    assert f"XXXX XXXX {aadhaar(1)[-4:]}" in profile
    assert aadhaar(1) not in profile and aadhaar(1)[:4] + " " + aadhaar(1)[4:8] not in profile
    assert pan(1) not in profile and member.pan_masked in profile
    assert "Ramesh Patil" in profile and "100.00%" in profile
    assert "Accounts and loans" in profile and "No accounts yet" in profile
    assert "Applicant" in profile and "KYC pending" in profile


def test_live_field_check(app, client, clerk):
    bad = client.post("/staff/members/check/aadhaar", data={"aadhaar": "234123412347"}, headers=HX)
    assert bad.status_code == 200 and "check digit does not match" in bad.get_data(as_text=True)
    good = client.post("/staff/members/check/aadhaar", data={"aadhaar": "2341 2341 2346"}, headers=HX)
    assert "XXXX XXXX 2346" in good.get_data(as_text=True) and 'class="error"' not in good.get_data(as_text=True)
    assert "starts with 6, 7, 8 or 9" in client.post(
        "/staff/members/check/mobile", data={"mobile": "5123456789"}
    ).get_data(as_text=True)
    assert client.post("/staff/members/check/name", data={}).status_code == 404


def test_upload_refuses_a_disguised_file_and_accepts_a_real_one(app, client, clerk):
    member = members.register(member_data(1), by=clerk)
    uow.commit()
    url = f"/staff/members/{member.member_no}/documents"
    exe = (b"MZ\x90\x00" + b"\x00" * 300, "pan.pdf")
    response = client.post(url, data={"doc_type": "pan", "file": (__import__("io").BytesIO(exe[0]), exe[1])})
    assert response.status_code == 422
    assert "Windows program" in response.get_data(as_text=True)
    inline = client.post(url, data={"doc_type": "pan", "file": (__import__("io").BytesIO(exe[0]), exe[1])}, headers=HX)
    assert inline.status_code == 200 and "Windows program" in inline.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(KycDocument)) == 0
    ok = client.post(url, data={"doc_type": "pan", "file": (__import__("io").BytesIO(PDF), "pan.pdf")})
    assert ok.status_code == 302
    (doc,) = db.session.scalars(select(KycDocument)).all()
    assert (doc.doc_type, doc.content_type, doc.status) == ("pan", "application/pdf", "pending")


def test_document_view_needs_the_permission_and_is_audited(app, client, make_user, books):
    clerk = make_user("clerk")
    make_user("cashier")
    member = members.register(member_data(1), by=clerk)
    doc = kyc.upload_document(member, "photo", PNG, filename="p.png", by=clerk)
    uow.commit()
    url = f"/staff/members/{member.member_no}/documents/{doc.id}"
    login_as(client, "cashier_user", PASSWORD)
    assert client.get(url).status_code == 403
    client.post("/auth/logout")
    login_as(client, "clerk_user", PASSWORD)
    response = client.get(url)
    assert response.status_code == 200 and response.data == PNG
    assert response.mimetype == "image/png" and "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
    other = members.register(member_data(2), by=clerk)
    uow.commit()
    assert client.get(f"/staff/members/{other.member_no}/documents/{doc.id}").status_code == 404
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "kyc.document_view")) == 1


def test_kyc_review_queue_inline_decisions_and_maker_refusal(app, client, make_user, books):
    clerk = make_user("clerk")
    manager = make_user("manager")
    member = members.register(member_data(1), by=clerk)
    upload_all(member, clerk)
    kyc.submit(member, by=clerk)
    mine = members.register(member_data(2), by=manager)  # the manager is this one's maker
    upload_all(mine, clerk)
    kyc.submit(mine, by=clerk)
    uow.commit()

    login_as(client, "clerk_user", PASSWORD)
    assert client.get("/staff/kyc").status_code == 403
    assert client.post(f"/staff/members/{member.member_no}/kyc/approve").status_code == 403
    client.post("/auth/logout")

    login_as(client, "manager_user", PASSWORD)
    queue = client.get("/staff/kyc").get_data(as_text=True)
    assert member.name in queue and "Verify all documents and approve" in queue  # every document still waits
    assert "You prepared this KYC" in queue  # shown for the manager's own registration
    for doc in kyc.current_documents(member):
        response = client.post(f"/staff/kyc/documents/{doc.id}/verify", data={"from": "queue"}, headers=HX)
        assert response.status_code == 200 and "Verified" in response.get_data(as_text=True)
        assert "toast" in response.headers["HX-Trigger"]
    assert "Approve KYC" in response.get_data(as_text=True)  # all reviewed: the plain approval
    response = client.post(f"/staff/members/{member.member_no}/kyc/approve", data={"from": "queue"}, headers=HX)
    assert response.status_code == 200 and "KYC approved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert members.get(member.member_no).kyc_status == "approved"

    refused = client.post(f"/staff/members/{mine.member_no}/kyc/approve", headers=HX)
    assert "different officer" in refused.headers["HX-Trigger"]
    db.session.expire_all()
    assert members.get(mine.member_no).kyc_status == "submitted"
    plain = client.post(f"/staff/members/{mine.member_no}/kyc/approve")
    assert plain.status_code == 302
    assert "different officer" in client.get(plain.headers["Location"]).get_data(as_text=True)


def till(make_user):
    """A cashier with a drawer open: fees and shares paid in cash go through it."""
    from app.services.counter import teller

    user = make_user("cashier")
    teller.open_drawer(user, 0)
    uow.commit()
    return user


def test_admission_screen_receipt_and_minimum_shares(app, client, make_user, books):
    clerk = make_user("clerk")
    manager = make_user("manager")
    member = ready_member(clerk, manager)
    login_as(client, "clerk_user", PASSWORD)
    page = client.get(f"/staff/members/{member.member_no}/admit").get_data(as_text=True)
    assert "₹1,100.00" in page  # 10 × ₹100 + ₹100 fee, the default
    total = client.get(f"/staff/members/{member.member_no}/admit?shares=12", headers=HX).get_data(as_text=True)
    assert "₹1,300.00" in total and "<html" not in total
    short = client.post(f"/staff/members/{member.member_no}/admit", data={"shares": "5", "mode": "cash"})
    assert short.status_code == 422 and "at least 10 shares" in short.get_data(as_text=True)
    db.session.expire_all()
    assert members.get(member.member_no).status == "applicant"
    # A clerk has no cash drawer: cash is taken at the counter.
    no_till = client.post(f"/staff/members/{member.member_no}/admit", data={"shares": "10", "mode": "cash"})
    assert no_till.status_code == 422 and "no cash drawer open" in no_till.get_data(as_text=True)
    db.session.expire_all()
    assert members.get(member.member_no).status == "applicant"
    till(make_user)
    client.post("/auth/logout")
    login_as(client, "cashier_user", PASSWORD)
    done = client.post(f"/staff/members/{member.member_no}/admit", data={"shares": "10", "mode": "cash"})
    assert done.status_code == 302 and "/receipts/" in done.headers["Location"]
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "₹1,100.00" in receipt and "SC000001" in receipt and "shares 1–10" in receipt
    profile = client.get(f"/staff/members/{member.member_no}").get_data(as_text=True)
    assert "Active" in profile and "10 × ₹100.00" in profile and "SH" in profile
    counter = client.get("/teller").get_data(as_text=True)  # the cash is in this cashier's drawer
    assert "Admission fee and shares" in counter and "1,100.00" in counter


def test_share_refund_request_and_inline_approval(app, client, make_user, books):
    clerk = make_user("clerk")
    manager = make_user("manager")
    member = ready_member(clerk, manager)
    shares.admit(member, shares=20, mode="cash", by=till(make_user))
    uow.commit()
    login_as(client, "cashier_user", PASSWORD)  # the refund is paid in cash from this cashier's drawer
    refused = client.post(
        f"/staff/members/{member.member_no}/shares/refund",
        data={"shares": "15", "mode": "cash", "reason": "School fees"},
    )
    assert refused.status_code == 422 and "keep at least 10 shares" in refused.get_data(as_text=True)
    sent = client.post(
        f"/staff/members/{member.member_no}/shares/refund",
        data={"shares": "5", "mode": "cash", "reason": "School fees"},
    )
    assert sent.status_code == 302
    (req,) = shares.pending_requests(member)
    assert client.post(f"/staff/shares/requests/{req.id}/approve").status_code == 403  # cashiers cannot approve
    client.post("/auth/logout")
    login_as(client, "manager_user", PASSWORD)
    approved = client.post(f"/staff/shares/requests/{req.id}/approve", headers=HX)
    assert approved.status_code == 200 and "HX-Redirect" not in approved.headers
    assert "approved and posted" in json.loads(approved.headers["HX-Trigger"])["toast"]["message"]
    section = approved.get_data(as_text=True)
    assert section.lstrip().startswith('<section class="panel" id="shares">') and "Waiting for approval" not in section
    db.session.expire_all()
    assert shares.shares_held(members.get(member.member_no)) == 15


def test_share_register_page_and_csv(app, client, make_user, books):
    clerk = make_user("clerk")
    member = ready_member(clerk, make_user("manager"))
    shares.admit(member, shares=10, mode="cash", by=till(make_user))
    uow.commit()
    login_as(client, "clerk_user", PASSWORD)
    page = client.get("/staff/shares/register").get_data(as_text=True)
    assert "Agrees with the certificates" in page and member.member_no in page
    csv_response = client.get("/staff/shares/register?format=csv")
    assert csv_response.mimetype == "text/csv" and "attachment" in csv_response.headers["Content-Disposition"]
    lines = csv_response.get_data(as_text=True).strip().splitlines()
    assert lines[0].startswith("certificate_no,member_no") and lines[1].startswith(f"SC000001,{member.member_no},")


def test_kyc_due_page_and_status_change(app, client, make_user, books):
    clerk = make_user("clerk")
    member = ready_member(clerk, make_user("manager"), kyc_risk="high")
    shares.admit(member, shares=10, mode="cash", by=till(make_user))
    member.rekyc_due_on = member.rekyc_due_on.replace(year=2026, month=3, day=1)
    uow.commit()
    login_as(client, "clerk_user", PASSWORD)
    page = client.get("/staff/members/kyc-due").get_data(as_text=True)
    assert member.member_no in page and "Overdue 31 d" in page
    response = client.post(
        f"/staff/members/{member.member_no}/status", data={"status": "inactive", "reason": "Moved away"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert members.get(member.member_no).status == "inactive"


def test_pages_render_for_every_role_that_may_see_them(app, client, make_user, books):
    clerk = make_user("clerk")
    member = ready_member(clerk, make_user("manager"))
    for role in ("auditor", "cashier", "accountant", "admin"):
        make_user(role)
        client.post("/auth/logout")
        login_as(client, f"{role}_user", PASSWORD)
        assert client.get("/staff/members").status_code == 200
        page = client.get(f"/staff/members/{member.member_no}").get_data(as_text=True)
        assert member.name in page
        assert ("Register member" in client.get("/staff/members").get_data(as_text=True)) is False


def test_edit_prefills_keeps_the_aadhaar_and_resets_kyc_on_identity_change(app, client, make_user, books):
    clerk = make_user("clerk")
    member = ready_member(clerk, make_user("manager"))
    login_as(client, "clerk_user", PASSWORD)
    page = client.get(f"/staff/members/{member.member_no}/edit").get_data(as_text=True)
    assert 'value="Sinnar"' in page and aadhaar(1) not in page and "Leave blank to keep it" in page
    form = form_of(1, aadhaar="", address_line="22, Market Yard")
    response = client.post(f"/staff/members/{member.member_no}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    db.session.expire_all()
    edited = members.get(member.member_no)
    assert edited.address_line == "22, Market Yard" and edited.kyc_status == "pending"
    assert edited.aadhaar_last4 == aadhaar(1)[-4:]
    bad = client.post(f"/staff/members/{member.member_no}/edit", data=form_of(1, aadhaar="", pin="12345"))
    assert bad.status_code == 422 and "exactly 6 digits" in field_block(bad.get_data(as_text=True), "pin")


# ---------------------------------------------------------------- audit fixes: uploads, branch, Form 60, shares


def too_big() -> tuple:
    """A file over MAX_CONTENT_LENGTH (8 MB): refused before the form is read."""
    return (__import__("io").BytesIO(b"%PDF-" + b"0" * (8 * 1024 * 1024 + 10)), "scan.pdf")


def test_an_upload_over_the_request_limit_shows_the_limit_next_to_the_file_field(app, client, clerk):
    member = members.register(member_data(1), by=clerk)
    uow.commit()
    url = f"/staff/members/{member.member_no}/documents"
    inline = client.post(url, data={"doc_type": "pan", "file": too_big()}, headers=HX)
    html = inline.get_data(as_text=True)
    assert inline.status_code == 200  # htmx swaps only 2xx: the KYC section comes back with the message
    assert "<html" not in html and 'id="kyc"' in html
    assert re.search(r'aria-invalid="true">.*?larger than the 5\.0 MB limit', html, re.S)
    assert "larger than the 5.0 MB limit" in inline.headers["HX-Trigger"]
    plain = client.post(url, data={"doc_type": "pan", "file": too_big()})
    page = plain.get_data(as_text=True)
    assert plain.status_code == 413 and "<html" in page and member.name in page
    assert re.search(r'class="error" role="alert">The file is larger than the 5\.0 MB limit', page)
    assert db.session.scalar(select(func.count()).select_from(KycDocument)) == 0
    # Any other staff form keeps the usual error page.
    other = client.post("/staff/members/new", data={"name": "x", "blob": "0" * (8 * 1024 * 1024 + 10)})
    assert other.status_code == 413 and "Request Entity Too Large" in other.get_data(as_text=True)
    assert member.name not in other.get_data(as_text=True)


def test_an_oversized_upload_with_csrf_protection_on_gets_the_same_message(tmp_path):
    """With CSRF on (production) the token check reads the form before the view and its permission
    check: the 413 comes from there, and only a user who may upload sees the member's KYC section."""
    from app.services.access import staff_auth
    from app.services.common import SYSTEM, acting_as
    from tests.conftest import make_app, open_books

    application = make_app(
        f"sqlite:///{tmp_path / 'csrf.db'}", DOCUMENT_STORAGE_DIR=str(tmp_path / "docs"), WTF_CSRF_ENABLED=True
    )
    with application.app_context(), acting_as(SYSTEM):
        db.create_all()
        open_books()
        clerk = staff_auth.create_user(username="clerk_user", password=PASSWORD, role="clerk")
        staff_auth.create_user(username="cashier_user", password=PASSWORD, role="cashier")
        member = members.register(member_data(1), by=clerk)
        uow.commit()
        member_no = member.member_no
        db.session.remove()
    url = f"/staff/members/{member_no}/documents"

    def sign_in(username: str):  # requests run outside the set-up's app context (flask-wtf caches tokens in g)
        client = application.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/auth/login").text).group(1)
        signed = client.post("/auth/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert signed.status_code == 302
        return client, token

    anonymous = application.test_client().post(url, data={"doc_type": "pan", "file": too_big()}, headers=HX)
    assert anonymous.status_code == 413 and 'id="kyc"' not in anonymous.text
    cashier, token = sign_in("cashier_user")
    refused = cashier.post(url, data={"csrf_token": token, "doc_type": "pan", "file": too_big()}, headers=HX)
    assert refused.status_code == 413 and 'id="kyc"' not in refused.text and member_no not in refused.text
    client, token = sign_in("clerk_user")
    inline = client.post(url, data={"csrf_token": token, "doc_type": "pan", "file": too_big()}, headers=HX)
    assert inline.status_code == 200 and "larger than the 5.0 MB limit" in inline.text
    assert 'id="kyc"' in inline.text and f"/staff/members/{member_no}/documents" in inline.text
    with application.app_context():
        assert db.session.scalar(select(func.count()).select_from(KycDocument)) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_non_numeric_branch_is_a_field_error(app, client, clerk):
    response = client.post("/staff/members/new", data={**form_of(1), "branch_id": "HO; drop"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'name="branch_id".*?<small class="error">Choose a branch from the list\.</small>', page, re.S)
    unknown = client.post("/staff/members/new", data={**form_of(1), "branch_id": "999"})
    assert unknown.status_code == 422 and "No such branch" in unknown.get_data(as_text=True)
    assert count_members() == 0
    # Other problems are reported together with the branch.
    both = client.post("/staff/members/new", data={**form_of(1, pin="12"), "branch_id": "x"})
    assert "Choose a branch from the list." in both.text and "exactly 6 digits" in both.text


def test_the_form60_box_at_registration_does_not_put_form60_on_file(app, client, clerk):
    response = client.post("/staff/members/new", data={**form_of(1, pan=""), "form60": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    member = db.session.scalar(select(Member))
    assert member.form60_on_file is False and not members.has_pan_or_form60(member)
    assert "No PAN / Form 60" in client.get(f"/staff/members/{member.member_no}").text
    edit = client.get(f"/staff/members/{member.member_no}/edit").text
    assert "only when a reviewer verifies the uploaded Form 60" in edit


def test_a_double_submitted_share_purchase_posts_once(app, client, make_user, books):
    from app.models.ledger import JournalEntry

    clerk = make_user("clerk")
    member = ready_member(clerk, make_user("manager"))
    shares.admit(member, shares=10, mode="cash", by=till(make_user))
    uow.commit()
    login_as(client, "cashier_user", PASSWORD)
    url = f"/staff/members/{member.member_no}/shares/buy"
    page = client.get(url).text
    nonce = re.search(r'id="nonce" name="nonce" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    assert nonce not in client.get(url).text  # every rendered form gets its own token
    form = {"shares": "5", "mode": "cash", "nonce": nonce}
    first = client.post(url, data=form)
    second = client.post(url, data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same receipt
    db.session.expire_all()
    member = members.get(member.member_no)
    assert shares.shares_held(member) == 15
    assert len(db.session.scalars(select(JournalEntry).where(JournalEntry.kind == "shares")).all()) == 1
    # Without its token the form is refused and nothing is posted.
    stale = client.post(url, data={"shares": "5", "mode": "cash"})
    assert stale.status_code == 422 and "out of date" in stale.text
    assert re.search(r'name="nonce" type="hidden" value="[0-9a-f]{32}"', stale.text)
    db.session.expire_all()
    assert shares.shares_held(members.get(member.member_no)) == 15


def test_htmx_kyc_actions_swap_the_section_with_a_toast(app, client, clerk):
    """Upload and "Submit KYC for review" answer with the KYC section that changed, not a
    redirect to the same page (which only moves the anchor)."""
    member = members.register(member_data(3), by=clerk)
    uow.commit()
    url = f"/staff/members/{member.member_no}/documents"
    for doc_type, body, name in (
        ("photo", PNG, "p.png"),
        ("signature", PNG, "s.png"),
        ("pan", PDF, "pan.pdf"),
        ("aadhaar", PDF, "a.pdf"),
    ):
        answer = client.post(
            url, data={"doc_type": doc_type, "file": (__import__("io").BytesIO(body), name)}, headers=HX
        )
        assert answer.status_code == 200 and "HX-Redirect" not in answer.headers
        assert json.loads(answer.headers["HX-Trigger"])["toast"]["level"] == "success"
    section = answer.get_data(as_text=True)
    assert section.lstrip().startswith('<section class="panel" id="kyc">')
    assert "No documents uploaded yet" not in section and section.count('id="doc-') == 4
    submitted = client.post(f"/staff/members/{member.member_no}/kyc/submit", headers=HX)
    assert submitted.status_code == 200 and "HX-Redirect" not in submitted.headers
    assert "submitted for review" in json.loads(submitted.headers["HX-Trigger"])["toast"]["message"]
    assert "Submitted" in submitted.get_data(as_text=True)
    db.session.expire_all()
    assert members.get(member.member_no).kyc_status == "submitted"
    history = client.post(
        f"/staff/members/{member.member_no}/status", data={"status": "bogus", "reason": ""}, headers=HX
    )
    assert history.status_code == 200 and 'id="history"' in history.get_data(as_text=True)
    assert json.loads(history.headers["HX-Trigger"])["toast"]["level"] == "error"


def test_clerk_open_form_defaults_to_transfer_and_the_full_nominee(app, client, clerk):
    member = members.register(member_data(4), by=clerk)
    uow.commit()
    (nominee,) = member.nominees
    html = client.get(f"/staff/deposits/open?member_no={member.member_no}").get_data(as_text=True)
    assert re.search(r'<option selected value="transfer">|<option value="transfer" selected>', html)
    assert re.search(rf'<option selected value="{nominee.id}">|<option value="{nominee.id}" selected>', html)
    assert "e.g. HO000123" in html


def test_member_search_by_aadhaar_tail_and_account_number_works_without_js(app, client, clerk):
    member = members.register(member_data(5), by=clerk)
    uow.commit()
    account = new_account()
    account.member_id = member.id
    uow.commit()
    for q in (member.aadhaar_last4, member.member_no, account.account_no.lower()):
        html = client.get(f"/staff/members?q={q}").get_data(as_text=True)  # a plain GET: Enter, no JS
        assert member.member_no in html, q


def test_verify_all_documents_and_approve_in_one_step(app, client, make_user, books):
    clerk = make_user("clerk")
    make_user("manager")
    member = members.register(member_data(3), by=clerk)
    upload_all(member, clerk)
    kyc.submit(member, by=clerk)
    uow.commit()
    login_as(client, "manager_user", PASSWORD)
    one_by_one = client.post(f"/staff/members/{member.member_no}/kyc/approve", headers=HX)
    assert "every document first" in one_by_one.headers["HX-Trigger"]  # without the ask: one by one
    db.session.expire_all()
    assert members.get(member.member_no).kyc_status == "submitted"
    response = client.post(f"/staff/members/{member.member_no}/kyc/approve", data={"verify_pending": "1"}, headers=HX)
    assert response.status_code == 200 and "KYC approved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert members.get(member.member_no).kyc_status == "approved"
    assert {d.status for d in kyc.current_documents(members.get(member.member_no))} == {"verified"}
