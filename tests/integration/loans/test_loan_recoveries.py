"""Recoveries on a written-off loan (income, capped at what was written off) and the repayment receipt.

₹1,00,000 personal loan for 12 months, written off whole on the disbursement day against no
provision: ₹1,00,000 leaves the books as an expense. A ₹10,000 transfer recovery is then
Dr savings / Cr "bad debts recovered"; ₹2,500 in cash Dr the cashier's drawer; what is left to
recover is ₹87,500.
"""

from datetime import date

import pytest

from app.extensions import db
from app.services import ledger, loans
from app.services.common import Conflict, NotFound, ValidationError, uow
from app.services.ledger import coa
from tests.deposit_helpers import cashier, drawer_no, entries_since, last_entry_id, lines_of, move_to
from tests.integration.loans.helpers import borrower, disbursed, setup_products, staff


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def _written_off():
    m, sb = borrower(50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    loan.asset_class = "substandard"
    loans.write_off(loan, by=staff("manager"), remarks="Committee resolution 12")
    uow.commit()
    return loan, sb


def test_recoveries_are_income_and_stop_at_the_amount_written_off(lbooks):
    loan, sb = _written_off()
    assert (loans.written_off_paise(loan), loans.recoverable_paise(loan)) == (1_00_000_00, 1_00_000_00)
    clerk = staff("clerk")
    start = last_entry_id()
    loans.recover(loan, 10_000_00, mode="transfer", by=clerk, from_account_no=sb.account_no)
    uow.commit()
    (entry,) = entries_since(start)
    assert lines_of(entry) == [
        (coa.SB_DEPOSITS, sb.account_no, 10_000_00, 0),
        (coa.INCOME_BAD_DEBTS_RECOVERED, None, 0, 10_000_00),
    ]
    move_to(date(2026, 4, 2))  # the member's ₹50,000 cash of the 1st (the savings opening) is behind
    teller = cashier()
    start = last_entry_id()
    loans.recover(loan, 2_500_00, mode="cash", by=teller, idempotency_key="rec-1")
    uow.commit()
    (cash,) = entries_since(start)
    assert lines_of(cash) == [
        (coa.TELLER_CASH, drawer_no(), 2_500_00, 0),
        (coa.INCOME_BAD_DEBTS_RECOVERED, None, 0, 2_500_00),
    ]
    assert loans.recover(loan, 2_500_00, mode="cash", by=teller, idempotency_key="rec-1").id == cash.id  # a retry
    uow.commit()
    assert (loans.recovered_paise(loan), loans.recoverable_paise(loan)) == (12_500_00, 87_500_00)
    assert loan.account.balance_paise == 0 and loan.status == "written_off"
    start = last_entry_id()
    with pytest.raises(ValidationError, match=r"At most ₹87,500\.00 remains"):
        loans.recover(loan, 87_500_01, mode="transfer", by=clerk, from_account_no=sb.account_no)
    db.session.rollback()
    assert entries_since(start) == [] and ledger.verify().ok
    assert [e.kind for e in loans.history(loan)].count("recovery") == 2


def test_no_recovery_on_a_live_loan_and_receipts_only_for_repayments(lbooks):
    m, sb = borrower(50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    with pytest.raises(Conflict, match="written-off loans only"):
        loans.recover(loan, 1_000_00, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    r = loans.repay(loan, 5_000_00, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    slip = loans.reads.receipt(loan, r.entry.number)
    assert (slip.receipt.interest_paise, slip.receipt.principal_paise, slip.outstanding_after_paise, slip.cash) == (
        1_000_00, 4_000_00, 96_000_00, False,
    )  # fmt: skip
    disbursement = entries_since(0, kind="disbursement")[0]
    with pytest.raises(NotFound):
        loans.reads.receipt(loan, disbursement.number)
