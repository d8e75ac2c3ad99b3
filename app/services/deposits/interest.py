"""Pure deposit-interest rules (DESIGN.md §6): savings daily product, FD, RD and TDS (194A).

No database, no ``request``, no floats: amounts are integer paise, rates are ``Decimal``
percentages per annum (``Decimal("7.25")`` means 7.25 % p.a.). Savings interest is an exact
integer ratio; FD and RD arithmetic runs at 40 significant digits. Each credited amount is
rounded exactly ONCE, half-up, to the rupee (default, ``INTEREST_ROUNDING = "rupee"``) or to
the paisa (``"paise"``).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Literal, NamedTuple, TypedDict, Unpack

from app.money import HUNDRED, RUPEE, round_half_up, round_interest
from app.services.common import ValidationError
from app.settings import setting

PRECISION = 40
DAYS_IN_YEAR = 365
SIMPLE_INTEREST_BELOW_DAYS = 180  # FD tenure < 180 days earns simple interest
DEFAULT_PREMATURE_PENALTY = Decimal("1")

Rounding = Literal["rupee", "paise"]
Payout = Literal["monthly", "quarterly"]
_ZERO = Decimal(0)


class RoundingOption(TypedDict, total=False):
    rounding: Rounding  # "rupee" (default) or "paise"


class TdsRates(TypedDict, total=False):
    rate_pan: Decimal  # per cent; default the TDS_RATE_PAN setting
    rate_no_pan: Decimal  # per cent; default the TDS_RATE_NO_PAN setting


_36500 = Decimal(36500)


# ------------------------------------------------------------------ helpers


def add_months(start: date, months: int) -> date:
    """``start`` plus calendar months, clamped to the month end (31 Jan + 1 month = 28/29 Feb)."""
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def completed_months(start: date, end: date) -> int:
    """Whole calendar months from ``start`` to ``end`` (largest m with add_months(start, m) ≤ end)."""
    if end < start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months


def _paise_of(exact_paise: Decimal, rounding: Rounding) -> int:
    """Round an exact amount in paise ONCE, half-up, to the rupee or the paisa; return paise."""
    rupees = round_interest(exact_paise / HUNDRED, rounding)
    return int(rupees * HUNDRED)


def _check_rate(rate: Decimal, field: str = "annual_rate") -> None:
    if not isinstance(rate, Decimal):
        raise TypeError("rates must be Decimal")
    if rate < 0:
        raise ValidationError("The interest rate cannot be negative.", field=field)


def _check_paise(amount: int, field: str, *, allow_zero: bool = False) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"{field} must be integer paise")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError("The amount must be more than zero.", field=field)


# ------------------------------------------------------------------ savings (daily product)


def savings_interest(product_paise_by_rate: Sequence[tuple[Decimal, int]], rounding: Rounding = "rupee") -> int:
    """Savings interest in paise = Σ(product × rate / 36500) over rate segments, rounded once.

    Computed exactly (each Decimal rate as an integer ratio), so no digit is lost before the
    one half-up rounding.
    """
    numerator, denominator = 0, 1
    for rate, product in product_paise_by_rate:
        _check_rate(rate)
        n, d = rate.as_integer_ratio()
        if denominator % d:
            numerator, denominator = numerator * d, denominator * d
        numerator += product * n * (denominator // d)
    return _ratio_paise(numerator, denominator * 36500, rounding)


def savings_interest_bp(product_paise_by_bp: Iterable[tuple[int, int]], rounding: Rounding = "rupee") -> int:
    """``savings_interest`` with rates in basis points (725 = 7.25 % p.a.), in integers only.

    The day-end's crediting of many accounts uses it: the same rule and the same result as
    ``savings_interest`` (Σ product × bp / 3,650,000 paise, rounded once), without Decimals.
    """
    numerator = 0
    for bp, product in product_paise_by_bp:
        if bp < 0:
            raise ValidationError("The interest rate cannot be negative.", field="annual_rate")
        numerator += product * bp
    return _ratio_paise(numerator, 100 * 36500, rounding)


def _ratio_paise(numerator: int, denominator: int, rounding: Rounding) -> int:
    """The exact amount numerator/denominator paise (≥ 0), rounded half-up ONCE to the rupee or the paisa."""
    if numerator < 0:
        raise ValidationError("An interest product cannot be negative.", field="product")
    if rounding == "rupee":
        return (2 * numerator + 100 * denominator) // (200 * denominator) * 100
    return (2 * numerator + denominator) // (2 * denominator)


def daily_products(
    eod_balances: Iterable[tuple[date, int]], rate_changes: Sequence[tuple[date, Decimal]]
) -> list[tuple[Decimal, int]]:
    """Σ end-of-day balances (paise) per rate segment: ``[(rate, product_paise), ...]`` in date order.

    ``eod_balances`` holds one (day, end-of-day balance) per day of the period; ``rate_changes``
    holds (effective from, rate) pairs, and the latest one on or before a day applies. A new
    segment starts whenever the applicable rate changes. A negative (overdrawn) balance earns
    nothing, so it adds zero.
    """
    changes = sorted(rate_changes)
    segments: list[tuple[Decimal, int]] = []
    for day, balance in sorted(eod_balances):
        rate = None
        for effective, candidate in changes:
            if effective <= day:
                rate = candidate
            else:
                break
        if rate is None:
            raise ValidationError(f"No savings rate applies on {day:%d-%m-%Y}.", field="rate")
        amount = max(balance, 0)
        if segments and segments[-1][0] == rate:
            segments[-1] = (rate, segments[-1][1] + amount)
        else:
            segments.append((rate, amount))
    return segments


def carry_forward(changes: Sequence[tuple[date, int]], start: date, end: date) -> list[tuple[date, int]]:
    """Expand (date, new balance) changes to one end-of-day balance per day from start to end inclusive."""
    ordered = sorted(changes)
    days: list[tuple[date, int]] = []
    balance, i, day = 0, 0, start
    while day <= end:
        while i < len(ordered) and ordered[i][0] <= day:
            balance = ordered[i][1]
            i += 1
        days.append((day, balance))
        day += timedelta(days=1)
    return days


# ------------------------------------------------------------------ fixed deposits


class FdResult(NamedTuple):
    """A fixed deposit's maturity (or closure) date, interest and amount paid out, in paise."""

    maturity_date: date
    interest_paise: int
    maturity_paise: int


