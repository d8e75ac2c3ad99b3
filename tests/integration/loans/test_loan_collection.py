"""Standing instructions on the due date, and cash disbursement through the cashier's drawer.

₹1,00,000 at 12 % for 12 months from 01-04-2026: the first EMI, 8884.88, falls due on 01-05-2026.
"""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.services import ledger, loans
from app.services.common import ValidationError, uow
from app.services.ledger import coa
from app.services.members import shares
from tests.deposit_helpers import cashier, lines_of, move_to
from tests.integration.loans.helpers import applied, borrower, rows_of, setup_products, staff


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def test_standing_instruction_collects_the_emi_on_its_due_date_once(lbooks):
    m, sb = borrower(50_000_00)
    loan = applied(m, 1_00_000_00, 12, si_account_no=sb.account_no)
    loans.sanction(loan, by=staff("manager"), remarks="ok")
    loans.disburse(loan, by=staff("clerk"), to_account_no=sb.account_no)
    uow.commit()
    assert loans.collect_standing_instructions(date(2026, 4, 1)) == 0  # nothing due yet
    move_to(date(2026, 5, 1))
    before = sb.balance_paise
    assert loans.collect_standing_instructions(date(2026, 5, 1)) == 1
    uow.commit()
    db.session.refresh(sb)
    assert sb.balance_paise == before - 8884_88
    assert rows_of(loan)[0].status == "paid"
    assert loans.collect_standing_instructions(date(2026, 5, 1)) == 0  # idempotent: nothing due any more
    uow.commit()
    entry = db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key.like("loan-si:%")))
    assert lines_of(entry)[1:] == [
        (coa.INCOME_LOAN_INTEREST, None, 0, 1000_00),
        (coa.LOANS_PERSONAL, loan.loan_no, 0, 7884_88),
    ]
    assert ledger.verify().ok


def test_cash_disbursement_needs_the_shares_first_and_pays_from_the_drawer(lbooks):
    m, _sb = borrower(50_000_00)
    loan = applied(m, 20_000_00, 12)
    loans.sanction(loan, by=staff("manager"), remarks="ok")
    uow.commit()
    user = cashier()
    count = db.session.scalar(select(func.count(JournalEntry.id)))
    with pytest.raises(ValidationError, match=r"Shares worth ₹1,000\.00"):
        loans.disburse(loan, by=user, mode="cash")
    db.session.rollback()
    assert db.session.scalar(select(func.count(JournalEntry.id))) == count
    shares.purchase(m, shares=10, mode="transfer", from_account_no=_sb.account_no, by=staff("clerk"))
    uow.commit()
    loans.disburse(loan, by=user, mode="cash")
    uow.commit()
    assert loan.status == "active" and loan.account.balance_paise == 20_000_00
    cash_entry = db.session.scalar(select(JournalEntry).where(JournalEntry.kind == "disbursement"))
    assert [(gl, d, c) for gl, _acc, d, c in lines_of(cash_entry)] == [
        (coa.LOANS_PERSONAL, 19_764_00, 0),
        (coa.TELLER_CASH, 0, 19_764_00),
    ]  # 20,000 − fee 200 − GST 36
    assert ledger.verify().ok
