"""PostgreSQL: postings against a concurrent day close, the same idempotency key at the same moment,
one open business day and TRUNCATE refused on the append-only tables."""

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import Account, GLAccount, GLDailyBalance, JournalEntry, JournalLine
from app.services import ledger
from app.services.common import SYSTEM, acting_as, uow
from app.services.ledger import Line, calendar, coa
from tests.conftest import BUSINESS_DATE, new_account

pytestmark = pytest.mark.postgres

DAY2 = date(2026, 4, 2)


def _lines_total(code: str, on: date) -> tuple[int, int]:
    gl_id = db.session.scalar(select(GLAccount.id).where(GLAccount.code == code))
    dr, cr = db.session.execute(
        select(
            func.coalesce(func.sum(JournalLine.debit_paise), 0), func.coalesce(func.sum(JournalLine.credit_paise), 0)
        ).where(JournalLine.gl_account_id == gl_id, JournalLine.business_date <= on)
    ).one()
    return int(dr), int(cr)


def _snapshot(code: str, on: date) -> tuple[int, int]:
    row = db.session.execute(
        select(GLDailyBalance.debit_total_paise, GLDailyBalance.credit_total_paise)
        .join(GLAccount, GLAccount.id == GLDailyBalance.gl_account_id)
        .where(GLAccount.code == code, GLDailyBalance.business_date == on)
    ).one()
    return int(row[0]), int(row[1])


def test_close_waits_for_a_posting_in_flight_and_its_snapshot_includes_it(pg_app, pg_books):
    sb_id = new_account("savings", opening_paise=10_000).id
    in_flight = threading.Event()
    order: list[str] = []
    errors: list[str] = []

    def poster() -> None:
        with pg_app.app_context(), acting_as(SYSTEM):
            try:
                acc = db.session.get(Account, sb_id)
                ledger.post([Line.dr(coa.VAULT_CASH, 777), Line.cr(acc, 777)], kind="deposit", narration="in flight")
                in_flight.set()
                time.sleep(0.6)  # the close starts meanwhile
                order.append("posting committed")
                uow.commit()
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
                in_flight.set()
            finally:
                db.session.remove()

    def closer() -> None:
        in_flight.wait(5)
        with pg_app.app_context(), acting_as(SYSTEM):
            try:
                uow.run(lambda: ledger.close_day(BUSINESS_DATE))
                order.append("day closed")
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=poster), threading.Thread(target=closer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert not errors, errors
    assert order == ["posting committed", "day closed"], "the close did not wait for the posting in flight"
    db.session.expire_all()
    assert calendar.get_day(BUSINESS_DATE).status == "closed"
    for code in (coa.VAULT_CASH, coa.SB_DEPOSITS):
        assert _snapshot(code, BUSINESS_DATE) == _lines_total(code, BUSINESS_DATE)
    assert _snapshot(coa.VAULT_CASH, BUSINESS_DATE) == (10_777, 0)
    report = ledger.verify()
    assert report.ok, report.problems


@pytest.mark.parametrize("open_next", [False, True])
def test_a_posting_that_waited_for_the_close_is_refused_or_lands_in_the_next_day(pg_app, pg_books, open_next):
    sb_id = new_account("savings", opening_paise=10_000).id
    # This session is the day-end: it holds the day lock until it commits.
    ledger.close_day(BUSINESS_DATE)
    if open_next:
        calendar.open_business_day(DAY2)
    outcome: dict[str, object] = {}

    def poster() -> None:
        with pg_app.app_context(), acting_as(SYSTEM):
            try:
                acc = db.session.get(Account, sb_id)
                entry = ledger.post([Line.dr(coa.VAULT_CASH, 500), Line.cr(acc, 500)], kind="deposit", narration="late")
                outcome["business_date"] = entry.business_date
                uow.commit()
            except calendar.DayClosed as exc:
                outcome["refused"] = exc.message
                db.session.rollback()
            except Exception as exc:  # noqa: BLE001 - asserted below
                outcome["error"] = repr(exc)
            finally:
                db.session.remove()

    t = threading.Thread(target=poster)
    t.start()
    time.sleep(0.4)
    assert t.is_alive(), f"the posting did not wait for the close: {outcome}"
    uow.commit()  # the day-end commits
    t.join(10)
    assert "error" not in outcome, outcome
    if open_next:
        assert outcome == {"business_date": DAY2}
    else:
        assert "No business day is open" in str(outcome.get("refused")), outcome
    db.session.expire_all()
    assert _snapshot(coa.VAULT_CASH, BUSINESS_DATE) == _lines_total(coa.VAULT_CASH, BUSINESS_DATE) == (10_000, 0)
    report = ledger.verify()
    assert report.ok, report.problems


def test_same_idempotency_key_at_the_same_moment_posts_once(pg_app, pg_books):
    src_id = new_account("savings", opening_paise=100_000).id
    dst_id = new_account("savings").id
    workers = 6
    barrier = threading.Barrier(workers)
    results: list[int | None] = [None] * workers
    errors: list[str] = []

    def worker(i: int) -> None:
        with pg_app.app_context(), acting_as(SYSTEM):
            try:

                def work() -> int:
                    a, b = db.session.get(Account, src_id), db.session.get(Account, dst_id)
                    entry = ledger.post(
                        [Line.dr(a, 5_000), Line.cr(b, 5_000)],
                        kind="transfer",
                        narration="same key",
                        idempotency_key="client-key-1",
                    )
                    return entry.id

                barrier.wait(5)
                results[i] = uow.run(work)
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert len(set(results)) == 1 and results[0] is not None, results
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.idempotency_key == "client-key-1")
        )
        == 1
    )
    assert db.session.get(Account, src_id).balance_paise == 95_000
    assert db.session.get(Account, dst_id).balance_paise == 5_000
    report = ledger.verify()
    assert report.ok, report.problems


