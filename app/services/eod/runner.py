"""Run the day-end of one business date: the steps in order, each recorded and resumable.

One run at a time: a PostgreSQL session advisory lock held on a connection of its own for
the whole run (released if the process dies); a second run is refused at once. A plain step
runs in one unit of work that also marks it done; a chunked step first records its id-range
chunks, then every chunk is claimed (``FOR UPDATE SKIP LOCKED``), worked and marked done in
one unit of work — so a worker killed mid-chunk leaves the chunk pending with nothing
posted, and several workers (the runner itself and RQ workers on the ``eod`` queue, given
through ``dispatch``) share a step without doing a chunk twice. The step is done when its
last chunk is. A failing step stops the run, is recorded with its error and is retried by
the next run (after the fix); steps already done are never run again for that date.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models.base import utcnow
from app.models.eod import EodChunk, EodRun, EodStepRun
from app.services.common import Conflict, DomainError, ValidationError, audit, is_retryable, uow
from app.services.ledger import calendar

from . import days, registry

_RUN_LOCK_KEY = 7_241_010  # PostgreSQL advisory lock id: one day-end at a time
_local_lock = threading.Lock()  # the same on SQLite (one process)
POLL_SECONDS = 0.2
# With workers to share the chunks, the run works chunks itself only when none has finished for
# this long (no worker free: e.g. the only worker is the one running this; or one died).
STEAL_AFTER_SECONDS = 2.0

Dispatch = Callable[[list[int]], None]


class DayEndFailed(DomainError):
    type = "day-end-failed"
    title = "Day-end stopped"


class DayEndRunning(Conflict):
    type = "day-end-running"
    title = "Day-end already running"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ---------------------------------------------------------------- the lock


def _refuse_running() -> None:
    running = db.session.scalar(select(EodRun).where(EodRun.status == "running").order_by(EodRun.id.desc()).limit(1))
    since = f" (started {running.started_at:%H:%M:%S} UTC for {running.business_date:%d-%m-%Y})" if running else ""
    raise DayEndRunning(f"A day-end is already running{since}; wait for it to finish.")


@contextmanager
def run_lock() -> Iterator[None]:
    """Hold the day-end lock for the block, or refuse at once with DayEndRunning."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        conn = engine.connect()
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RUN_LOCK_KEY}).scalar()
            conn.commit()
            if not got:
                _refuse_running()
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _RUN_LOCK_KEY})
                conn.commit()
            finally:
                conn.close()
        return
    if not _local_lock.acquire(blocking=False):
        _refuse_running()
    try:
        yield
    finally:
        _local_lock.release()


