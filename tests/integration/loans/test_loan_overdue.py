"""Day-end steps for loans: penal charges, DPD and classification, interest suspense, provisions.

Loan: ₹1,00,000 at 12 % for 12 months from 01-04-2026 (PL: penal 2 % a year on the overdue
amount after 3 grace days, unsecured). Instalments: 01-05 (interest 1000.00), 01-06 (921.15),
01-07 (841.51), 01-08 (761.08), each EMI 8884.88.

Penal: the 01-05 instalment is past grace from 05-05 (due date + 3 days < date). Each day:
8884.88 × 2 % / 365 = 0.48684 → 0.49 (half-up). 05-05 … 05-10 = 6 days = 2.94.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.loans import LoanCharge, LoanClassification
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


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _run(on: date, *steps):
    for step in steps:
        step(on)
    uow.commit()


def test_penal_charges_after_grace_days_never_on_earlier_charges(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 5, 10))
    for d in _days(date(2026, 5, 1), date(2026, 5, 10)):
        _run(d, loans.update_dpd, loans.charge_penal)
    loans.charge_penal(date(2026, 5, 10))  # a rerun of the same date adds nothing
    uow.commit()
    charges = list(
        db.session.scalars(select(LoanCharge).where(LoanCharge.loan_id == loan.id).order_by(LoanCharge.charge_date))
    )
    assert [c.charge_date for c in charges] == list(_days(date(2026, 5, 5), date(2026, 5, 10)))
    assert {(c.base_paise, c.amount_paise) for c in charges} == {(8884_88, 49)}  # base never includes charges
    db.session.refresh(loan)
    assert loan.dpd == 9
    entries_before = ledger.verify().entries
    assert entries_before > 0
    r = loans.repay(loan, 100_00, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    assert lines_of(r.entry)[1:] == [
        (coa.INCOME_PENAL, None, 0, 2_94),
        (coa.INCOME_LOAN_INTEREST, None, 0, 97_06),
    ]
    assert all(c.status == "paid" for c in charges)


def test_penal_charges_of_every_product_in_one_step_each_by_its_own_rule(loan_and_sb):
    """PL at 2 % a year after 3 days and BUS, made fixed ₹250 once per instalment after 5 days, in one run."""
    pl_loan, _ = loan_and_sb
    bus = loans.get_product("BUS")
    bus.penal_mode, bus.penal_fixed_paise, bus.grace_days = "fixed", 250_00, 5
    uow.commit()
    m, sb = borrower(2_00_000_00)
    bus_loan = disbursed(m, sb, 1_00_000_00, 12, product="BUS")
    move_to(date(2026, 5, 10))
    for d in _days(date(2026, 5, 1), date(2026, 5, 10)):
        _run(d, loans.update_dpd, loans.charge_penal)
    assert loans.charge_penal(date(2026, 5, 10)) == 0  # a rerun of the date writes nothing
    uow.commit()

    def charges(loan):
        q = select(LoanCharge.charge_date, LoanCharge.amount_paise).where(LoanCharge.loan_id == loan.id)
        return db.session.execute(q.order_by(LoanCharge.charge_date)).all()

    assert charges(pl_loan) == [(d, 49) for d in _days(date(2026, 5, 5), date(2026, 5, 10))]
    assert charges(bus_loan) == [(date(2026, 5, 7), 250_00)]  # 01-05 + 5 grace days: crossing on the 6th day


def test_dpd_to_sma_to_npa_and_upgrade_only_when_all_arrears_clear(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 8, 5))
    expected = {
        date(2026, 5, 1): (0, "standard"),
        date(2026, 5, 2): (1, "sma0"),
        date(2026, 5, 31): (30, "sma0"),
        date(2026, 6, 1): (31, "sma1"),
        date(2026, 7, 1): (61, "sma2"),
        date(2026, 7, 30): (90, "sma2"),
        date(2026, 7, 31): (91, "substandard"),
        date(2026, 8, 4): (95, "substandard"),
    }
    for on, (dpd, cls) in expected.items():
        _run(on, loans.update_dpd, loans.classify_assets)
        db.session.refresh(loan)
        assert (loan.dpd, loan.asset_class) == (dpd, cls), on
    assert loan.npa_since == date(2026, 7, 31)
    # Three EMIs against four overdue instalments: all four interests first, then principal
    # oldest first, so the 01-07 instalment is still short and the DPD counts from it (35):
    # an NPA is not upgraded while any arrear remains.
    r = loans.repay(loan, 3 * 8884_88, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    _run(date(2026, 8, 5), loans.update_dpd, loans.classify_assets)
    db.session.refresh(loan)
    assert (loan.dpd, loan.asset_class) == (35, "substandard")
    # Clearing every arrear upgrades it to standard.
    loans.repay(loan, 8884_88, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    _run(date(2026, 8, 5), loans.update_dpd, loans.classify_assets)
    db.session.refresh(loan)
    assert (loan.dpd, loan.asset_class, loan.npa_since) == (0, "standard", None)
    history = [
        (c.from_class, c.to_class)
        for c in db.session.scalars(
            select(LoanClassification).where(LoanClassification.loan_id == loan.id).order_by(LoanClassification.id)
        )
    ]
    assert history == [
        ("standard", "sma0"),
        ("sma0", "sma1"),
        ("sma1", "sma2"),
        ("sma2", "substandard"),
        ("substandard", "standard"),
    ]
    assert r.entry is not None and ledger.verify().ok


def test_npa_interest_goes_to_suspense_and_income_of_the_year_is_reversed_on_slippage(loan_and_sb):
    loan, sb = loan_and_sb
    move_to(date(2026, 9, 1))
    receivable = lambda: ledger.gl_balance(coa.INTEREST_RECEIVABLE_LOANS)  # noqa: E731
    income = lambda: ledger.gl_balance(coa.INCOME_LOAN_INTEREST)  # noqa: E731
    suspense = lambda: ledger.gl_balance(coa.INTEREST_SUSPENSE)  # noqa: E731
    steps = (loans.update_dpd, loans.accrue_interest, loans.classify_assets)
    assert loans.accrue_interest(date(2026, 5, 30)) == 0  # not a month end
    _run(date(2026, 5, 31), *steps)
    _run(date(2026, 6, 30), *steps)
    assert (receivable(), income(), suspense()) == (1921_15, 1921_15, 0)
    _run(date(2026, 7, 31), *steps)  # 841.51 accrued to income, then the loan turns NPA (91 DPD)
    assert loan.asset_class == "substandard"
    assert (receivable(), income(), suspense()) == (2762_66, 0, 2762_66)  # the year's 2762.66 reversed
    _run(date(2026, 8, 31), *steps)  # an NPA's interest (761.08) goes straight to suspense
    assert (receivable(), income(), suspense()) == (3523_74, 0, 3523_74)
    assert loans.accrue_interest(date(2026, 8, 31)) == 0  # idempotent
    uow.commit()
    # Interest realised from an NPA leaves suspense for income.
    loans.repay(loan, 1000_00, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    assert (receivable(), income(), suspense()) == (2523_74, 1000_00, 2523_74)
    assert rows_of(loan)[0].interest_paid_paise == 1000_00
    assert ledger.verify().ok


def test_provisions_follow_the_class_and_are_posted_as_differences(loan_and_sb):
    loan, _sb = loan_and_sb
    std = lambda: ledger.gl_balance(coa.STANDARD_ASSET_PROVISION)  # noqa: E731
    npa = lambda: ledger.gl_balance(coa.NPA_PROVISION)  # noqa: E731
    on = date(2026, 4, 1)
    _run(on, loans.post_provisions)
    assert (std(), npa(), loan.provision_paise) == (400_00, 0, 400_00)  # 0.40 % of 1,00,000
    _run(on, loans.post_provisions)
    assert std() == 400_00  # nothing posted twice
    loan.asset_class, loan.npa_since = "substandard", on
    uow.commit()
    _run(on, loans.post_provisions)
    assert (std(), npa()) == (0, 10_000_00)  # 10 % sub-standard; the standard provision written back
    loan.asset_class = "d1"
    uow.commit()
    _run(on, loans.post_provisions)
    assert npa() == 1_00_000_00  # doubtful and unsecured: 100 %
    loan.secured = True
    uow.commit()
    _run(on, loans.post_provisions)
    assert npa() == 20_000_00  # doubtful D1 secured: 20 %
    assert ledger.gl_balance(coa.EXP_NPA_PROVISION) == 20_000_00 and ledger.verify().ok


def test_writing_off_an_npa_uses_its_provision_and_closes_the_account(loan_and_sb):
    loan, _sb = loan_and_sb
    on = date(2026, 4, 1)
    with pytest.raises(Exception, match="only an NPA"):
        loans.write_off(loan, by=staff("manager"), remarks="not yet")
    db.session.rollback()
    loan.asset_class, loan.npa_since = "substandard", on
    uow.commit()
    _run(on, loans.post_provisions)  # 10 % of 1,00,000 = 10,000.00
    loans.write_off(loan, by=staff("manager"), remarks="Board resolution 7/2026")
    uow.commit()
    entry = loans.history(loan)[-1].entry_id
    from app.models.ledger import JournalEntry

    assert lines_of(db.session.get(JournalEntry, entry)) == [
        (coa.NPA_PROVISION, None, 10_000_00, 0),
        (coa.EXP_NPA_PROVISION, None, 90_000_00, 0),
        (coa.LOANS_PERSONAL, loan.loan_no, 0, 1_00_000_00),
    ]
    assert (loan.status, loan.account.status, loan.account.balance_paise) == ("written_off", "closed", 0)
    assert ledger.gl_balance(coa.NPA_PROVISION) == 0 and ledger.verify().ok
