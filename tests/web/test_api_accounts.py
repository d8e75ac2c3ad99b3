"""API: POST /api/v1/accounts, GET /api/v1/accounts/{account_no}, GET /api/v1/transactions."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.models.teller import CashTransaction
from app.models.users import StaffUser
from app.services import deposits
from app.services.access import tokens
from app.services.common import uow
from app.services.counter import teller
from tests.conftest import PASSWORD
from tests.deposit_helpers import cash_in, member, move_to, open_sb


def _token(client, make_user, role: str) -> dict[str, str]:
    user = make_user(role, username=f"api_{role}")
    response = client.post("/api/v1/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _member_token(m) -> dict[str, str]:
    from app.services.access import member_auth

    login = member_auth.create_login(m, "Member-Pass-123")
    uow.commit()
    access, _ttl = tokens.access_token(member_auth.subject_for(login))
    return {"Authorization": f"Bearer {access}"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_open_savings_is_idempotent(deposit_products, client, make_user):
    auth = _token(client, make_user, "clerk")
    m = member()
    body = {"member_no": m.member_no, "type": "savings", "principal": "1,000", "funding": {"mode": "cash"}}
    no_drawer = client.post("/api/v1/accounts", json=body, headers={**auth, "Idempotency-Key": "open-sb-0"})
    # Cash goes into the API user's own open drawer (counter rules); without one, nothing happens.
    assert no_drawer.status_code == 409 and no_drawer.get_json()["type"].endswith("/drawer-not-open")
    assert _count(Account) == 0 and _count(JournalEntry) == 0
    clerk = db.session.scalar(select(StaffUser).where(StaffUser.username == "api_clerk"))
    teller.open_drawer(clerk, 0)
    uow.commit()
    first = client.post("/api/v1/accounts", json=body, headers={**auth, "Idempotency-Key": "open-sb-1"})
    assert first.status_code == 201, first.get_json()
    data = first.get_json()
    assert data["type"] == "savings" and data["balance"] == "1000.00" and data["interest_rate"] == "3.50"
    assert data["status"] == "active" and data["member_no"] == m.member_no and data["minimum_balance"] == "500.00"
    assert deposits.valid_account_no(data["account_no"])
    again = client.post("/api/v1/accounts", json=body, headers={**auth, "Idempotency-Key": "open-sb-1"})
    assert again.status_code == 201 and again.get_json() == data and again.headers["Idempotent-Replayed"] == "true"
    assert _count(Account) == 2 and _count(JournalEntry) == 1  # the drawer and the new account
    txn = db.session.scalar(select(CashTransaction))
    assert (txn.direction, txn.amount_paise, txn.cashier_id, txn.channel) == ("in", 1_000_00, clerk.id, "api")
    other = client.post(
        "/api/v1/accounts", json={**body, "principal": "2000"}, headers={**auth, "Idempotency-Key": "open-sb-1"}
    )
    assert other.status_code == 409
    missing_key = client.post("/api/v1/accounts", json=body, headers=auth)
    assert missing_key.status_code == 400


def test_open_fd_by_transfer_and_read_it(deposit_products, client, make_user):
    auth = _token(client, make_user, "manager")
    m = member()
    sb = open_sb(m, 60_000_00)
    body = {
        "member_no": m.member_no, "type": "fd", "principal": "50000", "months": 12,
        "funding": {"mode": "transfer", "from_account": sb.account_no},
    }  # fmt: skip
    response = client.post("/api/v1/accounts", json=body, headers={**auth, "Idempotency-Key": "fd-1"})
    assert response.status_code == 201, response.get_json()
    fd = response.get_json()
    # ₹50,000 for 12 months at 7.25 %: 50,000 × 1.018125^4 − 50,000 = 3,724.75 → ₹3,725
    assert fd["interest_rate"] == "7.25" and fd["maturity_date"] == "2027-04-01"
    assert (
        fd["principal"] == "50000.00" and fd["maturity_amount"] == "53725.00" and fd["payout_account"] == sb.account_no
    )
    read = client.get(f"/api/v1/accounts/{fd['account_no']}", headers=auth)
    assert read.status_code == 200 and read.get_json() == fd
    assert client.get("/api/v1/accounts/SB99999999", headers=auth).status_code == 404
    db.session.expire_all()
    assert sb.balance_paise == 10_000_00


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"type": "fd", "principal": "1000.555", "months": 12}, 422, "principal"),
        ({"type": "fd", "principal": "-1000", "months": 12}, 422, "principal"),
        ({"type": "fd", "principal": 5000, "months": 12.5}, 422, "months"),
        ({"type": "fd", "principal": "500", "months": 12}, 422, "principal"),
        ({"type": "fd", "principal": "5000", "days": 2}, 422, "months"),
        ({"type": "rd", "installment": "1000", "principal": "900", "months": 12}, 422, "installment"),
        ({"type": "current", "principal": "5000"}, 422, "type"),
    ],
)
def test_bad_bodies_are_refused_and_post_nothing(deposit_products, client, make_user, body, status, field):
    auth = _token(client, make_user, "clerk")
    m = member()
    response = client.post(
        "/api/v1/accounts", json={"member_no": m.member_no, **body}, headers={**auth, "Idempotency-Key": f"bad-{field}"}
    )
    assert response.status_code == status, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json" and field in problem.get("errors", {})
    assert _count(Account) == 0 and _count(JournalEntry) == 0


def test_kyc_pending_member_and_roles(deposit_products, client, make_user):
    auth = _token(client, make_user, "clerk")
    pending = member(kyc_status="submitted")
    response = client.post(
        "/api/v1/accounts",
        json={"member_no": pending.member_no, "type": "savings", "principal": "1000"},
        headers={**auth, "Idempotency-Key": "kyc-1"},
    )
    assert response.status_code == 422 and "KYC is submitted" in response.get_json()["detail"]
    auditor = _token(client, make_user, "auditor")
    refused = client.post(
        "/api/v1/accounts",
        json={"member_no": pending.member_no, "type": "savings"},
        headers={**auditor, "Idempotency-Key": "k"},
    )
    assert refused.status_code == 403


def test_transactions_with_running_balance_and_pages(deposit_products, client, make_user):
    auth = _token(client, make_user, "accountant")
    m = member()
    sb = open_sb(m, 1_000_00)
    move_to(date(2026, 4, 2))
    cash_in(sb, 250_50)
    cash_in(sb, 99_50)
    response = client.get(f"/api/v1/transactions?account_no={sb.account_no}&per_page=2", headers=auth)
    body = response.get_json()
    assert response.status_code == 200 and body["total"] == 3 and body["pages"] == 2
    assert [(i["date"], i["credit"], i["balance"], i["mode"]) for i in body["items"]] == [
        ("2026-04-01", "1000.00", "1000.00", "Cash"),
        ("2026-04-02", "250.50", "1250.50", "Cash"),
    ]
    page2 = client.get(f"/api/v1/transactions?account_no={sb.account_no}&per_page=2&page=2", headers=auth).get_json()
    assert [i["balance"] for i in page2["items"]] == ["1350.00"]
    ranged = client.get(
        f"/api/v1/transactions?account_no={sb.account_no}&from=2026-04-02&to=2026-04-02", headers=auth
    ).get_json()
    assert ranged["opening_balance"] == "1000.00" and ranged["closing_balance"] == "1350.00" and ranged["total"] == 2
    by_member = client.get(f"/api/v1/transactions?member_no={m.member_no}", headers=auth).get_json()
    assert by_member["total"] == 3
    assert client.get("/api/v1/transactions", headers=auth).status_code == 422
    assert (
        client.get(f"/api/v1/transactions?account_no={sb.account_no}&from=2026-13-01", headers=auth).status_code == 422
    )


def test_members_see_only_their_own_accounts(deposit_products, client):
    me, other = member(mobile="9811111111"), member(name="Someone Else", mobile="9822222222")
    mine, theirs = open_sb(me, 1_000_00), open_sb(other, 2_000_00)
    auth = _member_token(me)
    assert client.get(f"/api/v1/accounts/{mine.account_no}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/accounts/{theirs.account_no}", headers=auth).status_code == 404
    own = client.get("/api/v1/transactions", headers=auth)
    assert own.status_code == 200 and [i["account_no"] for i in own.get_json()["items"]] == [mine.account_no]
    assert client.get(f"/api/v1/transactions?account_no={theirs.account_no}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/transactions?member_no={other.member_no}", headers=auth).status_code == 404
    opened = client.post(
        "/api/v1/accounts",
        json={"member_no": me.member_no, "type": "savings"},
        headers={**auth, "Idempotency-Key": "m1"},
    )
    assert opened.status_code == 403
