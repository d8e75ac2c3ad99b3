"""Savings interest by daily product: accumulation, rate segments, crediting at quarter end."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.deposits import SbDailyProduct, SbProductSegment
from app.services import approvals, coa, deposits, ledger, savings, uow
from tests.deposit_helpers import cash_in, cash_out, lines_of, member, move_to, open_sb, product


@pytest.fixture
def sb_product(books):
    # 4.00 % from 01-04-2026; minimum balance ₹500 with a ₹50 charge; quarterly crediting.
    return product(
        "SBT",
        "savings",
        [{"rate": "4.00"}],
        min_balance_paise=500_00,
        min_balance_charge_paise=50_00,
        min_opening_paise=500_00,
    )


def _da(account):
    db.session.expire_all()
    return db.session.get(SbDailyProduct, account.id)


def test_daily_product_adds_each_end_of_day_balance_once(sb_product):
    acc = open_sb(member(), 10_000_00)  # 01-04: ₹10,000.00
    assert savings.accumulate_day(date(2026, 4, 1)) == 1
    assert _da(acc).product_paise == 10_000_00
    assert savings.accumulate_day(date(2026, 4, 1)) == 0  # the same day again adds nothing
    uow.commit()
    move_to(date(2026, 4, 2))
    cash_in(acc, 2_500_50)  # EOD 02-04: ₹12,500.50
    cash_out(acc, 1_000_00)  # EOD 02-04: ₹11,500.50
    assert savings.accumulate_day(date(2026, 4, 2)) == 1
    move_to(date(2026, 4, 3))
    cash_out(acc, 11_000_50)  # EOD 03-04: ₹500.00
    savings.accumulate_day(date(2026, 4, 3))
    savings.accumulate_day(date(2026, 4, 3))
    uow.commit()
    # Σ EOD = 10,000.00 + 11,500.50 + 500.00 = ₹22,000.50 = 22,00,050 paise-days.
    da = _da(acc)
    assert da.product_paise == 22_000_50
    assert da.last_product_date == date(2026, 4, 3)
    assert ledger.verify().ok


def test_holidays_are_filled_and_late_runs_use_the_balance_of_that_day(sb_product):
    acc = open_sb(member(), 1_000_00)  # 01-04: ₹1,000
    move_to(date(2026, 4, 4))  # 02-04 and 03-04 are holidays: no business day, balance unchanged
    cash_in(acc, 3_000_00)  # 04-04: ₹4,000
    move_to(date(2026, 4, 6))
    cash_in(acc, 6_000_00)  # 06-04: ₹10,000 — posted BEFORE 04-04 and 05-04 are accumulated
    # Catch-up: 01-04 … 05-04 from the ledger: 1,000 × 3 (01–03) + 4,000 × 2 (04–05) = ₹11,000.
    assert savings.accumulate_until(date(2026, 4, 5)) == 5
    assert _da(acc).product_paise == 11_000_00
    assert savings.accumulate_until(date(2026, 4, 5)) == 0
    savings.accumulate_until(date(2026, 4, 6))  # + ₹10,000
    uow.commit()
    assert _da(acc).product_paise == 21_000_00


def test_quarter_credit_with_rate_change_charges_and_reset(sb_product, make_user):
    a = open_sb(member(name="Asha Kulkarni"), 10_000_00)  # A: ₹10,000 from 01-04
    b = open_sb(member(name="Bhim Rao"), 600_00)  # B: ₹600 on 01-04
    move_to(date(2026, 4, 2))
    cash_out(b, 300_00)  # B: ₹300 from 02-04
    move_to(date(2026, 4, 16))
    cash_in(a, 5_000_00)  # A: ₹15,000 from 16-04
    # Rate cut to 3.00 % from 16-05, proposed and approved by two different managers.
    maker, checker = make_user("manager", username="m1"), make_user("admin", username="a1")
    req = deposits.submit_product_change(
        "rates", {"product_id": sb_product.id, "rates": [{"rate": "3.00"}], "effective_from": "2026-05-16"}, maker=maker
    )
    uow.commit()
    approvals.approve(req.id, checker=checker)
    uow.commit()
    move_to(date(2026, 6, 10))
    cash_out(a, 2_500_50)  # A: ₹12,499.50 from 10-06
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    # Hand-worked (91 days, 01-04 … 30-06):
    # A at 4 %: 10,000 × 15 (01-04…15-04) + 15,000 × 30 (16-04…15-05) = 6,00,000 rupee-days
    #   at 3 %: 15,000 × 25 (16-05…09-06) + 12,499.50 × 21 (10-06…30-06) = 6,37,489.50 rupee-days
    #   interest = 6,00,000 × 4 / 36500 + 6,37,489.50 × 3 / 36500 = 65.7534 + 52.3964 = 118.1498 → ₹118
    # B at 4 %: 600 × 1 + 300 × 44 = 13,800;  at 3 %: 300 × 46 = 13,800
    #   interest = 13,800 × 4 / 36500 + 13,800 × 3 / 36500 = 1.5123 + 1.1342 = 2.6466 → ₹3
    #   average balance 27,600 / 91 = ₹303.30 < ₹500 minimum → ₹50 charge
    assert result.accounts == 2 and result.interest_paise == 121_00 and result.charges_paise == 50_00
    interest_entry, charge_entry = (db.session.get(ledger.JournalEntry, i) for i in result.entries)
    assert interest_entry.kind == "interest" and interest_entry.value_date == date(2026, 6, 30)
    assert lines_of(interest_entry) == [
        (coa.EXP_SB_INTEREST, None, 121_00, 0),
        (coa.SB_DEPOSITS, a.account_no, 0, 118_00),
        (coa.SB_DEPOSITS, b.account_no, 0, 3_00),
    ]
    assert lines_of(charge_entry) == [
        (coa.SB_DEPOSITS, b.account_no, 50_00, 0),
        (coa.INCOME_SERVICE_CHARGES, None, 0, 50_00),
    ]
    db.session.expire_all()
    assert a.balance_paise == 12_499_50 + 118_00
    assert b.balance_paise == 300_00 + 3_00 - 50_00
    # The products are reset and the old-rate segments marked as credited.
    for acc in (a, b):
        da = _da(acc)
        assert da.product_paise == 0 and da.period_start == date(2026, 7, 1)
        assert da.interest_through == date(2026, 6, 30)
    segs = db.session.scalars(select(SbProductSegment).order_by(SbProductSegment.account_id)).all()
    assert [(s.rate_bp, s.product_paise, s.closed_on, s.credited_on) for s in segs] == [
        (400, 6_00_000_00, date(2026, 5, 15), date(2026, 6, 30)),
        (400, 13_800_00, date(2026, 5, 15), date(2026, 6, 30)),
    ]
    # Running it again credits nothing.
    again = savings.credit_interest(date(2026, 6, 30))
    assert again.accounts == 0 and again.entries == []
    assert ledger.verify().ok


def test_not_a_period_end_and_interest_free_products(books):
    product("SBF", "savings", [{"rate": "3.00"}], interest_free=True)
    acc = open_sb(member(), 50_000_00)
    assert savings.credit_interest(date(2026, 4, 1)).accounts == 0  # 01-04 ends no period
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    assert result.accounts == 1 and result.interest_paise == 0 and result.entries == []
    db.session.expire_all()
    assert acc.balance_paise == 50_000_00


def test_half_yearly_product_credits_only_at_half_year_end(books):
    product("SBH", "savings", [{"rate": "3.65"}], interest_frequency="half_yearly")
    acc = open_sb(member(), 10_000_00)
    move_to(date(2026, 6, 30))
    assert savings.credit_interest(date(2026, 6, 30)).accounts == 0
    move_to(date(2026, 9, 30))
    result = savings.credit_interest(date(2026, 9, 30))
    uow.commit()
    # 10,000 × 183 days (01-04 … 30-09) × 3.65 / 36500 = ₹183.00 exactly.
    assert result.interest_paise == 183_00
    db.session.expire_all()
    assert acc.balance_paise == 10_183_00
