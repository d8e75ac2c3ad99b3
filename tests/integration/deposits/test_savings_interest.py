"""Savings interest by daily product: accumulation, rate segments, crediting at quarter end."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.deposits import SbDailyProduct, SbProductSegment
from app.models.ledger import JournalEntry
from app.services import deposits, ledger
from app.services.common import approvals, uow
from app.services.deposits import savings
from app.services.ledger import coa
from tests.deposit_helpers import cash_in, cash_out, lines_of, member, move_to, open_sb, product


@pytest.fixture
def sb_product(books):
    # 4.00 % from 01-04-2026; minimum balance ₹500 with a ₹50 charge; quarterly crediting.
    return product(
        "SBT",
        "savings",
        [{"rate": "4.00"}],
        min_balance_paise=500_00,
        min_balance_charge_paise=50_00,
        min_opening_paise=500_00,
    )


def _da(account):
    db.session.expire_all()
    return db.session.get(SbDailyProduct, account.id)


def test_daily_product_adds_each_end_of_day_balance_once(sb_product):
    acc = open_sb(member(), 10_000_00)  # 01-04: ₹10,000.00
    assert savings.accumulate_day(date(2026, 4, 1)) == 1
    assert _da(acc).product_paise == 10_000_00
    assert savings.accumulate_day(date(2026, 4, 1)) == 0  # the same day again adds nothing
    uow.commit()
    move_to(date(2026, 4, 2))
    cash_in(acc, 2_500_50)  # EOD 02-04: ₹12,500.50
    cash_out(acc, 1_000_00)  # EOD 02-04: ₹11,500.50
    assert savings.accumulate_day(date(2026, 4, 2)) == 1
    move_to(date(2026, 4, 3))
    cash_out(acc, 11_000_50)  # EOD 03-04: ₹500.00
    savings.accumulate_day(date(2026, 4, 3))
    savings.accumulate_day(date(2026, 4, 3))
    uow.commit()
    # Σ EOD = 10,000.00 + 11,500.50 + 500.00 = ₹22,000.50 = 22,00,050 paise-days.
    da = _da(acc)
    assert da.product_paise == 22_000_50
    assert da.last_product_date == date(2026, 4, 3)
    assert ledger.verify().ok


def test_holidays_are_filled_and_late_runs_use_the_balance_of_that_day(sb_product):
    acc = open_sb(member(), 1_000_00)  # 01-04: ₹1,000
    move_to(date(2026, 4, 4))  # 02-04 and 03-04 are holidays: no business day, balance unchanged
    cash_in(acc, 3_000_00)  # 04-04: ₹4,000
    move_to(date(2026, 4, 6))
    cash_in(acc, 6_000_00)  # 06-04: ₹10,000 — posted BEFORE 04-04 and 05-04 are accumulated
    # Catch-up: 01-04 … 05-04 from the ledger: 1,000 × 3 (01–03) + 4,000 × 2 (04–05) = ₹11,000.
    assert savings.accumulate_until(date(2026, 4, 5)) == 5
    assert _da(acc).product_paise == 11_000_00
    assert savings.accumulate_until(date(2026, 4, 5)) == 0
    savings.accumulate_until(date(2026, 4, 6))  # + ₹10,000
    uow.commit()
    assert _da(acc).product_paise == 21_000_00


def test_quarter_credit_with_rate_change_charges_and_reset(sb_product, make_user):
    a = open_sb(member(name="Asha Kulkarni"), 10_000_00)  # A: ₹10,000 from 01-04
    b = open_sb(member(name="Bhim Rao"), 600_00)  # B: ₹600 on 01-04
    move_to(date(2026, 4, 2))
    cash_out(b, 300_00)  # B: ₹300 from 02-04
    move_to(date(2026, 4, 16))
    cash_in(a, 5_000_00)  # A: ₹15,000 from 16-04
    # Rate cut to 3.00 % from 16-05, proposed and approved by two different managers.
    maker, checker = make_user("manager", username="m1"), make_user("admin", username="a1")
    req = deposits.submit_product_change(
        "rates", {"product_id": sb_product.id, "rates": [{"rate": "3.00"}], "effective_from": "2026-05-16"}, maker=maker
    )
    uow.commit()
    approvals.approve(req.id, checker=checker)
    uow.commit()
    move_to(date(2026, 6, 10))
    cash_out(a, 2_500_50)  # A: ₹12,499.50 from 10-06
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    # Hand-worked (91 days, 01-04 … 30-06):
    # A at 4 %: 10,000 × 15 (01-04…15-04) + 15,000 × 30 (16-04…15-05) = 6,00,000 rupee-days
    #   at 3 %: 15,000 × 25 (16-05…09-06) + 12,499.50 × 21 (10-06…30-06) = 6,37,489.50 rupee-days
    #   interest = 6,00,000 × 4 / 36500 + 6,37,489.50 × 3 / 36500 = 65.7534 + 52.3964 = 118.1498 → ₹118
    # B at 4 %: 600 × 1 + 300 × 44 = 13,800;  at 3 %: 300 × 46 = 13,800
    #   interest = 13,800 × 4 / 36500 + 13,800 × 3 / 36500 = 1.5123 + 1.1342 = 2.6466 → ₹3
    #   average balance 27,600 / 91 = ₹303.30 < ₹500 minimum → ₹50 charge
    assert result.accounts == 2 and result.interest_paise == 121_00 and result.charges_paise == 50_00
    interest_entry, charge_entry = (db.session.get(JournalEntry, i) for i in result.entries)
    assert interest_entry.kind == "interest" and interest_entry.value_date == date(2026, 6, 30)
    assert lines_of(interest_entry) == [
        (coa.EXP_SB_INTEREST, None, 121_00, 0),
        (coa.SB_DEPOSITS, a.account_no, 0, 118_00),
        (coa.SB_DEPOSITS, b.account_no, 0, 3_00),
    ]
    assert lines_of(charge_entry) == [
        (coa.SB_DEPOSITS, b.account_no, 50_00, 0),
        (coa.INCOME_SERVICE_CHARGES, None, 0, 50_00),
    ]
    db.session.expire_all()
    assert a.balance_paise == 12_499_50 + 118_00
    assert b.balance_paise == 300_00 + 3_00 - 50_00
    # The products are reset and the old-rate segments marked as credited.
    for acc in (a, b):
        da = _da(acc)
        assert da.product_paise == 0 and da.period_start == date(2026, 7, 1)
        assert da.interest_through == date(2026, 6, 30)
    segs = db.session.scalars(select(SbProductSegment).order_by(SbProductSegment.account_id)).all()
    assert [(s.rate_bp, s.product_paise, s.closed_on, s.credited_on) for s in segs] == [
        (400, 6_00_000_00, date(2026, 5, 15), date(2026, 6, 30)),
        (400, 13_800_00, date(2026, 5, 15), date(2026, 6, 30)),
    ]
    # Running it again credits nothing.
    again = savings.credit_interest(date(2026, 6, 30))
    assert again.accounts == 0 and again.entries == []
    assert ledger.verify().ok


def test_not_a_period_end_and_interest_free_products(books):
    product("SBF", "savings", [{"rate": "3.00"}], interest_free=True)
    acc = open_sb(member(), 50_000_00)
    assert savings.credit_interest(date(2026, 4, 1)).accounts == 0  # 01-04 ends no period
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    assert result.accounts == 1 and result.interest_paise == 0 and result.entries == []
    db.session.expire_all()
    assert acc.balance_paise == 50_000_00


def test_tds_on_savings_interest_when_the_setting_is_on(books, app):
    app.config["SB_INTEREST_TDS"] = True
    app.config["LARGE_CASH_DEPOSIT_PAISE"] = 2_00_00_000_00  # the ₹1 crore opening below is taken in cash
    product("SBX", "savings", [{"rate": "4.00"}])
    rich = open_sb(member(name="Ratan Shah", pan="ABCPS1234K"), 1_00_00_000_00)  # ₹1 crore from 01-04
    small = open_sb(member(name="Kiran Joshi", pan="ABCPJ1234K"), 10_000_00)  # ₹10,000 from 01-04
    move_to(date(2026, 6, 30))
    result = savings.credit_interest(date(2026, 6, 30))
    uow.commit()
    # By hand, 91 days (01-04 … 30-06) at 4 %:
    #   ₹1,00,00,000 × 91 × 4 / 36500 = ₹99,726.03 → ₹99,726; above ₹50,000, so TDS 10 % = ₹9,972.60 → ₹9,973.
    #   ₹10,000 × 91 × 4 / 36500 = ₹99.73 → ₹100; below the threshold: no TDS.
    assert (result.interest_paise, result.tds_paise) == (99_726_00 + 100_00, 9_973_00)
    db.session.expire_all()
    assert rich.balance_paise == 1_00_00_000_00 + 99_726_00 - 9_973_00
    assert small.balance_paise == 10_000_00 + 100_00
    assert ledger.gl_balance(coa.TDS_PAYABLE) == 9_973_00
    report = ledger.verify()
    assert report.ok, report.problems


def test_half_yearly_product_credits_only_at_half_year_end(books):
    product("SBH", "savings", [{"rate": "3.65"}], interest_frequency="half_yearly")
    acc = open_sb(member(), 10_000_00)
    move_to(date(2026, 6, 30))
    assert savings.credit_interest(date(2026, 6, 30)).accounts == 0
    move_to(date(2026, 9, 30))
    result = savings.credit_interest(date(2026, 9, 30))
    uow.commit()
    # 10,000 × 183 days (01-04 … 30-09) × 3.65 / 36500 = ₹183.00 exactly.
    assert result.interest_paise == 183_00
    db.session.expire_all()
    assert acc.balance_paise == 10_183_00


# ---------------------------------------------------------------- a mixed quarter, checked independently

Q_START, Q_END = date(2026, 4, 1), date(2026, 6, 30)
RATE_CUT = date(2026, 5, 16)


def _product_of_days(schedule: list[tuple[date, int]], first: date, last: date) -> int:
    """Σ end-of-day balances (paise-days) from ``first`` to ``last`` for a step schedule of (from, balance)."""
    total, day = 0, first
    while day <= last:
        balance = [b for since, b in schedule if since <= day][-1]
        total += max(balance, 0)
        day = date.fromordinal(day.toordinal() + 1)
    return total


def _expected_interest(segments: list[tuple[int, int]]) -> int:
    """Σ product × rate_bp / (100 × 36500) paise, rounded ONCE half-up to the rupee (exact fractions)."""
    from fractions import Fraction
    from math import floor

    exact_paise = sum(Fraction(product * bp, 100 * 36500) for bp, product in segments)
    return floor(exact_paise / 100 + Fraction(1, 2)) * 100


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_books(request):
    """The books open on 01-04-2026, on SQLite or on PostgreSQL (set-based SQL differs per dialect)."""
    return request.getfixturevalue("books" if request.param == "sqlite" else "pg_books")


def test_mixed_quarter_is_credited_exactly_once_and_resumes_after_a_crash(any_books, monkeypatch):
    from app.models.ledger import Account, JournalLine
    from app.services.access import staff_auth
    from tests.conftest import PASSWORD
    from tests.deposit_helpers import cashier

    # Three products: 4 % cut to 3 % from 16-05 with a ₹500 minimum (₹50 charge); interest-free; 3.65 %.
    cut = product(
        "SBM",
        "savings",
        [{"rate": "4.00"}],
        min_balance_paise=500_00,
        min_balance_charge_paise=50_00,
        min_opening_paise=0,
    )
    product("SBF", "savings", [{"rate": "3.00"}], interest_free=True)
    product("SBR", "savings", [{"rate": "3.65"}])
    a = open_sb(member(name="Asha"), 10_000_00, "SBM")
    b = open_sb(member(name="Bhim"), 600_00, "SBM")
    c = open_sb(member(name="Chitra"), 5_000_00, "SBM")  # closed on 20-05
    d = open_sb(member(name="Devi"), 600_00, "SBM")  # frozen: interest yes, charge no (not active)
    cash_out(d, 200_00)  # ₹400 from 01-04 (a direct posting: below the product minimum)
    f = open_sb(member(name="Farhan"), 50_000_00, "SBF")  # interest-free
    h = open_sb(member(name="Hari"), 15_000_00, "SBR")  # ₹136.50 exactly: half-up gives ₹137
    deposits.apply_product_change(
        "rates", {"product_id": cut.id, "rates": [{"rate": "3.00"}], "effective_from": RATE_CUT}
    )
    uow.commit()
    maker = staff_auth.create_user(username="mgr_mix", password=PASSWORD, role="manager")
    checker = staff_auth.create_user(username="mgr_mix2", password=PASSWORD, role="manager")
    uow.commit()
    req = deposits.submit_status_change(d, "freeze", "Attachment order", maker=maker)
    uow.commit()
    approvals.approve(req.id, checker=checker)
    uow.commit()
    move_to(date(2026, 4, 2))
    cash_out(b, 300_00)
    move_to(date(2026, 4, 16))
    cash_in(a, 5_000_00)
    move_to(date(2026, 5, 20))
    deposits.close_account(c, mode="cash", by=cashier())
    uow.commit()
    move_to(date(2026, 6, 10))
    cash_out(a, 2_500_50)
    move_to(Q_END)

    # Independently: end-of-day balances per day, split at the rate cut, rounded once.
    before_cut = date.fromordinal(RATE_CUT.toordinal() - 1)
    schedules = {
        a.id: [(Q_START, 10_000_00), (date(2026, 4, 16), 15_000_00), (date(2026, 6, 10), 12_499_50)],
        b.id: [(Q_START, 600_00), (date(2026, 4, 2), 300_00)],
        d.id: [(Q_START, 400_00)],
    }
    expected = {
        acc_id: _expected_interest(
            [(400, _product_of_days(s, Q_START, before_cut)), (300, _product_of_days(s, RATE_CUT, Q_END))]
        )
        for acc_id, s in schedules.items()
    }
    expected[h.id] = _expected_interest([(365, _product_of_days([(Q_START, 15_000_00)], Q_START, Q_END))])
    assert expected == {a.id: 118_00, b.id: 3_00, d.id: 3_00, h.id: 137_00}  # the hand-worked figures agree
    # B's average balance (27,600 / 91 = ₹303.30) is below ₹500: charged ₹50. D is frozen: not charged.
    expected_charges = {b.id: 50_00}
    balances_before = {x.id: x.balance_paise for x in (a, b, c, d, f, h)}

    # A crash after the first chunk (A, B) was committed; the re-run credits the rest exactly once.
    real_post, real_many, calls = ledger.post, ledger.post_many, []

    def failing(real):  # interest entries go through post_many, charges through post
        def wrapper(*args, **kw):
            calls.append(kw["kind"])
            if len(calls) == 3:  # chunk 1: interest + charge; chunk 2's interest entry fails
                raise RuntimeError("power cut")
            return real(*args, **kw)

        return wrapper

    monkeypatch.setattr(ledger, "post", failing(real_post))
    monkeypatch.setattr(ledger, "post_many", failing(real_many))
    with pytest.raises(RuntimeError, match="power cut"):
        savings.credit_interest(Q_END, chunk_size=2, commit_chunks=True)
    db.session.rollback()
    monkeypatch.setattr(ledger, "post", real_post)
    monkeypatch.setattr(ledger, "post_many", real_many)
    assert {x.id for x in (a, b)} == {
        acc_id for acc_id, through in db.session.execute(
            select(SbDailyProduct.account_id, SbDailyProduct.interest_through)
        ) if through == Q_END
    }  # fmt: skip

    result = savings.credit_interest(Q_END, chunk_size=2, commit_chunks=True)
    uow.commit()
    assert result.accounts == 3  # D, F, H (C is closed; A and B were credited before the crash)
    db.session.expire_all()
    credited: dict[int, int] = {}
    charged: dict[int, int] = {}
    for acc_id, entry_kind, dr, cr in db.session.execute(
        select(JournalLine.account_id, JournalEntry.kind, JournalLine.debit_paise, JournalLine.credit_paise)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account_id.is_not(None), JournalEntry.value_date == Q_END)
        .where(JournalEntry.kind.in_(["interest", "charge"]))
    ):
        target = credited if entry_kind == "interest" else charged
        target[acc_id] = target.get(acc_id, 0) + (cr if entry_kind == "interest" else dr)
    assert credited == expected  # every account once, to the paisa; nothing for C (closed) or F (interest-free)
    assert charged == expected_charges
    for x in (a, b, c, d, f, h):
        got = db.session.get(Account, x.id).balance_paise
        assert got == balances_before[x.id] + expected.get(x.id, 0) - expected_charges.get(x.id, 0), x.account_no
    for x in (a, b, d, f, h):  # products reset for the next quarter
        sb = db.session.get(SbDailyProduct, x.id)
        assert (sb.product_paise, sb.period_start, sb.interest_through) == (0, date(2026, 7, 1), Q_END)
    assert db.session.scalar(
        select(func.count()).select_from(SbProductSegment).where(SbProductSegment.credited_on.is_(None))
    ) == 0  # fmt: skip
    assert ledger.verify().ok

    # A third run posts nothing.
    again = savings.credit_interest(Q_END, chunk_size=2, commit_chunks=True)
    assert again.accounts == 0 and again.entries == []
