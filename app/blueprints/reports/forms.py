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


@dataclass
class YearEndInput:
    """The year-end proposal as typed: year end, funds ("3200:25, 3303:1") and dividend rate."""

    year_end: str
    funds: str
    dividend_rate: str

    @classmethod
    def read(cls, form: Mapping[str, str]) -> YearEndInput:
        return cls(
            (form.get("year_end") or "").strip(), (form.get("funds") or "").strip(), (form.get("dividend_rate") or "0")
        )

    def parsed(self) -> tuple[date, dict, object]:
        """(year end, funds, rate) or a ValidationError naming the field."""
        year_end = reports.parse_date(self.year_end, "year_end")
        return year_end, reports.parse_funds(self.funds), reports.parse_pct(self.dividend_rate, "dividend_rate")


def default_year_end(on: date) -> date:
    """The 31 March most recently past (the year a committee would close next)."""
    return date(on.year if on.month >= 4 else on.year - 1, 3, 31)
