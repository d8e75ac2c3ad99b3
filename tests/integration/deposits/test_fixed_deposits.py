"""Fixed deposits against hand-worked figures: opening, accrual, payouts, maturity, renewal, premature closure.

Rate card of the default FD product from 01-04-2026 (senior citizens +0.50):
7–45 days 4.50 %, 46–179 days 5.75 %, 180–364 days 6.50 %, 365–729 days 7.25 %, 730–3650 days 7.00 %.
Figures were worked with a calculator to 40 digits and rounded once, half-up, to the rupee.
"""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DepositAccount, TdsDeduction
from app.models.ledger import JournalEntry
from app.services import deposits, ledger
from app.services.common import uow
from app.services.deposits import OpenRequest
from app.services.deposits import fixed as fixed_deposits
from app.services.ledger import coa
from tests.deposit_helpers import (
    F60,
    cashier,
    drawer_no,
    entries_since,
    last_entry_id,
    lines_of,
    member,
    move_to,
    open_sb,
)


def _open(m, principal, months=0, days=0, **kw):
    acc = deposits.open_account(
        OpenRequest(
            form60_ref=F60, member_no=m.member_no, kind="fd", amount_paise=principal, months=months, days=days, **kw
        ),
        by=cashier(),
    )
    uow.commit()
    return acc


def _da(acc) -> DepositAccount:
    db.session.expire_all()
    return db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == acc.id))


def test_whole_quarters_cumulative_funded_from_sb_and_paid_to_sb_at_maturity(deposit_products):
    m = member()
    sb = open_sb(m, 1_20_000_00)
    start = last_entry_id()
    fd = _open(m, 1_00_000_00, months=12, funding_mode="transfer", from_account_no=sb.account_no)
    opening = entries_since(start)[0]
    assert opening.kind == "transfer"
    assert lines_of(opening) == [
        (coa.SB_DEPOSITS, sb.account_no, 1_00_000_00, 0),
        (coa.FD_DEPOSITS, fd.account_no, 0, 1_00_000_00),
    ]
    da = _da(fd)
    # ₹1,00,000 for 12 months (365 days) at 7.25 %: 4 whole quarters, no days left.
    # A = 1,00,000 × (1 + 7.25/400)^4 = 1,00,000 × 1.018125^4 = 1,07,449.5019 → interest ₹7,449.5019 → ₹7,450
    assert (da.rate_bp, da.maturity_date, da.expected_interest_paise) == (725, date(2027, 4, 1), 7_450_00)
    assert da.payout_account_id == sb.id  # credit_sb defaults to the member's savings account
    move_to(date(2027, 4, 1))
    before = last_entry_id()
    assert fixed_deposits.mature(date(2027, 4, 1)) == 1
    uow.commit()
    interest_entry, maturity_entry = entries_since(before)
    assert lines_of(interest_entry) == [
        (coa.EXP_FD_INTEREST, None, 7_450_00, 0),
        (coa.FD_DEPOSITS, fd.account_no, 0, 7_450_00),
    ]
    assert maturity_entry.kind == "maturity"
    assert lines_of(maturity_entry) == [
        (coa.FD_DEPOSITS, fd.account_no, 1_07_450_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 1_07_450_00),
    ]
    db.session.expire_all()
    assert fd.status == "closed" and fd.balance_paise == 0
    assert sb.balance_paise == 20_000_00 + 1_07_450_00
    # ₹7,450 is below the ₹50,000 threshold: assessed, nothing deducted.
    row = db.session.scalar(select(TdsDeduction))
    assert (row.interest_paise, row.tds_paise, row.reason, row.fy) == (7_450_00, 0, "below_threshold", "2027-28")
    assert fixed_deposits.mature(date(2027, 4, 1)) == 0
    assert ledger.verify().ok


