"""The ordered registry of day-end steps.

A ``DayStep`` is either plain — ``run(target) -> rows`` in one unit of work — or chunked —
``chunks(target) -> [(lo, hi)]`` id ranges and ``run_chunk(target, lo, hi) -> rows``, each
chunk one unit of work that several workers may share. ``runs_on`` says on which dates it
runs: every business day, or the period ends (month, quarter, financial year) that fell
since the previous business day; ``target`` is the business date or that period end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

RUNS_ON = ("daily", "month_end", "quarter_end", "fy_end")


@dataclass(frozen=True)
class DayStep:
    name: str
    order: int
    label: str
    runs_on: str = "daily"
    run: Callable[[date], int] | None = None
    chunks: Callable[[date], list[tuple[int, int]]] | None = None
    run_chunk: Callable[[date, int, int], int] | None = None

    def __post_init__(self) -> None:
        if self.runs_on not in RUNS_ON:
            raise ValueError(f"unknown runs_on {self.runs_on!r}")
        if (self.run is None) == (self.chunks is None or self.run_chunk is None):
            raise ValueError(f"step {self.name}: give run, or chunks and run_chunk")

    @property
    def chunked(self) -> bool:
        return self.run is None

    def targets(self, on: date, previous: date | None) -> list[date]:
        """The dates this step runs for at the day-end of ``on`` (empty: not today)."""
        if self.runs_on == "daily":
            return [on]
        start = (previous + timedelta(days=1)) if previous is not None and previous < on else on
        out = []
        day = start
        while day <= on:
            if _is_end(self.runs_on, day):
                out.append(day)
            day += timedelta(days=1)
        return out


def _is_end(kind: str, day: date) -> bool:
    if (day + timedelta(days=1)).day != 1:
        return False
    if kind == "month_end":
        return True
    if kind == "quarter_end":
        return day.month in (3, 6, 9, 12)
    return day.month == 3  # fy_end: 31 March


_steps: dict[str, DayStep] = {}


def register(step: DayStep) -> DayStep:
    """Add a step (a second registration of the same name replaces the first)."""
    _steps[step.name] = step
    return step


def steps() -> list[DayStep]:
    """Every registered step in order."""
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def get(name: str) -> DayStep:
    return _steps[name]


def id_ranges(lo: int | None, hi: int | None, size: int) -> list[tuple[int, int]]:
    """Cut ids ``lo..hi`` into consecutive ranges of ``size`` ids."""
    if lo is None or hi is None:
        return []
    return [(start, min(start + size - 1, hi)) for start in range(lo, hi + 1, size)]
