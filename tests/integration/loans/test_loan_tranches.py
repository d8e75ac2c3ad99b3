"""A housing loan released in tranches: journal lines, the schedule versions, the refusals.

HL (9 %, fee 0.5 % + 18 % GST on the whole sanction): ₹2,00,000 sanctioned for 60 months.
Tranche 1 of ₹1,00,000 on 01-04-2026: fee 1000.00 + GST 180.00 taken from it, 98,820.00 to
savings; EMI on ₹1,00,000 at 0.75 % a month for 60 months = 2075.84 (tables: ₹2,075.84 per
lakh at 9 % for 5 years). Instalment 1 (01-05-2026): interest 750.00, principal 1325.84,
balance 98,674.16.
Tranche 2 of ₹1,00,000 on 16-05-2026: outstanding 1,98,674.16 over the 59 instalments left.
Instalment 2 (01-06-2026, a 31-day period from 01-05): a full month on 1,98,674.16 is
1490.06, less the tranche's share for the 15 days before it went out,
1,00,000 × 0.75 % × 15/31 = 362.90, so 1127.16.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.services import ledger, loans
from app.services.common import Conflict, ValidationError, uow
from app.services.ledger import coa
from tests.deposit_helpers import entries_since, last_entry_id, lines_of, move_to
from tests.integration.loans.helpers import borrower, rows_of, sanctioned, setup_products, staff

HOUSE = {"product": "HL", "security_details": "Plot 14, Ward 3, Nashik: house under construction",
         "security_value_paise": 6_00_000_00}  # fmt: skip


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def _entries() -> int:
    """Disbursement entries posted so far (fee entries apart)."""
    return db.session.scalar(select(func.count(JournalEntry.id)).where(JournalEntry.kind == "disbursement"))


def _emi(principal: int, monthly_rate: Decimal, n: int) -> int:
    """EMI = P·r·(1+r)^n / ((1+r)^n − 1), half-up to the paisa (worked here, not by the service)."""
    growth = (1 + monthly_rate) ** n
    return int((principal * monthly_rate * growth / (growth - 1)).quantize(Decimal(1), ROUND_HALF_UP))


def _housing(sb_paise: int = 50_000_00):
    m, sb = borrower(sb_paise)
    loan = sanctioned(m, 2_00_000_00, 60, **HOUSE)
    assert loans.allows_tranches(loan)
    return m, sb, loan


def test_tranches_post_their_amounts_and_rebuild_the_schedule(lbooks):
    _m, sb, loan = _housing()
    clerk = staff("clerk")
    start = last_entry_id()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=1_00_000_00)
    uow.commit()
    first = entries_since(start)[0]
    assert lines_of(first) == [
        (coa.LOANS_HOUSING, loan.loan_no, 1_00_000_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 98_820_00),
        (coa.INCOME_PROCESSING_FEE, None, 0, 1000_00),
        (coa.GST_PAYABLE, None, 0, 180_00),
    ]
    assert loan.status == "active" and loans.disbursed_paise(loan) == 1_00_000_00
    assert loans.undisbursed_paise(loan) == 1_00_000_00
    v1 = rows_of(loan)
    assert loan.emi_paise == 2075_84 == _emi(1_00_000_00, Decimal("0.0075"), 60) and len(v1) == 60
    assert (v1[0].interest_paise, v1[0].principal_paise, v1[0].closing_principal_paise) == (750_00, 1325_84, 98_674_16)

    move_to(date(2026, 5, 1))
    loans.repay(loan, 2075_84, mode="transfer", by=clerk, from_account_no=sb.account_no)
    uow.commit()
    move_to(date(2026, 5, 16))
    start = last_entry_id()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=1_00_000_00)
    uow.commit()
    (second,) = entries_since(start)
    assert lines_of(second) == [
        (coa.LOANS_HOUSING, loan.loan_no, 1_00_000_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 1_00_000_00),
    ]
    assert loan.account.balance_paise == 1_98_674_16 and loans.undisbursed_paise(loan) == 0
    v2 = rows_of(loan)
    assert loan.schedule_version == 2 and len(v2) == 60
    assert v2[0].status == "paid" and v2[0].emi_paise == 2075_84  # the settled instalment carried over
    new_emi = _emi(1_98_674_16, Decimal("0.0075"), 59)
    assert loan.emi_paise == new_emi
    assert (v2[1].due_date, v2[1].interest_paise, v2[1].emi_paise) == (date(2026, 6, 1), 1127_16, new_emi - 362_90)
    assert sum(r.principal_paise for r in v2[1:]) == 1_98_674_16 and v2[-1].closing_principal_paise == 0
    assert len(loans.schedule.rows(loan, version=1)) == 60  # the old version kept
    kinds = [e.kind for e in loans.history(loan)]
    assert kinds.count("tranche") == 1 and "disbursed" in kinds
    assert ledger.verify().ok


def test_tranche_refusals_post_nothing(lbooks):
    _m, sb, loan = _housing()
    clerk = staff("clerk")
    with pytest.raises(ValidationError, match="left to release"):
        loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=2_00_000_01)
    db.session.rollback()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=50_000_00, idempotency_key="t-1")
    uow.commit()
    before = _entries()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=50_000_00, idempotency_key="t-1")
    uow.commit()
    assert _entries() == before and loans.disbursed_paise(loan) == 50_000_00  # a repeat changes nothing
    with pytest.raises(ValidationError, match=r"Only ₹1,50,000\.00 .* left to release"):
        loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=1_50_000_01)
    db.session.rollback()

    move_to(date(2026, 5, 20))  # instalment 1 (01-05-2026) unpaid
    with pytest.raises(Conflict, match=r"Instalment 1 .* unpaid"):
        loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=50_000_00)
    db.session.rollback()
    loans.repay(loan, loans.summary(loan).overdue_paise, mode="transfer", by=clerk, from_account_no=sb.account_no)
    uow.commit()
    loans.disburse(loan, by=clerk, to_account_no=sb.account_no)  # all that is left
    uow.commit()
    assert loans.disbursed_paise(loan) == 2_00_000_00 and _entries() == before + 1
    with pytest.raises(Conflict, match="only a sanctioned loan"):
        loans.disburse(loan, by=clerk, to_account_no=sb.account_no, amount_paise=1_00)
    db.session.rollback()
    assert _entries() == before + 1 and ledger.verify().ok


def test_a_product_without_tranches_disburses_in_full_only(lbooks):
    m, sb = borrower()
    loan = sanctioned(m, 1_00_000_00, 12)
    with pytest.raises(ValidationError, match="disbursed in full"):
        loans.disburse(loan, by=staff("clerk"), to_account_no=sb.account_no, amount_paise=50_000_00)
    db.session.rollback()
    assert loan.status == "sanctioned" and loan.account_id is None
