"""Calculator input and limits for the public FD and RD calculators (pages and JSON API).

The parsing is shared by ``app/blueprints/calculators.py`` and the API, so a value the page
refuses is refused by the API with the same message. The generic parsers (money, rate,
whole numbers, start date, ``Parsed``) are used by the loan calculator too. Tenure limits
are the product limits (settings ``FD_MIN_DAYS``, ``FD_MAX_DAYS``, ``RD_MIN_MONTHS``,
``RD_MAX_MONTHS``), so the calculator never quotes a deposit the bank cannot open.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.money import MoneyError, parse_amount
from app.settings import setting

from . import interest

MAX_RATE = Decimal(50)
MAX_MONTH_FIELD = 480  # the months box of a calculator accepts 0 to 480 before the tenure check
_RATE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})?|\.\d{1,2})$")
_INT = re.compile(r"^\d{1,4}$")
PAYOUTS = {"cumulative": "At maturity (cumulative)", "quarterly": "Every quarter", "monthly": "Every month"}

Errors = dict[str, list[str]]


@dataclass
class Parsed:
    """Cleaned values and field errors from one calculator request."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: Errors = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def take(self, name: str, parse: Callable[[str], Any], raw: Mapping[str, str]) -> None:
        try:
            self.values[name] = parse((raw.get(name) or "").strip())
        except ValueError as exc:
            self.add(name, str(exc))


# ---------------------------------------------------------------- generic parsers


def parse_money(text: str, label: str) -> int:
    """An amount in paise (``"1,00,000"``, ``"100000.50"``) via app.money.parse_amount."""
    try:
        return parse_amount(text, field=label)
    except MoneyError as exc:
        message = str(exc).split(": ", 1)[-1]
        raise ValueError(message[:1].upper() + message[1:] + ".") from exc


def parse_rate(text: str) -> Decimal:
    """An annual rate in % as Decimal: 0 to 50, at most two decimals."""
    cleaned = text.removesuffix("%").strip()
    if not cleaned:
        raise ValueError("Enter the interest rate, e.g. 8.5.")
    if not _RATE.match(cleaned):
        raise ValueError("Enter the rate as a number with at most two decimals, e.g. 8.5.")
    rate = Decimal(cleaned)
    if rate > MAX_RATE:
        raise ValueError("The rate must be between 0 and 50 % a year.")
    return rate


def parse_count(text: str, low: int, high: int, what: str, *, required: bool = True) -> int:
    """A whole number between ``low`` and ``high``."""
    if not text:
        if required:
            raise ValueError(f"Enter the number of {what}.")
        return 0
    if not _INT.match(text) or not low <= int(text) <= high:
        raise ValueError(f"Enter whole {what} from {low} to {high}.")
    return int(text)


def parse_start(text: str) -> date:
    """An optional ISO start date (default: today)."""
    if not text:
        return date.today()
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError("Enter the date as YYYY-MM-DD.") from None
    if not 1950 <= value.year <= 2200:
        raise ValueError("Enter a date between 1950 and 2200.")
    return value


# ---------------------------------------------------------------- fixed deposits


def parse_fd(raw: Mapping[str, str]) -> Parsed:
    """principal, annual_rate, months, days, start_date (a cumulative FD) within the product tenure."""
    min_days, max_days = int(setting("FD_MIN_DAYS")), int(setting("FD_MAX_DAYS"))
    p = Parsed()
    p.take("principal", lambda t: parse_money(t, "deposit amount"), raw)
    p.take("annual_rate", parse_rate, raw)
    p.take("months", lambda t: parse_count(t, 0, MAX_MONTH_FIELD, "months", required=False), raw)
    p.take("days", lambda t: parse_count(t, 0, max_days, "days", required=False), raw)
    p.take("start_date", parse_start, raw)
    if not ({"months", "days", "start_date"} & p.errors.keys()):
        start = p.values["start_date"]
        end = interest.add_months(start, p.values["months"]) + timedelta(days=p.values["days"])
        tenure = (end - start).days
        if tenure < min_days:
            p.add("months", f"The tenure must be at least {min_days} days; enter months, days or both.")
        elif tenure > max_days:
            p.add("months", f"The tenure must be at most {max_days:,} days (about {max_days // 365} years).")
    return p


def fd_tenure_hint() -> str:
    """The FD tenure the calculator accepts, in words."""
    return f"Tenure in all: {int(setting('FD_MIN_DAYS'))} to {int(setting('FD_MAX_DAYS')):,} days"


def parse_fd_page(raw: Mapping[str, str]) -> Parsed:
    """The FD inputs plus the page's payout choice (cumulative, quarterly, monthly)."""
    p = parse_fd(raw)
    payout = (raw.get("payout") or "cumulative").strip()
    if payout not in PAYOUTS:
        p.add("payout", "Choose how the interest is paid.")
    p.values["payout"] = payout
    return p


def compute_fd(v: Mapping[str, Any]) -> interest.FdResult:
    """The cumulative FD maturity for parsed FD inputs."""
    return interest.fd_maturity(v["principal"], v["annual_rate"], v["start_date"], v["months"], v["days"])


def fd_payouts(v: Mapping[str, Any]) -> list[interest.FdPayout] | None:
    """The periodic payouts of a monthly / quarterly FD (None for a cumulative one)."""
    if v.get("payout") not in ("monthly", "quarterly"):
        return None
    return interest.fd_payout_schedule(
        v["principal"], v["annual_rate"], v["start_date"], v["months"], v["days"], v["payout"]
    )


# ---------------------------------------------------------------- recurring deposits


def rd_tenure_hint() -> str:
    """The RD tenure the calculator accepts, in words."""
    return f"{int(setting('RD_MIN_MONTHS'))} to {int(setting('RD_MAX_MONTHS'))} months"


def parse_rd(raw: Mapping[str, str]) -> Parsed:
    """installment, annual_rate, months within the product tenure."""
    low, high = int(setting("RD_MIN_MONTHS")), int(setting("RD_MAX_MONTHS"))
    p = Parsed()
    p.take("installment", lambda t: parse_money(t, "monthly instalment"), raw)
    p.take("annual_rate", parse_rate, raw)
    p.take("months", lambda t: parse_count(t, low, high, "months"), raw)
    return p


def compute_rd(v: Mapping[str, Any]) -> interest.RdResult:
    """The RD maturity for parsed RD inputs."""
    return interest.rd_maturity(v["installment"], v["annual_rate"], v["months"])
