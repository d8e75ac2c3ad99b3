"""Day-end jobs: the run (one coordinator) and its chunks (any number of workers, ``eod`` queue).

With REDIS_URL the screen and the schedule enqueue ``run_day_end`` on the ``eod`` queue; the
run puts every pending chunk of a chunked step on the same queue as ``run_chunk`` jobs and
works chunks itself too, so one worker alone finishes a day-end and more workers share it.
Without Redis the run happens inline and its chunks one after the other.
"""

from __future__ import annotations

from datetime import date

from flask import current_app

from app.jobs import QUEUES, enqueue, redis_connection
from app.jobs.context import job
from app.services import eod
from app.services.common import Conflict, DomainError
from app.settings import setting

CHUNK_TIMEOUT = 30 * 60
RUN_TIMEOUT = 6 * 3600


class QueueUnavailable(Conflict):
    type = "queue-unavailable"
    title = "Job queue unavailable"


def _dispatch(chunk_ids: list[int]) -> None:
    from rq import Queue

    queue = Queue("eod", connection=redis_connection())
    for chunk_id in chunk_ids:
        queue.enqueue(run_chunk, chunk_id, job_timeout=CHUNK_TIMEOUT)


def uses_redis() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


def dispatcher():
    """How the run hands chunks to other workers: RQ when REDIS_URL is set, else nobody."""
    return _dispatch if current_app.config.get("REDIS_URL") else None


@job
def run_chunk(chunk_id: int) -> int:
    """Work one chunk (nothing if another worker has it or it is done)."""
    return eod.work_chunk(chunk_id=chunk_id) or 0


@job
def run_day_end(on: str | None = None, trigger: str = "schedule", by_id: int | None = None) -> str:
    """The day-end of the open business date (``on`` YYYY-MM-DD to insist on one)."""
    run = eod.run_day(date.fromisoformat(on) if on else None, trigger=trigger, by_id=by_id, dispatch=dispatcher())
    return f"day-end of {run.business_date:%Y-%m-%d}: {run.status}"


@job
def scheduled_day_end() -> str:
    """The periodic day-end: runs when a day is open, says so when none is."""
    try:
        run = eod.run_day(None, trigger="schedule", dispatch=dispatcher())
    except DomainError as exc:
        return f"day-end not run: {exc.message}"
    return f"day-end of {run.business_date:%Y-%m-%d}: {run.status}"


def start(on: date, *, by_id: int | None) -> str:
    """Start the day-end from a screen: queued on RQ (returns "queued") or run inline ("done").

    Refuses a date that is not the open business date, a second run, and (with Redis) a
    queue that cannot be reached — nothing is started then.
    """
    eod.check_can_run(on)
    if eod.is_running():
        raise eod.DayEndRunning("A day-end is already running; wait for it to finish.")
    if current_app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError

        try:
            enqueue(run_day_end, on.isoformat(), "screen", by_id, queue="eod", job_timeout=RUN_TIMEOUT)
        except RedisError as exc:
            raise QueueUnavailable(
                f"The job queue (Redis) cannot be reached, so the day-end was not started: {exc}"
            ) from exc
        return "queued"
    eod.run_day(on, trigger="screen", by_id=by_id)
    return "done"


# ---------------------------------------------------------------- failed jobs (admin page)


def failed_jobs(limit: int = 50) -> list[dict]:
    """Failed jobs of every queue, newest first ([] without Redis)."""
    if not current_app.config.get("REDIS_URL"):
        return []
    from rq import Queue
    from rq.job import Job

    connection = redis_connection()
    out = []
    for name in QUEUES:
        registry = Queue(name, connection=connection).failed_job_registry
        for job_id in registry.get_job_ids()[:limit]:
            found = Job.fetch(job_id, connection=connection) if job_id else None
            if found is None:
                continue
            exc = (found.latest_result().exc_string if found.latest_result() else None) or ""
            out.append(
                {
                    "id": found.id,
                    "queue": name,
                    "func": found.func_name,
                    "args": ", ".join(repr(a) for a in found.args),
                    "ended_at": found.ended_at,
                    "error": exc.strip().splitlines()[-1] if exc.strip() else "",
                }
            )
    return out


def retry_failed(job_id: str) -> None:
    """Put a failed job back on its queue."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        found = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError as exc:
        raise Conflict("That job is no longer in the failed-job registry.") from exc
    found.requeue()


def schedule(scheduler) -> None:
    """Register the periodic jobs on an ``rq.cron.CronScheduler`` (worker.py cron)."""
    from app.jobs import maintenance, payments

    hh, mm = str(setting("EOD_TIME")).split(":")
    scheduler.register(scheduled_day_end, "eod", cron=f"{int(mm)} {int(hh)} * * *", job_timeout=RUN_TIMEOUT)
    scheduler.register(maintenance.seal_audit, "default", interval=60)
    scheduler.register(maintenance.purge_api_records, "default", cron="15 3 * * *")
    scheduler.register(payments.reconcile, "default", cron="30 2 * * *")  # gateway vs ledger, every night
