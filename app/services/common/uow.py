"""The unit of work: one commit per request or job, retried on serialisation failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy.exc import DBAPIError

from app.extensions import db

from . import audit

T = TypeVar("T")
log = logging.getLogger(__name__)
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _defer_commit() -> bool:
    try:
        return bool(has_app_context() and g.get("defer_commit"))
    except RuntimeError:
        return False


def commit() -> None:
    """Commit the current unit of work and seal the audit rows it wrote.

    Inside an idempotent API request the commit is deferred to the idempotency layer,
    so that the stored response and the work commit together.
    """
    if _defer_commit():
        db.session.flush()
        return
    db.session.commit()
    seal_after_commit()


def seal_after_commit() -> None:
    """Seal the audit rows just committed; never raises a database error.

    The work is already committed, so a failure here (a serialisation failure, a
    deadlock, a lost connection) must not make a caller retry — and so repeat — the
    work. The rows stay unsealed and the next sealer or the ``seal_audit`` job chains
    them (ADR 0001).
    """
    try:
        audit.seal_pending()
    except DBAPIError as exc:
        db.session.rollback()
        log.warning("audit sealing deferred after %s; the next sealer will chain the rows", exc.orig)


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``work`` and commit; on a serialisation failure or deadlock, roll back and retry.

    Only the work and its commit are retried; sealing the audit rows happens once, after
    the commit succeeded, outside the retried section (``seal_after_commit``).
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            if _defer_commit():
                db.session.flush()
            else:
                db.session.commit()
        except DBAPIError as exc:
            db.session.rollback()
            if not is_retryable(exc) or attempt == attempts:
                raise
            log.info("retrying unit of work after %s (attempt %d)", exc.orig, attempt)
            time.sleep(0.005 * attempt)
            continue
        except Exception:
            db.session.rollback()
            raise
        if not _defer_commit():
            seal_after_commit()
        return result
    raise AssertionError("unreachable")
