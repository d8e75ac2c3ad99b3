"""Idempotency-Key: replays, conflicts, refusals, failures and concurrent duplicates.

The product has no money-moving endpoint yet, so each test registers a tiny test-only
blueprint whose view writes an audit row through the normal unit of work.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from flask import Blueprint, jsonify
from sqlalchemy import func, select

from app.blueprints.api.auth import api_permission
from app.blueprints.api.common import json_body
from app.blueprints.api.idempotency import idempotent
from app.extensions import db
from app.models.api import IdempotencyRecord
from app.models.audit import AuditLog
from app.services.access import staff_auth, tokens
from app.services.common import ValidationError, audit, idempotency, uow
from tests.conftest import PASSWORD

URL = "/api/test/deposits"


def register_deposit_api(app, *, delay: float = 0.0) -> None:
    bp = Blueprint("test_idem", __name__)

    @bp.post(URL)
    @api_permission("transfers.create")
    @idempotent
    def deposit():
        data = json_body()
        audit.record("test.deposit", "account", data.get("account"), after=data)
        uow.commit()  # deferred: only flushes inside @idempotent
        if delay:
            time.sleep(delay)
        if data.get("amount") == "0.00":
            raise ValidationError("Amount must be more than zero.", field="amount")
        if data.get("amount") == "-1.00":
            return jsonify({"refused": True}), 422
        serial = uuid.uuid4().hex  # differs on every real run, so a replay is recognisable
        return jsonify({"amount": data["amount"], "serial": serial}), 201, {"Location": f"/api/test/d/{serial}"}

    app.register_blueprint(bp)


def deposits() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).where(AuditLog.action == "test.deposit"))


def records() -> list[IdempotencyRecord]:
    db.session.expire_all()
    return list(db.session.scalars(select(IdempotencyRecord)))


def token_for(user) -> str:
    return tokens.access_token(tokens.staff_subject(user))[0]


def post(client, token: str, body: dict, key: str | None = "key-1"):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(URL, json=body, headers=headers)


@pytest.fixture
def cashier(app, make_user):
    register_deposit_api(app)
    return make_user("cashier", username="kiran")


def test_same_key_and_body_runs_once_and_replays(client, cashier):
    token = token_for(cashier)
    first = post(client, token, {"account": "SB-1", "amount": "500.00"})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    assert deposits() == 1
    (record,) = records()
    assert (record.scope, record.key, record.response_status) == (f"staff:{cashier.id}", "key-1", 201)
    # Committed and sealed with the work.
    assert db.session.scalar(select(func.count()).where(AuditLog.hash.is_(None))) == 0

    # Same body with its keys in another order: the same request.
    again = client.post(
        URL,
        data='{ "amount": "500.00",  "account": "SB-1" }',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "key-1"},
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert deposits() == 1 and len(records()) == 1

    fresh = post(client, token, {"account": "SB-1", "amount": "500.00"}, key="key-2")
    assert fresh.status_code == 201 and fresh.get_json()["serial"] != first.get_json()["serial"]
    assert deposits() == 2 and len(records()) == 2


def test_same_key_with_another_body_is_409(client, cashier):
    token = token_for(cashier)
    assert post(client, token, {"account": "SB-1", "amount": "500.00"}).status_code == 201
    response = post(client, token, {"account": "SB-1", "amount": "5000.00"})
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("/idempotency-key-reused") and "different request" in body["detail"]
    assert deposits() == 1 and len(records()) == 1


def test_keys_are_scoped_to_the_caller(client, cashier, make_user):
    other = make_user("cashier", username="ravi")
    body = {"account": "SB-1", "amount": "500.00"}
    first = post(client, token_for(cashier), body)
    second = post(client, token_for(other), body)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert first.get_json()["serial"] != second.get_json()["serial"]
    assert sorted(r.scope for r in records()) == sorted([f"staff:{cashier.id}", f"staff:{other.id}"])


def test_missing_or_oversized_key_is_400_and_writes_nothing(client, cashier):
    token = token_for(cashier)
    body = {"account": "SB-1", "amount": "500.00"}
    for key in (None, "", "   ", "k" * 101, "naïve-key"):
        response = post(client, token, body, key=key)
        assert response.status_code == 400, key
        assert response.headers["Content-Type"] == "application/problem+json"
        problem = response.get_json()
        assert problem["type"].endswith("/idempotency-key-invalid") and "Idempotency-Key" in problem["detail"]
    assert deposits() == 0 and records() == []
    assert post(client, token, body, key="k" * 100).status_code == 201


def test_auth_comes_before_the_key(client, cashier, make_user):
    auditor = make_user("auditor", username="audrey")
    assert post(client, "not-a-token", {"amount": "1.00"}).status_code == 401
    assert post(client, token_for(auditor), {"amount": "1.00"}).status_code == 403
    assert deposits() == 0 and records() == []


def test_a_failing_view_stores_nothing_and_frees_the_key(client, cashier):
    token = token_for(cashier)
    refused = post(client, token, {"account": "SB-1", "amount": "0.00"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"amount": ["Amount must be more than zero."]}
    assert deposits() == 0 and records() == []  # the view's flushed audit row was rolled back

    answered = post(client, token, {"account": "SB-1", "amount": "-1.00"})  # a 4xx returned, not raised
    assert answered.status_code == 422
    assert deposits() == 0 and records() == []

    # The corrected retry with the same key goes through.
    fixed = post(client, token, {"account": "SB-1", "amount": "10.00"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert deposits() == 1 and len(records()) == 1


def test_request_hash_is_canonical():
    a = idempotency.request_hash("post", "/x", {"b": 1, "a": [1, {"d": 2, "c": 3}]})
    b = idempotency.request_hash("POST", "/x", {"a": [1, {"c": 3, "d": 2}], "b": 1})
    assert a == b
    assert a != idempotency.request_hash("POST", "/y", {"b": 1, "a": [1, {"d": 2, "c": 3}]})
    assert a != idempotency.request_hash("PUT", "/x", {"b": 1, "a": [1, {"d": 2, "c": 3}]})
    assert idempotency.request_hash("POST", "/x", {"n": "1.00"}) != idempotency.request_hash("POST", "/x", {"n": "1.0"})


@pytest.mark.postgres
def test_concurrent_duplicates_run_once_on_postgres(pg_app):
    register_deposit_api(pg_app, delay=0.4)
    user = staff_auth.create_user(username="kiran", password=PASSWORD, role="cashier")
    uow.commit()
    token = token_for(user)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def worker(i: int) -> None:
        client = pg_app.test_client()
        barrier.wait()
        response = post(client, token, {"account": "SB-9", "amount": "750.00"}, key="same-key")
        results[i] = (response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(r is not None for r in results), results
    assert [r[0] for r in results] == [201, 201]
    assert results[0][1] == results[1][1]  # both callers see the one real result
    assert sorted(str(r[2]) for r in results) == ["None", "true"]
    assert deposits() == 1
    (record,) = records()
    assert record.response_body == results[0][1]