class FdPayout(NamedTuple):
    """One periodic interest payout of a non-cumulative FD (``days`` set for a broken period)."""

    due_date: date
    interest_paise: int
    days: int | None = None


def fd_maturity_date(start: date, months: int = 0, days: int = 0) -> date:
    """Maturity = start + calendar months (month-end clamped) + days."""
    if months < 0 or days < 0 or months + days == 0:
        raise ValidationError("The deposit needs a tenure of at least one day.", field="months")
    return add_months(start, months) + timedelta(days=days)


def fd_exact_interest(principal_paise: int, annual_rate: Decimal, start: date, end: date) -> Decimal:
    """Unrounded FD interest in paise for the period start → end (the FD compounding rule).

    Under 180 days: P × r × days / 36500. Otherwise A = P(1 + r/400)^q for q completed
    quarters (by calendar months from ``start``), plus A × r × d / 36500 for the d days left
    after the last completed quarter; interest = that total − P. Nothing is rounded here.
    """
    _check_paise(principal_paise, "principal")
    _check_rate(annual_rate)
    if end < start:
        raise ValidationError("The end date is before the start date.", field="closed_on")
    days = (end - start).days
    with localcontext() as ctx:
        ctx.prec = PRECISION
        p = Decimal(principal_paise)
        if days < SIMPLE_INTEREST_BELOW_DAYS:
            return p * annual_rate * days / _36500
        quarters = completed_months(start, end) // 3
        left = (end - add_months(start, 3 * quarters)).days
        amount = p * (1 + annual_rate / 400) ** quarters
        return amount - p + amount * annual_rate * left / _36500


def fd_maturity(
    principal_paise: int,
    annual_rate: Decimal,
    start: date,
    months: int = 0,
    days: int = 0,
    rounding: Rounding = "rupee",
) -> FdResult:
    """Cumulative FD: maturity date, interest and maturity amount (paise).

    Rounding happens exactly once, on the total interest (half-up, to the rupee by default):
    the compounded amount A and the broken-period interest are carried at 40 digits, never
    rounded per quarter. Maturity amount = principal + rounded interest.
    """
    maturity = fd_maturity_date(start, months, days)
    interest = _paise_of(fd_exact_interest(principal_paise, annual_rate, start, maturity), rounding)
    return FdResult(maturity, interest, principal_paise + interest)


