"""Audit log: record every state change; seal rows into a SHA-256 chain; anchor it; verify it.

Sealing is off the request path (ADR 0014): ``uow.seal_after_commit`` only asks this
process's sealer thread to run within ``AUDIT_SEAL_INTERVAL_SECONDS`` (0 = seal right after
the commit, as tests do). Every sealed range ends with a **checkpoint** written outside the
database (``storage``: a private folder, or S3 with object lock): the seal sequence and hash
of the range's last row, under an HMAC with ``AUDIT_ANCHOR_KEY``, a key the database does
not hold. ``verify`` walks the chain and checks it against the checkpoints, so deleting the
newest rows (the chain ends before a checkpoint) or editing a row and recomputing the chain
(a checkpointed hash no longer matches, or sealed rows older than the grace period have no
checkpoint at all) is detected even by someone who can rewrite every row.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, func, insert, select, text, true, update

from app.extensions import db
from app.models.audit import AuditLog
from app.models.base import utcnow

from . import storage
from .context import Actor, current_actor

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_SEAL_LOCK_KEY = 7_241_001  # PostgreSQL advisory lock id for the sealing step
_SEAL_COLUMNS = {"seal_seq", "prev_hash", "hash"}


def _jsonable(value: Any) -> Any:
    """Make before/after snapshots JSON-safe (dates, Decimals, sets)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True)) if value is not None else None


def _values(
    action: str, entity_type: str | None, entity_id: Any, before: Any, after: Any, actor: Actor | None
) -> dict[str, Any]:
    """The audit row's columns; ``before``/``after`` already JSON-safe."""
    who = actor or current_actor()
    return {
        "occurred_at": utcnow(),
        "actor_type": who.type,
        "actor_id": who.id,
        "actor_name": who.name,
        "actor_role": who.role,
        "action": action,
        "entity_type": entity_type,
        "entity_id": None if entity_id is None else str(entity_id),
        "before": before,
        "after": after,
        "ip": who.ip,
        "user_agent": (who.user_agent or None) and who.user_agent[:500],
    }


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
    row = AuditLog(**_values(action, entity_type, entity_id, _jsonable(before), _jsonable(after), actor))
    db.session.add(row)
    return row


def record_now(
    action: str,
    entity_type: str | None = None,
    entity_id: Any = None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor | None = None,
) -> None:
    """``record`` written at once with one Core INSERT and no ORM object (the posting path)."""
    values = _values(action, entity_type, entity_id, _jsonable(before), _jsonable(after), actor)
    db.session.execute(insert(AuditLog.__table__).values(**values))


