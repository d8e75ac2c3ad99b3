"""TDS still short on 31 March is recovered from the member's savings by the year-end step.

Member A (PAN): ₹60,000 of FD interest in 2026-27 with ₹1,000 deducted; 10 % of 60,000 is
₹6,000, so ₹5,000 is short and A's savings (₹20,000) pay it all. Member B (no PAN): ₹55,000
with nothing deducted; 20 % is ₹11,000, but B's savings hold only what is above the
account's minimum balance, so that much is taken and the rest audited as unrecovered.
Member C has a Form 15G for the year: nothing is due.
"""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditLog
from app.models.deposits import TdsDeduction
from app.services import deposits, eod, ledger
from app.services.common import uow
from app.services.deposits import tds
from app.services.ledger import coa
from tests.deposit_helpers import entries_since, last_entry_id, lines_of, member, move_to, open_sb

FY = "2026-27"


@pytest.fixture
def tds_books(books):
    deposits.seed_products()
    uow.commit()
    return books


def _earned(m, account, interest_paise: int, tds_paise: int) -> None:
    db.session.add(
        TdsDeduction(member_id=m.id, account_id=account.id, fy=FY, credited_on=date(2026, 9, 30),
                     interest_paise=interest_paise, tds_paise=tds_paise, rate_bp=1000, reason="pan")
    )  # fmt: skip
    uow.commit()


def test_year_end_recovers_the_short_tds_from_savings_once(tds_books):
    a, b, c = member(pan="ABCPA1234F"), member(), member(pan="ABCPC1234F")
    sb_a, sb_b, sb_c = open_sb(a, 20_000_00), open_sb(b, 3_000_00), open_sb(c, 5_000_00)
    _earned(a, sb_a, 60_000_00, 1_000_00)
    _earned(b, sb_b, 55_000_00, 0)
    _earned(c, sb_c, 70_000_00, 0)
    tds.record_form(c, fy=FY, form="15G", received_on=date(2026, 4, 1))
    uow.commit()
    assert (tds.shortfall_paise(a.id, FY), tds.shortfall_paise(b.id, FY), tds.shortfall_paise(c.id, FY)) == (
        5_000_00, 11_000_00, 0,
    )  # fmt: skip
    move_to(date(2027, 3, 31))
    start = last_entry_id()
    assert deposits.tds_year_end.recover_shortfalls(date(2027, 3, 31)) == 2
    uow.commit()
    db.session.expire_all()
    room_b = 3_000_00 - sb_b.min_balance_paise
    posted = {lines_of(e)[0][1]: lines_of(e) for e in entries_since(start)}
    assert posted[sb_a.account_no] == [
        (coa.SB_DEPOSITS, sb_a.account_no, 5_000_00, 0),
        (coa.TDS_PAYABLE, None, 0, 5_000_00),
    ]
    assert posted[sb_b.account_no] == [
        (coa.SB_DEPOSITS, sb_b.account_no, room_b, 0),
        (coa.TDS_PAYABLE, None, 0, room_b),
    ]
    assert sb_a.balance_paise == 15_000_00 and sb_b.balance_paise == sb_b.min_balance_paise
    assert tds.shortfall_paise(a.id, FY) == 0 and tds.shortfall_paise(b.id, FY) == 11_000_00 - room_b
    unrecovered = db.session.scalar(select(AuditLog).where(AuditLog.action == "tds.unrecovered"))
    assert unrecovered is not None and unrecovered.entity_id == b.member_no
    rows = db.session.scalars(select(TdsDeduction).where(TdsDeduction.credited_on == date(2027, 3, 31))).all()
    assert sorted((r.member_id, r.interest_paise, r.tds_paise, r.reason) for r in rows) == sorted(
        [(a.id, 0, 5_000_00, "pan"), (b.id, 0, room_b, "no_pan")]
    )
    again = last_entry_id()
    assert deposits.tds_year_end.recover_shortfalls(date(2027, 3, 31)) == 0  # B's savings are at the minimum now
    uow.commit()
    assert entries_since(again) == [] and ledger.verify().ok


def test_the_step_runs_on_the_financial_year_end_only():
    step = next(s for s in eod.registry.steps() if s.name == "tds_year_end")
    assert step.runs_on == "fy_end" and step.order < next(
        s.order for s in eod.registry.steps() if s.name == "close_day"
    )
