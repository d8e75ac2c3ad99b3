"""Report filters (read from the query string) and the year-end proposal form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from app.services import reports


@dataclass
class Period:
    date_from: date
    date_to: date


def read_date(args: Mapping[str, str], name: str = "date") -> date:
    """``date`` from the query string (default: the business date); ValidationError when malformed."""
    return reports.parse_date(args.get(name), name, reports.default_date())


def read_period(args: Mapping[str, str]) -> Period:
    """``from`` and ``to`` from the query string (default: the financial year to date)."""
    to = reports.parse_date(args.get("to"), "to", reports.default_date())
    start_default = max(reports.fy_start(to), reports.first_day() or to)
    return Period(reports.parse_date(args.get("from"), "from", start_default), to)
