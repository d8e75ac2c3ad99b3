"""The unit of work: one commit per request or job, retried on serialisation failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.services import audit

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
    audit.seal_pending()


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``work`` and commit; on a serialisation failure or deadlock, roll back and retry."""
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            commit()
            return result
        except DBAPIError as exc:
            db.session.rollback()
            if not is_retryable(exc) or attempt == attempts:
                raise
            log.info("retrying unit of work after %s (attempt %d)", exc.orig, attempt)
            time.sleep(0.005 * attempt)
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")
