"""The day page: pre-checks, run day-end, open the next day, holidays, progress; header and banner."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.eod import EodRun, Holiday
from app.services import eod
from app.services.common import uow
from app.services.ledger import calendar
from tests.deposit_helpers import _close_test_drawer, member, open_sb

HX = {"HX-Request": "true"}


@pytest.fixture
def day_books(books):
    from app.services import deposits

    deposits.seed_products()
    uow.commit()
    return books


def test_precheck_fails_with_an_open_drawer_then_the_run_closes_the_day(day_books, client, login):
    open_sb(member(), 1_000_00)  # through the test cashier's drawer, which stays open
    login("manager")
    page = client.get("/day")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "01-04-2026" in html and "Pre-checks for 01-04-2026" in html
    assert "Cash drawers counted and closed" in html and "is open (count and close it first)" in html
    assert "Settle the failing pre-checks first" in html

    refused = client.post("/day/run", data={"business_date": "2026-04-01"}, headers=HX)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "stopped at “Pre-checks”" in text and "cash drawer" in text
    assert calendar.current_business_date() == date(2026, 4, 1)

    _close_test_drawer()
    ran = client.post("/day/run", data={"business_date": "2026-04-01"}, headers=HX)
    assert ran.status_code == 200, ran.get_data(as_text=True)
    text = ran.get_data(as_text=True)
    assert "HX-Request" in ran.headers["Vary"]
    assert 'id="day-page"' in text and "<html" not in text  # the partial
    assert 'id="day-date">02-04-2026<' in text  # the next day is open
    assert "Finished" in text and "Savings daily product" in text
    assert "Day-end of 01-04-2026 finished" in ran.headers["HX-Trigger"]
    assert calendar.current_business_date() == date(2026, 4, 2)
    runs = db.session.scalars(select(EodRun).order_by(EodRun.id)).all()
    assert [(r.status, r.trigger) for r in runs] == [("failed", "screen"), ("done", "screen")]

    # A stale form for the closed date is refused with a clear message.
    again = client.post("/day/run", data={"business_date": "2026-04-01"}, headers=HX)
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)


def test_open_next_day_skips_holidays(day_books, client, login):
    _close_test_drawer()
    login("admin")
    added = client.post("/day/holidays", data={"holiday_date": "2026-04-02", "name": "Mahavir Jayanti"}, headers=HX)
    assert added.status_code == 200 and "Mahavir Jayanti" in added.get_data(as_text=True)
    dup = client.post("/day/holidays", data={"holiday_date": "2026-04-01", "name": "Oops"}, headers=HX)
    assert dup.status_code == 409 and "already a business day" in dup.get_data(as_text=True)
    # Close the day by hand (the ledger's close, no next day) — the page offers "Open next day".
    from app.services import ledger

    ledger.close_day(date(2026, 4, 1))
    uow.commit()
    page = client.get("/day").get_data(as_text=True)
    assert "No business day is open" in page and "Open next day" in page
    opened = client.post("/day/open", headers=HX)
    assert opened.status_code == 200
    assert 'id="day-date">03-04-2026<' in opened.get_data(as_text=True)  # 02-04 is a holiday
    assert calendar.current_business_date() == date(2026, 4, 3)
    assert client.post("/day/open", headers=HX).status_code == 409  # one open day at a time
    removed = client.post("/day/holidays/2026-04-02/delete", headers=HX)
    assert removed.status_code == 200
    assert db.session.scalar(select(Holiday)) is None


def test_progress_polls_while_running_and_refreshes_when_done(day_books, client, login):
    login("manager")
    run = EodRun(business_date=date(2026, 4, 1), status="running", trigger="screen", started_at=utcnow())
    db.session.add(run)
    uow.commit()
    with eod.runner.run_lock():  # the run holds the day-end lock while it goes
        frag = client.get("/day/progress", headers=HX)
        text = frag.get_data(as_text=True)
        assert 'hx-trigger="load delay:1s"' in text and "Running" in text
        assert "HX-Refresh" not in frag.headers
        assert "day-end running" in client.get("/").get_data(as_text=True)
    # The lock is free but the row still says running: its process died.
    assert "day-end interrupted" in client.get("/").get_data(as_text=True)
    run.status, run.finished_at = "done", utcnow()
    uow.commit()
    frag = client.get("/day/progress", headers=HX)
    assert "load delay:1s" not in frag.get_data(as_text=True)
    assert frag.headers["HX-Refresh"] == "true"
    # Queued but not started yet (Redis): keeps polling until a newer run appears.
    waiting = client.get(f"/day/progress?since={run.id}", headers=HX).get_data(as_text=True)
    assert "load delay:1s" in waiting and "queued" in waiting


def test_header_shows_the_date_and_state_and_money_screens_warn_without_a_day(day_books, client, login, make_user):
    _close_test_drawer()
    login("cashier", username="cash1")
    home = client.get("/").get_data(as_text=True)
    assert 'Business date: <strong>01-04-2026</strong> · <span class="day-state">open</span>' in home
    assert "no-day-banner" not in client.get("/teller").get_data(as_text=True)
    eod.run_day()
    from app.services import ledger

    ledger.close_day(calendar.current_business_date())
    uow.commit()
    teller = client.get("/teller").get_data(as_text=True)
    assert 'id="no-day-banner"' in teller and "No business day is open" in teller
    assert "no-day-banner" not in client.get("/").get_data(as_text=True)  # not a money screen


def test_failed_jobs_page_is_for_admins_and_says_jobs_run_inline(app, client, login):
    login("admin")
    page = client.get("/jobs/failed")
    assert page.status_code == 200 and "Jobs run inline" in page.get_data(as_text=True)


def test_failed_jobs_lists_and_retries_on_redis(app, client, login, redis_url):
    from rq import Queue

    from app.jobs import redis_connection

    app.config["REDIS_URL"] = redis_url
    try:
        queue = Queue("default", connection=redis_connection())
        job = queue.enqueue("builtins.int", "not a number")
        from rq import SimpleWorker

        SimpleWorker([queue], connection=redis_connection()).work(burst=True)
        login("admin")
        page = client.get("/jobs/failed").get_data(as_text=True)
        assert job.id in page and "ValueError" in page
        retried = client.post(f"/jobs/failed/{job.id}/retry", headers=HX)
        assert retried.status_code == 200 and "Job queued again" in retried.headers["HX-Trigger"]
        assert job.id in queue.job_ids
    finally:
        app.config["REDIS_URL"] = None


def test_redis_down_refuses_to_start_and_runs_nothing(day_books, client, login, app):
    _close_test_drawer()
    login("manager")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        refused = client.post("/day/run", data={"business_date": "2026-04-01"}, headers=HX)
    finally:
        app.config["REDIS_URL"] = None
    assert refused.status_code == 409
    assert "The job queue (Redis) cannot be reached, so the day-end was not started" in refused.get_data(as_text=True)
    assert db.session.scalar(select(EodRun)) is None
    assert calendar.current_business_date() == date(2026, 4, 1)