def record_plain_now(action: str, entity_type: str, entity_id: Any, after: dict) -> None:
    """``record_now`` of an ``after`` snapshot that holds JSON types only (str keys; str, int, bool, None).

    It skips the round trip through JSON that makes other snapshots safe: ~3 ms for the
    2,000 balances of a batch posting's audit row.
    """
    db.session.execute(insert(AuditLog.__table__).values(**_values(action, entity_type, entity_id, None, after, None)))


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
    """Chain committed unsealed rows in id order, in a short transaction of its own, and anchor them.

    Only this step is serialised (an advisory lock on PostgreSQL), never the postings that
    wrote the rows. Returns how many rows were sealed (0 when another sealer is busy and
    ``wait`` is false; rows left behind are chained by the next sealer or the
    ``seal_audit`` job, which waits). After the commit the range gets its checkpoint.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
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
    # ix_audit_log_unsealed), each carrying the chain's current tail (seq, hash) and the
    # hash of its first row (which names the chain's checkpoints).
    log_t = AuditLog.__table__
    tail = select(log_t.c.seal_seq, log_t.c.hash).where(log_t.c.seal_seq.is_not(None))
    tail = tail.order_by(log_t.c.seal_seq.desc()).limit(1).subquery()
    first = select(log_t.c.hash).where(log_t.c.seal_seq == 1).scalar_subquery()
    found = session.execute(
        select(
            *[c for c in log_t.c if c.name not in _SEAL_COLUMNS],
            tail.c.seal_seq.label("tail_seq"),
            tail.c.hash.label("tail_hash"),
            first.label("first_hash"),
        )
        .outerjoin(tail, true())
        .where(log_t.c.hash.is_(None))
        .order_by(log_t.c.id)
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
        update(log_t)
        .where(log_t.c.id == bindparam("row_id"))
        .values(seal_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest")),
        seals,
    )
    session.commit()
    chain = found[0].first_hash or seals[0]["digest"]
    write_checkpoint(chain, seals[-1]["seq"], seals[-1]["digest"], first_seq=seals[0]["seq"])
    return len(seals)


# ---------------------------------------------------------------- checkpoints (anchors)

ANCHOR_PREFIX = "audit-anchors"


def _anchor_key() -> bytes:
    return str(current_app.config["AUDIT_ANCHOR_KEY"]).encode()


def chain_id(first_hash: str) -> str:
    """A chain's name among the checkpoints: the start of its first row's hash."""
    return first_hash[:16]


def _mac(body: dict[str, Any]) -> str:
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hmac.new(_anchor_key(), blob.encode(), hashlib.sha256).hexdigest()


def write_checkpoint(first_hash: str, seq: int, row_hash: str, *, first_seq: int | None = None) -> bool:
    """Write the keyed checkpoint of a sealed range (its last row); False (logged) if storage failed.

    A later checkpoint covers every row before it (the chain is cumulative), so a lost one
    is made good by the next seal or by ``anchor_tail`` (the ``seal_audit`` job).
    """
    body = {"v": 1, "chain": chain_id(first_hash), "seq": seq, "hash": row_hash, "first_seq": first_seq}
    data = json.dumps({**body, "mac": _mac(body)}, sort_keys=True).encode()
    days = int(current_app.config.get("AUDIT_ANCHOR_LOCK_DAYS") or 0)
    try:
        storage.put_object(
            f"{ANCHOR_PREFIX}/{body['chain']}/{seq:016d}.json",
            data,
            content_type="application/json",
            retain_for=timedelta(days=days) if days else None,
        )
    except Exception as exc:  # noqa: BLE001 - the chain is committed; the next seal anchors it
        log.warning("audit checkpoint for seq %s not written (%s); the next seal will cover it", seq, exc)
        return False
    return True


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    valid: bool  # the HMAC verifies with this installation's key


def checkpoints(first_hash: str) -> list[Checkpoint]:
    """The checkpoints of the chain whose first row has ``first_hash``, in sequence order."""
    out = []
    for key in storage.list_keys(f"{ANCHOR_PREFIX}/{chain_id(first_hash)}/"):
        try:
            doc = json.loads(storage.read(key))
            body = {k: doc[k] for k in ("v", "chain", "seq", "hash", "first_seq")}
            valid = hmac.compare_digest(_mac(body), str(doc.get("mac", "")))
            out.append(Checkpoint(int(doc["seq"]), str(doc["hash"]), valid))
        except (ValueError, KeyError, TypeError):
            out.append(Checkpoint(-1, "", False))
    return sorted(out, key=lambda c: c.seq)


def anchor_tail() -> bool:
    """Write a checkpoint for the chain's last sealed row if the newest checkpoint is behind it."""
    first = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
    last = db.session.execute(
        select(AuditLog.seal_seq, AuditLog.hash)
        .where(AuditLog.seal_seq.is_not(None))
        .order_by(AuditLog.seal_seq.desc())
        .limit(1)
    ).first()
    db.session.rollback()
    if first is None or last is None:
        return False
    known = [c.seq for c in checkpoints(first) if c.valid]
    if known and max(known) >= last.seal_seq:
        return False
    return write_checkpoint(first, last.seal_seq, last.hash)


# ---------------------------------------------------------------- sealing off the request path

_timer_lock = threading.Lock()
_timer: threading.Timer | None = None


def request_seal() -> None:
    """Ask for the rows just committed to be sealed within ``AUDIT_SEAL_INTERVAL_SECONDS``.

    0 (tests, one-off commands) seals now, in the caller's thread. Otherwise the first
    request starts this process's sealer timer and later ones within the interval cost
    nothing: one seal per interval per process chains everything committed by then (and by
    other processes). A process killed before its timer fires leaves its rows to any other
    sealer, the ``seal_audit`` job or ``flask audit seal``.
    """
    interval = float(current_app.config.get("AUDIT_SEAL_INTERVAL_SECONDS") or 0)
    if interval <= 0:
        seal_pending()
        return
    global _timer
    with _timer_lock:
        if _timer is not None and _timer.is_alive():
            return
        _timer = threading.Timer(interval, _seal_in_background, args=(current_app._get_current_object(),))  # type: ignore[attr-defined]
        _timer.daemon = True
        _timer.start()


