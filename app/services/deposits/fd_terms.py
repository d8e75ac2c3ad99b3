"""The terms of a fixed deposit: what an FD will be when it is opened or renewed (rate from
the product's band for the tenure plus the senior-citizen extra, maturity date, interest by
the pure rules in ``interest``), its payout schedule and maturity value. No writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.models.deposits import DepositAccount, rate_of
from app.models.members import Member
from app.money import format_inr
from app.services.common import ValidationError
from app.settings import setting

from . import catalogue, interest

PAYOUT_LABELS = {
    "cumulative": "cumulative (paid at maturity)",
    "monthly": "monthly payout",
    "quarterly": "quarterly payout",
}


def tenure_label(months: int, days: int) -> str:
    """``"12 months"``, ``"1 month 10 days"``, ``"45 days"``."""
    parts = []
    if months:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    return " ".join(parts) or "0 days"


@dataclass(frozen=True)
class FdTerms:
    """What an FD will be on the day it is opened (or renewed)."""

    principal_paise: int
    rate_bp: int
    senior: bool
    start: date
    maturity_date: date
    months: int
    days: int
    payout: str
    interest_paise: int  # cumulative: interest at maturity; payout FDs: all payouts together

    @property
    def rate(self) -> Decimal:
        return rate_of(self.rate_bp)  # type: ignore[return-value]

    @property
    def maturity_paise(self) -> int:
        return self.principal_paise + (self.interest_paise if self.payout == "cumulative" else 0)

    def describe(self) -> str:
        return (
            f"{format_inr(self.principal_paise)} for {tenure_label(self.months, self.days)} at {self.rate}% "
            f"{'(senior citizen) ' if self.senior else ''}{PAYOUT_LABELS[self.payout]}, "
            f"maturing {self.maturity_date:%d-%m-%Y}"
        )


def _check_tenure(months: object, days: object) -> tuple[int, int]:
    for name, value in (("months", months), ("days", days)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError("Tenure: whole months and days, not negative.", field=name)
    longest = int(setting("FD_MAX_DAYS"))
    if months > longest * 12 // 365 or days > longest:  # type: ignore[operator]
        raise ValidationError("The tenure is longer than any deposit this bank takes.", field="months")
    return months, days  # type: ignore[return-value]


@dataclass(frozen=True)
class FdAsk:
    """What is asked of a new (or renewed) FD: principal, tenure, payout, action at maturity."""

    principal_paise: int
    months: int = 0
    days: int = 0
    payout: str = "cumulative"
    maturity_action: str | None = None


def terms_for(product, member: Member, ask: FdAsk, start: date) -> FdTerms:
    """Validate an FD against its product and work out rate, maturity date and interest.

    Refuses an amount below the minimum (or above a maximum), a tenure outside the
    product's range or with no rate band, and a payout / maturity action the product
    does not offer.
    """
    principal_paise, payout, maturity_action = ask.principal_paise, ask.payout, ask.maturity_action
    months, days = _check_tenure(ask.months, ask.days)
    minimum = int(product.setting("min_amount_paise", 0) or 0)
    maximum = product.setting("max_amount_paise")
    if principal_paise < minimum:
        raise ValidationError(
            f"The minimum for {product.name} is {format_inr(minimum)}; {format_inr(principal_paise)} is below it.",
            field="principal",
        )
    if maximum is not None and principal_paise > int(maximum):
        raise ValidationError(f"The maximum for {product.name} is {format_inr(int(maximum))}.", field="principal")
    if payout not in (product.setting("payouts") or ["cumulative"]):
        raise ValidationError(
            f"{product.name} does not offer {payout} payout; choose {', '.join(product.setting('payouts'))}.",
            field="payout",
        )
    if maturity_action is not None and maturity_action not in (product.setting("maturity_actions") or []):
        raise ValidationError(
            f"{product.name} does not offer '{maturity_action}' at maturity.", field="maturity_action"
        )
    maturity = interest.fd_maturity_date(start, months, days)
    tenure_days = (maturity - start).days
    low, high = (
        int(product.setting("min_days", setting("FD_MIN_DAYS"))),
        int(product.setting("max_days", setting("FD_MAX_DAYS"))),
    )
    band = catalogue.fd_band(product, start, tenure_days)
    if not low <= tenure_days <= high or band is None:
        raise ValidationError(
            f"{product.name} has no rate for a tenure of {tenure_days} days ({tenure_label(months, days)}); "
            f"supported tenures: {catalogue.describe_bands(product, start)}.",
            field="months",
        )
    senior = catalogue.is_senior(member, start)
    rate_bp = band.rate_bp + (band.senior_extra_bp if senior else 0)
    rate = rate_of(rate_bp)
    mode = catalogue.rounding()
    if payout == "cumulative":
        total = interest.fd_maturity(principal_paise, rate, start, months, days, mode).interest_paise
    else:
        total = sum(
            p.interest_paise
            for p in interest.fd_payout_schedule(principal_paise, rate, start, months, days, payout, rounding=mode)  # type: ignore[arg-type]
        )
    return FdTerms(principal_paise, rate_bp, senior, start, maturity, months, days, payout, total)


def schedule(da: DepositAccount) -> list[interest.FdPayout]:
    """Every interest payout of a monthly / quarterly FD in its current term (empty if cumulative)."""
    if da.payout not in ("monthly", "quarterly"):
        return []
    return interest.fd_payout_schedule(
        da.principal_paise,
        da.rate,
        da.start_date,
        da.months,
        da.days,
        da.payout,
        rounding=catalogue.rounding(),  # type: ignore[typeddict-item]
    )


def maturity_value(da: DepositAccount) -> interest.FdResult:
    """The FD's maturity date, interest still to come at maturity and amount paid at maturity."""
    if da.payout == "cumulative":
        return interest.fd_maturity(
            da.principal_paise, da.rate, da.start_date, da.months, da.days, catalogue.rounding()
        )  # type: ignore[arg-type]
    last = [p for p in schedule(da) if p.due_date == da.maturity_date]
    final = last[0].interest_paise if last else 0
    return interest.FdResult(da.maturity_date, final, da.principal_paise + final)  # type: ignore[arg-type]
