"""Audit log: record every state change; seal rows into a SHA-256 chain; verify the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, text, true, update

from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow

from .context import Actor, current_actor

GENESIS = "0" * 64
_SEAL_LOCK_KEY = 7_241_001  # PostgreSQL advisory lock id for the sealing step
_SEAL_COLUMNS = {"seal_seq", "prev_hash", "hash"}


def _jsonable(value: Any) -> Any:
    """Make before/after snapshots JSON-safe (dates, Decimals, sets)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True)) if value is not None else None


def record(
    action: str,
    entity_type: str | None = None,
    entity_id: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor | None = None,
) -> AuditLog:
    """Add an audit row to the current unit of work (committed with it, sealed after it)."""
    who = actor or current_actor()
    row = AuditLog(
        occurred_at=utcnow(),
        actor_type=who.type,
        actor_id=who.id,
        actor_name=who.name,
        actor_role=who.role,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip=who.ip,
        user_agent=(who.user_agent or None) and who.user_agent[:500],
    )
    db.session.add(row)
    return row


def row_digest(row: Any, prev_hash: str, seq: int | None = None) -> str:
    """The SHA-256 of a row's content, its seal sequence and the previous row's hash.

    ``row`` is an AuditLog or a table row; ``seq`` defaults to the row's own ``seal_seq``.
    """
    payload = {
        "id": row.id,
        "seq": row.seal_seq if seq is None else seq,
        "at": row.occurred_at.isoformat(),
        "actor": [row.actor_type, row.actor_id, row.actor_name, row.actor_role],
        "action": row.action,
        "entity": [row.entity_type, row.entity_id],
        "before": row.before,
        "after": row.after,
        "ip": row.ip,
        "ua": row.user_agent,
        "prev": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def seal_pending(limit: int = 5000, *, wait: bool = False) -> int:
    """Chain committed unsealed rows in id order, in a short transaction of its own.

    Only this step is serialised (a non-blocking advisory lock on PostgreSQL), never the
    postings that wrote the rows. Returns how many rows were sealed (0 when another sealer
    is busy and ``wait`` is false; rows left behind are chained by the next sealer or the
    ``seal_audit`` job, which waits).
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Only one sealer at a time. If another holds the lock, it (or the next sealer, or
        # the sealing job) will chain our rows: never make a posting wait for the chain.
        # The seal is derived data: if a crash loses it, the rows are simply unsealed again
        # and the next sealer chains them, so its commit need not wait for the WAL flush.
        lock = "pg_advisory_xact_lock(:k)" if wait else "pg_try_advisory_xact_lock(:k)"
        got = session.execute(
            text(f"SELECT set_config('synchronous_commit', 'off', true), {lock}"), {"k": _SEAL_LOCK_KEY}
        ).one()[1]
        if not wait and not got:
            session.rollback()
            return 0
    # One round trip: the unsealed rows in id order (through the partial index
    # ix_audit_log_unsealed), each carrying the chain's current tail (seq, hash). Plain
    # table rows and one executemany UPDATE: the seal runs after every commit, so it stays
    # off the ORM's unit of work.
    log = AuditLog.__table__
    tail = select(log.c.seal_seq, log.c.hash).where(log.c.seal_seq.is_not(None))
    tail = tail.order_by(log.c.seal_seq.desc()).limit(1).subquery()
    found = session.execute(
        select(
            *[c for c in log.c if c.name not in _SEAL_COLUMNS],
            tail.c.seal_seq.label("tail_seq"),
            tail.c.hash.label("tail_hash"),
        )
        .outerjoin(tail, true())
        .where(log.c.hash.is_(None))
        .order_by(log.c.id)
        .limit(limit)
    ).all()
    if not found:
        session.commit()
        return 0
    seq, prev = (found[0].tail_seq, found[0].tail_hash) if found[0].tail_seq is not None else (0, GENESIS)
    seals = []
    for row in found:
        seq += 1
        digest = row_digest(row, prev, seq)
        seals.append({"row_id": row.id, "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    session.execute(
        update(log)
        .where(log.c.id == bindparam("row_id"))
        .values(seal_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest")),
        seals,
    )
    session.commit()
    return len(seals)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None
    message: str = ""


def verify() -> VerifyResult:
    """Walk the chain in seal order and report the first broken link."""
    prev = GENESIS
    checked = 0
    expected_seq = 1
    stmt = (
        select(AuditLog)
        .where(AuditLog.seal_seq.is_not(None))
        .order_by(AuditLog.seal_seq)
        .execution_options(yield_per=2000)
    )
    for row in db.session.scalars(stmt):
        if row.seal_seq != expected_seq:
            return VerifyResult(False, checked, 0, row.id, f"sequence gap before audit row {row.id}")
        if row.prev_hash != prev:
            return VerifyResult(False, checked, 0, row.id, f"audit row {row.id}: previous-hash link broken")
        if row.hash != row_digest(row, prev):
            return VerifyResult(False, checked, 0, row.id, f"audit row {row.id}: content does not match its hash")
        prev = row.hash
        checked += 1
        expected_seq += 1
    unsealed = db.session.scalar(select(func.count()).where(AuditLog.hash.is_(None))) or 0
    return VerifyResult(True, checked, unsealed, None, f"{checked} rows verified, {unsealed} awaiting seal")
