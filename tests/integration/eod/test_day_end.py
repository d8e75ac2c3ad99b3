"""The day-end pipeline over several business days: savings interest to the rupee, an FD
maturing into SB, holidays skipped, a failing step that stops and resumes, nothing twice."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.eod import EodChunk, EodRun, EodStepRun
from app.models.ledger import JournalEntry, JournalLine
from app.services import eod, ledger
from app.services.common import Conflict, ValidationError, uow
from app.services.deposits import savings
from app.services.eod import DayStep
from app.services.ledger import calendar, coa
from tests.deposit_helpers import _close_test_drawer, cash_in, cashier, member, open_deposit, open_sb, product


@pytest.fixture
def eod_books(books, app):
    from app.services import deposits

    deposits.seed_products()
    uow.commit()
    # 4.00 % quarterly, no minimum-balance charge.
    product("SBQ", "savings", [{"rate": "4.00"}], min_opening_paise=100_00)
    app.config["EOD_CHUNK_SIZE"] = 2  # several chunks even for a handful of accounts
    return books


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry))


def _balance(account) -> int:
    db.session.expire_all()
    return db.session.get(type(account), account.id).balance_paise


def _until(to: date) -> None:
    _close_test_drawer()
    eod.run_until(to)


def test_a_quarter_of_day_ends(eod_books):
    asha, bhim = member(name="Asha"), member(name="Bhim")
    a = open_sb(asha, 10_000_00, code="SBQ")  # ₹10,000 all quarter
    b = open_sb(bhim, 600_00, code="SBQ")  # ₹600, then ₹6,000 from 16-05
    c = open_sb(member(name="Chitra"), 2_000_00, code="SBQ")
    fd = open_deposit(member_no=asha.member_no, kind="fd", amount_paise=25_000_00, days=90, form60_ref="F60/TEST")
    eod.add_holiday(date(2026, 4, 14), "Dr. Ambedkar Jayanti")
    uow.commit()

    _until(date(2026, 4, 13))
    assert calendar.current_business_date() == date(2026, 4, 15)  # 14-04 is a holiday
    assert calendar.get_day(date(2026, 4, 14)) is None
    runs = db.session.scalars(select(EodRun).order_by(EodRun.id)).all()
    assert [r.business_date.day for r in runs] == list(range(1, 14)) and {r.status for r in runs} == {"done"}
    # Chunked: three SB accounts in chunks of two ids each.
    sr = db.session.scalar(
        select(EodStepRun).where(EodStepRun.business_date == date(2026, 4, 13), EodStepRun.step == "sb_daily_product")
    )
    assert sr.status == "done" and sr.chunks_total >= 2 and sr.rows == 3
    sb_row = savings.daily_product(a)
    assert sb_row.last_product_date == date(2026, 4, 13)

    _until(date(2026, 5, 15))
    cash_in(b, 5_400_00)  # 16-05
    _until(date(2026, 6, 30))
    assert calendar.current_business_date() == date(2026, 7, 1)

    # FD of ₹25,000 for 90 days at 5.75 %: 25,000 × 5.75 × 90 / 36500 = 354.45 → ₹354, paid to Asha's SB on 30-06.
    assert _balance(fd) == 0
    # Quarter 01-04 … 30-06 = 91 days at 4.00 %, interest = Σ EOD balance × 4 / 36500, rounded once to the rupee:
    # A: 10,000 × 90 + 35,354 (30-06, after the FD) = 9,35,354 → 102.50 → ₹103 (balance 35,354 + 103)
    # B: 600 × 45 (01-04 … 15-05) + 6,000 × 46 (16-05 … 30-06) = 3,03,000 → 33.21 → ₹33
    # C: 2,000 × 91 = 1,82,000 → 19.95 → ₹20
    assert _balance(a) == 35_354_00 + 103_00
    assert _balance(b) == 6_000_00 + 33_00
    assert _balance(c) == 2_000_00 + 20_00
    interest = db.session.scalar(
        select(func.sum(JournalLine.debit_paise))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.kind == "interest", JournalLine.gl_account.has(code=coa.EXP_SB_INTEREST))
    )
    assert interest == 156_00
    # The new quarter's product starts after the credit.
    assert savings.daily_product(a).product_paise == 0
    report = ledger.verify()
    assert report.ok, report.problems
    # Each closed day has its GL snapshot.
    assert calendar.get_day(date(2026, 6, 30)).status == "closed"


def test_a_failing_step_stops_the_run_and_resumes_without_posting_twice(eod_books, app):
    m = member()
    a = open_sb(m, 5_000_00, code="SBQ")
    cashier()  # the cashier's drawer is open: the pre-checks refuse the day-end
    with pytest.raises(eod.DayEndFailed, match="cash drawer"):
        eod.run_day()
    run = db.session.scalar(select(EodRun).order_by(EodRun.id.desc()))
    assert run.status == "failed" and "Pre-checks" in run.error
    _close_test_drawer()

    broken = {"on": True}

    def flaky(on):
        if broken["on"]:
            raise Conflict("the branch printer is out of paper")
        return 1

    eod.register(DayStep("test_flaky", 70, "A step that fails until fixed", run=flaky))
    try:
        before = _entries()
        with pytest.raises(eod.DayEndFailed, match="out of paper"):
            eod.run_day(date(2026, 4, 1))
        steps = {s.name: s for s in eod.progress(date(2026, 4, 1)).steps}
        assert steps["sb_daily_product"].status == "done"
        assert steps["test_flaky"].status == "failed" and "out of paper" in steps["test_flaky"].error
        assert steps["close_day"].status == "pending"
        assert calendar.current_business_date() == date(2026, 4, 1)  # still open
        assert savings.daily_product(a).product_paise == 5_000_00
        posted = _entries()
        chunks_done = db.session.scalar(select(func.count()).select_from(EodChunk).where(EodChunk.status == "done"))

        broken["on"] = False
        eod.run_day(date(2026, 4, 1))  # resumes at the failed step
        db.session.expire_all()
        assert savings.daily_product(a).product_paise == 5_000_00  # not added twice
        assert _entries() == posted == before
        assert db.session.scalar(select(func.count()).select_from(EodChunk)) == chunks_done
        assert calendar.current_business_date() == date(2026, 4, 2)
        runs = db.session.scalars(select(EodRun).order_by(EodRun.id)).all()
        assert [r.status for r in runs] == ["failed", "failed", "done"]
    finally:
        eod.registry._steps.pop("test_flaky", None)

    # A second run for the closed date is refused and posts nothing.
    with pytest.raises(Conflict, match="already closed"):
        eod.run_day(date(2026, 4, 1))
    with pytest.raises(ValidationError, match="not the open business date"):
        eod.run_day(date(2026, 4, 5))
    assert _entries() == before
    assert ledger.verify().ok


def test_a_second_run_at_the_same_time_is_refused(eod_books):
    open_sb(member(), 1_000_00, code="SBQ")
    _close_test_drawer()
    with eod.runner.run_lock(), pytest.raises(eod.DayEndRunning, match="already running"):
        eod.run_day()
    assert calendar.current_business_date() == date(2026, 4, 1)
    eod.run_day()
    assert calendar.current_business_date() == date(2026, 4, 2)


def test_status_and_run_from_the_cli(eod_books, app):
    open_sb(member(), 1_000_00, code="SBQ")
    _close_test_drawer()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["eod", "status"])
    assert "business date: 2026-04-01" in result.output and "state: open" in result.output
    assert "last run: none" in result.output
    result = runner.invoke(args=["eod", "run", "--to", "2026-04-03"])
    assert result.exit_code == 0, result.output
    assert "day-end 2026-04-01: done" in result.output and "day-end 2026-04-03: done" in result.output
    result = runner.invoke(args=["eod", "status"])
    assert "business date: 2026-04-04" in result.output
    assert "last run: 2026-04-03 done" in result.output
    result = runner.invoke(args=["eod", "run", "--date", "2026-04-02"])
    assert result.exit_code != 0 and "already closed" in result.output


def test_a_missed_emi_moves_through_the_dpd_buckets_over_day_ends(eod_books):
    from app.models.loans import LoanCharge
    from app.services import loans
    from tests.integration.loans.helpers import borrower, disbursed

    loans.seed_products()
    uow.commit()
    # ₹1,00,000 at 12 % for 12 months from 01-04-2026 (personal loan): EMI ₹8,884.88 due 01-05, never paid.
    m, sb = borrower(2_00_000_00)
    loan = disbursed(m, sb, 1_00_000_00, 12)
    seen = {}
    for stop in (date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 31), date(2026, 6, 1), date(2026, 7, 1)):
        _until(stop)
        db.session.refresh(loan)
        seen[stop] = (loan.dpd, loan.asset_class)
    assert seen == {
        date(2026, 5, 1): (0, "standard"),
        date(2026, 5, 2): (1, "sma0"),
        date(2026, 5, 31): (30, "sma0"),
        date(2026, 6, 1): (31, "sma1"),
        date(2026, 7, 1): (61, "sma2"),
    }
    # Penal charges from 05-05 (3 grace days), one a day, on the overdue EMIs only.
    charges = db.session.scalars(select(LoanCharge).where(LoanCharge.loan_id == loan.id)).all()
    assert min(c.charge_date for c in charges) == date(2026, 5, 5)
    assert len({c.charge_date for c in charges}) == len(charges)  # never twice for a day
    steps = {s.name: s.status for s in eod.progress(date(2026, 7, 1)).steps}
    assert steps["loans_update_dpd"] == "done" and steps["loans_classify_assets"] == "done"
    report = ledger.verify()
    assert report.ok, report.problems
