"""``@idempotent``: Idempotency-Key handling for money-moving API POSTs.

Put it under the auth decorator (the key is scoped to the caller)::

    @bp.post("/v1/accounts/<account_no>/deposit")
    @api_doc(summary="Cash deposit", tags=["accounts"], request=DEPOSIT)
    @api_permission("teller.operate")
    @idempotent
    def deposit(account_no): ...

The view works as usual and calls ``uow.commit()``; inside ``@idempotent`` that only flushes.
The wrapper claims the key before the view runs, stores the response with the work and
commits both in one transaction, then seals the audit rows. A retry with the same key and
body gets the stored response (``Idempotent-Replayed: true``); the same key with another
body is a 409. Only successful (2xx) responses are stored: when the view raises or answers
4xx/5xx everything is rolled back and the key stays free for a corrected retry. A duplicate
arriving while the first is still running waits for it (PostgreSQL unique index) and then
replays its response. Serialisation failures and deadlocks retry the whole claim-work-store
step through the one unit-of-work runner (``uow.run``); the audit rows are sealed once after
the commit through ``uow.seal_after_commit()``, like every other unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from app.blueprints.api.auth import current_subject
from app.extensions import db
from app.models.api import IdempotencyRecord
from app.services.common import context, idempotency, uow

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
ATTEMPTS = 5


def replay(record: IdempotencyRecord) -> Response:
    """The stored response of ``record``, marked as a replay."""
    if record.response_body is None:
        response = current_app.response_class(status=record.response_status or 200)
    else:
        response = jsonify(record.response_body)
        response.status_code = record.response_status or 200
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def _fingerprint() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    return idempotency.request_hash(request.method, request.path, body, b"" if body is not None else request.get_data())


def _stored_body(response: Response) -> Any:
    data = response.get_data()
    if not data:
        return None
    if not response.is_json:
        raise TypeError("an @idempotent view must answer JSON (or an empty body)")
    return response.get_json()


def _winner(scope: str, key: str, fingerprint: str) -> Response | None:
    """After losing a race for the key: the winner's stored response (None if it vanished)."""
    db.session.rollback()
    record = idempotency.find(scope, key)
    if record is None or record.response_status is None:
        return None
    idempotency.check_same_request(record, fingerprint)
    return replay(record)


def idempotent(view: Callable) -> Callable:
    """Require an Idempotency-Key and make the view's effect happen at most once per key."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scope = current_subject().scope
        key = idempotency.validate_key(request.headers.get(HEADER))
        fingerprint = _fingerprint()
        existing = idempotency.find(scope, key)
        if existing is not None and existing.response_status is not None:
            idempotency.check_same_request(existing, fingerprint)
            return replay(existing)
        try:
            outcome = uow.run(
                lambda: _run_once(view, args, kwargs, scope, key, fingerprint),
                attempts=ATTEMPTS,
                commit=False,
                label=f"idempotent {request.method} {request.path}",
            )
        except IntegrityError:
            winner = _winner(scope, key, fingerprint)
            if winner is not None:
                return winner
            raise
        uow.seal_after_commit()
        return outcome

    wrapper._idempotent = True  # type: ignore[attr-defined]  (read by the OpenAPI builder)
    return wrapper


def _run_once(view: Callable, args: tuple, kwargs: dict, scope: str, key: str, fingerprint: str) -> Response:
    """Claim the key, run the view with the commit deferred, store the response, commit once."""
    record = idempotency.claim(scope, key, fingerprint, method=request.method, path=request.path)
    with context.deferring_commit():
        response = current_app.make_response(view(*args, **kwargs))
    if not 200 <= response.status_code < 300:
        db.session.rollback()  # refusals keep nothing, so the key stays free for a corrected retry
        return response
    if not inspect(record).persistent:  # the view rolled back (e.g. a retried unit of work): claim again
        record = idempotency.claim(scope, key, fingerprint, method=request.method, path=request.path)
    idempotency.complete(record, response.status_code, _stored_body(response), dict(response.headers))
    db.session.commit()
    return response
