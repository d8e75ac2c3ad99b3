"""Member API (DESIGN.md §9): create/read, KYC upload and approval, admission, self-registration
with an SMS code, member sign-in and the member's own data only."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.members import Member, MemberLogin, Notification
from app.services import ledger, members
from app.services.common import notifications, uow
from app.services.members import shares
from tests.conftest import PASSWORD, make_app
from tests.helpers.members import PDF, PNG, aadhaar, member_data, pan, ready_member

LOGIN = "/api/v1/auth/login"


def body_of(n: int = 1, **overrides) -> dict:
    """A POST /v1/members body in the contract's shape."""
    return {
        "name": "Sunita Ramesh Patil",
        "date_of_birth": "1985-06-15",
        "gender": "female",
        "mobile": f"98{n:08d}",
        "email": f"sunita{n}@example.in",
        "address": {
            "line1": "14, Shivaji Chowk",
            "city": "Sinnar",
            "district": "Nashik",
            "state": "Maharashtra",
            "pin": "422103",
        },
        "pan": pan(n),
        "aadhaar": aadhaar(n),
        **overrides,
    }


def token(client, username: str) -> dict[str, str]:
    response = client.post(LOGIN, json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


# What the SMS gateway was handed: (recipient, text). The outbox keeps no live code once sent.
DELIVERED: list[tuple[str, str]] = []


@pytest.fixture(autouse=True)
def sms_gateway(monkeypatch):
    """Record every delivered message (the stored outbox copy has its code removed)."""
    original = notifications.deliver
    DELIVERED.clear()

    def deliver(row, text):
        DELIVERED.append((row.recipient, text))
        original(row, text)

    monkeypatch.setattr(notifications, "deliver", deliver)
    yield DELIVERED
    DELIVERED.clear()


def last_code(mobile: str) -> str:
    """The code in the last SMS delivered to the mobile."""
    text = next(text for recipient, text in reversed(DELIVERED) if recipient == mobile)
    return re.search(r"\b(\d{6})\b", text).group(1)


@pytest.fixture
def staff(books, make_user):
    users = {r: make_user(r) for r in ("clerk", "manager", "cashier", "auditor")}
    users["manager2"] = make_user("manager", username="manager_two")
    return users


# ---------------------------------------------------------------- staff endpoints


def test_create_and_read_a_member(client, staff):
    headers = token(client, "clerk_user")
    response = client.post("/api/v1/members", json=body_of(1), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()
    assert data["member_no"] == "M000001" and data["kyc_status"] == "pending" and data["status"] == "applicant"
    assert data["aadhaar"] == f"XXXX XXXX {aadhaar(1)[-4:]}" and data["pan"] == pan(1)[:2] + "XXXXX" + pan(1)[7:]
    assert aadhaar(1) not in response.get_data(as_text=True)
    assert data["address"] == body_of(1)["address"]
    assert response.headers["Location"] == "/api/v1/members/M000001"
    read = client.get("/api/v1/members/m000001", headers=token(client, "auditor_user"))
    assert read.status_code == 200 and read.get_json()["member_no"] == "M000001"
    assert aadhaar(1) not in read.get_data(as_text=True)
    assert read.headers["Cache-Control"] == "no-store"
    problem(client.get("/api/v1/members/M999999", headers=headers), 404)
    problem(client.post("/api/v1/members", json=body_of(2), headers=token(client, "cashier_user")), 403)
    problem(client.post("/api/v1/members", json=body_of(2)), 401)


def test_bad_member_input_is_a_422_with_field_errors(client, staff):
    headers = token(client, "clerk_user")
    bad = body_of(1, aadhaar="234123412347", mobile="5123456789", date_of_birth="2015-01-01")
    bad["address"] = {**bad["address"], "pin": "022001"}
    body = problem(client.post("/api/v1/members", json=bad, headers=headers), 422)
    assert "check digit" in body["errors"]["aadhaar"][0]
    assert "starts with 6, 7, 8 or 9" in body["errors"]["mobile"][0]
    assert "cannot start with 0" in body["errors"]["address.pin"][0]
    assert "needs a guardian" in body["errors"]["guardian.name"][0]
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert client.post("/api/v1/members", json=body_of(1), headers=headers).status_code == 201
    dup = problem(client.post("/api/v1/members", json=body_of(2, aadhaar=aadhaar(1), pan=pan(1)), headers=headers), 422)
    assert set(dup["errors"]) == {"aadhaar", "pan"}
    minor = body_of(3, date_of_birth="2015-01-01", guardian={"name": "Ramesh Patil", "relation": "father"})
    assert client.post("/api/v1/members", json=minor, headers=headers).status_code == 201
    problem(client.post("/api/v1/members", data="nope", headers=headers), 400)


def test_kyc_upload_and_approval_with_maker_checker(client, staff):
    clerk, manager = token(client, "clerk_user"), token(client, "manager_user")
    created = client.post("/api/v1/members", json=body_of(1), headers=manager).get_json()
    url = f"/api/v1/members/{created['member_no']}/kyc"
    exe = problem(
        client.post(url, data={"doc_type": "pan", "file": (io.BytesIO(b"MZ" + b"\0" * 99), "pan.pdf")}, headers=clerk),
        422,
    )
    assert "Windows program" in exe["errors"]["file"][0]
    missing = problem(client.post(url, data={"doc_type": "pan"}, headers=clerk), 422)
    assert "file" in missing["errors"]
    big = client.post(
        url, data={"doc_type": "pan", "file": (io.BytesIO(b"%PDF-" + b"0" * (9 * 1024 * 1024)), "x.pdf")}, headers=clerk
    )
    assert problem(big, 413)
    for doc_type, blob in (("photo", PNG), ("signature", PNG), ("pan", PDF), ("aadhaar", PDF)):
        response = client.post(
            url, data={"doc_type": doc_type, "file": (io.BytesIO(blob), f"{doc_type}.bin")}, headers=clerk
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["status"] == "pending"
    problem(client.post(f"{url}/approve", json={}, headers=clerk), 403)  # the clerk lacks kyc.review
    refused = problem(client.post(f"{url}/approve", json={}, headers=manager), 403)  # the manager registered it
    assert "different officer" in refused["detail"]
    approved = client.post(f"{url}/approve", json={"remarks": "Originals seen"}, headers=token(client, "manager_two"))
    assert approved.status_code == 200, approved.get_data(as_text=True)
    data = approved.get_json()
    assert data["kyc_status"] == "approved" and data["rekyc_due_on"] == "2036-04-01"
    assert {d["status"] for d in data["documents"]} == {"verified"}


def test_admission_is_idempotent_and_posts_once(client, staff):
    member = ready_member(staff["clerk"], staff["manager"])
    url = f"/api/v1/members/{member.member_no}/admit"
    headers = token(client, "cashier_user")
    problem(client.post(url, json={"shares": 10, "mode": "cash"}, headers=headers), 400)  # no Idempotency-Key
    no_till = problem(
        client.post(url, json={"shares": 10, "mode": "cash"}, headers={**headers, "Idempotency-Key": "adm-t"}), 409
    )
    assert no_till["type"].endswith("/drawer-not-open")  # cash goes through the cashier's open drawer
    from app.services.counter import teller

    teller.open_drawer(staff["cashier"], 0)
    uow.commit()
    short = problem(
        client.post(url, json={"shares": 9, "mode": "cash"}, headers={**headers, "Idempotency-Key": "adm-0"}), 422
    )
    assert "at least 10 shares" in short["errors"]["shares"][0]
    keyed = {**headers, "Idempotency-Key": "adm-1"}
    first = client.post(url, json={"shares": 12, "mode": "cash"}, headers=keyed)
    assert first.status_code == 201, first.get_data(as_text=True)
    data = first.get_json()
    assert (data["status"], data["shares"], data["share_amount"], data["membership_fee"], data["total"]) == (
        "active",
        12,
        "1200.00",
        "100.00",
        "1300.00",
    )
    assert data["certificate_no"] == "SC000001" and (data["first_share_no"], data["last_share_no"]) == (1, 12)
    again = client.post(url, json={"shares": 12, "mode": "cash"}, headers=keyed)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true" and again.get_json() == data
    problem(client.post(url, json={"shares": 13, "mode": "cash"}, headers=keyed), 409)
    problem(client.post(url, json={"shares": 12, "mode": "cash"}, headers={**headers, "Idempotency-Key": "adm-2"}), 409)
    db.session.expire_all()
    assert shares.shares_held(members.get(member.member_no)) == 12
    assert ledger.verify().ok


# ---------------------------------------------------------------- members: self-registration and sign-in


def test_self_registration_otp_profile_and_own_data_only(client, staff):
    response = client.post("/api/v1/auth/register", json={**body_of(5), "password": "Khet-2026-Sinnar"})
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()
    assert data["kyc_status"] == "pending" and data["status"] == "applicant" and data["otp_required"] is True
    member = members.get(data["member_no"])
    assert member.self_registered and member.created_by_id is None
    login = db.session.scalar(select(MemberLogin))
    assert login.verified_at is None and login.password_hash.startswith("scrypt:")
    outbox = db.session.scalars(select(Notification)).all()
    assert [(n.channel, n.recipient, n.template, n.status) for n in outbox] == [
        ("sms", "9800000005", "otp_register", "sent")
    ]

    code = last_code("9800000005")
    assert "is your" in DELIVERED[-1][1] and "\u27e6" not in DELIVERED[-1][1]  # delivered without markers
    db.session.expire_all()
    (stored,) = db.session.scalars(select(Notification)).all()
    assert code not in stored.body and "[code removed] is your" in stored.body  # no live code kept

    wrong = problem(client.post("/api/v1/auth/otp", json={"otp_token": data["otp_token"], "code": "000000"}), 401)
    assert "Wrong code" in wrong["detail"]
    tokens = client.post("/api/v1/auth/otp", json={"otp_token": data["otp_token"], "code": code})
    assert tokens.status_code == 200, tokens.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}
    db.session.expire_all()
    assert db.session.scalar(select(MemberLogin)).verified_at is not None

    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["kind"] == "member" and me["username"] == member.member_no
    assert me["member"]["member_no"] == member.member_no and me["member"]["aadhaar"].startswith("XXXX XXXX ")
    assert aadhaar(5) not in str(me)
    own = client.get(f"/api/v1/members/{member.member_no}", headers=headers)
    assert own.status_code == 200 and own.get_json()["name"] == "Sunita Ramesh Patil"
    other = members.register(member_data(6), by=staff["clerk"])
    uow.commit()
    problem(client.get(f"/api/v1/members/{other.member_no}", headers=headers), 404)
    problem(client.get("/api/v1/members/M999999", headers=headers), 404)
    problem(client.post("/api/v1/members", json=body_of(7), headers=headers), 403)
    problem(client.post(f"/api/v1/members/{member.member_no}/kyc/approve", json={}, headers=headers), 403)

    # Staff /me is unchanged.
    staff_me = client.get("/api/v1/me", headers=token(client, "clerk_user")).get_json()
    assert staff_me == {"kind": "staff", "username": "clerk_user", "role": "clerk", "full_name": "clerk_user"}


def test_self_registration_refuses_bad_input_and_saves_nothing(client, staff):
    response = client.post(
        "/api/v1/auth/register",
        json={**body_of(5, aadhaar="234123412347", mobile="98765"), "password": "short"},
    )
    body = problem(response, 422)
    assert {"aadhaar", "mobile", "password"} <= set(body["errors"])
    assert db.session.scalar(select(func.count()).select_from(Member)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    ok = client.post("/api/v1/auth/register", json={**body_of(5), "password": "Khet-2026-Sinnar"})
    assert ok.status_code == 201
    again = problem(
        client.post("/api/v1/auth/register", json={**body_of(6, mobile="9800000005"), "password": "Khet-2026-Sinnar"}),
        422,
    )
    assert "already has a login" in again["errors"]["mobile"][0]
    dup = problem(
        client.post("/api/v1/auth/register", json={**body_of(7, aadhaar=aadhaar(5)), "password": "Khet-2026-Sinnar"}),
        422,
    )
    assert (
        "already registered with the society" in dup["errors"]["aadhaar"][0] and "M0" not in dup["errors"]["aadhaar"][0]
    )


def test_member_sign_in_is_password_then_sms_code(client, staff):
    member = ready_member(staff["clerk"], staff["manager"])
    from app.services.access import member_auth

    member_auth.create_login(member, "Khet-2026-Sinnar")
    uow.commit()
    problem(client.post(LOGIN, json={"mobile": member.mobile, "password": "wrong-password"}), 401)
    assert db.session.scalar(select(MemberLogin)).failed_logins == 1
    problem(client.post(LOGIN, json={"mobile": "9999999999", "password": "whatever-1"}), 401)
    challenge = client.post(LOGIN, json={"mobile": f"+91 {member.mobile}", "password": "Khet-2026-Sinnar"})
    assert challenge.status_code == 200, challenge.get_data(as_text=True)
    otp_token = challenge.get_json()["otp_token"]
    assert challenge.get_json()["otp_required"] is True
    code = last_code(member.mobile)
    # A second sign-in sends a new code; the first stops working.
    second = client.post(LOGIN, json={"mobile": member.mobile, "password": "Khet-2026-Sinnar"}).get_json()
    problem(client.post("/api/v1/auth/otp", json={"otp_token": otp_token, "code": code}), 401)
    fresh = last_code(member.mobile)
    done = client.post("/api/v1/auth/otp", json={"otp_token": second["otp_token"], "code": fresh})
    assert done.status_code == 200 and set(done.get_json()) >= {"access_token", "refresh_token"}
    problem(client.post("/api/v1/auth/otp", json={"otp_token": second["otp_token"], "code": fresh}), 401)  # used up
    headers = {"Authorization": f"Bearer {done.get_json()['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["member"]["kyc_status"] == "approved"


def test_register_is_rate_limited(tmp_path):
    application = make_app(f"sqlite:///{tmp_path / 'rl.db'}", RATELIMIT_ENABLED=True, RATELIMIT_REGISTER="2 per hour")
    with application.app_context():
        db.create_all()
        client = application.test_client()
        codes = [client.post("/api/v1/auth/register", json={"name": ""}).status_code for _ in range(3)]
        assert codes == [422, 422, 429]
        db.session.remove()
        db.engine.dispose()


def test_member_endpoints_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert {"post"} <= set(paths["/api/v1/members"])
    assert "get" in paths["/api/v1/members/{member_no}"]
    assert paths["/api/v1/members/{member_no}/kyc"]["post"]["requestBody"]["content"].keys() == {"multipart/form-data"}
    admit = paths["/api/v1/members/{member_no}/admit"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in admit["parameters"])
    assert paths["/api/v1/auth/register"]["post"]["security"] == []
    assert "member" in doc["components"]["schemas"]["Me"]["properties"]
    assert paths["/api/v1/members/{member_no}/kyc/approve"]["post"]["x-permission"] == "kyc.review"
