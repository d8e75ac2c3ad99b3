"""Recurring deposits: schedule, instalments by cash / standing instruction, late fees, maturity, closure.

Default RD product: 6–11 months 6.00 %, 12–120 months 6.75 % (senior +0.50), ₹10 fee for an
instalment paid more than 5 days after its due date. Maturity M = Σ R(1 + r/400)^(m/3), an
instalment paid in month k of an n-month term staying m = n − k + 1 months; figures worked
to 40 digits and rounded once, half-up, to the rupee.
"""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.deposits import DepositAccount, RdInstallment
from app.services import deposits, ledger
from app.services.common import ValidationError, uow
from app.services.deposits import OpenRequest
from app.services.deposits import recurring as recurring_deposits
from app.services.ledger import Line, coa
from app.services.ledger import kinds as deposit_rules
from tests.deposit_helpers import (
    F60,
    cash_out,
    cashier,
    drawer_no,
    entries_since,
    last_entry_id,
    lines_of,
    member,
    move_to,
    open_sb,
)


@pytest.fixture
def rd_books(books):
    deposits.seed_products()
    uow.commit()
    return books


def _open_rd(m, installment, months, **kw):
    acc = deposits.open_account(
        OpenRequest(
            form60_ref=F60, member_no=m.member_no, kind="rd", installment_paise=installment, months=months, **kw
        ),
        by=cashier(),
    )
    uow.commit()
    return acc


def _rows(acc):
    db.session.expire_all()
    return db.session.scalars(
        select(RdInstallment).where(RdInstallment.account_id == acc.id).order_by(RdInstallment.seq)
    ).all()


def _counter_credit(acc, paise):
    """What the counter does: check, post the credit, then run the after-credit rule."""
    deposit_rules.check_credit(acc, paise)
    entry = ledger.post(
        [Line.dr(coa.VAULT_CASH, paise), Line.cr(acc, paise)], kind="deposit", narration="RD instalment"
    )
    deposit_rules.after_credit(acc, paise, entry)
    uow.commit()
    return entry