def _seal_in_background(app: Flask) -> None:
    with app.app_context():
        try:
            while seal_pending(wait=True) >= 5000:
                pass
        except Exception:
            log.exception("background audit sealing failed; the next sealer will chain the rows")
        finally:
            db.session.remove()


def _seal_now_at_exit() -> None:
    """A process that exits normally (a CLI command, a worker shutting down) seals what it committed."""
    with _timer_lock:
        current = _timer
    if current is not None and current.is_alive():
        current.cancel()
        _seal_in_background(*current.args)


atexit.register(_seal_now_at_exit)


def wait_for_sealer(timeout: float = 10.0) -> None:
    """Block until this process's pending background seal has run (tests, shutdown)."""
    deadline = time.monotonic() + timeout
    while True:
        with _timer_lock:
            current = _timer
        if current is None or not current.is_alive() or time.monotonic() > deadline:
            return
        current.join(max(0.0, deadline - time.monotonic()))


# ---------------------------------------------------------------- verification


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    unsealed: int
    broken_id: int | None = None
    message: str = ""
    checkpoints: int = 0
    unanchored: int = 0  # sealed rows after the newest checkpoint (sealed moments ago)


def _walk(anchors: dict[int, Checkpoint]) -> tuple[VerifyResult | None, int, Any]:
    """Walk the chain in seal order: (failure or None, rows checked, last row)."""
    prev = GENESIS
    checked = 0
    last = None
    stmt = select(AuditLog).where(AuditLog.seal_seq.is_not(None)).order_by(AuditLog.seal_seq)
    for row in db.session.scalars(stmt.execution_options(yield_per=2000)):
        expected_seq = checked + 1
        if row.seal_seq != expected_seq:
            return VerifyResult(False, checked, 0, row.id, f"sequence gap before audit row {row.id}"), checked, last
        if row.prev_hash != prev:
            return (
                VerifyResult(False, checked, 0, row.id, f"audit row {row.id}: previous-hash link broken"),
                checked,
                last,
            )
        if row.hash != row_digest(row, prev):
            return (
                VerifyResult(False, checked, 0, row.id, f"audit row {row.id}: content does not match its hash"),
                checked,
                last,
            )
        anchor = anchors.get(row.seal_seq)
        if anchor is not None and anchor.hash != row.hash:
            message = (
                f"audit row {row.id} (seq {row.seal_seq}) does not match the checkpoint written when it was "
                "sealed: the chain was rewritten"
            )
            return VerifyResult(False, checked, 0, row.id, message), checked, last
        prev = row.hash
        checked += 1
        last = row
    return None, checked, last


def verify() -> VerifyResult:
    """Walk the chain in seal order, check it against the checkpoints, report the first problem."""
    first = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
    found = checkpoints(first) if first else []
    bad = [c for c in found if not c.valid]
    if bad:
        return VerifyResult(
            False, 0, 0, None, f"{len(bad)} audit checkpoint(s) fail their key check (forged or edited)"
        )
    anchors = {c.seq: c for c in found}
    failure, checked, last = _walk(anchors)
    if failure is not None:
        failure.checkpoints = len(anchors)
        return failure
    unsealed = db.session.scalar(select(func.count()).where(AuditLog.hash.is_(None))) or 0
    newest = max(anchors, default=0)
    if newest > checked:
        return VerifyResult(
            False, checked, unsealed, None,
            f"the chain ends at seq {checked} but a checkpoint covers seq {newest}: sealed audit rows were deleted",
            len(anchors),
        )  # fmt: skip
    grace = timedelta(seconds=int(current_app.config.get("AUDIT_ANCHOR_GRACE_SECONDS", 600)))
    if last is not None and newest < checked:
        stale = db.session.scalar(
            select(func.max(AuditLog.seal_seq)).where(
                AuditLog.seal_seq > newest, AuditLog.occurred_at < utcnow() - grace
            )
        )
        if stale:
            return VerifyResult(
                False, checked, unsealed, None,
                f"sealed audit rows up to seq {stale} are older than {grace} and no checkpoint covers them "
                "(the chain was recomputed, or checkpoints are not being written)",
                len(anchors),
            )  # fmt: skip
    unanchored = checked - newest
    message = f"{checked} rows verified against {len(anchors)} checkpoint(s), {unsealed} awaiting seal"
    if unanchored:
        message += f", {unanchored} sealed after the newest checkpoint"
    return VerifyResult(True, checked, unsealed, None, message, len(anchors), unanchored)
