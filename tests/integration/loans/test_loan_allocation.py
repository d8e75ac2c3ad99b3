"""Repayment allocation: partial, exact, excess as prepayment (shorter tenure / lower EMI), penal first.

Loan: ₹1,00,000 at 12 % for 12 months from 01-04-2026, EMI 8884.88. Instalment 1 (01-05) is
1000.00 interest + 7884.88 principal; instalment 2 (01-06) 921.15 + 7963.73.
"""

from datetime import date

import pytest

from app.models.loans import LoanScheduleRow
from app.services import ledger, loans
from app.services.common import uow
from app.services.ledger import coa
from tests.deposit_helpers import lines_of, move_to
from tests.integration.loans.helpers import borrower, disbursed, rows_of, setup_products, staff


@pytest.fixture
def loan_and_sb(books):
    setup_products()
    m, sb = borrower(2_00_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    return loan, sb


def _pay(loan, sb, paise, reduce="tenure"):
    r = loans.repay(loan, paise, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no, reduce=reduce)
    uow.commit()
    return r


def test_partial_payment_goes_to_overdue_interest_oldest_first(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 6, 5))  # instalments of 01-05 and 01-06 are overdue
    r = _pay(loan, sb, 1500_00)
    a = r.allocation
    assert (a.overdue_interest_paise, a.overdue_principal_paise, a.current_paise, a.prepayment_paise) == (
        1500_00,
        0,
        0,
        0,
    )
    first, second = rows_of(loan)[:2]
    assert (first.interest_paid_paise, second.interest_paid_paise) == (1000_00, 500_00)
    assert first.principal_paid_paise == second.principal_paid_paise == 0
    assert lines_of(r.entry)[1:] == [(coa.INCOME_LOAN_INTEREST, None, 0, 1500_00)]


def test_exact_overdue_amount_settles_both_instalments_and_nothing_else(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 6, 5))
    r = _pay(loan, sb, 2 * 8884_88)
    a = r.allocation
    assert (a.overdue_interest_paise, a.overdue_principal_paise, a.current_paise) == (1921_15, 15848_61, 0)
    rows = rows_of(loan)
    assert [x.status for x in rows[:3]] == ["paid", "paid", "due"]
    assert loan.account.balance_paise == 1_00_000_00 - 15848_61
    assert loan.schedule_version == 1


def test_excess_prepays_and_shortens_the_tenure_by_default(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 4, 10))
    r = _pay(loan, sb, 8884_88 + 20_000_00)
    assert (r.allocation.current_paise, r.allocation.prepayment_paise) == (8884_88, 20_000_00)
    assert loan.account.balance_paise == 1_00_000_00 - 7884_88 - 20_000_00  # 72,115.12
    rows = rows_of(loan)
    assert loan.schedule_version == 2 and rows[0].status == "paid" and rows[1].opening_principal_paise == 72_115_12
    assert loan.emi_paise == 8884_88 and rows[1].emi_paise == 8884_88
    # 72,115.12 at 1 % a month with 8884.88 a month is repaid in 9 more instalments (10 in all, not 12).
    assert len(rows) == 10 and rows[-1].closing_principal_paise == 0
    old = LoanScheduleRow.query.filter_by(loan_id=loan.id, version=1).count()
    assert old == 12  # the old version is kept
    kinds = [e.kind for e in loans.history(loan)]
    assert "prepayment" in kinds
    assert ledger.verify().ok


def test_excess_can_lower_the_emi_instead(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 4, 10))
    _pay(loan, sb, 8884_88 + 20_000_00, reduce="emi")
    rows = rows_of(loan)
    assert len(rows) == 12 and rows[1].opening_principal_paise == 72_115_12
    assert loan.emi_paise == loans.emi_amount(72_115_12, __import__("decimal").Decimal(12), 11)
    assert loan.emi_paise < 8884_88 and rows[-1].closing_principal_paise == 0


def test_a_payment_that_would_clear_the_principal_must_be_the_foreclosure_amount(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 4, 10))
    with pytest.raises(Exception, match="foreclosure amount"):
        _pay(loan, sb, 1_00_000_00 + 1000_00)