def test_broken_period_and_auto_renewal_at_the_then_current_rate(deposit_products, make_user):
    m = member()
    fd = _open(m, 50_000_00, months=15, days=10, maturity_action="auto_renew")
    da = _da(fd)
    # 01-04-2026 + 15 months + 10 days = 11-07-2027 (466 days, 7.25 %). Five whole quarters, then
    # 10 days simple on A: A = 50,000 × 1.018125^5 = 54,698.5121; broken = A × 7.25 × 10 / 36500 = 108.6477
    # interest = 4,698.5121 + 108.6477 = 4,807.1598 → ₹4,807
    assert (da.maturity_date, da.expected_interest_paise, da.payout_account_id) == (date(2027, 7, 11), 4_807_00, None)
    # The bank cuts the 365–729 day rate to 6.90 % from 01-06-2027.
    move_to(date(2027, 5, 1))
    product = deposits.get_product("FD")
    card = [
        {"min_days": 7, "max_days": 364, "rate": "6.00", "senior_extra": "0.50"},
        {"min_days": 365, "max_days": 729, "rate": "6.90", "senior_extra": "0.50"},
    ]
    deposits.apply_product_change("rates", {"product_id": product.id, "rates": card, "effective_from": "2027-06-01"})
    uow.commit()
    move_to(date(2027, 7, 12))  # 11-07 was a holiday: maturity runs the next business day, value-dated
    before = last_entry_id()
    fixed_deposits.mature(date(2027, 7, 12))
    uow.commit()
    (credit,) = entries_since(before)
    assert credit.value_date == date(2027, 7, 11)
    assert lines_of(credit) == [(coa.EXP_FD_INTEREST, None, 4_807_00, 0), (coa.FD_DEPOSITS, fd.account_no, 0, 4_807_00)]
    da = _da(fd)
    # Renewed for 15 months 10 days from 11-07-2027 at 6.90 % on ₹54,807:
    # A = 54,807 × (1 + 6.90/400)^5; interest = A − 54,807 + A × 6.90 × 10 / 36500 = 5,005.8840 → ₹5,006
    assert fd.status == "active" and fd.balance_paise == 54_807_00
    assert (da.start_date, da.maturity_date, da.rate_bp, da.principal_paise) == (
        date(2027, 7, 11),
        date(2028, 10, 21),
        690,
        54_807_00,
    )
    assert (da.renewals, da.expected_interest_paise, da.interest_paid_paise, da.matured_on) == (1, 5_006_00, 0, None)
    assert ledger.verify().ok


def test_under_180_days_is_simple_interest(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, 25_000_00, days=90)
    # 90 days at 5.75 %: 25,000 × 5.75 × 90 / 36500 = 354.4521 → ₹354
    assert _da(fd).expected_interest_paise == 354_00
    move_to(date(2026, 6, 30))
    before = last_entry_id()
    fixed_deposits.mature(date(2026, 6, 30))
    uow.commit()
    credit, paid = entries_since(before)
    assert lines_of(credit)[-1] == (coa.FD_DEPOSITS, fd.account_no, 0, 354_00)
    assert lines_of(paid) == [
        (coa.FD_DEPOSITS, fd.account_no, 25_354_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 25_354_00),
    ]
    assert ledger.verify().ok


def test_senior_citizen_gets_the_extra_rate(deposit_products):
    m = member(date_of_birth=date(1960, 1, 10))  # 66 on the start date
    fd = _open(m, 1_00_000_00, months=12, maturity_action="auto_renew")
    da = _da(fd)
    # 7.25 % + 0.50 % = 7.75 %: 1,00,000 × (1 + 7.75/400)^4 − 1,00,000 = 7,978.1577 → ₹7,978
    assert (da.rate_bp, da.senior, da.expected_interest_paise) == (775, True, 7_978_00)


def test_quarterly_payouts_release_the_accrual_and_pay_the_sb(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, 1_00_000_00, months=12, payout="quarterly")
    # Each full quarter pays 1,00,000 × 7.25 / 400 = 1,812.50 → ₹1,813; the 4th is paid at maturity.
    assert [(p.due_date, p.interest_paise) for p in fixed_deposits.schedule(_da(fd))] == [
        (date(2026, 7, 1), 1_813_00),
        (date(2026, 10, 1), 1_813_00),
        (date(2027, 1, 1), 1_813_00),
        (date(2027, 4, 1), 1_813_00),
    ]
    move_to(date(2026, 7, 1))
    before = last_entry_id()
    # Accrual to 30-06: simple since the start, 1,00,000 × 7.25 × 90 / 36500 = 1,787.6712 → ₹1,787.67
    assert fixed_deposits.accrue_interest(date(2026, 6, 30)) == 1_787_67
    assert fixed_deposits.accrue_interest(date(2026, 6, 30)) == 0  # idempotent per month end
    assert fixed_deposits.pay_due_payouts(date(2026, 7, 1)) == 1
    uow.commit()
    accrual, payout = entries_since(before)
    assert lines_of(accrual) == [(coa.EXP_FD_INTEREST, None, 1_787_67, 0), (coa.INTEREST_PAYABLE_FD, None, 0, 1_787_67)]
    assert payout.kind == "payout"
    assert lines_of(payout) == [
        (coa.INTEREST_PAYABLE_FD, None, 1_787_67, 0),
        (coa.EXP_FD_INTEREST, None, 25_33, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 1_813_00),
    ]
    assert fixed_deposits.pay_due_payouts(date(2026, 7, 1)) == 0
    assert ledger.gl_balance(coa.INTEREST_PAYABLE_FD) == 0
    # At maturity the two remaining quarterly payouts and the last one are paid, then the principal.
    move_to(date(2027, 4, 1))
    before = last_entry_id()
    fixed_deposits.mature(date(2027, 4, 1))
    uow.commit()
    entries = entries_since(before)
    assert [e.kind for e in entries] == ["payout", "payout", "payout", "maturity"]
    assert [e.value_date for e in entries[:2]] == [date(2026, 10, 1), date(2027, 1, 1)]
    assert lines_of(entries[-1]) == [
        (coa.FD_DEPOSITS, fd.account_no, 1_00_000_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 1_00_000_00),
    ]
    db.session.expire_all()
    assert sb.balance_paise == 1_000_00 + 4 * 1_813_00 + 1_00_000_00
    assert _da(fd).interest_paid_paise == 7_252_00
    assert ledger.verify().ok


