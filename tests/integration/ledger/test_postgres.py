"""PostgreSQL guards and the concurrent bank test."""

import random
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.services import ledger
from app.services.common import SYSTEM, DomainError, acting_as, uow
from app.services.ledger import Line, coa
from tests.conftest import new_account

pytestmark = pytest.mark.postgres


def test_trigger_rejects_an_unbalanced_entry_at_commit(pg_books):
    sb = new_account("savings")
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    uow.commit()
    gl_cash = db.session.execute(text("SELECT id FROM gl_accounts WHERE code = :c"), {"c": coa.VAULT_CASH}).scalar()
    # Bypass the service: a raw extra line makes the entry unbalanced; the commit must fail.
    db.session.execute(
        text(
            "INSERT INTO journal_lines (entry_id, gl_account_id, business_date, debit_paise, credit_paise) VALUES (:e, :g, :d, 5, 0)"
        ),
        {"e": entry.id, "g": gl_cash, "d": entry.business_date},
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        db.session.commit()
    db.session.rollback()
    # A raw entry with a single line fails too.
    db.session.execute(
        text(
            "INSERT INTO journal_entries (business_date, value_date, posted_at, kind, narration, channel, total_paise) VALUES (:d, :d, now(), 'journal', 'raw', 'branch', 7)"
        ),
        {"d": entry.business_date},
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        db.session.commit()
    db.session.rollback()
    assert ledger.verify().ok


def _raw_line(entry, gl_id: int, debit: int, credit: int) -> None:
    db.session.execute(
        text(
            "INSERT INTO journal_lines (entry_id, gl_account_id, business_date, debit_paise, credit_paise) "
            "VALUES (:e, :g, :d, :dr, :cr)"
        ),
        {"e": entry.id, "g": gl_id, "d": entry.business_date, "dr": debit, "cr": credit},
    )


def test_the_balance_check_sums_an_entry_once_but_still_catches_a_late_line(pg_books):
    """The deferred check sums each entry once per transaction (not once per line), yet a line
    added after an early check (SET CONSTRAINTS … IMMEDIATE) is caught, and a savepoint rolled
    back takes its lines and its bookkeeping with it."""
    accounts = [new_account("savings") for _ in range(3)]
    gl_cash = db.session.execute(text("SELECT id FROM gl_accounts WHERE code = :c"), {"c": coa.VAULT_CASH}).scalar()
    # A wide entry commits (one check, not one per line).
    ledger.post([Line.dr(coa.VAULT_CASH, 300), *[Line.cr(a, 100) for a in accounts]], kind="deposit", narration="w")
    uow.commit()

    entry = ledger.post([Line.dr(coa.VAULT_CASH, 50), Line.cr(accounts[0], 50)], kind="deposit", narration="x")
    db.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the check runs now, and passes
    db.session.execute(text("SET CONSTRAINTS ALL DEFERRED"))
    _raw_line(entry, gl_cash, 5, 0)  # a line after the check unbalances the entry
    with pytest.raises(DBAPIError, match="does not balance"):
        db.session.commit()
    db.session.rollback()

    entry = ledger.post([Line.dr(coa.VAULT_CASH, 70), Line.cr(accounts[1], 70)], kind="deposit", narration="y")
    nested = db.session.begin_nested()
    _raw_line(entry, gl_cash, 9, 0)
    nested.rollback()  # the stray line is gone with its savepoint: the entry balances again
    uow.commit()
    assert [a.balance_paise for a in accounts] == [100, 170, 100]
    report = ledger.verify()
    assert report.ok, report.problems


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_entries SET narration = 'edited'",
        "DELETE FROM journal_entries",
        "UPDATE journal_lines SET credit_paise = credit_paise + 1 WHERE credit_paise > 0",
        "DELETE FROM journal_lines",
    ],
)
def test_triggers_reject_update_and_delete(pg_books, statement):
    sb = new_account("savings")
    ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    uow.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 1


def test_check_constraint_refuses_a_balance_below_the_limit(pg_books):
    sb = new_account("savings", opening_paise=100)
    with pytest.raises(DBAPIError, match="within_limit"):
        db.session.execute(text("UPDATE accounts SET balance_paise = -1 WHERE id = :id"), {"id": sb.id})
    db.session.rollback()


def test_concurrent_bank(pg_app, pg_books):
    """8 threads transfer at random for a few seconds while a reader sums all balances."""
    n_accounts, opening, workers, seconds = 10, 1_000_00, 8, 4.0
    accounts = [new_account("savings", opening_paise=opening) for _ in range(n_accounts)]
    ids = [a.id for a in accounts]
    total = n_accounts * opening
    stop = time.monotonic() + seconds
    errors: list[str] = []
    sums: list[int] = []
    posted = [0] * workers
    refused = [0] * workers
    retried_keys: list[str] = []
    lock = threading.Lock()

    def transfer(worker: int) -> None:
        rng = random.Random(worker)
        with pg_app.app_context(), acting_as(SYSTEM):
            n = 0
            while time.monotonic() < stop:
                src, dst = rng.sample(ids, 2)
                amount = rng.randint(1, 40_000)
                key = f"w{worker}-{n}"
                n += 1

                def work(src=src, dst=dst, amount=amount, key=key):
                    a = db.session.get(Account, src)
                    b = db.session.get(Account, dst)
                    return ledger.post(
                        [Line.dr(a, amount), Line.cr(b, amount)],
                        kind="transfer",
                        narration="bank test",
                        idempotency_key=key,
                    )

                try:
                    uow.run(work)
                    posted[worker] += 1
                    if n % 7 == 0:  # a client retry with the same key must not post again
                        uow.run(work)
                        with lock:
                            retried_keys.append(key)
                except DomainError:
                    db.session.rollback()
                    refused[worker] += 1
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    db.session.rollback()
                    errors.append(repr(exc))
            db.session.remove()

    def reader() -> None:
        with pg_app.app_context():
            while time.monotonic() < stop:
                sums.append(
                    db.session.execute(text("SELECT sum(balance_paise) FROM accounts WHERE kind = 'savings'")).scalar()
                )
                db.session.rollback()
                minimum = db.session.execute(text("SELECT min(balance_paise) FROM accounts")).scalar()
                if minimum < 0:
                    errors.append(f"negative balance {minimum}")
                db.session.rollback()
                time.sleep(0.005)
            db.session.remove()

    threads = [threading.Thread(target=transfer, args=(i,)) for i in range(workers)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert sums and all(s == total for s in sums), f"total changed: {set(sums)}"
    assert sum(posted) > 50, posted
    db.session.expire_all()
    entries = db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "transfer"))
    assert entries == sum(posted), "a retried idempotency key posted twice"
    for key in retried_keys:
        assert (
            db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.idempotency_key == key))
            == 1
        )
    report = ledger.verify()
    assert report.ok, report.problems
    assert db.session.scalar(select(func.sum(Account.balance_paise)).where(Account.kind == "savings")) == total