def test_database_allows_only_one_open_day(pg_books):
    with pytest.raises(IntegrityError, match="uq_business_days_one_open"):
        db.session.execute(
            text("INSERT INTO business_days (business_date, status, opened_at) VALUES (:d, 'open', now())"),
            {"d": DAY2},
        )
    db.session.rollback()
    with pytest.raises(IntegrityError, match="ck_business_days_status_valid"):
        db.session.execute(
            text("INSERT INTO business_days (business_date, status, opened_at) VALUES (:d, 'paused', now())"),
            {"d": DAY2},
        )
    db.session.rollback()
    calendar.close_business_day(BUSINESS_DATE)
    calendar.open_business_day(DAY2)
    uow.commit()
    assert calendar.current_business_date() == DAY2


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("TRUNCATE audit_log", "audit_log is append-only: TRUNCATE refused"),
        ("TRUNCATE journal_entries CASCADE", "is append-only: TRUNCATE refused"),
        ("TRUNCATE journal_lines", "journal_lines is append-only: TRUNCATE refused"),
        # member accounts and GLs refuse it themselves (migrations 0019, 0020)
        ("TRUNCATE accounts CASCADE", "accounts is referred to by journal lines: TRUNCATE refused"),
        ("TRUNCATE gl_accounts CASCADE", "is referred to by journal lines: TRUNCATE refused"),
    ],
)
def test_truncate_of_ledger_and_audit_tables_is_refused(pg_books, statement, message):
    sb = new_account("savings", opening_paise=100)
    assert sb.balance_paise == 100
    before = (
        db.session.scalar(select(func.count()).select_from(AuditLog)),
        db.session.scalar(select(func.count()).select_from(JournalLine)),
    )
    assert before[0] > 0 and before[1] == 2
    with pytest.raises(DBAPIError, match=message):
        db.session.execute(text(statement))
    db.session.rollback()
    after = (
        db.session.scalar(select(func.count()).select_from(AuditLog)),
        db.session.scalar(select(func.count()).select_from(JournalLine)),
    )
    assert after == before
