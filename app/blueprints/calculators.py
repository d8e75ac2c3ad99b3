"""Public EMI, FD and RD calculators (mobile-first, HTMX with a no-JS fallback).

The input parsing here is shared with the JSON API (``app/blueprints/api/calculators.py``),
so a value the page refuses is refused by the API with the same message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, request

from app.money import MoneyError, parse_amount
from app.permissions import public
from app.services.common import DomainError
from app.services.deposits import interest
from app.services.loans import emi as emi_rules
from app.web import is_htmx, render

bp = Blueprint("calculators", __name__)

MAX_RATE = Decimal(50)
MAX_MONTHS = 480
MAX_FD_DAYS = 3660
MIN_FD_DAYS = 7  # RBI: the shortest term deposit is 7 days
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


def parse_emi(raw: Mapping[str, str]) -> Parsed:
    """principal, annual_rate, months, start_date."""
    p = Parsed()
    p.take("principal", lambda t: parse_money(t, "loan amount"), raw)
    p.take("annual_rate", parse_rate, raw)
    p.take("months", lambda t: parse_count(t, 1, MAX_MONTHS, "months"), raw)
    p.take("start_date", parse_start, raw)
    return p


def parse_fd(raw: Mapping[str, str]) -> Parsed:
    """principal, annual_rate, months, days, start_date (a cumulative FD)."""
    p = Parsed()
    p.take("principal", lambda t: parse_money(t, "deposit amount"), raw)
    p.take("annual_rate", parse_rate, raw)
    p.take("months", lambda t: parse_count(t, 0, MAX_MONTHS, "months", required=False), raw)
    p.take("days", lambda t: parse_count(t, 0, MAX_FD_DAYS, "days", required=False), raw)
    p.take("start_date", parse_start, raw)
    if not ({"months", "days", "start_date"} & p.errors.keys()):
        start = p.values["start_date"]
        end = interest.add_months(start, p.values["months"]) + timedelta(days=p.values["days"])
        if (end - start).days < MIN_FD_DAYS:
            p.add("months", f"The tenure must be at least {MIN_FD_DAYS} days; enter months, days or both.")
    return p


def parse_fd_page(raw: Mapping[str, str]) -> Parsed:
    """The FD inputs plus the page's payout choice (cumulative, quarterly, monthly)."""
    p = parse_fd(raw)
    payout = (raw.get("payout") or "cumulative").strip()
    if payout not in PAYOUTS:
        p.add("payout", "Choose how the interest is paid.")
    p.values["payout"] = payout
    return p


def parse_rd(raw: Mapping[str, str]) -> Parsed:
    """installment, annual_rate, months."""
    p = Parsed()
    p.take("installment", lambda t: parse_money(t, "monthly instalment"), raw)
    p.take("annual_rate", parse_rate, raw)
    p.take("months", lambda t: parse_count(t, 1, MAX_MONTHS, "months"), raw)
    return p


def compute_emi(v: Mapping[str, Any]) -> emi_rules.Schedule:
    """The reducing-balance schedule for parsed EMI inputs."""
    return emi_rules.emi_schedule(v["principal"], v["annual_rate"], v["months"], v["start_date"])


def compute_fd(v: Mapping[str, Any]) -> interest.FdResult:
    """The cumulative FD maturity for parsed FD inputs."""
    return interest.fd_maturity(v["principal"], v["annual_rate"], v["start_date"], v["months"], v["days"])


def compute_rd(v: Mapping[str, Any]) -> interest.RdResult:
    """The RD maturity for parsed RD inputs."""
    return interest.rd_maturity(v["installment"], v["annual_rate"], v["months"])


def _page(
    kind: str, parse: Callable[[Mapping[str, str]], Parsed], compute: Callable[[Mapping[str, Any]], Any], **extra
):
    args = request.args
    submitted = any(args.get(k) for k in ("principal", "installment", "annual_rate", "months", "days"))
    parsed = parse(args) if submitted else Parsed()
    result = None
    if submitted and not parsed.errors:
        try:
            result = compute(parsed.values)
        except DomainError as exc:
            for name, messages in (exc.errors or {"": [exc.message]}).items():
                for message in messages:
                    parsed.add(name or "principal", message)
    context = {
        "form": args,
        "errors": parsed.errors,
        "values": parsed.values,
        "result": result,
        "submitted": submitted,
        "oob": is_htmx(),
        **extra,
    }
    if kind == "fd" and result is not None and parsed.values.get("payout") in ("monthly", "quarterly"):
        v = parsed.values
        context["payouts"] = interest.fd_payout_schedule(
            v["principal"], v["annual_rate"], v["start_date"], v["months"], v["days"], v["payout"]
        )
    status = 422 if parsed.errors and not is_htmx() else 200
    return render(f"calculators/{kind}.html", f"calculators/_{kind}_result.html", status=status, **context)


@bp.get("/")
@public
def index():
    """The list of calculators."""
    return render("calculators/index.html")


@bp.get("/emi")
@public
def emi():
    """Loan EMI and repayment schedule."""
    return _page("emi", parse_emi, compute_emi)


@bp.get("/fd")
@public
def fd():
    """Fixed deposit maturity (cumulative or with periodic payouts)."""
    return _page("fd", parse_fd_page, compute_fd, payouts=None, payout_choices=PAYOUTS)


@bp.get("/rd")
@public
def rd():
    """Recurring deposit maturity."""
    return _page("rd", parse_rd, compute_rd)
