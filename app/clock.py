"""Indian Standard Time: times are stored in UTC and read, filtered and reported by IST days.

One module for every layer (templates, blueprints, services): :data:`IST`, :func:`ist` (a
stored moment as text labelled "IST"), :func:`ist_day_start` / :func:`ist_day_bounds` (the
UTC instants an Indian calendar day starts and ends) and :func:`ist_date` (the Indian calendar
day a moment falls on).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def ist(value: datetime | date | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored time (UTC; naive values are UTC) as Indian Standard Time, labelled "IST"."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.strftime(fmt.split(" ")[0])
    return f"{_aware(value).astimezone(IST).strftime(fmt)} IST"


def ist_day_start(day: date) -> datetime:
    """The UTC instant at which a calendar day begins in India (staff filter by IST days)."""
    return datetime.combine(day, time.min, IST).astimezone(UTC)


def ist_day_bounds(day: date) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the Indian calendar day ``day`` (00:00–24:00 IST)."""
    return ist_day_start(day), ist_day_start(day + timedelta(days=1))


def ist_date(moment: datetime) -> date:
    """The Indian calendar day on which ``moment`` (UTC; naive is UTC) falls."""
    return _aware(moment).astimezone(IST).date()
