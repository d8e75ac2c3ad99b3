"""TDS u/s 194A on deposit interest: threshold crossing, senior citizens, no PAN, Form 15G/15H, register."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.deposits import TdsDeduction
from app.services import deposits, ledger
from app.services.common import Conflict, ValidationError, uow
from app.services.deposits import OpenRequest, tds
from app.services.deposits import fixed as fixed_deposits
from app.services.ledger import Line, coa
from tests.deposit_helpers import F60, cashier, entries_since, last_entry_id, lines_of, member, move_to, open_sb


@pytest.fixture
def tds_books(books):
    deposits.seed_products()
    uow.commit()
    return books


def _fd(m, principal=10_000_00, **kw):
    acc = deposits.open_account(
        OpenRequest(
            form60_ref=F60,
            member_no=m.member_no,
            kind="fd",
            amount_paise=principal,
            months=12,
            maturity_action="auto_renew",
            **kw,
        ),
        by=cashier(),
    )
    uow.commit()
    return acc


def _credit(acc, paise, on=None):
    """Post an interest credit to ``acc`` and run TDS on it, as the FD/RD services do."""
    entry = ledger.post(
        [Line.dr(coa.EXP_FD_INTEREST, paise), Line.cr(acc, paise)], kind="interest", narration="Interest credited"
    )
    row = tds.deduct_on_credit(acc, paise, entry, on or entry.business_date)
    uow.commit()
    return row


def test_cumulative_fd_crossing_the_threshold_at_maturity(tds_books):
    m = member(pan="ABCPK1234F")
    sb = open_sb(m, 1_000_00)
    fd = deposits.open_account(
        OpenRequest(form60_ref=F60, member_no=m.member_no, kind="fd", amount_paise=10_00_000_00, months=12),
        by=cashier(),
    )
    uow.commit()
    move_to(date(2027, 4, 1))
    before = last_entry_id()
    fixed_deposits.mature(date(2027, 4, 1))
    uow.commit()
    # Interest: 10,00,000 × 1.018125^4 − 10,00,000 = 74,495.0190 → ₹74,495 (> ₹50,000)
    # TDS: 10 % × 74,495 = 7,449.50 → ₹7,450 (rounded half-up to the rupee)
    credit, deduction, paid = entries_since(before)
    assert lines_of(credit)[-1] == (coa.FD_DEPOSITS, fd.account_no, 0, 74_495_00)
    assert deduction.kind == "tds"
    assert lines_of(deduction) == [(coa.FD_DEPOSITS, fd.account_no, 7_450_00, 0), (coa.TDS_PAYABLE, None, 0, 7_450_00)]
    assert lines_of(paid) == [
        (coa.FD_DEPOSITS, fd.account_no, 10_67_045_00, 0),
        (coa.SB_DEPOSITS, sb.account_no, 0, 10_67_045_00),
    ]
    row = db.session.scalar(select(TdsDeduction))
    assert (row.tds_paise, row.rate_bp, row.reason, row.entry_id, row.tds_entry_id) == (
        7_450_00,
        1000,
        "pan",
        credit.id,
        deduction.id,
    )
    assert ledger.verify().ok


def test_threshold_is_crossed_by_the_year_total_and_later_credits_pay_only_the_difference(tds_books):
    m = member(pan="ABCPK1234F")
    a, b = _fd(m), _fd(m)
    first = _credit(a, 40_000_00)  # year so far ₹40,000 ≤ ₹50,000: nothing
    second = _credit(b, 20_000_00)  # year ₹60,000 > ₹50,000: 10 % of 60,000 = ₹6,000 on this credit
    third = _credit(a, 5_000_00)  # year ₹65,000: 10 % = ₹6,500 − ₹6,000 already = ₹500
    assert [(r.tds_paise, r.reason) for r in (first, second, third)] == [
        (0, "below_threshold"),
        (6_000_00, "pan"),
        (500_00, "pan"),
    ]
    assert tds.fy_totals(m.id, "2026-27") == (65_000_00, 6_500_00)
    db.session.expire_all()
    assert b.balance_paise == 10_000_00 + 20_000_00 - 6_000_00
    assert ledger.gl_balance(coa.TDS_PAYABLE) == 6_500_00
    # A new financial year starts from zero.
    move_to(date(2027, 4, 1))
    assert _credit(a, 45_000_00).tds_paise == 0
    assert ledger.verify().ok


def test_senior_citizen_threshold_applies_for_the_whole_year_of_the_60th_birthday(tds_books):
    # Born 01-02-1967: 60 on 01-02-2027, inside FY 2026-27, so senior for all of it (s. 194A).
    m = member(pan="ABCPS1234F", date_of_birth=date(1967, 2, 1))
    fd = _fd(m)
    assert not deposits.is_senior(m, date(2026, 4, 1))  # the FD rate uses the age on the start date
    row = _credit(fd, 90_000_00)  # ₹90,000 ≤ ₹1,00,000 senior threshold
    assert (row.tds_paise, row.senior, row.reason) == (0, True, "below_threshold")
    row = _credit(fd, 20_000_00)  # year ₹1,10,000 > ₹1,00,000: 10 % = ₹11,000
    assert row.tds_paise == 11_000_00


def test_no_pan_is_twenty_per_cent(tds_books):
    m = member(pan=None, form60=True)  # Form 60 does not avoid s. 206AA
    fd = _fd(m)
    row = _credit(fd, 55_000_00)  # 20 % × 55,000 = ₹11,000
    assert (row.tds_paise, row.rate_bp, row.reason, row.pan) == (11_000_00, 2000, "no_pan", None)


def test_form_15g_stops_deduction_for_that_year_only(tds_books, make_user):
    clerk = make_user("clerk")
    m = member(pan="ABCPG1234F")
    fd = _fd(m)
    tds.record_form(m, fy="2026-27", form="15G", received_on=date(2026, 4, 1), reference="UIN-0001", by=clerk)
    uow.commit()
    row = _credit(fd, 80_000_00)
    assert (row.tds_paise, row.reason) == (0, "form_15g")
    with pytest.raises(Conflict, match="already on file"):
        tds.record_form(m, fy="2026-27", form="15G", received_on=date(2026, 4, 2))
    with pytest.raises(ValidationError, match="15H is for senior citizens"):
        tds.record_form(m, fy="2027-28", form="15H", received_on=date(2026, 4, 2))
    senior = member(pan="ABCPH1234F", date_of_birth=date(1950, 5, 5))
    with pytest.raises(ValidationError, match="use Form 15H"):
        tds.record_form(senior, fy="2026-27", form="15G", received_on=date(2026, 4, 2))
    with pytest.raises(ValidationError, match="PAN"):
        tds.record_form(member(pan=None), fy="2026-27", form="15G", received_on=date(2026, 4, 2))
    move_to(date(2027, 4, 1))  # next year: no form on file
    assert _credit(fd, 80_000_00).tds_paise == 8_000_00


def test_payout_tds_is_debited_from_the_sb_that_received_it_and_the_register_lists_it(tds_books):
    m = member(pan="ABCPK1234F")
    sb = open_sb(m, 1_000_00)
    big = _fd(m)
    _credit(big, 60_000_00)  # already ₹6,000 deducted this year
    fd = deposits.open_account(
        OpenRequest(
            form60_ref=F60, member_no=m.member_no, kind="fd", amount_paise=1_00_000_00, months=12, payout="quarterly"
        ),
        by=cashier(),
    )
    uow.commit()
    move_to(date(2026, 7, 1))
    before = last_entry_id()
    fixed_deposits.pay_due_payouts(date(2026, 7, 1))
    uow.commit()
    # Payout ₹1,813; year ₹61,813 → 10 % = 6,181.30 → ₹6,181 − ₹6,000 = ₹181, from the SB
    _payout, deduction = entries_since(before)
    assert lines_of(deduction) == [(coa.SB_DEPOSITS, sb.account_no, 181_00, 0), (coa.TDS_PAYABLE, None, 0, 181_00)]
    rows = tds.register(*tds.quarter_bounds("2026-27", 2))
    assert [(r.account_no, r.deduction.interest_paise, r.deduction.tds_paise) for r in rows] == [
        (fd.account_no, 1_813_00, 181_00)
    ]
    q1 = tds.register(*tds.quarter_bounds("2026-27", 1), deducted_only=True)
    assert [(r.member_no, r.deduction.tds_paise) for r in q1] == [(m.member_no, 6_000_00)]
    assert tds.quarter_of(date(2027, 2, 1)) == ("2026-27", 4)
    assert ledger.verify().ok