def test_monthly_payout_is_the_discounted_monthly_interest(deposit_products):
    m = member()
    open_sb(m, 1_000_00)
    fd = _open(m, 1_00_000_00, months=12, payout="monthly")
    # 1,00,000 × 7.25 / (1200 + 7.25) = 600.5384 → ₹601 a month (docs/decisions/0010)
    sched = fixed_deposits.schedule(_da(fd))
    assert len(sched) == 12 and {p.interest_paise for p in sched} == {601_00}
    assert sched[0].due_date == date(2026, 5, 1)


def test_premature_closure_recomputes_with_penalty_and_reverses_excess_accrual(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, 1_00_000_00, months=12)
    move_to(date(2026, 10, 1))
    # Month-end accruals at the contracted 7.25 %:
    # 30-04: 29 days simple = 576.0274 → ₹576.03; 31-05: 60 days = 1,191.7808 → ₹1,191.78;
    # 30-09 (182 days ≥ 180: one whole quarter then 91 days on A = 1,01,812.50):
    #   1,812.50 + 1,01,812.50 × 7.25 × 91 / 36500 = 3,652.7958 → ₹3,652.80
    assert fixed_deposits.accrue_interest(date(2026, 4, 30)) == 576_03
    assert fixed_deposits.accrue_interest(date(2026, 5, 31)) == 1_191_78 - 576_03
    fixed_deposits.accrue_interest(date(2026, 9, 30))
    uow.commit()
    assert ledger.gl_balance(coa.INTEREST_PAYABLE_FD) == 3_652_80
    before = last_entry_id()
    deposits.close_account(fd, mode="transfer", to_account_no=sb.account_no)
    uow.commit()
    # Run 183 days: the 180–364 day rate on the start date was 6.50 %, less 1 % penalty = 5.50 %.
    # Two whole quarters: 1,00,000 × (1 + 5.5/400)^2 − 1,00,000 = 2,768.90625 → ₹2,769
    credit, paid = entries_since(before)
    assert lines_of(credit) == [
        (coa.INTEREST_PAYABLE_FD, None, 3_652_80, 0),
        (coa.EXP_FD_INTEREST, None, 0, 883_80),  # excess accrual reversed
        (coa.FD_DEPOSITS, fd.account_no, 0, 2_769_00),
    ]
    assert lines_of(paid) == [
        (coa.FD_DEPOSITS, fd.account_no, 1_02_769_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 1_02_769_00),
    ]
    db.session.expire_all()
    assert fd.status == "closed" and ledger.gl_balance(coa.INTEREST_PAYABLE_FD) == 0
    assert ledger.verify().ok


def test_premature_closure_of_a_payout_fd_recovers_interest_paid_beyond_the_new_figure(deposit_products):
    m = member()
    sb = open_sb(m, 1_000_00)
    fd = _open(m, 1_00_000_00, months=12, payout="quarterly")
    move_to(date(2026, 7, 1))
    fixed_deposits.pay_due_payouts(date(2026, 7, 1))  # ₹1,813 paid
    uow.commit()
    move_to(date(2026, 8, 1))
    clerk = cashier()  # the drawer opens with the vault's cash as its float
    before = last_entry_id()
    deposits.close_account(fd, mode="cash", by=clerk, form60_ref=F60)
    uow.commit()
    # 122 days: the 46–179 day rate was 5.75 % − 1 % = 4.75 %, simple (< 180 days):
    # 1,00,000 × 4.75 × 122 / 36500 = 1,587.6712 → ₹1,588; already paid ₹1,813 → recover ₹225
    credit, paid = entries_since(before)
    assert lines_of(credit) == [
        (coa.EXP_FD_INTEREST, None, 0, 225_00),
        (coa.FD_DEPOSITS, fd.account_no, 225_00, 0),
    ]
    assert lines_of(paid) == [
        (coa.FD_DEPOSITS, fd.account_no, 99_775_00, 0),
        (coa.TELLER_CASH, drawer_no(), 0, 99_775_00),
    ]
    db.session.expire_all()
    assert fd.status == "closed" and sb.balance_paise == 1_000_00 + 1_813_00
    assert ledger.verify().ok


def test_fd_takes_no_counter_credits_or_withdrawals(deposit_products):
    from app.services.common import ValidationError
    from app.services.ledger import kinds as deposit_rules

    fd = _open(member(), 10_000_00, months=12, maturity_action="auto_renew")
    assert not deposit_rules.accepts_credit("fd") and not deposit_rules.allows_withdrawal("fd")
    with pytest.raises(ValidationError, match="does not take"):
        deposit_rules.check_credit(fd, 100_00)
    with pytest.raises(ValidationError, match="not allowed"):
        deposit_rules.withdrawal_floor(fd)
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "maturity")) is None
