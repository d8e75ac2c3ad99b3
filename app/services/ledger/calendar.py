"""The business date: which day is open for posting; opening and closing days.

Postings and the day-end exclude each other through one PostgreSQL advisory lock: every
posting holds it shared until it commits (``posting_date()``), and closing a day (and
writing its GL snapshot) first takes it exclusively (``lock_day()``). So a close waits for
postings in flight, and a posting that waited for a close reads the day afresh, finds it
closed and is refused: the snapshot of a closed day always equals its lines. An advisory
lock lives in memory; share-locking the day's row instead would write that one row on
every posting. (SQLite serialises writers anyway.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select, text

from app.extensions import db
from app.models.base import utcnow
from app.models.calendar import BusinessDay
from app.services.common import Conflict, DomainError, audit


class DayClosed(DomainError):
    type = "day-closed"
    title = "Business day closed"


# What must be settled before a day may close (e.g. every cash drawer counted): each check
# returns the reasons it refuses, empty when the day may close. Domains register their own.
CloseCheck = Callable[[date], list[str]]
_close_checks: list[CloseCheck] = []


def register_close_check(check: CloseCheck) -> None:
    """Add a check that ``close_business_day`` runs before closing a day."""
    if check not in _close_checks:
        _close_checks.append(check)


def close_problems(on: date) -> list[str]:
    """What the registered close checks say still stops day ``on`` from closing (empty: it may close)."""
    return [reason for check in _close_checks for reason in check(on)]


_DAY_LOCK_KEY = 7_241_002  # PostgreSQL advisory lock id: postings (shared) vs closing a day (exclusive)


def _day_lock(*, shared: bool) -> None:
    """Take the posting/close lock until the end of the transaction (PostgreSQL only)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    db.session.execute(text(f"SELECT {fn}(:k)"), {"k": _DAY_LOCK_KEY})


def open_day() -> BusinessDay | None:
    """The open business day, if any (there is at most one), read afresh from the database."""
    return db.session.scalar(
        select(BusinessDay)
        .where(BusinessDay.status == "open")
        .order_by(BusinessDay.business_date.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


def business_date_or_none() -> date | None:
    day = open_day()
    return day.business_date if day else None


def business_date_or_today() -> date:
    """The open business date, or the calendar date when no day is open (screens, reports, ages)."""
    return business_date_or_none() or date.today()


def current_business_date() -> date:
    """The open business date; raises DayClosed when no day is open."""
    day = open_day()
    if day is None:
        raise DayClosed("No business day is open. A manager must open the day before postings.")
    return day.business_date


def posting_date() -> date:
    """The open business date for a posting; the day cannot close until this transaction ends.

    Raises DayClosed when no day is open (including when a concurrent close just won).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the function (migration 0011) takes the shared lock, then reads the
        # day with a fresh snapshot, so a close we waited for is visible.
        on = db.session.scalar(text("SELECT ledger_posting_day()"))
    else:
        on = business_date_or_none()
    if on is None:
        raise DayClosed("No business day is open. A manager must open the day before postings.")
    return on


def get_day(on: date) -> BusinessDay | None:
    return db.session.scalar(select(BusinessDay).where(BusinessDay.business_date == on))


def lock_day(on: date) -> BusinessDay | None:
    """Lock business day ``on`` exclusively for the rest of the transaction.

    Waits for every posting in flight to finish; postings that start later wait for this
    transaction and then find the day closed. Take it before the day-end snapshot so the
    snapshot sees every line of the day.
    """
    _day_lock(shared=False)
    return db.session.scalar(
        select(BusinessDay)
        .where(BusinessDay.business_date == on)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def open_business_day(on: date, *, by_id: int | None = None) -> BusinessDay:
    """Open ``on`` for posting. Refused while another day is open or if ``on`` was closed."""
    current = open_day()
    if current is not None:
        if current.business_date == on:
            return current
        raise Conflict(f"Business day {current.business_date:%d-%m-%Y} is still open; close it first.")
    existing = get_day(on)
    if existing is not None:
        raise Conflict(f"Business day {on:%d-%m-%Y} was already closed; it cannot be reopened.")
    last = db.session.scalar(select(BusinessDay.business_date).order_by(BusinessDay.business_date.desc()).limit(1))
    if last is not None and on <= last:
        raise Conflict(f"The next business day must be after {last:%d-%m-%Y}.")
    day = BusinessDay(business_date=on, status="open", opened_at=utcnow(), opened_by_id=by_id)
    db.session.add(day)
    db.session.flush()
    audit.record("day.open", "business_day", on.isoformat(), after={"status": "open"})
    return day


def close_business_day(on: date, *, by_id: int | None = None) -> BusinessDay:
    """Close the open day ``on`` (the day-end batch calls this as its last step).

    Takes the exclusive day lock first (see ``lock_day``); call ``ledger.snapshot_day``
    (which takes the same lock) in the same transaction, or use ``ledger.close_day``.
    """
    day = lock_day(on)
    if day is None or day.status != "open":
        raise Conflict(f"Business day {on:%d-%m-%Y} is not open.")
    problems = [reason for check in _close_checks for reason in check(on)]
    if problems:
        raise Conflict(f"Business day {on:%d-%m-%Y} cannot close yet: " + "; ".join(problems) + ".")
    day.status = "closed"
    day.closed_at = utcnow()
    day.closed_by_id = by_id
    audit.record("day.close", "business_day", on.isoformat(), before={"status": "open"}, after={"status": "closed"})
    return day
