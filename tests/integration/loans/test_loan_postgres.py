"""The loan day-end steps and a repayment on PostgreSQL (the production database): the set-based
SQL (date arithmetic, INSERT … SELECT, integer division) gives the same figures as on SQLite.
Figures as in test_loan_overdue.py (₹1,00,000 at 12 % for 12 months from 01-04-2026)."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.loans import LoanCharge
from app.services import ledger, loans
from app.services.common import uow
from app.services.ledger import coa
from tests.deposit_helpers import move_to
from tests.integration.loans.helpers import borrower, disbursed, setup_products, staff

pytestmark = pytest.mark.postgres


def _run(on, *steps):
    for step in steps:
        step(on)
    uow.commit()


def test_day_end_steps_on_postgresql(pg_books):
    setup_products()
    m, sb = borrower(2_00_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    move_to(date(2026, 8, 5))
    steps = (loans.update_dpd, loans.charge_penal, loans.accrue_interest, loans.classify_assets)
    for on in (date(2026, 5, 5), date(2026, 5, 31), date(2026, 6, 30), date(2026, 7, 31)):
        _run(on, *steps)
    db.session.refresh(loan)
    assert (loan.dpd, loan.asset_class, loan.npa_since) == (91, "substandard", date(2026, 7, 31))
    charges = list(
        db.session.scalars(select(LoanCharge).where(LoanCharge.loan_id == loan.id).order_by(LoanCharge.charge_date))
    )
    assert (charges[0].charge_date, charges[0].base_paise, charges[0].amount_paise) == (date(2026, 5, 5), 8884_88, 49)
    assert ledger.gl_balance(coa.INTEREST_SUSPENSE) == 2762_66 and ledger.gl_balance(coa.INCOME_LOAN_INTEREST) == 0
    _run(date(2026, 8, 5), loans.post_provisions)
    assert ledger.gl_balance(coa.NPA_PROVISION) == 10_000_00
    loans.repay(loan, 4 * 8884_88 + sum(c.amount_paise for c in charges), mode="transfer", by=staff("clerk"),
                from_account_no=sb.account_no)  # fmt: skip
    uow.commit()
    _run(date(2026, 8, 5), loans.update_dpd, loans.classify_assets, loans.post_provisions)
    db.session.refresh(loan)
    assert (loan.dpd, loan.asset_class) == (0, "standard")
    assert ledger.gl_balance(coa.NPA_PROVISION) == 0
    report = ledger.verify()
    assert report.ok, report.problems
