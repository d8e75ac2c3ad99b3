"""Loan EMI and schedules against hand-worked figures (DESIGN.md §6).

Expected figures were computed independently of app/services/emi.py: EMIs with `bc -l`
(scale 30), schedules with a separate exact-fraction simulation; the working is shown.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.common import ValidationError
from app.services.loans import ScheduleRow, due_dates, emi_amount, emi_schedule, flat_schedule


@pytest.mark.parametrize(
    ("principal_paise", "rate", "months", "emi_paise"),
    [
        # ₹1,00,000 at 12 % for 12 months: i = 0.01, (1.01)^12 = 1.126825030…
        # EMI = 1,00,000 × 0.01 × 1.126825 / 0.126825 = 8,884.8788… → ₹8,884.88.
        (1_00_000_00, "12", 12, 8_884_88),
        # ₹5,00,000 at 9.5 % for 60 months: bc gives 10,500.9306… → ₹10,500.93.
        (5_00_000_00, "9.5", 60, 10_500_93),
        # ₹25,00,000 at 8.5 % for 240 months: bc gives 21,695.5808… → ₹21,695.58.
        (25_00_000_00, "8.5", 240, 21_695_58),
        # Zero rate: P / n = 1,00,000 / 3 = 33,333.333… → ₹33,333.33.
        (1_00_000_00, "0", 3, 33_333_33),
        # One month at 12 %: P × 1.01 = ₹1,010.
        (1_000_00, "12", 1, 1_010_00),
    ],
)
def test_emi_amount(principal_paise, rate, months, emi_paise):
    assert emi_amount(principal_paise, D(rate), months) == emi_paise


def test_schedule_one_lakh_twelve_percent_twelve_months():
    # Row 1: interest 1,00,000 × 1 % = 1,000.00; principal 8,884.88 − 1,000 = 7,884.88;
    #        balance 92,115.12.
    # Row 2: interest 92,115.12 × 1 % = 921.1512 → 921.15; principal 7,963.73; balance 84,151.39.
    # … (independent Fraction simulation) … row 11 leaves 8,796.88; row 12 interest 87.9688 →
    # 87.97, principal 8,796.88, EMI 8,884.85 (the balancing figure), balance 0.
    # Totals: interest 6,618.53, payment 1,06,618.53.
    s = emi_schedule(1_00_000_00, D("12"), 12, date(2026, 1, 31))
    assert s.emi_paise == 8_884_88
    assert s.rows[0] == ScheduleRow(1, date(2026, 2, 28), 8_884_88, 7_884_88, 1_000_00, 92_115_12)
    assert s.rows[1] == ScheduleRow(2, date(2026, 3, 31), 8_884_88, 7_963_73, 921_15, 84_151_39)
    assert s.rows[-1] == ScheduleRow(12, date(2027, 1, 31), 8_884_85, 8_796_88, 87_97, 0)
    assert len(s.rows) == 12
    assert s.total_principal_paise == 1_00_000_00
    assert s.total_interest_paise == 6_618_53
    assert s.total_payment_paise == 1_06_618_53
    assert all(r.emi_paise == r.principal_paise + r.interest_paise for r in s.rows)


def test_zero_rate_schedule_last_instalment_balances():
    # 1,00,000 / 3: 33,333.33 twice, then 33,333.34.
    s = emi_schedule(1_00_000_00, D("0"), 3, date(2026, 4, 10))
    assert [(r.emi_paise, r.principal_paise, r.interest_paise, r.balance_paise) for r in s.rows] == [
        (33_333_33, 33_333_33, 0, 66_666_67),
        (33_333_33, 33_333_33, 0, 33_333_34),
        (33_333_34, 33_333_34, 0, 0),
    ]
    assert [r.due_date for r in s.rows] == [date(2026, 5, 10), date(2026, 6, 10), date(2026, 7, 10)]


def test_due_dates_are_counted_from_the_start_and_clamped():
    assert due_dates(date(2026, 1, 31), 4) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert due_dates(date(2026, 12, 15), 2) == [date(2027, 1, 15), date(2027, 2, 15)]


def test_flat_schedule():
    # ₹1,00,000 flat 10 % for 12 months: interest = 1,00,000 × 10 × 12 / 1200 = ₹10,000.
    # Each month: principal 1,00,000 / 12 = 8,333.33, interest 10,000 / 12 = 833.33 → 9,166.66.
    # Last month: principal 1,00,000 − 11 × 8,333.33 = 8,333.37; interest 10,000 − 11 × 833.33 = 833.37.
    s = flat_schedule(1_00_000_00, D("10"), 12, date(2026, 4, 1))
    assert s.emi_paise == 9_166_66
    assert s.rows[0] == ScheduleRow(1, date(2026, 5, 1), 9_166_66, 8_333_33, 833_33, 91_666_67)
    assert s.rows[-1] == ScheduleRow(12, date(2027, 4, 1), 9_166_74, 8_333_37, 833_37, 0)
    assert s.total_principal_paise == 1_00_000_00
    assert s.total_interest_paise == 10_000_00
    assert s.total_payment_paise == 1_10_000_00


def test_emi_override_shortens_the_schedule_when_it_repays_early():
    # ₹10,000 at 12 % with EMI fixed at ₹5,000 (max 12 months):
    # row 1: interest 100.00, principal 4,900.00, balance 5,100.00;
    # row 2: interest 51.00, principal 5,000 − 51 = 4,949 < 5,100 → balance 151.00;
    # row 3: interest 1.51, principal 151.00 (all that is left), pays 152.51, balance 0.
    s = emi_schedule(10_000_00, D("12"), 12, date(2026, 4, 1), emi_paise=5_000_00)
    assert [(r.emi_paise, r.principal_paise, r.interest_paise, r.balance_paise) for r in s.rows] == [
        (5_000_00, 4_900_00, 100_00, 5_100_00),
        (5_000_00, 4_949_00, 51_00, 151_00),
        (152_51, 151_00, 1_51, 0),
    ]


def test_emi_below_the_interest_is_refused():
    with pytest.raises(ValidationError):
        emi_schedule(10_000_00, D("12"), 12, date(2026, 4, 1), emi_paise=50_00)  # interest is ₹100


@pytest.mark.parametrize(
    ("principal", "rate", "months", "field"),
    [(0, "12", 12, "principal"), (100, "-1", 12, "annual_rate"), (100, "12", 0, "months")],
)
def test_bad_inputs_are_refused(principal, rate, months, field):
    with pytest.raises(ValidationError) as info:
        emi_amount(principal, D(rate), months)
    assert field in info.value.errors


# ------------------------------------------------------------------ properties

loans = {
    "principal": st.integers(min_value=1, max_value=10**13),
    "rate": st.decimals(min_value=0, max_value=50, places=2),
    "months": st.integers(min_value=1, max_value=480),
}


@given(**loans)
def test_reducing_schedule_principal_sums_to_the_loan_exactly(principal, rate, months):
    s = emi_schedule(principal, rate, months, date(2026, 1, 31))
    assert s.total_principal_paise == principal
    assert s.rows[-1].balance_paise == 0
    assert all(r.balance_paise >= 0 and r.principal_paise >= 0 for r in s.rows)
    assert all(r.emi_paise == r.principal_paise + r.interest_paise for r in s.rows)
    assert len(s.rows) <= months
    assert all(r.emi_paise == s.emi_paise for r in s.rows[:-1])
    # The EMI's paisa rounding (at most half a paisa a month) compounds to δ·((1+i)^n − 1)/i by the
    # end; only when that exceeds the last instalment (tiny loans over decades) can a loan end early.
    if principal >= 1_00_000_00 and rate <= 24 and months <= 360:
        assert len(s.rows) == months


def test_a_tiny_loan_over_decades_may_end_a_month_early_but_still_balances():
    s = emi_schedule(1_320_62, D("11.78"), 398, date(2026, 1, 31))
    assert len(s.rows) == 397
    assert s.total_principal_paise == 1_320_62 and s.rows[-1].balance_paise == 0
    assert s.rows[-1].emi_paise < s.emi_paise


@given(**loans)
def test_flat_schedule_principal_and_interest_sum_exactly(principal, rate, months):
    s = flat_schedule(principal, rate, months, date(2026, 1, 31))
    assert s.total_principal_paise == principal
    assert s.rows[-1].balance_paise == 0
    assert all(r.balance_paise >= 0 and r.interest_paise >= 0 for r in s.rows)
