"""Reversing a repayment: the entry mirrored, exactly what it paid taken off the schedule; refused
when it is not the latest plain repayment (a later payment, a prepayment, a closed loan)."""

from datetime import date

import pytest

from app.extensions import db
from app.services import ledger, loans
from app.services.common import Conflict, NotFound, uow
from tests.deposit_helpers import lines_of, move_to
from tests.integration.loans.helpers import borrower, disbursed, rows_of, setup_products, staff


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def _pay(loan, sb, paise, **kw):
    r = loans.repay(loan, paise, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no, **kw)
    uow.commit()
    return r.entry


def test_the_latest_repayment_is_reversed_and_the_instalments_owe_again(lbooks):
    m, sb = borrower(50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)  # EMI 8884.88: instalment 1 = 1000.00 interest + 7884.88 principal
    move_to(date(2026, 5, 1))
    first = _pay(loan, sb, 8884_88)
    second = _pay(loan, sb, 3_000_00)  # part of instalment 2: its interest 921.15, then principal 2078.85
    with pytest.raises(Conflict, match="Later payments"):
        loans.reverse_repayment(loan, first.id, reason="Cheque returned")
    db.session.rollback()
    sb_before, out_before = sb.balance_paise, loan.outstanding_paise
    reversal = loans.reverse_repayment(loan, second.id, reason="Cheque returned", by=staff("manager"))
    uow.commit()
    assert sorted(lines_of(reversal)) == sorted((gl, acc, cr, dr) for gl, acc, dr, cr in lines_of(second))
    rows = rows_of(loan)
    assert (rows[0].status, rows[1].status, rows[1].interest_paid_paise, rows[1].principal_paid_paise) == (
        "paid", "due", 0, 0,
    )  # fmt: skip
    db.session.refresh(sb)
    assert sb.balance_paise == sb_before + 3_000_00 and loan.outstanding_paise == out_before + 2078_85
    with pytest.raises(Conflict, match="Later payments"):  # its own reversal came after it
        loans.reverse_repayment(loan, second.id, reason="again")
    db.session.rollback()
    assert ledger.verify().ok


def test_a_prepayment_or_an_unknown_entry_is_refused(lbooks):
    m, sb = borrower(50_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    move_to(date(2026, 5, 1))
    prepaid = _pay(loan, sb, 20_000_00)
    with pytest.raises(Conflict, match="prepaid principal"):
        loans.reverse_repayment(loan, prepaid.id, reason="Refund")
    db.session.rollback()
    with pytest.raises(NotFound):
        loans.reverse_repayment(loan, 999_999, reason="Refund")