def premature_rate(rate_for_period_run: Decimal, penalty: Decimal = DEFAULT_PREMATURE_PENALTY) -> Decimal:
    """Premature-closure rate: the rate for the period actually run minus the penalty, floored at 0."""
    _check_rate(rate_for_period_run)
    _check_rate(penalty, "penalty")
    return max(rate_for_period_run - penalty, _ZERO)


def fd_premature(
    principal_paise: int,
    contracted_rate_for_actual_period: Decimal,
    penalty: Decimal,
    start: date,
    closed_on: date,
    rounding: Rounding = "rupee",
) -> FdResult:
    """Premature closure: interest at (rate for the period run − penalty, ≥ 0) for the actual tenure.

    ``contracted_rate_for_actual_period`` is the rate the bank offered, on the start date,
    for a deposit of the tenure actually run. The compounding rule follows the actual tenure
    (simple under 180 days); the interest is rounded once, as in ``fd_maturity``. The result's
    ``maturity_date`` is the closure date and ``maturity_paise`` the amount paid out (before
    recovering any interest already paid out on a non-cumulative FD, which the caller does).
    """
    rate = premature_rate(contracted_rate_for_actual_period, penalty)
    interest = _paise_of(fd_exact_interest(principal_paise, rate, start, closed_on), rounding)
    return FdResult(closed_on, interest, principal_paise + interest)


def fd_periodic_interest(
    principal_paise: int, annual_rate: Decimal, frequency: Payout, rounding: Rounding = "rupee"
) -> int:
    """One full-period payout of a non-cumulative FD (paise), rounded once.

    Quarterly: P × r / 400. Monthly: the discounted monthly interest P × r / (1200 + r),
    i.e. one month's simple interest discounted for one month (docs/decisions/0010).
    """
    _check_paise(principal_paise, "principal")
    _check_rate(annual_rate)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        p = Decimal(principal_paise)
        if frequency == "quarterly":
            exact = p * annual_rate / 400
        elif frequency == "monthly":
            exact = p * annual_rate / (1200 + annual_rate)
        else:
            raise ValidationError("Payout must be monthly or quarterly.", field="payout")
        return _paise_of(exact, rounding)


def fd_payout_schedule(
    principal_paise: int,
    annual_rate: Decimal,
    start: date,
    months: int = 0,
    days: int = 0,
    frequency: Payout = "quarterly",
    **options: Unpack[RoundingOption],
) -> list[FdPayout]:
    """Every payout of a non-cumulative FD: full periods, then a broken period at maturity.

    Full periods end at start + k×(1 or 3) calendar months and pay ``fd_periodic_interest``;
    the days left before maturity earn simple interest P × r × d / 36500, rounded once
    (``rounding``: "rupee", the default, or "paise").
    """
    rounding: Rounding = options.get("rounding", "rupee")
    step = 1 if frequency == "monthly" else 3
    maturity = fd_maturity_date(start, months, days)
    regular = fd_periodic_interest(principal_paise, annual_rate, frequency, rounding)
    payouts: list[FdPayout] = []
    k, last = 1, start
    while (due := add_months(start, k * step)) <= maturity:
        payouts.append(FdPayout(due, regular))
        last, k = due, k + 1
    if last < maturity:
        left = (maturity - last).days
        with localcontext() as ctx:
            ctx.prec = PRECISION
            exact = Decimal(principal_paise) * annual_rate * left / _36500
        payouts.append(FdPayout(maturity, _paise_of(exact, rounding), left))
    return payouts


# ------------------------------------------------------------------ recurring deposits


class RdResult(NamedTuple):
    """A recurring deposit's maturity amount, total deposited and interest, in paise."""

    maturity_paise: int
    total_deposited_paise: int
    interest_paise: int


