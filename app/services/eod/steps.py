"""The day-end steps, composed from the domains' public faces, in the order they run.

The day's batch postings (deposit maturities and standing instructions, loans) come first,
so the savings daily product sees each account's true end-of-day balance.

Interest crediting at a period end runs before the day's daily product: it accumulates up
to the period end itself, so when the period ended on a holiday (credited at the next
business day's day-end, value-dated the period end) the product of the new period does not
leak into the old one.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import SbDailyProduct
from app.services import deposits, ledger, loans
from app.services.common import Conflict
from app.services.deposits import savings
from app.services.ledger import calendar
from app.settings import setting

from . import days
from .registry import DayStep, id_ranges, register


def chunk_size() -> int:
    return max(1, int(setting("EOD_CHUNK_SIZE")))


def _savings_ranges(_on: date) -> list[tuple[int, int]]:
    lo, hi = db.session.execute(select(func.min(SbDailyProduct.account_id), func.max(SbDailyProduct.account_id))).one()
    return id_ranges(lo, hi, chunk_size())


def _prechecks(on: date) -> int:
    problems = days.blocking_problems(on)
    if problems:
        raise Conflict("The day cannot end yet — " + "; ".join(problems))
    return 0


def _to_period_end(period_end: date, lo: int, hi: int) -> int:
    return savings.accumulate_until(period_end, lo=lo, hi=hi)


def _credit(period_end: date, lo: int, hi: int) -> int:
    return savings.credit_interest(period_end, lo=lo, hi=hi).accounts


def _daily_product(on: date, lo: int, hi: int) -> int:
    return savings.accumulate_until(on, lo=lo, hi=hi)


def _maturities(on: date) -> int:
    result = deposits.run_maturities(on)
    if result.get("failed"):
        # Each failed account was rolled back and audited; the step stops so staff see it.
        raise Conflict("Deposit maturities failed for " + "; ".join(result["failed"]))
    return sum(v for v in result.values() if isinstance(v, int))


def _accrual(month_end: date) -> int:
    accrued = deposits.accrue_month_end(month_end)
    return sum(1 for v in accrued.values() if v)


def _tds_year_end(fy_end: date) -> int:
    return deposits.tds_year_end.recover_shortfalls(fy_end)


def _dormancy(on: date) -> int:
    return len(deposits.mark_dormant(on))


def _close(on: date) -> int:
    written = ledger.close_day(on)
    calendar.open_business_day(days.next_business_day(on))
    return written


register(DayStep("prechecks", 10, "Pre-checks", run=_prechecks))
register(DayStep("deposit_maturities", 20, "FD payouts and maturities, RD dues, fees and maturities", run=_maturities))
register(DayStep("deposit_accrual", 25, "FD and RD interest accrual (month end)", runs_on="month_end", run=_accrual))
register(
    DayStep(
        "tds_year_end",
        26,
        "TDS short-deducted in the year, recovered from savings (31 March)",
        runs_on="fy_end",
        run=_tds_year_end,
    )
)
# The products are brought to the period end in chunks of their own first: the crediting's
# accumulation is then a no-op, and its reset of each product is the row's only update in the
# chunk's transaction (a second update of a row in one transaction finds its page full and
# cannot be a HOT update: it measured ~8x slower per row than a first).
register(
    DayStep(
        "sb_period_product",
        48,
        "Savings daily product to the period end",
        runs_on="quarter_end",
        chunks=_savings_ranges,
        run_chunk=_to_period_end,
    )
)
register(
    DayStep(
        "sb_interest",
        50,
        "Savings interest credit (period end)",
        runs_on="quarter_end",
        chunks=_savings_ranges,
        run_chunk=_credit,
    )
)
register(DayStep("sb_daily_product", 55, "Savings daily product", chunks=_savings_ranges, run_chunk=_daily_product))

# Loans contribute their steps through their public face once it has them.
_LOAN_STEPS = (
    ("collect_standing_instructions", 30, "Loan standing instructions", "daily"),
    ("update_dpd", 31, "Loan days past due", "daily"),
    ("charge_penal", 32, "Loan penal charges", "daily"),
    ("accrue_interest", 33, "Loan interest accrual", "daily"),
    ("classify_assets", 34, "Loan asset classification", "daily"),
    ("post_provisions", 35, "Loan provisioning", "daily"),
)
for _fn_name, _order, _label, _runs_on in _LOAN_STEPS:
    _fn = getattr(loans, _fn_name, None)
    if callable(_fn):
        register(DayStep(f"loans_{_fn_name}", _order, _label, runs_on=_runs_on, run=_fn))

register(DayStep("dormancy", 80, "Dormant savings accounts", run=_dormancy))
register(DayStep("close_day", 90, "Day book, GL snapshot, close the day and open the next", run=_close))