def is_running() -> bool:
    """Whether a day-end holds the lock right now."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RUN_LOCK_KEY}).scalar()
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _RUN_LOCK_KEY})
            conn.commit()
            return not got
    return _local_lock.locked()


# ---------------------------------------------------------------- checks before a run


def check_can_run(on: date | None = None) -> date:
    """The date a day-end may run for now (the open business date), or a clear refusal."""
    open_date = calendar.business_date_or_none()
    if open_date is None:
        raise ValidationError("No business day is open: open the next day first; there is no day to end.")
    if on is None:
        return open_date
    if on != open_date:
        day = calendar.get_day(on)
        if day is not None and day.status == "closed":
            raise Conflict(f"{on:%d-%m-%Y} is already closed; the open business date is {open_date:%d-%m-%Y}.")
        raise ValidationError(
            f"{on:%d-%m-%Y} is not the open business date ({open_date:%d-%m-%Y}); the day-end runs for the open day.",
            field="date",
        )
    return on


# ---------------------------------------------------------------- the run


def run_day(
    on: date | None = None, *, trigger: str = "cli", by_id: int | None = None, dispatch: Dispatch | None = None
) -> EodRun:
    """Run (or resume) the day-end of the open business date ``on``; returns the finished run.

    Raises DayEndRunning if another run holds the lock, DayEndFailed when a step fails (the
    run and the step are recorded as failed with the error; run again after the fix).
    """
    on = check_can_run(on)
    db.session.rollback()  # nothing of the caller's rides along with the run
    with run_lock():
        on = check_can_run(on)  # a run we raced may have closed it
        # We hold the lock, so a run still marked running was interrupted (its process died).
        db.session.execute(
            update(EodRun)
            .where(EodRun.status == "running")
            .values(status="failed", finished_at=utcnow(), error="Interrupted: the process running it stopped.")
        )
        run = EodRun(business_date=on, status="running", trigger=trigger, started_by_id=by_id, started_at=utcnow())
        db.session.add(run)
        db.session.flush()
        # A chunk that failed in an earlier run is tried again now.
        db.session.execute(
            update(EodChunk)
            .where(EodChunk.status == "failed", EodChunk.step_run_id.in_(_step_run_ids(on)))
            .values(status="pending", error=None)
        )
        audit.record("eod.start", "business_day", on.isoformat(), after={"run": run.id, "trigger": trigger})
        uow.commit()
        run_id = run.id
        previous = days.previous_business_day(on)
        for position, step in enumerate(registry.steps()):
            sr = _step_run(on, step, position)
            if sr.status in ("done", "skipped"):
                continue
            targets = step.targets(on, previous)
            if not targets:
                sr.status = "skipped"
                uow.commit()
                continue
            run = db.session.get(EodRun, run_id)
            run.current_step = step.name
            sr.status, sr.run_id, sr.error = "running", run_id, None
            sr.started_at, sr.finished_at = utcnow(), None  # this attempt (a resumed chunked step counts from here)
            uow.commit()
            try:
                if step.chunked:
                    _run_chunked(step, sr.id, targets[-1], dispatch)
                else:
                    _run_plain(step, sr.id, targets)
            except Exception as exc:
                db.session.rollback()
                message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
                _record_failure(run_id, sr.id, step, message)
                raise DayEndFailed(
                    f"The day-end of {on:%d-%m-%Y} stopped at “{step.label}”: {message} "
                    "Put it right and run the day-end again: it resumes at this step."
                ) from exc
        run = db.session.get(EodRun, run_id)
        run.status, run.finished_at, run.current_step = "done", utcnow(), None
        audit.record("eod.done", "business_day", on.isoformat(), after={"run": run_id})
        uow.commit()
        return run


def run_until(
    to: date, *, trigger: str = "cli", by_id: int | None = None, dispatch: Dispatch | None = None
) -> list[EodRun]:
    """Run the day-end of each open business date up to ``to`` (each opens the next day)."""
    runs = []
    while True:
        on = check_can_run()
        if on > to:
            break
        runs.append(run_day(on, trigger=trigger, by_id=by_id, dispatch=dispatch))
    return runs


def _step_run_ids(on: date):
    return select(EodStepRun.id).where(EodStepRun.business_date == on)


def _step_run(on: date, step: registry.DayStep, position: int) -> EodStepRun:
    sr = db.session.scalar(
        select(EodStepRun)
        .where(EodStepRun.business_date == on, EodStepRun.step == step.name)
        .execution_options(populate_existing=True)
    )
    if sr is None:
        sr = EodStepRun(business_date=on, step=step.name, position=position, status="pending", rows=0, chunks_total=0)
        db.session.add(sr)
        uow.commit()
    return sr


def _record_failure(run_id: int, step_run_id: int, step: registry.DayStep, message: str) -> None:
    sr = db.session.get(EodStepRun, step_run_id)
    run = db.session.get(EodRun, run_id)
    sr.status, sr.error = "failed", message
    run.status, run.finished_at, run.error = "failed", utcnow(), f"{step.label}: {message}"
    audit.record(
        "eod.failed", "business_day", sr.business_date.isoformat(), after={"step": step.name, "error": message}
    )
    uow.commit()


def _run_plain(step: registry.DayStep, step_run_id: int, targets: list[date]) -> None:
    def work() -> None:
        rows = sum(int(step.run(t) or 0) for t in targets)  # type: ignore[misc]
        sr = db.session.get(EodStepRun, step_run_id, populate_existing=True)
        sr.status, sr.rows, sr.finished_at = "done", rows, utcnow()
        audit.record("eod.step", "business_day", sr.business_date.isoformat(), after={"step": step.name, "rows": rows})

    uow.run(work)


def _run_chunked(step: registry.DayStep, step_run_id: int, target: date, dispatch: Dispatch | None) -> None:
    sr = db.session.get(EodStepRun, step_run_id, populate_existing=True)
    if not sr.chunks_total:
        ranges = step.chunks(target)  # type: ignore[misc]
        db.session.add_all(EodChunk(step_run_id=sr.id, lo=lo, hi=hi, status="pending", rows=0) for lo, hi in ranges)
        sr.chunks_total = len(ranges)
        uow.commit()
    pending = list(
        db.session.scalars(
            select(EodChunk.id)
            .where(EodChunk.step_run_id == step_run_id, EodChunk.status == "pending")
            .order_by(EodChunk.lo)
        )
    )
    db.session.rollback()
    if dispatch is not None and pending:
        dispatch(pending)
    last_done, last_progress = -1, time.monotonic()
    while True:
        stalled = time.monotonic() - last_progress > STEAL_AFTER_SECONDS
        if (dispatch is None or stalled) and work_chunk(step_run_id) is not None:
            last_progress = time.monotonic()
            continue
        counts = chunk_counts(step_run_id)
        if counts.get("done", 0) != last_done:
            last_done, last_progress = counts.get("done", 0), time.monotonic()
        if counts.get("failed"):
            error = db.session.scalar(
                select(EodChunk.error).where(EodChunk.step_run_id == step_run_id, EodChunk.status == "failed").limit(1)
            )
            db.session.rollback()
            raise DayEndFailed(error or "a chunk failed")
        if counts.get("done", 0) >= sum(counts.values()):
            break
        db.session.rollback()
        time.sleep(POLL_SECONDS)  # the rest are being worked by other workers

    def finish() -> None:
        rows = db.session.scalar(
            select(func.coalesce(func.sum(EodChunk.rows), 0)).where(EodChunk.step_run_id == step_run_id)
        )
        sr = db.session.get(EodStepRun, step_run_id, populate_existing=True)
        sr.status, sr.rows, sr.finished_at = "done", int(rows), utcnow()
        audit.record(
            "eod.step", "business_day", sr.business_date.isoformat(), after={"step": step.name, "rows": int(rows)}
        )

    uow.run(finish)


def chunk_counts(step_run_id: int) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(EodChunk.status, func.count()).where(EodChunk.step_run_id == step_run_id).group_by(EodChunk.status)
        ).all()
    )


@contextmanager
def _heap_set_aside() -> Iterator[None]:
    """While a chunk works, the cyclic collector is off and the objects that existed before it are set aside.

    A chunk allocates millions of short-lived objects (almost all freed by reference counting),
    so the collector would run ~14,000 times over a 1M account interest credit, each full pass
    walking the whole application (~220k objects) again: 8 s, or 1.5 s with them set aside
    (``gc.freeze``). Off for the chunk, the peak memory of that credit grew by 5 MB (200 → 205).
    Afterwards the application's objects go back (``gc.unfreeze``) and collection resumes, so
    nothing is kept alive longer than one chunk.
    """
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def work_chunk(step_run_id: int | None = None, *, chunk_id: int | None = None) -> int | None:
    """Claim one pending chunk (of a step run, or the given one), work it and mark it done.

    Returns the rows it did, or None when there was nothing to claim (all done, or being
    worked by others). A chunk that raises is marked failed (the run stops and shows it).
    """
    stmt = select(EodChunk).where(EodChunk.status == "pending")
    if chunk_id is not None:
        stmt = stmt.where(EodChunk.id == chunk_id)
    else:
        stmt = stmt.where(EodChunk.step_run_id == step_run_id).order_by(EodChunk.lo)
    chunk = db.session.scalar(stmt.limit(1).with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if chunk is None:
        db.session.rollback()
        return None
    cid = chunk.id
    sr = db.session.get(EodStepRun, chunk.step_run_id)
    step = registry.get(sr.step)
    targets = step.targets(sr.business_date, days.previous_business_day(sr.business_date))
    try:
        with _heap_set_aside():
            rows = int(step.run_chunk(targets[-1], chunk.lo, chunk.hi) or 0)  # type: ignore[misc]
        chunk.status, chunk.rows, chunk.worker, chunk.finished_at = "done", rows, worker_name(), utcnow()
        uow.commit()
        return rows
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the chunk and stops the run
        db.session.rollback()
        if is_retryable(exc):
            return 0  # a deadlock or serialisation failure: the chunk stays pending and is claimed again
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        db.session.execute(
            update(EodChunk)
            .where(EodChunk.id == cid, EodChunk.status == "pending")
            .values(status="failed", error=f"ids {chunk.lo}–{chunk.hi}: {message}", worker=worker_name())
        )
        uow.commit()
        return None if chunk_id is None else 0


# ---------------------------------------------------------------- what staff see


@dataclass
class StepProgress:
    name: str
    label: str
    status: str
    rows: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    seconds: float | None = None
    error: str | None = None


@dataclass
class Progress:
    business_date: date | None
    run: EodRun | None
    steps: list[StepProgress] = field(default_factory=list)
    running: bool = False

    @property
    def current(self) -> StepProgress | None:
        return next((s for s in self.steps if s.status == "running"), None)


def progress(on: date | None = None) -> Progress:
    """The latest run (of ``on``, or the latest at all) and every step's state."""
    stmt = select(EodRun).order_by(EodRun.id.desc()).limit(1)
    if on is not None:
        stmt = stmt.where(EodRun.business_date == on)
    run = db.session.scalar(stmt.execution_options(populate_existing=True))
    on = run.business_date if run is not None else (on or calendar.business_date_or_none())
    out = Progress(business_date=on, run=run, running=bool(run and run.status == "running" and is_running()))
    if on is None:
        return out
    recorded = {
        sr.step: sr
        for sr in db.session.scalars(
            select(EodStepRun).where(EodStepRun.business_date == on).execution_options(populate_existing=True)
        )
    }
    done = dict(
        db.session.execute(
            select(EodChunk.step_run_id, func.count())
            .where(EodChunk.status == "done", EodChunk.step_run_id.in_([sr.id for sr in recorded.values()]))
            .group_by(EodChunk.step_run_id)
        ).all()
    )
    for step in registry.steps():
        sr = recorded.get(step.name)
        if sr is None:
            out.steps.append(StepProgress(step.name, step.label, "pending"))
            continue
        rows = sr.rows
        if sr.status == "running" and sr.chunks_total:
            rows = db.session.scalar(
                select(func.coalesce(func.sum(EodChunk.rows), 0)).where(EodChunk.step_run_id == sr.id)
            )
        out.steps.append(
            StepProgress(
                step.name,
                step.label,
                sr.status,
                int(rows or 0),
                int(done.get(sr.id, 0)),
                sr.chunks_total,
                sr.seconds,
                sr.error,
            )
        )
    return out


