"""Loan portfolio reads for the reports (filled in against the loans module's models)."""

from __future__ import annotations

from datetime import date
from typing import Any


def available() -> bool:
    """Whether any loan is on the books."""
    return False


def quality(on: date) -> dict[str, Any] | None:
    return None


def npa_share_by_month(ends: list[date]) -> list[int] | None:
    return None