def test_schedule_standing_instruction_late_fee_and_maturity_from_actual_instalments(rd_books):
    m = member()
    sb = open_sb(m, 2_000_00)
    start = last_entry_id()
    rd = _open_rd(m, 1_000_00, 12, si_account_no=sb.account_no)
    (opening,) = entries_since(start)
    assert lines_of(opening) == [
        (coa.TELLER_CASH, drawer_no(), 1_000_00, 0),
        (coa.RD_DEPOSITS, rd.account_no, 0, 1_000_00),
    ]
    da = db.session.scalar(select(DepositAccount).where(DepositAccount.account_id == rd.id))
    # All 12 on time: Σ 1,000 × 1.016875^(m/3), m = 12 … 1 = 12,445.3800 → interest ₹445
    assert (da.rate_bp, da.maturity_date, da.expected_interest_paise) == (675, date(2027, 4, 1), 445_00)
    rows = _rows(rd)
    assert [r.due_date for r in rows[:3]] == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert rows[0].status == "paid" and rows[0].paid_month == 1 and all(r.status == "due" for r in rows[1:])

    move_to(date(2026, 5, 1))  # instalment 2 by standing instruction from the SB
    before = last_entry_id()
    assert recurring_deposits.run_standing_instructions(date(2026, 5, 1)).paid == 1
    uow.commit()
    (si,) = entries_since(before)
    assert lines_of(si) == [
        (coa.SB_DEPOSITS, sb.account_no, 1_000_00, 0),
        (coa.RD_DEPOSITS, rd.account_no, 0, 1_000_00),
    ]
    assert recurring_deposits.run_standing_instructions(date(2026, 5, 1)).paid == 0

    move_to(date(2026, 6, 1))  # the SB is left with ₹1,000, below min balance ₹500 + ₹1,000: SI fails
    result = recurring_deposits.run_standing_instructions(date(2026, 6, 1))
    assert result.paid == 0 and result.failed == [rd.account_no]
    move_to(date(2026, 6, 10))  # paid at the counter 9 days late (> 5 days grace): ₹10 fee
    before = last_entry_id()
    _counter_credit(rd, 1_000_00)
    credit, fee = entries_since(before)
    assert fee.kind == "fee"
    assert lines_of(fee) == [(coa.RD_DEPOSITS, rd.account_no, 10_00, 0), (coa.INCOME_SERVICE_CHARGES, None, 0, 10_00)]

    move_to(date(2026, 7, 8))  # instalment 4 (due 01-07) is now overdue
    uow.commit()
    assert recurring_deposits.mark_overdue(date(2026, 7, 8)) == 1
    uow.commit()
    assert _rows(rd)[3].status == "overdue"

    # Bad instalments are refused before anything is posted.
    with pytest.raises(ValidationError, match="not a whole number of instalments"):
        deposit_rules.check_credit(rd, 1_500_00)
    with pytest.raises(ValidationError, match="Only 9 instalment"):
        deposit_rules.check_credit(rd, 10_000_00)

    move_to(date(2026, 8, 2))  # #4 late (fee), #5 on time, #6–#12 in advance: ₹9,000
    _counter_credit(rd, 9_000_00)
    rows = _rows(rd)
    assert [r.paid_month for r in rows] == [1, 2, 3, 5, 5, 6, 7, 8, 9, 10, 11, 12]
    assert [r.fee_paise for r in rows] == [0, 0, 10_00, 10_00, 0, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(ValidationError, match="Only 0 instalment"):
        deposit_rules.check_credit(rd, 1_000_00)

    # Month-end accrual at 31-07: 3 whole months; instalments of months 1, 2, 3 count:
    # Σ 1,000 × 1.016875^(m/3), m = 3, 2, 1 − 3,000 = 33.6872 → ₹33.69
    move_to(date(2027, 4, 1))
    assert recurring_deposits.accrue_interest(date(2026, 7, 31)) == 33_69
    before = last_entry_id()
    assert recurring_deposits.mature(date(2027, 4, 1)) == 1
    uow.commit()
    # Actual: months [1,2,3,5,5,6,…,12] → Σ = 12,439.5310 → interest ₹440 (₹5 less than on schedule)
    credit, paid = entries_since(before)
    assert lines_of(credit) == [
        (coa.INTEREST_PAYABLE_RD, None, 33_69, 0),
        (coa.EXP_RD_INTEREST, None, 406_31, 0),
        (coa.RD_DEPOSITS, rd.account_no, 0, 440_00),
    ]
    # 12 × 1,000 − 2 × 10 fees + 440 = ₹12,420 to the SB
    assert lines_of(paid) == [
        (coa.RD_DEPOSITS, rd.account_no, 12_420_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 12_420_00),
    ]
    db.session.expire_all()
    assert rd.status == "closed"
    assert ledger.verify().ok


def test_premature_closure_uses_the_rate_for_the_months_run_less_penalty(rd_books):
    m = member()
    sb = open_sb(m, 500_00)
    rd = _open_rd(m, 2_000_00, 24)  # 6.75 % for 24 months
    for month in range(5, 12):  # instalments 2 … 8 on their due dates (01-05 … 01-11)
        move_to(date(2026, month, 1))
        _counter_credit(rd, 2_000_00)
    move_to(date(2026, 11, 15))
    before = last_entry_id()
    deposits.close_account(rd, mode="transfer", to_account_no=sb.account_no)
    uow.commit()
    # 7 whole months run; the 6–11 month rate was 6.00 % − 1 % = 5.00 %; instalments of months 1–7
    # count (the 8th, paid in month 8, has not completed a month):
    # Σ 2,000 × 1.0125^(m/3), m = 7 … 1 = 14,234.3062 → interest ₹234
    credit, paid = entries_since(before)
    assert lines_of(credit) == [(coa.EXP_RD_INTEREST, None, 234_00, 0), (coa.RD_DEPOSITS, rd.account_no, 0, 234_00)]
    assert lines_of(paid) == [
        (coa.RD_DEPOSITS, rd.account_no, 16_234_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 16_234_00),
    ]
    db.session.expire_all()
    assert rd.status == "closed" and sb.balance_paise == 500_00 + 16_234_00
    assert ledger.verify().ok


def test_rd_instalment_must_match_and_tenure_must_be_supported(rd_books):
    m = member()
    with pytest.raises(ValidationError, match="does not match the instalment"):
        deposits.open_account(
            OpenRequest(
                form60_ref=F60,
                member_no=m.member_no,
                kind="rd",
                installment_paise=1_000_00,
                amount_paise=900_00,
                months=12,
            ),
            by=cashier(),
        )
    with pytest.raises(ValidationError, match="no rate for 3 months"):
        _open_rd(m, 1_000_00, 3)
    with pytest.raises(ValidationError, match=r"multiple of ₹10\.00"):
        _open_rd(m, 1_005_00, 12)
    with pytest.raises(ValidationError, match="minimum instalment"):
        _open_rd(m, 50_00, 12)
    db.session.rollback()
    assert db.session.scalar(select(DepositAccount)) is None


def test_standing_instruction_keeps_the_sb_minimum_balance(rd_books):
    m = member()
    sb = open_sb(m, 3_000_00)
    rd = _open_rd(m, 1_000_00, 12, si_account_no=sb.account_no)
    cash_out(sb, 1_000_00)  # SB ₹2,000; floor ₹500 → ₹1,500 free → one instalment
    move_to(date(2026, 6, 1))  # instalments 2 (01-05) and 3 (01-06) are due
    result = recurring_deposits.run_standing_instructions(date(2026, 6, 1))
    uow.commit()
    assert result.paid == 1
    db.session.expire_all()
    assert sb.balance_paise == 1_000_00 and [r.status for r in _rows(rd)[:3]] == ["paid", "paid", "due"]
