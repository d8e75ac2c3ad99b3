"""Deposit interest rules against hand-worked figures (DESIGN.md §6).

Every expected figure below was worked out independently of app/services/interest.py
(by hand and with `bc -l` at scale 30) and written in; the working is in the comments.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.common import ValidationError
from app.services.deposits import (
    FdPayout,
    add_months,
    carry_forward,
    completed_months,
    daily_products,
    fd_maturity,
    fd_payout_schedule,
    fd_periodic_interest,
    fd_premature,
    premature_rate,
    rd_maturity,
    rd_maturity_actual,
    savings_interest,
    savings_interest_bp,
)

RUPEE = 100  # paise

# ------------------------------------------------------------------ calendar helpers


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # clamp to month end
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 2, date(2026, 3, 31)),  # counted from the start, not chained
        (date(2026, 11, 15), 3, date(2027, 2, 15)),  # across the year end
        (date(2026, 4, 1), 15, date(2027, 7, 1)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 4, 1), date(2027, 4, 1), 12),
        (date(2026, 4, 1), date(2027, 3, 31), 11),
        (date(2026, 1, 31), date(2026, 2, 28), 1),  # 31 Jan + 1 month = 28 Feb
        (date(2026, 4, 1), date(2026, 9, 28), 5),
        (date(2026, 4, 1), date(2026, 4, 1), 0),
    ],
)
def test_completed_months(start, end, months):
    assert completed_months(start, end) == months


# ------------------------------------------------------------------ savings daily product


def test_daily_product_with_varying_balances_and_a_mid_period_rate_change():
    # Quarter 1 Apr – 30 Jun 2026 (91 days). Balances:
    #   1–15 Apr ₹10,000 (15 days), 16 Apr – 9 May ₹25,000 (15 + 9 = 24 days),
    #   10–31 May ₹5,000 (22 days), 1–30 Jun ₹40,500 (30 days).
    # Rate 3.5 % until 15 May, 3 % from 16 May.
    # Segment 3.5 %: 15×10,000 + 24×25,000 + 6×5,000 (10–15 May) = 7,80,000 rupee-days
    # Segment 3.0 %: 16×5,000 (16–31 May) + 30×40,500          = 12,95,000 rupee-days
    # Interest = (7,80,000×3.5 + 12,95,000×3) / 36500 = (27,30,000 + 38,85,000) / 36500
    #          = 66,15,000 / 36500 = 181.2328767… → ₹181 (rupee) or ₹181.23 (paise)
    changes = [
        (date(2026, 4, 1), 10_000 * RUPEE),
        (date(2026, 4, 16), 25_000 * RUPEE),
        (date(2026, 5, 10), 5_000 * RUPEE),
        (date(2026, 6, 1), 40_500 * RUPEE),
    ]
    days = carry_forward(changes, date(2026, 4, 1), date(2026, 6, 30))
    assert len(days) == 91
    rates = [(date(2025, 4, 1), D("3.5")), (date(2026, 5, 16), D("3"))]
    segments = daily_products(days, rates)
    assert segments == [(D("3.5"), 7_80_000 * RUPEE), (D("3"), 12_95_000 * RUPEE)]
    assert savings_interest(segments) == 181 * RUPEE
    assert savings_interest(segments, rounding="paise") == 18123


def test_savings_interest_is_rounded_once_not_per_segment():
    # Two segments of 3,650 rupee-days at 4 %: each is 3,650 × 4 / 36500 = ₹0.40.
    # Rounded per segment that would be ₹0 + ₹0; rounded once, ₹0.80 → ₹1.
    assert savings_interest([(D("4"), 3650 * RUPEE), (D("4"), 3650 * RUPEE)]) == 1 * RUPEE


@pytest.mark.parametrize(
    ("segments", "rounding", "paise"),
    [
        ([], "rupee", 0),
        # ₹1,00,000 for 365 days at 4 %: 3,65,00,000 × 4 / 36500 = ₹4,000 exactly.
        ([(D("4"), 365 * 1_00_000 * RUPEE)], "rupee", 4000 * RUPEE),
        # 18,250 rupee-days at 3 %: 18250 × 3 / 36500 = ₹1.50 → half-up ₹2.
        ([(D("3"), 18_250 * RUPEE)], "rupee", 2 * RUPEE),
        # 18,249 rupee-days at 3 %: ₹1.49991… → ₹1; to the paisa ₹1.50.
        ([(D("3"), 18_249 * RUPEE)], "rupee", 1 * RUPEE),
        ([(D("3"), 18_249 * RUPEE)], "paise", 150),
    ],
)
def test_savings_interest_rounding(segments, rounding, paise):
    assert savings_interest(segments, rounding=rounding) == paise


@given(
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 10**14)), max_size=4),
    st.sampled_from(["rupee", "paise"]),
)
def test_savings_interest_in_basis_points_is_the_same_rule(pieces, rounding):
    # The day-end credits with integers (rates in basis points): the Decimal rule's result.
    as_decimal = [(D(bp) / 100, product) for bp, product in pieces]
    assert savings_interest_bp(pieces, rounding) == savings_interest(as_decimal, rounding)


def test_savings_interest_in_basis_points_ties_and_refusals():
    # 18,250 rupee-days at 3 %: exactly ₹1.50 → ₹2 (half-up), as the Decimal rule says.
    assert savings_interest_bp([(300, 18_250 * RUPEE)]) == 2 * RUPEE == savings_interest([(D("3"), 18_250 * RUPEE)])
    assert savings_interest_bp([(300, 18_250 * RUPEE)], "paise") == 150
    assert savings_interest([(D("3.125"), 10**9)]) == 856 * RUPEE  # any exact Decimal rate: ₹856.16… → ₹856
    with pytest.raises(ValidationError, match="negative"):
        savings_interest_bp([(-1, 100)])


def test_overdrawn_day_adds_nothing_and_a_day_without_a_rate_is_refused():
    days = [(date(2026, 4, 1), -500), (date(2026, 4, 2), 1000)]
    assert daily_products(days, [(date(2026, 4, 1), D("3"))]) == [(D("3"), 1000)]
    with pytest.raises(ValidationError):
        daily_products(days, [(date(2026, 4, 2), D("3"))])


# ------------------------------------------------------------------ fixed deposits


@pytest.mark.parametrize(
    ("principal", "rate", "start", "months", "days", "maturity_date", "interest"),
    [
        # Whole quarters: ₹1,00,000 at 7 % for 12 months: (1 + 7/400)^4 = 1.0175^4
        # = 1.0718590312890625 → interest 7,185.903… → ₹7,186.
        (1_00_000, "7", date(2026, 4, 1), 12, 0, date(2027, 4, 1), 7186),
        # Broken period: 15 months 10 days from 1 Apr 2026 → 11 Jul 2027; q = 5 quarters to
        # 1 Jul 2027, then 10 days. A = 1,00,000 × 1.0175^5 = 1,09,061.6564…;
        # interest = 9,061.6564 + 1,09,061.6564 × 7 × 10 / 36500 (= 209.159…) = 9,270.8158 → ₹9,271.
        (1_00_000, "7", date(2026, 4, 1), 15, 10, date(2027, 7, 11), 9271),
        # Under 180 days, simple: ₹50,000 at 6 % for 3 months (1 Apr → 1 Jul = 91 days):
        # 50,000 × 6 × 91 / 36500 = 747.945… → ₹748.
        (50_000, "6", date(2026, 4, 1), 3, 0, date(2026, 7, 1), 748),
        # 179 days (→ 27 Sep 2026) is still simple: 1,00,000 × 7 × 179 / 36500 = 3,432.877 → ₹3,433.
        (1_00_000, "7", date(2026, 4, 1), 0, 179, date(2026, 9, 27), 3433),
        # 180 days (→ 28 Sep 2026) compounds: 5 completed months → q = 1 (to 1 Jul), 89 days left.
        # A = 1,01,750; interest = 1,750 + 1,01,750 × 7 × 89 / 36500 (= 1,736.719) = 3,486.719 → ₹3,487.
        (1_00_000, "7", date(2026, 4, 1), 0, 180, date(2026, 9, 28), 3487),
        # 7 days at 5 %: 10,000 × 5 × 7 / 36500 = 9.589 → ₹10.
        (10_000, "5", date(2026, 4, 1), 0, 7, date(2026, 4, 8), 10),
    ],
)
def test_fd_maturity(principal, rate, start, months, days, maturity_date, interest):
    result = fd_maturity(principal * RUPEE, D(rate), start, months, days)
    assert result.maturity_date == maturity_date
    assert result.interest_paise == interest * RUPEE
    assert result.maturity_paise == (principal + interest) * RUPEE


def test_fd_interest_to_the_paisa():
    # Same as the 12-month case: 7,185.9031… → ₹7,185.90 when INTEREST_ROUNDING = "paise".
    result = fd_maturity(1_00_000 * RUPEE, D("7"), date(2026, 4, 1), 12, rounding="paise")
    assert result.interest_paise == 7_185_90
    assert result.maturity_paise == 1_07_185_90


def test_fd_from_a_month_end_start_counts_quarters_by_calendar_months():
    # 30 Nov 2025 + 3 months = 28 Feb 2026 (clamped): one whole quarter, no broken days;
    # + 3 days = 3 Mar 2026 is 93 days → under 180, simple: 1,00,000 × 8 × 93 / 36500 = 2,038.36 → ₹2,038.
    short = fd_maturity(1_00_000 * RUPEE, D("8"), date(2025, 11, 30), 3, 3)
    assert short.maturity_date == date(2026, 3, 3)
    assert short.interest_paise == 2038 * RUPEE
    # 31 Aug 2025 + 6 months = 28 Feb 2026 (181 days): q = 2 exactly, no broken days:
    # 1.02^2 = 1.0404 → ₹4,040.
    result = fd_maturity(1_00_000 * RUPEE, D("8"), date(2025, 8, 31), 6)
    assert result.maturity_date == date(2026, 2, 28)
    assert result.interest_paise == 4040 * RUPEE


def test_fd_needs_a_tenure_and_a_positive_principal():
    with pytest.raises(ValidationError):
        fd_maturity(1000 * RUPEE, D("7"), date(2026, 4, 1))
    with pytest.raises(ValidationError):
        fd_maturity(0, D("7"), date(2026, 4, 1), 12)
    with pytest.raises(ValidationError):
        fd_maturity(1000 * RUPEE, D("-1"), date(2026, 4, 1), 12)
    with pytest.raises(TypeError):
        fd_maturity(1000 * RUPEE, 7, date(2026, 4, 1), 12)  # rates are Decimal, never int/float


@pytest.mark.parametrize(
    ("rate", "penalty", "start", "closed_on", "interest"),
    [
        # 197 days (1 Apr → 15 Oct 2026) at 6.5 % − 1 % = 5.5 %: 6 completed months → q = 2
        # (to 1 Oct), 14 days left. 1.01375^2 = 1.0276890625 → A = 1,02,768.90625;
        # interest = 2,768.90625 + 1,02,768.90625 × 5.5 × 14 / 36500 (= 216.80) = 2,985.706 → ₹2,986.
        ("6.5", "1", date(2026, 4, 1), date(2026, 10, 15), 2986),
        # 100 days (1 Apr → 10 Jul 2026) at 5 % − 1 % = 4 %, simple:
        # 1,00,000 × 4 × 100 / 36500 = 1,095.89 → ₹1,096.
        ("5", "1", date(2026, 4, 1), date(2026, 7, 10), 1096),
        # Rate below the penalty: 0.75 − 1 floors at 0 → no interest.
        ("0.75", "1", date(2026, 4, 1), date(2026, 7, 10), 0),
        # Closed on the day it was opened: no interest.
        ("5", "1", date(2026, 4, 1), date(2026, 4, 1), 0),
    ],
)
def test_fd_premature_closure(rate, penalty, start, closed_on, interest):
    result = fd_premature(1_00_000 * RUPEE, D(rate), D(penalty), start, closed_on)
    assert result.maturity_date == closed_on
    assert result.interest_paise == interest * RUPEE
    assert result.maturity_paise == (1_00_000 + interest) * RUPEE


def test_premature_rate_and_refusals():
    assert premature_rate(D("6.5")) == D("5.5")  # default penalty 1 %
    assert premature_rate(D("0.5"), D("1")) == D("0")
    with pytest.raises(ValidationError):
        fd_premature(1000 * RUPEE, D("6"), D("1"), date(2026, 4, 2), date(2026, 4, 1))


def test_fd_periodic_interest():
    # Quarterly: 1,00,000 × 7.25 / 400 = 1,812.50 → half-up ₹1,813 (paise: ₹1,812.50).
    assert fd_periodic_interest(1_00_000 * RUPEE, D("7.25"), "quarterly") == 1813 * RUPEE
    assert fd_periodic_interest(1_00_000 * RUPEE, D("7.25"), "quarterly", rounding="paise") == 1_812_50
    # Monthly, discounted (decision 0010): 1,00,000 × 7.25 / 1207.25 = 600.538… → ₹601 / ₹600.54.
    assert fd_periodic_interest(1_00_000 * RUPEE, D("7.25"), "monthly") == 601 * RUPEE
    assert fd_periodic_interest(1_00_000 * RUPEE, D("7.25"), "monthly", rounding="paise") == 600_54
    # 1,00,000 at 7 %: 7,00,000 / 1207 = 579.950… → ₹579.95 (r/12 would give 583.33).
    assert fd_periodic_interest(1_00_000 * RUPEE, D("7"), "monthly", rounding="paise") == 579_95


def test_fd_payout_schedule_with_a_broken_period():
    # ₹1,00,000 at 7.25 % from 1 Apr 2026 for 12 months 20 days (maturity 21 Apr 2027).
    # Quarterly: 4 × ₹1,813 on 1 Jul, 1 Oct, 1 Jan, 1 Apr; then 20 days simple:
    # 1,00,000 × 7.25 × 20 / 36500 = 397.26 → ₹397 on 21 Apr 2027.
    quarterly = fd_payout_schedule(1_00_000 * RUPEE, D("7.25"), date(2026, 4, 1), 12, 20, "quarterly")
    assert quarterly == [
        FdPayout(date(2026, 7, 1), 1813 * RUPEE),
        FdPayout(date(2026, 10, 1), 1813 * RUPEE),
        FdPayout(date(2027, 1, 1), 1813 * RUPEE),
        FdPayout(date(2027, 4, 1), 1813 * RUPEE),
        FdPayout(date(2027, 4, 21), 397 * RUPEE, 20),
    ]
    monthly = fd_payout_schedule(1_00_000 * RUPEE, D("7.25"), date(2026, 4, 1), 12, 20, "monthly")
    assert len(monthly) == 13
    assert [p.interest_paise for p in monthly[:12]] == [601 * RUPEE] * 12
    assert monthly[0].due_date == date(2026, 5, 1)
    assert monthly[-1] == FdPayout(date(2027, 4, 21), 397 * RUPEE, 20)
    # Whole periods only: no broken payout.
    assert len(fd_payout_schedule(1_00_000 * RUPEE, D("7"), date(2026, 4, 1), 12, 0, "quarterly")) == 4


# ------------------------------------------------------------------ recurring deposits


def test_rd_maturity_hand_worked():
    # ₹1,000 a month for 12 months at 7 %. f = 1.0175^(1/3) = 1.0057996325704…
    # M = Σ_{m=1..12} 1000 × f^m = 1000 × f × (f^12 − 1) / (f − 1), f^12 = 1.0175^4 = 1.07185903…
    #   = 12,462.1321075… (bc: sum of 1000*e(l(1.0175)*m/3)); the IBA closed form
    #   R((1+i)^n − 1)/(1 − (1+i)^(−1/3)) with i = 0.0175, n = 4 gives the same 12,462.1321.
    # Interest = 462.13 → ₹462; maturity ₹12,462.
    assert rd_maturity(1000 * RUPEE, D("7"), 12) == (12_462 * RUPEE, 12_000 * RUPEE, 462 * RUPEE)
    assert rd_maturity(1000 * RUPEE, D("7"), 12, rounding="paise") == (12_462_13, 12_000_00, 462_13)


@pytest.mark.parametrize(
    ("installment", "rate", "months", "interest"),
    [
        # One month: 1000 × 1.0175^(1/3) = 1,005.7996 → interest ₹5.80 → ₹6.
        (1000, "7", 1, 6),
        # Three months at 8 %: 500 × (1.02 + 1.02^(2/3) + 1.02^(1/3))
        #   = 500 × (1.02 + 1.0132893 + 1.0066227) = 1,519.956 → interest 19.956 → ₹20.
        (500, "8", 3, 20),
        # Zero rate: no interest.
        (1000, "0", 24, 0),
    ],
)
def test_rd_small_cases(installment, rate, months, interest):
    result = rd_maturity(installment * RUPEE, D(rate), months)
    assert result.interest_paise == interest * RUPEE
    assert result.total_deposited_paise == installment * months * RUPEE
    assert result.maturity_paise == (installment * months + interest) * RUPEE


def test_rd_maturity_from_actual_instalments():
    # 12-month RD of ₹1,000 at 7 %: instalments 5 and 6 were missed and paid in month 7
    # (so three instalments stay 6 months): stays m = 12, 11, 10, 9, then 6, 6, 6, 5, 4, 3, 2, 1.
    # bc: Σ_{k≠5,6} 1000 f^(12−k+1) + 2 × 1000 × f^6 = 12,444.0840967 → interest 444.08 → ₹444.
    paid = [1, 2, 3, 4, 7, 7, 7, 8, 9, 10, 11, 12]
    assert rd_maturity_actual(1000 * RUPEE, D("7"), 12, paid) == (12_444 * RUPEE, 12_000 * RUPEE, 444 * RUPEE)
    # Instalments 5 and 6 never paid: bc Σ_{k≠5,6} 1000 f^(13−k) = 10,373.4715967 → ₹373.
    never = [1, 2, 3, 4, 7, 8, 9, 10, 11, 12]
    assert rd_maturity_actual(1000 * RUPEE, D("7"), 12, never) == (10_373 * RUPEE, 10_000 * RUPEE, 373 * RUPEE)
    with pytest.raises(ValidationError):
        rd_maturity_actual(1000 * RUPEE, D("7"), 12, [13])


# ------------------------------------------------------------------ properties


@given(
    principal=st.integers(min_value=1, max_value=10**13),
    rate=st.decimals(min_value=0, max_value=50, places=2),
    months=st.integers(min_value=0, max_value=120),
    days=st.integers(min_value=0, max_value=400),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
)
def test_fd_maturity_is_never_below_principal_and_grows_with_time(principal, rate, months, days, start):
    if months + days == 0:
        days = 1
    result = fd_maturity(principal, rate, start, months, days)
    assert result.maturity_paise >= principal
    assert result.maturity_paise == principal + result.interest_paise
    assert result.interest_paise % 100 == 0  # rounded to the rupee
    longer = fd_maturity(principal, rate, start, months, days + 1)
    assert longer.interest_paise >= result.interest_paise


@given(
    installment=st.integers(min_value=100, max_value=10**9),
    rate=st.decimals(min_value=0, max_value=50, places=2),
    months=st.integers(min_value=1, max_value=480),
)
def test_rd_maturity_is_never_below_deposits(installment, rate, months):
    result = rd_maturity(installment, rate, months)
    assert result.total_deposited_paise == installment * months
    assert result.maturity_paise >= result.total_deposited_paise
