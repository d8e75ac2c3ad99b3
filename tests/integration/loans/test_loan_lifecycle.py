"""A personal loan from application to foreclosure: journal lines at each step and ``ledger verify``.

₹1,00,000 at 12 % for 12 months disbursed on 01-04-2026 (PL: fee 1 % + 18 % GST, 5 % share linkage):
fee 1000.00, GST 180.00, net to savings 98,820.00; shares worth 5,000.00 bought from savings.
EMI 8884.88; instalment 1 (01-05-2026) = 1000.00 interest + 7884.88 principal; balance 92,115.12.
Foreclosure on 16-05-2026: broken period 15 days, 92,115.12 × 12 % × 15 / 365 = 454.2663 → 454.27;
quote = 92,115.12 + 454.27 = 92,569.39 (no charge: floating rate).
"""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import LoanEvent
from app.services import ledger, loans
from app.services.common import Conflict, PermissionDenied, uow
from app.services.ledger import coa
from tests.deposit_helpers import entries_since, last_entry_id, lines_of, move_to
from tests.integration.loans.helpers import applied, borrower, rows_of, setup_products, staff


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def _entries() -> int:
    return db.session.scalar(select(func.count(JournalEntry.id)))


def test_whole_lifecycle_journal_lines_and_verify(lbooks):
    m, sb = borrower(50_000_00)
    loan = applied(m, 1_00_000_00, 12)
    assert loan.status == "applied" and loan.loan_no.startswith("PL")
    clerk, manager = staff("clerk"), staff("manager")

    with pytest.raises(PermissionDenied):
        loans.sanction(loan, by=clerk, remarks="self")
    db.session.rollback()
    loans.sanction(loan, by=manager, remarks="Income verified")
    uow.commit()
    assert loan.status == "sanctioned"

    start = last_entry_id()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no)
    uow.commit()
    disb, shares = entries_since(start)
    assert lines_of(disb) == [
        (coa.LOANS_PERSONAL, loan.loan_no, 1_00_000_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 98_820_00),
        (coa.INCOME_PROCESSING_FEE, None, 0, 1000_00),
        (coa.GST_PAYABLE, None, 0, 180_00),
    ]
    assert (shares.kind, shares.lines[0].debit_paise) == ("shares", 5000_00)
    assert loan.status == "active" and loan.account.balance_paise == 1_00_000_00
    assert len(rows_of(loan)) == 12 and loan.emi_paise == 8884_88

    move_to(date(2026, 5, 1))
    r = loans.repay(loan, 8884_88, mode="transfer", by=clerk, from_account_no=sb.account_no)
    uow.commit()
    assert lines_of(r.entry) == [
        (coa.SB_DEPOSITS, sb.account_no, 8884_88, 0),
        (coa.INCOME_LOAN_INTEREST, None, 0, 1000_00),
        (coa.LOANS_PERSONAL, loan.loan_no, 0, 7884_88),
    ]
    assert rows_of(loan)[0].status == "paid" and loan.account.balance_paise == 92_115_12

    move_to(date(2026, 5, 16))
    q = loans.quote(loan)
    assert (q.principal_paise, q.broken_interest_paise, q.charge_paise, q.total_paise) == (
        92_115_12,
        454_27,
        0,
        92_569_39,
    )
    with pytest.raises(Exception, match="foreclosure amount"):
        loans.repay(loan, q.total_paise + 1, mode="transfer", by=clerk, from_account_no=sb.account_no)
    db.session.rollback()
    sb_before = sb.balance_paise
    r = loans.repay(loan, q.total_paise, mode="transfer", by=clerk, from_account_no=sb.account_no)
    uow.commit()
    assert lines_of(r.entry) == [
        (coa.SB_DEPOSITS, sb.account_no, 92_569_39, 0),
        (coa.INCOME_LOAN_INTEREST, None, 0, 454_27),
        (coa.LOANS_PERSONAL, loan.loan_no, 0, 92_115_12),
    ]
    db.session.refresh(loan)
    assert loan.status == "foreclosed" and loan.account.status == "closed" and loan.account.balance_paise == 0
    assert sb.balance_paise == sb_before - 92_569_39
    kinds = [e.kind for e in db.session.scalars(select(LoanEvent).where(LoanEvent.loan_id == loan.id))]
    assert kinds[:4] == ["applied", "sanctioned", "disbursed", "activated"] and kinds[-1] == "foreclosed"

    before = _entries()
    with pytest.raises(Conflict, match="foreclosed"):
        loans.repay(loan, 100_00, mode="transfer", by=clerk, from_account_no=sb.account_no)
    db.session.rollback()
    assert _entries() == before
    report = ledger.verify()
    assert report.ok, report.problems


def test_cash_repayment_goes_through_the_cashiers_drawer(lbooks):
    from tests.deposit_helpers import F60, cashier

    m, sb = borrower(50_000_00)
    loan = applied(m, 1_00_000_00, 12)
    loans.sanction(loan, by=staff("manager"), remarks="ok")
    loans.disburse(loan, by=staff("clerk"), to_account_no=sb.account_no)
    uow.commit()
    user = cashier()
    r = loans.repay(loan, 5000_00, mode="cash", by=user, form60_ref=F60)
    uow.commit()
    lines = lines_of(r.entry)
    assert lines[0][0] == coa.TELLER_CASH and lines[0][2] == 5000_00
    assert lines[1:] == [(coa.INCOME_LOAN_INTEREST, None, 0, 1000_00), (coa.LOANS_PERSONAL, loan.loan_no, 0, 4000_00)]
    row = rows_of(loan)[0]
    assert (row.status, row.interest_paid_paise, row.principal_paid_paise) == ("partial", 1000_00, 4000_00)
    assert ledger.verify().ok
