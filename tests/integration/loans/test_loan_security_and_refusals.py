"""Gold LTV, deposit liens, and the bad inputs of issue 9: each a clear error with nothing posted or saved.

Gold rates: 01-03 … 30-03-2026 at ₹6,000/g, 31-03 at ₹6,600/g. On 01-04 the rate used is the
lower of the 30-day average (02-03 … 31-03: (29 × 6000 + 6600) / 30 = 6020.00) and the previous
day's 6600 → ₹6,020/g. 20 g net of 22 carat = 1,20,400.00; the GL product allows 75 % LTV
(stricter than the RBI 85 % band up to ₹2.5 lakh) → at most 90,300.00.
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.ledger import JournalEntry
from app.models.loans import GoldRate, Loan
from app.services import deposits, loans
from app.services.common import Conflict, DomainError, PermissionDenied, ValidationError, uow
from tests.deposit_helpers import member
from tests.integration.loans.helpers import applied, borrower, disbursed, setup_products, staff


@pytest.fixture
def lbooks(books):
    setup_products()
    return books


def _counts() -> tuple[int, int]:
    return db.session.scalar(select(func.count(JournalEntry.id))), db.session.scalar(select(func.count(Loan.id)))


def _gold_rates():
    for k in range(30):
        db.session.add(GoldRate(rate_date=date(2026, 3, 1) + timedelta(days=k), rate_22k_paise=6000_00))
    db.session.add(GoldRate(rate_date=date(2026, 3, 31), rate_22k_paise=6600_00))
    uow.commit()


CHAIN = loans.GoldItem("Chain", 21_500, 20_000, 22)


def test_gold_value_uses_the_lower_rate_and_the_product_ltv(lbooks):
    _gold_rates()
    assert loans.gold_rate(date(2026, 4, 1)) == 6020_00
    m, _sb = borrower()
    loan = applied(m, 90_300_00, 12, product="GL", gold_items=[CHAIN], gold_declared=True)
    (item,) = loan.collateral
    assert (item.value_paise, item.rate_per_gram_paise, item.details["ltv_bp"]) == (1_20_400_00, 6020_00, 7500)
    before = _counts()
    with pytest.raises(ValidationError, match=r"at most ₹90,300.00"):
        applied(m, 90_301_00, 12, product="GL", gold_items=[CHAIN], gold_declared=True)
    db.session.rollback()
    with pytest.raises(ValidationError, match="declaration"):
        applied(m, 50_000_00, 12, product="GL", gold_items=[CHAIN], gold_declared=False)
    db.session.rollback()
    assert _counts() == before


def test_a_lien_caps_at_90_percent_and_blocks_withdrawal_and_closure_until_the_loan_closes(lbooks):
    m, sb = borrower(1_00_000_00)
    before = _counts()
    with pytest.raises(ValidationError, match=r"at most ₹90,000\.00"):
        applied(m, 95_000_00, 12, product="LAD", lien_account_no=sb.account_no, lien_paise=95_000_00)
    db.session.rollback()
    assert _counts() == before
    loan = applied(m, 50_000_00, 12, product="LAD", lien_account_no=sb.account_no, lien_paise=50_000_00)
    from app.services.ledger import kinds

    assert kinds.withdrawal_floor(sb) == 50_000_00
    with pytest.raises(DomainError, match="lien"):
        deposits.close_account(sb, mode="transfer", by=staff("manager"))
    db.session.rollback()
    loans.reject(loan, by=staff("manager"), remarks="Not needed")
    uow.commit()
    assert kinds.withdrawal_floor(sb) < 50_000_00


def test_bad_terms_and_ineligible_members_are_refused_with_nothing_saved(lbooks):
    m, _sb = borrower()
    before = _counts()
    for kwargs, field in (
        ({"principal": 5000_00, "months": 12}, "principal"),  # PL lends from ₹10,000
        ({"principal": 50_000_00, "months": 90}, "months"),  # at most 84 months
        ({"principal": 50_000_00, "months": 12, "rate_bp": 2000}, "annual_rate"),  # 11–16 %
    ):
        with pytest.raises(ValidationError) as exc:
            applied(m, kwargs["principal"], kwargs["months"], rate_bp=kwargs.get("rate_bp"))
        assert exc.value.field == field
        db.session.rollback()
    applicant = member(status="applicant", kyc_status="pending")
    with pytest.raises(ValidationError, match="applicant"):
        applied(applicant, 50_000_00, 12)
    db.session.rollback()
    assert _counts() == before


def test_sanction_by_the_maker_or_above_ones_limit_and_unsanctioned_disbursal_are_refused(lbooks):
    m, sb = borrower(1_00_000_00)
    g, _ = borrower()
    big = applied(m, 6_00_000_00, 60, guarantor_nos=[g.member_no])
    before = _counts()
    with pytest.raises(PermissionDenied, match="different user"):
        loans.sanction(big, by=staff("clerk"), remarks="mine")
    db.session.rollback()
    with pytest.raises(PermissionDenied, match=r"up to ₹5,00,000\.00"):
        loans.sanction(big, by=staff("manager"), remarks="too big for me")
    db.session.rollback()
    with pytest.raises(Conflict, match="only a sanctioned loan"):
        loans.disburse(big, by=staff("clerk"), to_account_no=sb.account_no)
    db.session.rollback()
    assert _counts() == before and big.status == "applied"
    loans.sanction(big, by=staff("admin"), remarks="Committee approved")
    uow.commit()
    assert big.status == "sanctioned"


def test_guarantors_are_required_above_two_lakh(lbooks):
    m, _sb = borrower(1_00_000_00)
    loan = applied(m, 3_00_000_00, 36)
    check = next(c for c in loans.eligibility(loan) if c.name == "guarantors")
    assert not check.ok and "1 guarantor(s) needed" in check.reason
    with pytest.raises(ValidationError, match="guarantor"):
        loans.sanction(loan, by=staff("manager"), remarks="ok")
    db.session.rollback()
    small = applied(m, 1_50_000_00, 36)
    assert next(c for c in loans.eligibility(small) if c.name == "guarantors").ok


def test_repaying_a_closed_loan_is_refused(lbooks):
    m, sb = borrower(1_00_000_00)
    loan = disbursed(m, sb, 50_000_00, 12)
    q = loans.quote(loan)
    loans.repay(loan, q.total_paise, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    uow.commit()
    assert loan.status in ("closed", "foreclosed")
    before = _counts()
    with pytest.raises(Conflict):
        loans.repay(loan, 100_00, mode="transfer", by=staff("clerk"), from_account_no=sb.account_no)
    db.session.rollback()
    assert _counts() == before
