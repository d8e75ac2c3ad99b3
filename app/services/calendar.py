"""The business date: which day is open for posting; opening and closing days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.calendar import BusinessDay
from app.services import audit
from app.services.errors import Conflict, DomainError


class DayClosed(DomainError):
    type = "day-closed"
    title = "Business day closed"


def open_day() -> BusinessDay | None:
    """The open business day, if any (there is at most one)."""
    return db.session.scalar(
        select(BusinessDay).where(BusinessDay.status == "open").order_by(BusinessDay.business_date.desc()).limit(1)
    )


def business_date_or_none() -> date | None:
    day = open_day()
    return day.business_date if day else None


def current_business_date() -> date:
    """The open business date; raises DayClosed when no day is open."""
    day = open_day()
    if day is None:
        raise DayClosed("No business day is open. A manager must open the day before postings.")
    return day.business_date


def get_day(on: date) -> BusinessDay | None:
    return db.session.scalar(select(BusinessDay).where(BusinessDay.business_date == on))


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
    """Close the open day ``on`` (the day-end batch calls this as its last step)."""
    day = get_day(on)
    if day is None or day.status != "open":
        raise Conflict(f"Business day {on:%d-%m-%Y} is not open.")
    day.status = "closed"
    day.closed_at = utcnow()
    day.closed_by_id = by_id
    audit.record("day.close", "business_day", on.isoformat(), before={"status": "open"}, after={"status": "closed"})
    return day
