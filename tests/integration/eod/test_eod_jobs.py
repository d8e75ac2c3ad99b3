"""Day-end jobs: the RQ schedule at EOD_TIME, the scheduled run, inline mode without Redis."""

from datetime import date

from redis import Redis
from rq.cron import CronScheduler

from app.jobs import eod as eod_jobs
from app.services.common import uow
from app.services.ledger import calendar
from tests.deposit_helpers import _close_test_drawer


def test_schedule_registers_the_day_end_at_eod_time(app):
    app.config["EOD_TIME"] = "21:45"
    scheduler = CronScheduler(connection=Redis.from_url("redis://127.0.0.1:1/0"))  # registering needs no server
    eod_jobs.schedule(scheduler)
    jobs = {job.func.__name__: job for job in scheduler.get_jobs()}
    assert jobs["scheduled_day_end"].cron == "45 21 * * *" and jobs["scheduled_day_end"].queue_name == "eod"
    assert jobs["seal_audit"].interval == 60  # the backstop sealer runs every minute (ADR 0014)
    assert jobs["reconcile"].cron == "30 2 * * *" and jobs["reconcile"].queue_name == "default"


def test_scheduled_day_end_runs_inline_and_says_when_no_day_is_open(books, app):
    _close_test_drawer()
    assert eod_jobs.scheduled_day_end() == "day-end of 2026-04-01: done"
    assert calendar.current_business_date() == date(2026, 4, 2)
    from app.services import ledger

    ledger.close_day(date(2026, 4, 2))
    uow.commit()
    assert eod_jobs.scheduled_day_end().startswith("day-end not run: No business day is open")


def test_start_without_redis_runs_the_day_end_now(books, app):
    _close_test_drawer()
    assert eod_jobs.start(date(2026, 4, 1), by_id=None) == "done"
    assert calendar.current_business_date() == date(2026, 4, 2)
