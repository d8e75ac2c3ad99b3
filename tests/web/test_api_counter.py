"""API: /api/v1/accounts/{account_no}/deposit|withdraw and /api/v1/transfers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.api import IdempotencyRecord
from app.models.ledger import Account
from app.models.members import Member
from app.models.teller import CashTransaction
from app.services.access import tokens
from app.services.common import uow
from app.services.counter import teller
from tests.teller_helpers import entry_count, fund_vault, member_account


def token_for(user) -> str:
    return tokens.access_token(tokens.staff_subject(user))[0]


def member_token(monkeypatch, member: Member) -> str:
    """A member access token (the member API's subject loader is stood in for here)."""

    def load(member_id: int) -> tokens.Subject | None:
        row = db.session.get(Member, member_id)
        return tokens.Subject("member", row.id, "member", row.member_no, entity=row) if row else None

    monkeypatch.setitem(tokens._loaders, "member", load)
    return tokens.access_token(tokens.Subject("member", member.id, "member", member.member_no, entity=member))[0]


def call(client, url: str, token: str, body: dict, key: str | None = "k-1"):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(url, json=body, headers=headers)


def balance(account: Account) -> int:
    db.session.expire_all()
    return db.session.get(Account, account.id).balance_paise


@pytest.fixture
def desk(books, make_user):
    """A cashier with an open drawer (₹1,00,000 float), a clerk and two member accounts."""
    fund_vault(5_00_000_00)
    cashier = make_user("cashier", username="kiran")
    teller.open_drawer(cashier, 1_00_000_00)
    uow.commit()
    return {
        "cashier": cashier,
        "token": token_for(cashier),
        "clerk": make_user("clerk", username="ravi"),
        "sb": member_account(opening_paise=10_000_00),
        "other": member_account(opening_paise=5_000_00),
    }


def test_deposit_with_the_same_key_posts_once(client, desk):
    sb = desk["sb"]
    url = f"/api/v1/accounts/{sb.account_no}/deposit"
    body = {"amount": "2500.50", "mode": "cash", "narration": "April savings"}
    first = call(client, url, desk["token"], body)
    assert first.status_code == 201, first.get_data(as_text=True)
    data = first.get_json()
    assert data["status"] == "posted" and data["entry_no"].startswith("JE")
    assert (data["account_no"], data["amount"], data["balance"]) == (sb.account_no, "2500.50", "12500.50")
    assert data["type"] == "deposit" and data["mode"] == "cash" and "April savings" in data["narration"]
    before = entry_count()
    again = call(client, url, desk["token"], body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == data
    assert entry_count() == before and balance(sb) == 12_500_50
    assert db.session.scalar(select(func.count()).select_from(CashTransaction)) == 1
    conflict = call(client, url, desk["token"], {**body, "amount": "10.00"})
    assert conflict.status_code == 409 and balance(sb) == 12_500_50


def test_three_decimal_amount_is_a_422_problem(client, desk):
    sb = desk["sb"]
    before = entry_count()
    response = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": "100.505"})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.get_json()
    assert "two decimal" in problem["detail"] and "amount" in problem["errors"]
    for bad in ("-5.00", 12.5, "abc", None):
        r = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": bad}, key=f"b{bad}")
        assert r.status_code == 422, bad
    assert entry_count() == before
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_withdrawal_beyond_balance_is_422_and_posts_nothing(client, desk):
    sb = desk["sb"]
    before = entry_count()
    response = call(client, f"/api/v1/accounts/{sb.account_no}/withdraw", desk["token"], {"amount": "10000.50"})
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/insufficient-funds")
    assert entry_count() == before and balance(sb) == 10_000_00
    ok = call(client, f"/api/v1/accounts/{sb.account_no}/withdraw", desk["token"], {"amount": "10000.00"}, key="k-2")
    assert ok.status_code == 201 and ok.get_json()["balance"] == "0.00"


def test_missing_key_is_400(client, desk):
    sb = desk["sb"]
    response = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": "10.00"}, key=None)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert balance(sb) == 10_000_00


def test_refusals_unknown_account_no_drawer_wrong_role(client, desk, make_user):
    assert call(client, "/api/v1/accounts/NOPE1/deposit", desk["token"], {"amount": "1.00"}).status_code == 404
    other_cashier = make_user("cashier", username="asha")
    no_drawer = call(
        client, f"/api/v1/accounts/{desk['sb'].account_no}/deposit", token_for(other_cashier), {"amount": "1.00"}
    )
    assert no_drawer.status_code == 409 and "drawer" in no_drawer.get_json()["detail"]
    clerk = call(client, f"/api/v1/accounts/{desk['sb'].account_no}/deposit", token_for(desk["clerk"]), {"amount": "1"})
    assert clerk.status_code == 403
    frozen = desk["other"]
    frozen.status = "frozen"
    uow.commit()
    r = call(client, f"/api/v1/accounts/{frozen.account_no}/deposit", desk["token"], {"amount": "1.00"}, key="f")
    assert r.status_code == 422 and "frozen" in r.get_json()["detail"]


def test_cash_of_50000_without_pan_needs_form60(client, desk):
    no_pan = member_account(pan=False)
    url = f"/api/v1/accounts/{no_pan.account_no}/deposit"
    refused = call(client, url, desk["token"], {"amount": "50000.00"})
    assert refused.status_code == 422 and "form60_ref" in refused.get_json()["errors"]
    ok = call(client, url, desk["token"], {"amount": "50000.00", "form60_ref": "F60/77"}, key="k-2")
    assert ok.status_code == 201 and balance(no_pan) == 50_000_00


def test_form60_in_the_kyc_file_does_not_cover_a_counter_deposit(client, desk):
    """Issue 15: a member without PAN whose KYC file holds a Form 60 deposited any cash."""
    on_file = member_account(pan=False, form60=True)
    url = f"/api/v1/accounts/{on_file.account_no}/deposit"
    before = entry_count()
    refused = call(client, url, desk["token"], {"amount": "60000.00"})
    assert refused.status_code == 422, refused.get_data(as_text=True)
    body = refused.get_json()
    assert "form60_ref" in body["errors"] and "account opening only" in body["detail"]
    assert entry_count() == before and balance(on_file) == 0
    ok = call(client, url, desk["token"], {"amount": "60000.00", "form60_ref": "F60/2026/91"}, key="k-2")
    assert ok.status_code == 201 and balance(on_file) == 60_000_00
    txn = db.session.scalar(select(CashTransaction).where(CashTransaction.account_id == on_file.id))
    assert (txn.id_proof, txn.form60_ref) == ("form60", "F60/2026/91")


def test_large_cash_deposit_answers_202_pending(client, desk):
    """Issue 15: a cash deposit above LARGE_CASH_DEPOSIT_PAISE (₹10 lakh) posted with no checker."""
    sb = desk["sb"]
    r = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": "1000000.50"})
    assert r.status_code == 202, r.get_data(as_text=True)
    data = r.get_json()
    assert data["status"] == "pending_approval" and data["approval_id"] and data["balance"] == "10000.00"
    assert balance(sb) == 10_000_00
    again = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": "1000000.50"})
    assert again.status_code == 202 and again.get_json()["approval_id"] == data["approval_id"]


def test_large_withdrawal_answers_202_pending(client, desk):
    sb = member_account(opening_paise=3_00_000_00)
    fund = call(client, f"/api/v1/accounts/{sb.account_no}/deposit", desk["token"], {"amount": "150000"}, key="f")
    assert fund.status_code == 201
    r = call(client, f"/api/v1/accounts/{sb.account_no}/withdraw", desk["token"], {"amount": "200000.50"})
    assert r.status_code == 202, r.get_data(as_text=True)
    data = r.get_json()
    assert data["status"] == "pending_approval" and data["approval_id"] and data["balance"] == "450000.00"
    assert balance(sb) == 4_50_000_00


def test_staff_transfer_and_transfer_by_mode(client, desk):
    sb, other = desk["sb"], desk["other"]
    token = token_for(desk["clerk"])
    body = {"from_account": sb.account_no, "to_account": other.account_no, "amount": "1,000.25", "mode": "internal"}
    r = call(client, "/api/v1/transfers", token, body)
    assert r.status_code == 201, r.get_data(as_text=True)
    data = r.get_json()
    assert (data["from_account"], data["to_account"], data["amount"], data["balance"]) == (
        sb.account_no,
        other.account_no,
        "1000.25",
        "8999.75",
    )
    assert call(client, "/api/v1/transfers", token, body).headers["Idempotent-Replayed"] == "true"
    assert balance(other) == 6_000_25
    same = call(client, "/api/v1/transfers", token, {**body, "to_account": sb.account_no}, key="k-2")
    assert same.status_code == 422 and "to_account" in same.get_json()["errors"]
    missing = call(client, "/api/v1/transfers", token, {"amount": "1.00"}, key="k-3")
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"from_account", "to_account"}
    upi = call(client, "/api/v1/transfers", token, {**body, "mode": "upi"}, key="k-4")
    assert upi.status_code == 422
    # A deposit by transfer through the counter endpoint.
    dep = call(
        client,
        f"/api/v1/accounts/{other.account_no}/deposit",
        desk["token"],
        {"amount": "25.00", "mode": "transfer", "from_account": sb.account_no},
        key="k-5",
    )
    assert dep.status_code == 201 and dep.get_json()["balance"] == "6025.25"


def test_member_transfers_only_from_own_accounts(client, desk, monkeypatch):
    mine, theirs = desk["sb"], desk["other"]
    token = member_token(monkeypatch, db.session.get(Member, mine.member_id))
    stolen = call(
        client,
        "/api/v1/transfers",
        token,
        {"from_account": theirs.account_no, "to_account": mine.account_no, "amount": "1.00"},
    )
    assert stolen.status_code == 404
    assert stolen.headers["Content-Type"] == "application/problem+json"
    assert balance(theirs) == 5_000_00
    own = call(
        client,
        "/api/v1/transfers",
        token,
        {"from_account": mine.account_no, "to_account": theirs.account_no, "amount": "100.00"},
        key="k-2",
    )
    assert own.status_code == 201 and own.get_json()["balance"] == "9900.00"
    assert balance(theirs) == 5_100_00
    # Members cannot use the counter endpoints.
    assert (
        call(client, f"/api/v1/accounts/{mine.account_no}/deposit", token, {"amount": "1.00"}, key="k-3").status_code
        == 403
    )


def test_openapi_documents_the_counter_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/accounts/{account_no}/deposit",
        "/api/v1/accounts/{account_no}/withdraw",
        "/api/v1/transfers",
    ):
        op = doc["paths"][path]["post"]
        assert any(p["name"] == "Idempotency-Key" for p in op["parameters"]), path
        assert {"201", "202", "404", "422"} <= set(op["responses"])
    assert "member" in doc["paths"]["/api/v1/transfers"]["post"]["description"].lower()
