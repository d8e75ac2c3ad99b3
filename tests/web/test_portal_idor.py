"""IDOR suite: member A, signed in to the portal and the API, asks for every page and member
endpoint with member B's numbers — each answers 404, exactly as a number that does not exist."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models.portal import StatementFile
from app.services.common import uow
from tests.conftest import BUSINESS_DATE
from tests.integration.portal.helpers import (
    PASSWORD,
    account_of,
    last_code,
    member_with_login,
    sign_in,
    sms_fixture,  # noqa: F401  (the "sms" fixture)
)

DAY = BUSINESS_DATE.isoformat()


@pytest.fixture
def two_members(books, client, sms):
    a, _ = member_with_login(mobile="9700000001", name="Asha Jadhav")
    b, _ = member_with_login(mobile="9700000002", name="Bhaskar Shinde")
    a_sb = account_of(a, opening_paise=10_000_00)
    b_sb = account_of(b, opening_paise=20_000_00)
    b_fd = account_of(b, kind="fd", opening_paise=50_000_00)
    b_loan = account_of(b, kind="loan", opening_paise=1_00_000_00)
    b_file = StatementFile(
        token="b" * 32, account_id=b_sb.id, requested_by_member_id=b.id, start_date=BUSINESS_DATE,
        end_date=BUSINESS_DATE, language="en", status="ready", pdf=b"%PDF-1.4 other", lines=1, pages=1,
    )  # fmt: skip
    db.session.add(b_file)
    uow.commit()
    sign_in(client, "9700000001")
    login = client.post("/api/v1/auth/login", json={"mobile": "9700000001", "password": PASSWORD}).get_json()
    pair = client.post("/api/v1/auth/otp", json={"otp_token": login["otp_token"], "code": last_code("9700000001")})
    headers = {"Authorization": f"Bearer {pair.get_json()['access_token']}"}
    return {"a_sb": a_sb, "b_sb": b_sb, "b_fd": b_fd, "b_loan": b_loan, "b_file": b_file, "b": b, "headers": headers}


PORTAL_GETS = [
    "/portal/accounts/{b_sb}",
    "/portal/accounts/{b_fd}",
    "/portal/accounts/{b_loan}",
    "/portal/accounts/{b_sb}?page=2",
    "/portal/loans/{b_loan}",
    "/portal/statements/{b_file}",
    "/portal/statements/{b_file}/download",
]


def _fill(path: str, d: dict) -> str:
    return path.format(
        b_sb=d["b_sb"].account_no, b_fd=d["b_fd"].account_no, b_loan=d["b_loan"].account_no, b_file=d["b_file"].token
    )


@pytest.mark.parametrize("path", PORTAL_GETS)
def test_portal_pages_answer_404_for_another_members_numbers(client, two_members, path):
    theirs = client.get(_fill(path, two_members))
    missing = client.get(
        _fill(
            path,
            {
                **two_members,
                "b_sb": _Num("ZZ00000001"),
                "b_fd": _Num("ZZ00000002"),
                "b_loan": _Num("ZZ00000003"),
                "b_file": _Tok("0" * 32),
            },
        )
    )
    assert theirs.status_code == 404 and missing.status_code == 404
    assert "Bhaskar" not in theirs.get_data(as_text=True)


class _Num:
    def __init__(self, n):
        self.account_no = n


class _Tok:
    def __init__(self, t):
        self.token = t


def test_portal_posts_answer_404_for_another_members_numbers(client, two_members):
    d = two_members
    statement = client.post("/portal/statements", data={"account": d["b_sb"].account_no, "start": DAY, "end": DAY})
    assert statement.status_code == 404
    transfer = client.post(
        "/portal/transfer",
        data={"from_account": d["b_sb"].account_no, "to_account": d["a_sb"].account_no, "amount": "10"},
    )
    assert transfer.status_code == 404
    db.session.expire_all()
    assert d["b_sb"].balance_paise == 20_000_00 and d["a_sb"].balance_paise == 10_000_00


API_GETS = [
    "/api/v1/me/statements?account_no={b_sb}&from=" + DAY + "&to=" + DAY,
    "/api/v1/me/statements/{b_file}",
    "/api/v1/transactions?account_no={b_sb}",
    "/api/v1/transactions?member_no={b_member}",
    "/api/v1/accounts/{b_sb}",
    "/api/v1/members/{b_member}",
]


@pytest.mark.parametrize("path", API_GETS)
def test_member_api_answers_404_for_another_members_numbers(client, two_members, path):
    d = two_members
    url = path.format(b_sb=d["b_sb"].account_no, b_file=d["b_file"].token, b_member=d["b"].member_no)
    response = client.get(url, headers=d["headers"])
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "Bhaskar" not in response.get_data(as_text=True)


def test_member_api_lists_only_own_data_and_refuses_another_members_source(client, two_members):
    d = two_members
    mine = client.get("/api/v1/me/accounts", headers=d["headers"]).get_json()["items"]
    assert [a["account_no"] for a in mine] == [d["a_sb"].account_no]
    assert mine[0]["type"] == "savings" and mine[0]["balance"] == "10000.00" and mine[0]["status"] == "active"
    assert client.get("/api/v1/me/loans", headers=d["headers"]).get_json() == {"items": []}
    refused = client.post(
        "/api/v1/me/transfers",
        json={"from_account": d["b_sb"].account_no, "to_account": d["a_sb"].account_no, "amount": "10.00"},
        headers={**d["headers"], "Idempotency-Key": "idor-1"},
    )
    assert refused.status_code == 404
    refused_too = client.post(
        "/api/v1/transfers",
        json={"from_account": d["b_sb"].account_no, "to_account": d["a_sb"].account_no, "amount": "10.00"},
        headers={**d["headers"], "Idempotency-Key": "idor-2"},
    )
    assert refused_too.status_code == 404
    db.session.expire_all()
    assert d["b_sb"].balance_paise == 20_000_00
