"""Pure loan-instalment rules (DESIGN.md §6): reducing-balance EMI, schedules, flat rate.

Amounts are integer paise, rates ``Decimal`` % p.a.; no floats. The EMI is rounded half-up
to the paisa; each month's interest on the outstanding principal is rounded half-up to the
paisa; the last instalment is the balancing figure, so the principal column sums to the
loan exactly and the last balance is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from app.services.common import ValidationError
from app.services.deposits import PRECISION, add_months

_ONE = Decimal(1)


@dataclass(frozen=True)
class ScheduleRow:
    """One instalment: number, due date and amounts in paise (balance after this instalment)."""

    installment: int
    due_date: date
    emi_paise: int
    principal_paise: int
    interest_paise: int
    balance_paise: int


@dataclass(frozen=True)
class Schedule:
    """A repayment schedule with its regular EMI and totals (paise)."""

    emi_paise: int
    rows: tuple[ScheduleRow, ...]

    @property
    def total_principal_paise(self) -> int:
        """Σ principal (equals the loan)."""
        return sum(r.principal_paise for r in self.rows)

    @property
    def total_interest_paise(self) -> int:
        """Σ interest."""
        return sum(r.interest_paise for r in self.rows)

    @property
    def total_payment_paise(self) -> int:
        """Σ instalments = principal + interest."""
        return sum(r.emi_paise for r in self.rows)


def _paisa(value: Decimal) -> int:
    """Round an exact amount in paise half-up to a whole paisa."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def _validate(principal_paise: int, annual_rate: Decimal, months: int) -> None:
    if not isinstance(principal_paise, int) or isinstance(principal_paise, bool):
        raise TypeError("principal must be integer paise")
    if not isinstance(annual_rate, Decimal):
        raise TypeError("rates must be Decimal")
    if principal_paise <= 0:
        raise ValidationError("The loan amount must be more than zero.", field="principal")
    if annual_rate < 0:
        raise ValidationError("The interest rate cannot be negative.", field="annual_rate")
    if months < 1:
        raise ValidationError("The loan needs at least one instalment.", field="months")


def due_dates(start: date, months: int) -> list[date]:
    """Monthly due dates: the first one month after ``start``, each counted from ``start`` (month-end clamped)."""
    return [add_months(start, k) for k in range(1, months + 1)]


def emi_amount(principal_paise: int, annual_rate: Decimal, months: int) -> int:
    """Reducing-balance EMI in paise: P·i·(1+i)^n / ((1+i)^n − 1), i = rate/1200; P/n at 0 %."""
    _validate(principal_paise, annual_rate, months)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        p = Decimal(principal_paise)
        if annual_rate == 0:
            return _paisa(p / months)
        i = annual_rate / 1200
        growth = (1 + i) ** months
        return _paisa(p * i * growth / (growth - 1))


def emi_schedule(
    principal_paise: int, annual_rate: Decimal, months: int, start: date, emi_paise: int | None = None
) -> Schedule:
    """Reducing-balance schedule; interest on the outstanding principal each month.

    ``emi_paise`` overrides the computed EMI (e.g. after a prepayment that keeps the EMI):
    the schedule then ends as soon as the loan is repaid, and in any case at ``months``,
    whose instalment is the balancing figure. An EMI below a month's interest is refused.
    With the computed EMI the schedule has ``months`` rows, except that on a tiny loan over
    decades the EMI's paisa rounding can repay it a month early; it then ends there.
    """
    _validate(principal_paise, annual_rate, months)
    if emi_paise is not None and (not isinstance(emi_paise, int) or emi_paise <= 0):
        raise ValidationError("The instalment must be more than zero.", field="emi")
    emi = emi_amount(principal_paise, annual_rate, months) if emi_paise is None else emi_paise
    rows: list[ScheduleRow] = []
    balance = principal_paise
    with localcontext() as ctx:
        ctx.prec = PRECISION
        i = annual_rate / 1200
        for k, due in enumerate(due_dates(start, months), start=1):
            interest = _paisa(Decimal(balance) * i)
            principal = emi - interest
            if k == months or principal >= balance:
                principal = balance
                rows.append(ScheduleRow(k, due, principal + interest, principal, interest, 0))
                break
            if principal < 0:
                raise ValidationError("The instalment does not cover the month's interest.", field="emi")
            balance -= principal
            rows.append(ScheduleRow(k, due, emi, principal, interest, balance))
    return Schedule(emi, tuple(rows))


def flat_schedule(principal_paise: int, annual_rate: Decimal, months: int, start: date) -> Schedule:
    """Flat-rate schedule: interest P × r × n / 1200 on the original principal, spread evenly.

    Total interest is rounded half-up to the paisa; each row pays P/n principal and 1/n of
    the interest (each rounded to the paisa); the last row takes whatever is left of both.
    """
    _validate(principal_paise, annual_rate, months)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        total_interest = _paisa(Decimal(principal_paise) * annual_rate * months / 1200)
        part_principal = _paisa(Decimal(principal_paise) / months)
        part_interest = _paisa(Decimal(total_interest) / months)
    rows: list[ScheduleRow] = []
    balance, interest_left = principal_paise, total_interest
    for k, due in enumerate(due_dates(start, months), start=1):
        if k == months:
            principal, interest = balance, interest_left
        else:
            principal, interest = min(part_principal, balance), min(part_interest, interest_left)
        balance -= principal
        interest_left -= interest
        rows.append(ScheduleRow(k, due, principal + interest, principal, interest, balance))
        if balance == 0 and interest_left == 0:
            break
    return Schedule(part_principal + part_interest, tuple(rows))
