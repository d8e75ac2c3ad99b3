"""TDS on deposit interest (section 194A), the cumulative convention, and financial years.

Convention under test: once the year's interest including this credit exceeds the
threshold, tax is due on the WHOLE year's interest so far (10 %, or 20 % without PAN),
rounded half-up to the rupee, less the TDS already deducted this year; never negative.
"""

from datetime import date
from decimal import Decimal as D

import pytest

from app.services.deposits import (
    financial_year,
    financial_year_bounds,
    tds_on_credit,
    tds_threshold,
)
from app.settings import SETTINGS

TDS_THRESHOLD_PAISE = SETTINGS["TDS_THRESHOLD_PAISE"].default
TDS_THRESHOLD_SENIOR_PAISE = SETTINGS["TDS_THRESHOLD_SENIOR_PAISE"].default

R = 100  # paise per rupee
GENERAL = 50_000 * R
SENIOR = 1_00_000 * R


def tds(credit, before, tds_before=0, *, threshold=GENERAL, pan=True, exempt=False, **kw):
    return tds_on_credit(
        credit,
        before,
        fy_tds_before_paise=tds_before,
        threshold_paise=threshold,
        has_pan=pan,
        exempt_15g_15h=exempt,
        **kw,
    )


@pytest.mark.parametrize(
    ("credit", "before", "tds_before", "threshold", "pan", "exempt", "expected"),
    [
        # Below: 45,000 + 4,000 = 49,000 ≤ 50,000 → nothing.
        (4_000 * R, 45_000 * R, 0, GENERAL, True, False, 0),
        # Exactly the threshold is not "above" it: 46,000 + 4,000 = 50,000 → nothing.
        (4_000 * R, 46_000 * R, 0, GENERAL, True, False, 0),
        # Crossing: 48,000 + 3,000 = 51,000 > 50,000 → 10 % of the whole 51,000 = ₹5,100.
        (3_000 * R, 48_000 * R, 0, GENERAL, True, False, 5_100 * R),
        # The next credit after crossing: 51,000 + 1,234.56 = 52,234.56 × 10 % = 5,223.456
        # → ₹5,223; already deducted 5,100 → ₹123.
        (1_234_56, 51_000 * R, 5_100 * R, GENERAL, True, False, 123 * R),
        # Half-up to the rupee: 50,005 × 10 % = 5,000.50 → ₹5,001.
        (5 * R, 50_000 * R, 0, GENERAL, True, False, 5_001 * R),
        # 50,004.99 × 10 % = 5,000.499 → ₹5,000.
        (4_99, 50_000 * R, 0, GENERAL, True, False, 5_000 * R),
        # Senior citizen: same 60,000 + 30,000 = 90,000 is under ₹1,00,000 → nothing …
        (30_000 * R, 60_000 * R, 0, SENIOR, True, False, 0),
        # … where a non-senior would pay 10 % of 90,000 = ₹9,000.
        (30_000 * R, 60_000 * R, 0, GENERAL, True, False, 9_000 * R),
        # Senior crossing ₹1,00,000: 95,000 + 10,000 = 1,05,000 × 10 % = ₹10,500.
        (10_000 * R, 95_000 * R, 0, SENIOR, True, False, 10_500 * R),
        # No PAN (206AA): 48,000 + 3,000 = 51,000 × 20 % = ₹10,200.
        (3_000 * R, 48_000 * R, 0, GENERAL, False, False, 10_200 * R),
        # Form 15G/15H on file: nothing, however large.
        (3_00_000 * R, 48_000 * R, 0, GENERAL, True, True, 0),
        (3_00_000 * R, 48_000 * R, 0, GENERAL, False, True, 0),
        # PAN furnished later in the year: 20 % was already taken on 51,000 (10,200);
        # 10 % of 52,000 is 5,200 < 10,200 → nothing more (and no refund here).
        (1_000 * R, 51_000 * R, 10_200 * R, GENERAL, True, False, 0),
    ],
)
def test_tds_on_credit(credit, before, tds_before, threshold, pan, exempt, expected):
    assert tds(credit, before, tds_before, threshold=threshold, pan=pan, exempt=exempt) == expected


def test_tds_over_a_year_of_credits_sums_to_the_rounded_yearly_tax():
    # Quarterly credits 14,321.37 each: FY total 57,285.48 → 10 % = 5,728.548 → ₹5,729.
    # Q1–Q3 (42,964.11) are under the threshold; Q4 crosses and takes the whole ₹5,729.
    credits = [14_321_37] * 4
    before = deducted = 0
    taken = []
    for credit in credits:
        cut = tds(credit, before, deducted)
        taken.append(cut)
        before += credit
        deducted += cut
    assert taken == [0, 0, 0, 5_729 * R]
    # Once over the threshold, later credits pay only their own share:
    # + 10,000.00 → 67,285.48 × 10 % = 6,728.548 → ₹6,729 − 5,729 = ₹1,000.
    assert tds(10_000_00, before, deducted) == 1_000 * R


def test_custom_rates():
    # A society that sets 7.5 %: 60,000 × 7.5 % = ₹4,500.
    assert tds(10_000 * R, 50_000 * R, rate_pan=D("7.5")) == 4_500 * R


def test_default_thresholds():
    assert tds_threshold(False) == TDS_THRESHOLD_PAISE == 50_000 * R
    assert tds_threshold(True) == TDS_THRESHOLD_SENIOR_PAISE == 1_00_000 * R


@pytest.mark.parametrize(
    ("day", "fy", "first", "last"),
    [
        (date(2026, 4, 1), "2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        (date(2027, 3, 31), "2026-27", date(2026, 4, 1), date(2027, 3, 31)),
        (date(2026, 3, 31), "2025-26", date(2025, 4, 1), date(2026, 3, 31)),
        (date(1999, 6, 1), "1999-00", date(1999, 4, 1), date(2000, 3, 31)),
        (date(2009, 1, 15), "2008-09", date(2008, 4, 1), date(2009, 3, 31)),
    ],
)
def test_financial_year(day, fy, first, last):
    assert financial_year(day) == fy
    assert financial_year_bounds(day) == (first, last)