def rd_maturity_actual(
    installment_paise: int,
    annual_rate: Decimal,
    months: int,
    paid_months: Iterable[int],
    rounding: Rounding = "rupee",
) -> RdResult:
    """RD maturity from the instalments actually paid (missed or late ones earn less).

    ``paid_months`` has one entry per instalment paid: the month of the term (1 = first) in
    which it was paid; repeats are allowed (catching up). An instalment paid in month k stays
    m = months − k + 1 months and grows to R(1 + r/400)^(m/3). The sum is carried at 40 digits
    and the interest (sum − deposits) is rounded once, half-up.
    """
    _check_paise(installment_paise, "installment")
    _check_rate(annual_rate)
    if months < 1:
        raise ValidationError("The deposit needs at least one month.", field="months")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        quarter = 1 + annual_rate / 400
        r = Decimal(installment_paise)
        total = _ZERO
        count = 0
        for k in paid_months:
            if not 1 <= k <= months:
                raise ValidationError(f"Instalment month {k} is outside the term of {months} months.", field="months")
            stay = months - k + 1
            total += r * quarter ** (Decimal(stay) / 3)
            count += 1
        deposited = installment_paise * count
        interest = _paise_of(total - deposited, rounding)
    return RdResult(deposited + interest, deposited, interest)


def rd_maturity(installment_paise: int, annual_rate: Decimal, months: int, rounding: Rounding = "rupee") -> RdResult:
    """RD maturity M = Σ R(1 + r/400)^(m/3), instalment k of n staying m = n − k + 1 months."""
    return rd_maturity_actual(installment_paise, annual_rate, months, range(1, months + 1), rounding)


# ------------------------------------------------------------------ TDS (section 194A)


def financial_year(d: date) -> str:
    """The Indian financial year (April–March) of a date, e.g. ``"2026-27"``."""
    first = d.year if d.month >= 4 else d.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def financial_year_bounds(d: date) -> tuple[date, date]:
    """First and last day (1 April, 31 March) of the financial year containing ``d``."""
    first = d.year if d.month >= 4 else d.year - 1
    return date(first, 4, 1), date(first + 1, 3, 31)


def tds_threshold(senior_citizen: bool) -> int:
    """The 194A threshold in paise (settings TDS_THRESHOLD_PAISE / TDS_THRESHOLD_SENIOR_PAISE)."""
    return int(setting("TDS_THRESHOLD_SENIOR_PAISE" if senior_citizen else "TDS_THRESHOLD_PAISE"))


def tds_on_credit(
    interest_paise: int,
    fy_interest_before_paise: int,
    *,
    fy_tds_before_paise: int,
    threshold_paise: int,
    has_pan: bool,
    exempt_15g_15h: bool,
    **rates: Unpack[TdsRates],
) -> int:
    """TDS (paise, whole rupees) to deduct from an interest credit, by the cumulative convention.

    Nothing while a valid Form 15G/15H is on file, or while the financial year's interest
    including this credit (``fy_interest_before_paise + interest_paise``) does not exceed the
    threshold. Once it does: tax on the WHOLE year's interest so far at 10 % (20 % without
    PAN), rounded half-up to the rupee, minus the TDS already deducted this year, never
    negative. Rounding the cumulative figure keeps the year's deductions equal to
    round(rate × year's interest) with no drift across credits.
    """
    for name, value in (
        ("interest_paise", interest_paise),
        ("fy_interest_before_paise", fy_interest_before_paise),
        ("fy_tds_before_paise", fy_tds_before_paise),
        ("threshold_paise", threshold_paise),
    ):
        _check_paise(value, name, allow_zero=True)
    if exempt_15g_15h:
        return 0
    total = fy_interest_before_paise + interest_paise
    if total <= threshold_paise:
        return 0
    name = "rate_pan" if has_pan else "rate_no_pan"
    rate = rates.get(name)
    if rate is None:
        rate = Decimal(setting("TDS_RATE_PAN" if has_pan else "TDS_RATE_NO_PAN"))
    _check_rate(rate, "rate")
    with localcontext() as ctx:
        ctx.prec = PRECISION
        due_rupees = round_half_up(Decimal(total) * rate / HUNDRED / HUNDRED, RUPEE)
    return max(int(due_rupees * HUNDRED) - fy_tds_before_paise, 0)
