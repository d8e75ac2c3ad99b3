"""API: POST /api/v1/loans, GET .../{loan_no}, approve, disburse, schedule, repayments, foreclosure quote."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import Loan
from app.services import deposits, loans
from app.services.access import tokens
from app.services.common import uow
from tests.conftest import PASSWORD
from tests.deposit_helpers import member, move_to, open_sb


@pytest.fixture
def lbooks(books):
    deposits.seed_products()
    loans.seed_products()
    uow.commit()
    return books


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


def _entries() -> int:
    return db.session.scalar(select(func.count(JournalEntry.id))) or 0


def test_apply_approve_disburse_schedule_repay_quote(lbooks, client, make_user):
    clerk, manager = _token(client, make_user, "clerk"), _token(client, make_user, "manager")
    m = member()
    sb = open_sb(m, 50_000_00)
    r = client.post(
        "/api/v1/loans", json={"member_no": m.member_no, "principal": "1,00,000", "months": 12}, headers=clerk
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["product_code"], body["annual_rate"], body["status"], body["emi"]) == (
        "PL",
        "12.00",
        "applied",
        "8884.88",
    )
    loan_no = body["loan_no"]

    by_admin = client.post(
        f"/api/v1/loans/{loan_no}/approve", json={"remarks": "x"}, headers=_token(client, make_user, "admin")
    )
    assert by_admin.status_code == 200  # the admin is a different user from the clerk who applied
    r = client.post(f"/api/v1/loans/{loan_no}/disburse", json={"to_account": sb.account_no},
                    headers={**clerk, "Idempotency-Key": "disb-1"})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    read = client.get(f"/api/v1/loans/{loan_no}", headers=manager).get_json()
    assert (read["status"], read["outstanding_principal"], read["overdue"], read["dpd"], read["asset_class"]) == (
        "active",
        "100000.00",
        "0.00",
        0,
        "standard",
    )
    assert (read["next_due_date"], read["next_due_amount"]) == ("2026-05-01", "8884.88")

    sched = client.get(f"/api/v1/loans/{loan_no}/schedule", headers=clerk).get_json()
    assert sched["version"] == 1 and len(sched["schedule"]) == 12
    first = sched["schedule"][0]
    assert (first["installment"], first["due_date"], first["emi"], first["interest"], first["balance"], first["paid"],
            first["status"]) == (1, "2026-05-01", "8884.88", "1000.00", "92115.12", "0.00", "due")  # fmt: skip

    no_key = client.post(f"/api/v1/loans/{loan_no}/repayments", json={"amount": "8884.88", "mode": "transfer",
                                                                       "from_account": sb.account_no}, headers=clerk)  # fmt: skip
    assert no_key.status_code in (400, 428) and no_key.content_type.startswith("application/problem+json")
    pay = {"amount": "8884.88", "mode": "transfer", "from_account": sb.account_no}
    r1 = client.post(f"/api/v1/loans/{loan_no}/repayments", json=pay, headers={**clerk, "Idempotency-Key": "pay-1"})
    assert r1.status_code == 201, r1.get_json()
    assert (r1.get_json()["interest"], r1.get_json()["principal"]) == ("1000.00", "7884.88")
    count = _entries()
    r2 = client.post(f"/api/v1/loans/{loan_no}/repayments", json=pay, headers={**clerk, "Idempotency-Key": "pay-1"})
    assert r2.status_code == 201 and r2.headers.get("Idempotent-Replayed") == "true" and _entries() == count

    move_to(date(2026, 4, 16))
    count = _entries()
    q = client.get(f"/api/v1/loans/{loan_no}/foreclosure-quote", headers=clerk).get_json()
    assert q["principal"] == "92115.12"
    too_much = client.post(f"/api/v1/loans/{loan_no}/repayments",
                           json={**pay, "amount": str(int(q["total"].split(".")[0]) + 1)},
                           headers={**clerk, "Idempotency-Key": "pay-2"})  # fmt: skip
    assert too_much.status_code == 422 and "foreclosure" in too_much.get_json()["detail"]
    assert _entries() == count


def test_refusals_are_problem_json_and_members_see_only_their_own_loans(lbooks, client, make_user):
    clerk = _token(client, make_user, "clerk")
    m, other = member(), member()
    r = client.post("/api/v1/loans", json={"member_no": m.member_no, "principal": "5000", "months": 12}, headers=clerk)
    assert r.status_code == 422 and r.content_type.startswith("application/problem+json")
    assert "principal" in r.get_json().get("errors", {})
    r = client.post("/api/v1/loans", json={"member_no": m.member_no, "principal": "50000", "months": 12}, headers=clerk)
    loan_no = r.get_json()["loan_no"]
    by_manager = client.post(
        f"/api/v1/loans/{loan_no}/approve", json={"remarks": "mine"}, headers=_token(client, make_user, "manager")
    )
    assert by_manager.status_code == 200
    unsanctioned = client.post(
        "/api/v1/loans", json={"member_no": m.member_no, "principal": "20000", "months": 12}, headers=clerk
    )
    r = client.post(f"/api/v1/loans/{unsanctioned.get_json()['loan_no']}/disburse", json={"to_account": "X"},
                    headers={**clerk, "Idempotency-Key": "d-x"})  # fmt: skip
    assert r.status_code == 409

    mine = _member_token(m)
    assert client.get(f"/api/v1/loans/{loan_no}", headers=mine).status_code == 200
    theirs = _member_token(other)
    hidden = client.get(f"/api/v1/loans/{loan_no}", headers=theirs)
    missing = client.get("/api/v1/loans/PL99999999", headers=theirs)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["detail"] == missing.get_json()["detail"]
    applied = client.post("/api/v1/loans", json={"principal": "30000", "months": 12}, headers=mine)
    assert applied.status_code == 201 and applied.get_json()["member_no"] == m.member_no
    assert db.session.scalar(select(func.count(Loan.id))) == 3


def test_loan_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/loans", "/api/v1/loans/{loan_no}", "/api/v1/loans/{loan_no}/approve",
                 "/api/v1/loans/{loan_no}/disburse", "/api/v1/loans/{loan_no}/schedule",
                 "/api/v1/loans/{loan_no}/repayments", "/api/v1/loans/{loan_no}/foreclosure-quote"):  # fmt: skip
        assert path in paths, path