def history(limit: int = 20) -> list[EodRun]:
    return list(db.session.scalars(select(EodRun).order_by(EodRun.id.desc()).limit(limit)))


def last_run() -> EodRun | None:
    return db.session.scalar(select(EodRun).order_by(EodRun.id.desc()).limit(1))


def day_state() -> tuple[date | None, str]:
    """The business date and its state for the header: open, day-end running, or no day open."""
    on = calendar.business_date_or_none()
    if on is None:
        return None, "no day open"
    run = db.session.scalar(select(EodRun).where(EodRun.business_date == on).order_by(EodRun.id.desc()).limit(1))
    if run is not None and run.status == "running":
        return on, "day-end running" if is_running() else "day-end interrupted"
    if run is not None and run.status == "failed":
        return on, "day-end stopped"
    return on, "open"


def open_next_day(*, by_id: int | None = None) -> date:
    """Open the business day after the last closed one (skipping holidays), when none is open."""
    from app.models.calendar import BusinessDay

    if calendar.business_date_or_none() is not None:
        raise Conflict(f"Business day {calendar.business_date_or_none():%d-%m-%Y} is open already.")
    last = db.session.scalar(select(func.max(BusinessDay.business_date)))
    on = days.next_business_day(last) if last is not None else calendar_today()
    calendar.open_business_day(on, by_id=by_id)
    return on


def calendar_today() -> date:
    return date.today()
