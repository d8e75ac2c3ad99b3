"""The unit of work: one commit per request or job, retried on serialisation failures.

``run`` is the one retry loop of the application. Jobs and CLI commands call
``run(work)`` (the work, then the commit, retried together; sealing once after). The web
layer re-runs an unsafe view through ``run(view, commit=False)`` (the view commits through
``commit()``), and the API's idempotency layer runs its claim-work-store-commit step through
``run(..., commit=False)`` and then calls ``seal_after_commit()``. ``seal_after_commit`` is
the single post-commit sealing hook.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from app.extensions import db

from . import audit
from .context import commit_deferred

T = TypeVar("T")
log = logging.getLogger(__name__)
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
ATTEMPTS = 5


def commit() -> None:
    """Commit the current unit of work and seal the audit rows it wrote.

    Inside an idempotent API request (``context.deferring_commit()``) the commit is deferred
    to the idempotency layer, so that the stored response and the work commit together.
    """
    if commit_deferred():
        db.session.flush()
        return
    db.session.commit()
    seal_after_commit()


def seal_after_commit() -> None:
    """Have the audit rows just committed sealed; never raises a database error.

    Off the request path (ADR 0014): this only asks the process's sealer to run within
    ``AUDIT_SEAL_INTERVAL_SECONDS`` (0 seals here and now). The work is already committed,
    so a failure here (a serialisation failure, a deadlock, a lost connection) must not
    make a caller retry — and so repeat — the work. The rows stay unsealed and the next
    sealer or the ``seal_audit`` job chains them (ADR 0001).
    """
    try:
        audit.request_seal()
    except DBAPIError as exc:
        db.session.rollback()
        log.warning("audit sealing deferred after %s; the next sealer will chain the rows", exc.orig)


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run(work: Callable[[], T], *, attempts: int = ATTEMPTS, commit: bool = True, label: str = "unit of work") -> T:
    """Run ``work``; on a serialisation failure or deadlock roll back and run it again.

    With ``commit=True`` (jobs, CLI, services' own units) the work and its commit are retried
    together and the audit rows are sealed once, after the commit succeeded, outside the
    retried section (``seal_after_commit``). With ``commit=False`` the work commits itself
    (a view calling ``commit()``, or the idempotency layer); only the retrying happens here.
    Any other error rolls back and propagates; the last retryable failure propagates too.
    """
    for attempt in range(1, attempts + 1):
        try:
            result = work()
            if commit:
                _commit_or_flush()
        except DBAPIError as exc:
            db.session.rollback()
            if not is_retryable(exc) or attempt == attempts:
                raise
            log.info("retrying %s after %s (attempt %d)", label, exc.orig, attempt)
            time.sleep(0.005 * attempt)
            continue
        except BaseException:
            db.session.rollback()
            raise
        if commit and not commit_deferred():
            seal_after_commit()
        return result
    raise AssertionError("unreachable")


def _commit_or_flush() -> None:
    if commit_deferred():
        db.session.flush()
    else:
        db.session.commit()
