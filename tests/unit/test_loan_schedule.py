"""Loan schedules against hand-worked figures (worked with exact fractions, rounded half-up to the paisa).

₹10,000 at 10 % for 3 months, i = 1/120:
  (121/120)^3 = 1.025208912…; EMI = 10000 × (1/120) × 1.025208912 / 0.025208912 = 3389.0435… → 3389.04
  1: interest 10000/120 = 83.333 → 83.33, principal 3305.71, balance 6694.29
  2: interest 6694.29/120 = 55.785… → 55.79, principal 3333.25, balance 3361.04
  3: interest 3361.04/120 = 28.0087 → 28.01, principal 3361.04 (the balance), EMI 3389.05 (balancing, +1 paisa)
₹1,00,000 at 12 % for 12 months: EMI 8884.88 (1.01^12 = 1.126825030; 1000 × 1.126825030 / 0.126825030 × 1…),
  first month interest 1000.00 / principal 7884.88, last instalment 8884.85, total interest 6618.53.
₹1,00,000 at 7 % quarterly for 12 months (4 instalments, quarterly rate 1.75 %):
  1.0175^4 = 1.071859031; EMI = 100000 × 0.0175 × 1.071859031 / 0.071859031 = 26103.235… → 26103.24;
  1: interest 1750.00, principal 24353.24; last instalment 26103.23 (interest 448.95).
Flat ₹1,20,000 at 10 % for 12 months: interest 120000 × 10 × 12 / 1200 = 12000; each month 10000 + 1000 = 11000.
"""

from datetime import date
from decimal import Decimal

import pytest

from app.services import loans
from app.services.common import ValidationError
from app.services.loans import schedule

START = date(2026, 4, 1)


def test_three_months_with_balancing_last_instalment():
    s = schedule.build(10_000_00, 1000, 3, START)
    assert [(r.emi_paise, r.principal_paise, r.interest_paise, r.balance_paise) for r in s.rows] == [
        (3389_04, 3305_71, 83_33, 6694_29),
        (3389_04, 3333_25, 55_79, 3361_04),
        (3389_05, 3361_04, 28_01, 0),
    ]
    assert [r.due_date for r in s.rows] == [date(2026, 5, 1), date(2026, 6, 1), date(2026, 7, 1)]
    assert s.total_principal_paise == 10_000_00


def test_one_lakh_twelve_percent_a_year():
    s = schedule.build(1_00_000_00, 1200, 12, START)
    assert s.emi_paise == 8884_88
    assert (s.rows[0].interest_paise, s.rows[0].principal_paise) == (1000_00, 7884_88)
    assert (s.rows[1].interest_paise, s.rows[1].balance_paise) == (921_15, 84151_39)
    assert s.rows[-1].emi_paise == 8884_85
    assert s.total_interest_paise == 6618_53


def test_quarterly_instalments_use_the_quarterly_rate_and_three_month_due_dates():
    s = schedule.build(1_00_000_00, 700, 12, START, frequency="quarterly")
    assert s.emi_paise == 26103_24
    assert [r.due_date for r in s.rows] == [date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1), date(2027, 4, 1)]
    assert (s.rows[0].interest_paise, s.rows[0].principal_paise) == (1750_00, 24353_24)
    assert (s.rows[-1].emi_paise, s.rows[-1].interest_paise) == (26103_23, 448_95)


def test_flat_rate_spreads_interest_on_the_original_principal():
    s = schedule.build(1_20_000_00, 1000, 12, START, interest_type="flat")
    assert {(r.principal_paise, r.interest_paise, r.emi_paise) for r in s.rows} == {(10000_00, 1000_00, 11000_00)}
    assert s.total_interest_paise == 12000_00 and s.rows[-1].balance_paise == 0


def test_a_tenure_that_is_not_a_whole_number_of_periods_is_refused():
    with pytest.raises(ValidationError, match="multiple of 3"):
        schedule.build(1_00_000_00, 700, 10, START, frequency="quarterly")


def test_keeping_the_emi_after_a_prepayment_ends_the_loan_early():
    # After prepaying, ₹50,000 left at 12 % with the old EMI 8884.88: 500.00 interest in month 1,
    # so the loan is repaid in 6 instalments instead of 11, the last one the balancing figure.
    s = schedule.build(50_000_00, 1200, 11, START, emi_paise=8884_88)
    assert len(s.rows) == 6
    assert s.rows[0].interest_paise == 500_00 and s.rows[-1].balance_paise == 0
    assert s.rows[-1].emi_paise < 8884_88


def test_face_keeps_the_emi_calculator_api():
    assert loans.emi_amount(1_00_000_00, Decimal("12"), 12) == 8884_88
