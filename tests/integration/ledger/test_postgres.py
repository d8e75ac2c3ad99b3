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


def _gl_id(code: str) -> int:
    return db.session.execute(text("SELECT id FROM gl_accounts WHERE code = :c"), {"c": code}).scalar()


def _raw_line(entry_id: int, gl_id: int, debit: int, credit: int, *, account_id: int | None = None) -> None:
    db.session.execute(
        text(
            "INSERT INTO journal_lines (entry_id, gl_account_id, account_id, business_date, debit_paise, credit_paise) "
            "VALUES (:e, :g, :a, '2026-04-01', :dr, :cr)"
        ),
        {"e": entry_id, "g": gl_id, "a": account_id, "dr": debit, "cr": credit},
    )


def test_a_line_that_unbalances_an_entry_is_refused_at_once_even_long_after(pg_books):
    """The statement trigger sums every entry a statement touches: a raw extra line, in the
    posting's transaction or in a later one, is refused by its INSERT; nothing is saved."""
    sb = new_account("savings")
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    with pytest.raises(DBAPIError, match=f"journal entry {entry.id} does not balance"):
        _raw_line(entry.id, _gl_id(coa.VAULT_CASH), 5, 0)  # same transaction
    db.session.rollback()
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    uow.commit()
    with pytest.raises(DBAPIError, match=f"journal entry {entry.id} does not balance"):
        _raw_line(entry.id, _gl_id(coa.VAULT_CASH), 5, 0)  # a committed entry
    db.session.rollback()
    # A raw entry with no lines fails at commit (the entry's deferred check).
    db.session.execute(
        text(
            "INSERT INTO journal_entries (business_date, value_date, posted_at, kind, narration, channel, total_paise) "
            "VALUES ('2026-04-01', '2026-04-01', now(), 'journal', 'raw', 'branch', 7)"
        )
    )
    with pytest.raises(DBAPIError, match="does not balance"):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(JournalEntry.id))) == 1
    assert ledger.verify().ok


def test_wide_entries_and_savepoints_keep_the_ledger_exact(pg_books):
    """A wide posting commits; a stray line refused inside a savepoint leaves the rest to commit."""
    accounts = [new_account("savings") for _ in range(3)]
    ledger.post([Line.dr(coa.VAULT_CASH, 300), *[Line.cr(a, 100) for a in accounts]], kind="deposit", narration="w")
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 70), Line.cr(accounts[1], 70)], kind="deposit", narration="y")
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError, match="does not balance"):
        _raw_line(entry.id, _gl_id(coa.VAULT_CASH), 9, 0)
    nested.rollback()
    uow.commit()
    assert [a.balance_paise for a in accounts] == [100, 170, 100]
    report = ledger.verify()
    assert report.ok, report.problems


@pytest.mark.parametrize("missing", ["entry", "gl", "account"])
def test_a_line_naming_a_missing_entry_gl_or_account_is_refused(pg_books, missing):
    sb = new_account("savings")
    entry = ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    uow.commit()
    ids = {"entry": entry.id, "gl": _gl_id(coa.VAULT_CASH), "account": sb.id}
    ids[missing] = 987_654
    with pytest.raises(DBAPIError, match="refers to a missing entry, GL or account") as caught:
        _raw_line(ids["entry"], ids["gl"], 5, 0, account_id=ids["account"])
    assert caught.value.orig.sqlstate == "23503"  # foreign_key_violation, as a foreign key would say
    db.session.rollback()
    assert ledger.verify().ok
    # Written past the triggers (replica mode, a superuser's tool), ledger verify finds it.
    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    _raw_line(ids["entry"], ids["gl"], 5, 0, account_id=ids["account"])
    problems = ledger.verify().problems
    assert any("refers to a missing entry, GL or account" in p for p in problems), problems
    db.session.rollback()


def test_accounts_are_never_deleted_and_used_gl_accounts_stay(pg_books):
    sb = new_account("savings")
    ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="ok")
    uow.commit()
    statements = [
        ("DELETE FROM accounts WHERE id = :id", sb.id, "closed, never deleted"),
        ("UPDATE accounts SET id = id + 1000 WHERE id = :id", sb.id, "never changes"),
        ("DELETE FROM gl_accounts WHERE id = :id", _gl_id(coa.VAULT_CASH), "has journal lines"),
    ]
    for sql, row_id, message in statements:
        with pytest.raises(DBAPIError, match=message):
            db.session.execute(text(sql), {"id": row_id})
        db.session.rollback()
    unused = db.session.execute(
        text("SELECT id FROM gl_accounts g WHERE NOT g.is_group AND NOT EXISTS "
             "(SELECT 1 FROM journal_lines l WHERE l.gl_account_id = g.id) "
             "AND NOT EXISTS (SELECT 1 FROM gl_accounts c WHERE c.parent_id = g.id) "
             "AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.control_gl_id = g.id) LIMIT 1")
    ).scalar()  # fmt: skip
    db.session.execute(text("DELETE FROM gl_accounts WHERE id = :id"), {"id": unused})  # an unused GL can go
    db.session.rollback()
    assert ledger.verify().ok


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
