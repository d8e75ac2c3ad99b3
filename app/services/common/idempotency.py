"""Idempotency keys for money-moving API requests (DESIGN.md §5, §9).

A request carries an ``Idempotency-Key``; the key is scoped to the caller ("staff:3"). The
first request with a key *claims* it by inserting an ``IdempotencyRecord`` in the same
transaction as its work and fills in the response before the single commit. A retry with the
same key and the same request gets the stored response; the same key with a different request
is a 409. The HTTP side (headers, replaying, committing) lives in
``app.blueprints.api.idempotency``; this module never reads the request.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from app.extensions import db
from app.models.api import IdempotencyRecord

from .errors import Conflict, DomainError

MAX_KEY_LENGTH = 100
REPLAYED_HEADERS = ("Location",)  # response headers worth replaying besides the body


class IdempotencyKeyInvalid(DomainError):
    """The Idempotency-Key header is missing or unusable (400)."""

    status = 400
    type = "idempotency-key-invalid"
    title = "Idempotency-Key required"


class IdempotencyConflict(Conflict):
    """The key was already used for a different request (409)."""

    type = "idempotency-key-reused"
    title = "Idempotency-Key reused"


def validate_key(raw: str | None) -> str:
    """The key from the header, or IdempotencyKeyInvalid when missing, too long or not printable ASCII."""
    key = (raw or "").strip()
    if not key:
        raise IdempotencyKeyInvalid(
            "This request moves money: send an Idempotency-Key header (a unique value such as a UUID "
            "per operation, reused only when retrying the same operation)."
        )
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyInvalid(f"The Idempotency-Key header must be at most {MAX_KEY_LENGTH} characters.")
    if not all(" " <= ch <= "~" for ch in key):
        raise IdempotencyKeyInvalid("The Idempotency-Key header must be printable ASCII.")
    return key


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace, so equal bodies hash equally."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_hash(method: str, path: str, body: Any = None, raw: bytes = b"") -> str:
    """SHA-256 of method, path and the canonical JSON body (the raw bytes when not JSON)."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode())
    digest.update(b"\n")
    if body is not None:
        digest.update(b"json:" + canonical_json(body).encode())
    else:
        digest.update(b"raw:" + (raw or b""))
    return digest.hexdigest()


def find(scope: str, key: str) -> IdempotencyRecord | None:
    """The record for ``key`` in ``scope``, if one was committed (or claimed in this transaction)."""
    return db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )


def check_same_request(record: IdempotencyRecord, fingerprint: str) -> None:
    """Raise IdempotencyConflict unless ``record`` was made by the same request."""
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request. "
            "Use a new key for a new operation; reuse a key only to retry the very same request."
        )


def claim(scope: str, key: str, fingerprint: str, *, method: str, path: str) -> IdempotencyRecord:
    """Insert the record for a new key and flush (IntegrityError when another request holds it).

    On PostgreSQL a concurrent duplicate waits here until the first request commits or rolls back.
    """
    record = IdempotencyRecord(
        scope=scope[:40], key=key, request_hash=fingerprint, method=method.upper()[:10], path=path[:255]
    )
    db.session.add(record)
    db.session.flush()
    return record


def complete(record: IdempotencyRecord, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    """Store the response that later retries will get back."""
    record.response_status = status
    record.response_body = body
    record.response_headers = {k: v for k, v in (headers or {}).items() if k in REPLAYED_HEADERS} or None


def purge_before(cutoff: datetime) -> int:
    """Delete stored responses created before ``cutoff``; returns how many.

    A retry that arrives later is treated as a new request; money it would move is still
    posted once, because the ledger keeps each entry's own idempotency key for ever.
    """
    result = db.session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
