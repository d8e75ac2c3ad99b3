"""Member API: own accounts and loans, statement PDFs, transfers with the SMS code step."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.members import MemberOtp
from tests.conftest import BUSINESS_DATE
from tests.integration.portal.helpers import (
    PASSWORD,
    account_of,
    last_code,
    member_with_login,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)

DAY = BUSINESS_DATE.isoformat()


@pytest.fixture
def asha(books, client, sms):
    member, _ = member_with_login(mobile="9700000011", name="Asha Jadhav")
    sb = account_of(member, opening_paise=1_00_000_00)
    login = client.post("/api/v1/auth/login", json={"mobile": "9700000011", "password": PASSWORD}).get_json()
    assert login["otp_required"] is True
    pair = client.post("/api/v1/auth/otp", json={"otp_token": login["otp_token"], "code": last_code("9700000011")})
    assert pair.status_code == 200, pair.get_data(as_text=True)
    return member, sb, {"Authorization": f"Bearer {pair.get_json()['access_token']}"}


def test_me_and_my_accounts(client, asha):
    member, sb, headers = asha
    me = client.get("/api/v1/me", headers=headers).get_json()
    assert me["kind"] == "member" and me["member"]["member_no"] == member.member_no
    items = client.get("/api/v1/me/accounts", headers=headers).get_json()["items"]
    assert items == [
        {
            "account_no": sb.account_no,
            "masked": "X" * (len(sb.account_no) - 4) + sb.account_no[-4:],
            "type": "savings",
            "balance": "100000.00",
            "status": "active",
            "joint": False,
        }
    ]
    assert client.get("/api/v1/me/accounts").status_code == 401


def test_statement_pdf_over_the_api_in_hindi(client, asha):
    _member, sb, headers = asha
    response = client.get(
        f"/api/v1/me/statements?account_no={sb.account_no}&from={DAY}&to={DAY}",
        headers={**headers, "Accept-Language": "hi"},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "प्रारंभिक शेष" in text and "₹1,00,000.00" in text
    bad = client.get(f"/api/v1/me/statements?account_no={sb.account_no}&from=2025-01-01&to={DAY}", headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_transfer_below_the_threshold_is_idempotent(client, asha):
    member, sb, headers = asha
    own = account_of(member)
    body = {"from_account": sb.account_no, "to_account": own.account_no, "amount": "2,500.00"}
    first = client.post("/api/v1/me/transfers", json=body, headers={**headers, "Idempotency-Key": "t-1"})
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post("/api/v1/me/transfers", json=body, headers={**headers, "Idempotency-Key": "t-1"})
    assert again.status_code == 201 and again.get_json()["entry_no"] == first.get_json()["entry_no"]
    assert db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "transfer")) == 1
    db.session.expire_all()
    assert own.balance_paise == 2_500_00
    assert client.post("/api/v1/me/transfers", json=body, headers=headers).status_code == 422  # no key


def test_transfer_above_the_threshold_needs_the_sms_code(client, asha):
    _member, sb, headers = asha
    other, _ = member_with_login(mobile="9700000012", name="Ravi More")
    target = account_of(other)
    body = {"from_account": sb.account_no, "to_account": target.account_no, "amount": "30000"}
    h = {**headers, "Idempotency-Key": "big-1"}
    challenge = client.post("/api/v1/me/transfers", json=body, headers=h)
    assert challenge.status_code == 428 and challenge.get_json()["type"].endswith("otp-required")
    wrong = client.post("/api/v1/me/transfers", json={**body, "otp": "000000"}, headers=h)
    assert wrong.status_code == 401 and "attempt(s) left" in wrong.get_json()["detail"]
    assert db.session.scalar(select(MemberOtp.attempts).where(MemberOtp.purpose == "transfer")) == 1  # counted
    done = client.post("/api/v1/me/transfers", json={**body, "otp": last_code("9700000011")}, headers=h)
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json()["balance"] == "70000.00"
    replay = client.post("/api/v1/me/transfers", json={**body, "otp": "999999"}, headers=h)
    assert replay.status_code == 201 and replay.get_json()["entry_no"] == done.get_json()["entry_no"]
    # the staff-and-member endpoint refuses a member's large transfer without the code step
    plain = client.post("/api/v1/transfers", json=body, headers={**headers, "Idempotency-Key": "big-2"})
    assert plain.status_code == 428
    db.session.expire_all()
    assert target.balance_paise == 30_000_00


def test_transfer_beyond_the_balance_or_to_a_frozen_account_changes_nothing(client, asha):
    member, sb, headers = asha
    frozen = account_of(member, status="frozen")
    over = client.post(
        "/api/v1/me/transfers",
        json={"from_account": sb.account_no, "to_account": frozen.account_no, "amount": "10"},
        headers={**headers, "Idempotency-Key": "f-1"},
    )
    assert over.status_code in (409, 422) and over.mimetype == "application/problem+json"
    db.session.expire_all()
    assert sb.balance_paise == 1_00_000_00 and frozen.balance_paise == 0


def test_openapi_documents_the_member_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/me/accounts", "/api/v1/me/loans", "/api/v1/me/statements", "/api/v1/me/transfers"):
        assert path in paths, path
