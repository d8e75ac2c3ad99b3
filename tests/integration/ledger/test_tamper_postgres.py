"""PostgreSQL: history rewritten by a superuser (triggers off) is caught by the verifiers; a crash
between a commit and its seal loses nothing (issue 15 item 4, issue 14 "must stay true").

Each tamper case first proves both verifiers pass, then rewrites rows with
``session_replication_role = replica`` (ordinary triggers off: what the table owner or a
superuser can do) and shows which verifier names the damage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.models.audit import AuditLog
from app.models.ledger import Account, JournalEntry, JournalLine
from app.services import ledger
from app.services.common import audit, storage, uow
from app.services.ledger import Line
from tests.conftest import new_account

pytestmark = pytest.mark.postgres


def _replica() -> None:
    db.session.execute(text("SET LOCAL session_replication_role = replica"))


def _transfers(n: int = 4) -> tuple[Account, Account, list[JournalEntry]]:
    a = new_account("savings", opening_paise=100_000)
    b = new_account("savings", opening_paise=100_000)
    entries = []
    for i in range(n):
        entries.append(
            ledger.post([Line.dr(a, 500 + i), Line.cr(b, 500 + i)], kind="transfer", narration=f"Transfer {i}")
        )
        uow.commit()
    return a, b, entries


def _both_ok() -> None:
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.undigested == 0  # every entry here carries its lines digest
    chain = audit.verify()
    assert chain.ok, chain.message
    assert chain.unsealed == 0 and chain.checkpoints >= 1 and chain.unanchored == 0, chain.message


def test_untampered_books_pass_and_each_posting_audit_row_carries_its_lines_digest(pg_app, pg_books):
    _a, _b, entries = _transfers(2)
    _both_ok()
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "ledger.post", AuditLog.entity_id == str(entries[-1].id))
    )
    assert len(row.after["lines_digest"]) == 64
    keys = storage.list_keys(f"{audit.ANCHOR_PREFIX}/")
    assert keys == [], "checkpoints live one folder down, named by the chain"
    first = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
    found = audit.checkpoints(first)
    assert found and all(c.valid for c in found)
    assert found[-1].seq == db.session.scalar(select(func.max(AuditLog.seal_seq)))


def test_deleting_the_newest_audit_rows_is_detected(pg_app, pg_books):
    _transfers()
    _both_ok()
    last = db.session.scalar(select(func.max(AuditLog.seal_seq)))
    _replica()
    db.session.execute(text("DELETE FROM audit_log WHERE seal_seq > :s"), {"s": last - 2})
    db.session.commit()
    chain = audit.verify()
    assert not chain.ok
    assert f"the chain ends at seq {last - 2} but a checkpoint covers seq {last}" in chain.message
    assert "deleted" in chain.message


def test_editing_a_row_and_recomputing_the_chain_is_detected(pg_app, pg_books):
    _a, _b, entries = _transfers()
    _both_ok()
    victim = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "ledger.post", AuditLog.entity_id == str(entries[1].id))
    )
    _replica()
    edited = dict(victim.after)
    edited["narration"] = "Nothing happened here"
    db.session.execute(update(AuditLog).where(AuditLog.id == victim.id).values(after=edited))
    db.session.flush()
    db.session.expire_all()
    # Recompute every link from the edited row on, exactly as the sealer would.
    prev = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == victim.seal_seq - 1))
    for row in db.session.scalars(
        select(AuditLog).where(AuditLog.seal_seq >= victim.seal_seq).order_by(AuditLog.seal_seq)
    ).all():
        digest = audit.row_digest(row, prev)
        db.session.execute(update(AuditLog).where(AuditLog.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    db.session.commit()
    db.session.expire_all()
    chain = audit.verify()
    assert not chain.ok
    assert "does not match the checkpoint written when it was sealed" in chain.message


def test_recomputing_the_whole_chain_from_its_first_row_is_detected(pg_app, pg_books):
    _transfers(2)
    _both_ok()
    _replica()
    rows = db.session.scalars(select(AuditLog).where(AuditLog.seal_seq.is_not(None)).order_by(AuditLog.seal_seq)).all()
    rows[0].actor_name = "someone else"  # the first row changes: the chain gets a new name
    db.session.flush()
    prev = audit.GENESIS
    for row in rows:
        digest = audit.row_digest(row, prev)
        db.session.execute(update(AuditLog).where(AuditLog.id == row.id).values(prev_hash=prev, hash=digest))
        prev = digest
    db.session.commit()
    db.session.expire_all()
    # Within the grace period (seconds after sealing) a missing checkpoint is not yet suspicious;
    # once it has passed, sealed rows with no checkpoint are.
    pg_app.config["AUDIT_ANCHOR_GRACE_SECONDS"] = 0
    chain = audit.verify()
    assert not chain.ok
    assert "no checkpoint covers them" in chain.message


def test_a_checkpoint_written_with_another_key_is_refused(pg_app, pg_books):
    _transfers(1)
    _both_ok()
    first = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
    last = db.session.execute(
        select(AuditLog.seal_seq, AuditLog.hash).order_by(AuditLog.seal_seq.desc()).limit(1)
    ).one()
    pg_app.config["AUDIT_ANCHOR_KEY"] = "an attacker's key"
    audit.write_checkpoint(first, last.seal_seq + 5, "f" * 64)
    pg_app.config["AUDIT_ANCHOR_KEY"] = "dev-only-audit-anchor-key"
    chain = audit.verify()
    assert not chain.ok and "fail their key check" in chain.message


def test_a_balanced_rewrite_of_an_entry_and_both_balances_is_detected(pg_app, pg_books):
    a, b, entries = _transfers(2)
    _both_ok()
    target = entries[0]
    amount = 500
    _replica()
    db.session.execute(
        update(JournalLine).where(JournalLine.entry_id == target.id, JournalLine.debit_paise > 0).values(debit_paise=50)
    )
    db.session.execute(
        update(JournalLine)
        .where(JournalLine.entry_id == target.id, JournalLine.credit_paise > 0)
        .values(credit_paise=50)
    )
    db.session.execute(update(JournalEntry).where(JournalEntry.id == target.id).values(total_paise=50))
    db.session.execute(
        update(Account).where(Account.id == a.id).values(balance_paise=Account.balance_paise + amount - 50)
    )
    db.session.execute(
        update(Account).where(Account.id == b.id).values(balance_paise=Account.balance_paise - amount + 50)
    )
    db.session.commit()
    report = ledger.verify()
    assert not report.ok
    assert report.problems == [
        f"entry JE{target.id:08d}: its lines do not match the digest recorded when it was posted"
    ], report.problems
    assert audit.verify().ok  # the audit rows themselves are untouched: the ledger verifier is the one that sees it


# ---------------------------------------------------------------- a crash between commit and seal

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from app import create_app
    from app.extensions import db
    from app.models.ledger import Account
    from app.services import ledger
    from app.services.common import SYSTEM, acting_as, uow
    from app.services.ledger import Line, coa
    from config import TestingConfig

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=os.environ["URL"],
                     DOCUMENT_STORAGE_DIR=os.environ["DOCS"], AUDIT_SEAL_INTERVAL_SECONDS=600)
    with app.app_context(), acting_as(SYSTEM):
        acc = db.session.get(Account, int(os.environ["ACC"]))
        for i in range(3):
            ledger.post([Line.dr(coa.VAULT_CASH, 100 + i), Line.cr(acc, 100 + i)], kind="deposit", narration=f"before the crash {i}")
            uow.commit()  # committed; the seal is left to a sealer that will never run
        print("committed", flush=True)
        time.sleep(60)
    """
)


def test_sigkill_between_commit_and_seal_loses_nothing_and_the_chain_seals_later(pg_app, pg_books, pg_url, tmp_path):
    from app.jobs.maintenance import seal_audit

    acc = new_account("savings", opening_paise=1_000)
    uow.commit()
    sealed_before = db.session.scalar(select(func.count()).where(AuditLog.hash.is_not(None)))
    env = {**os.environ, "URL": pg_url, "DOCS": pg_app.config["DOCUMENT_STORAGE_DIR"], "ACC": str(acc.id)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True, cwd=str(Path(__file__).parents[3])
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "committed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    db.session.expire_all()
    # Everything committed is there; its audit rows wait, unsealed, and are not taken for tampering.
    assert db.session.get(Account, acc.id).balance_paise == 1_000 + 100 + 101 + 102
    chain = audit.verify()
    assert chain.ok, chain.message
    assert chain.unsealed == 3 and chain.checked == sealed_before
    assert ledger.verify().ok
    # The sealing job chains and anchors them.
    with pg_app.test_request_context():
        sealed = seal_audit()
    assert sealed == 3
    chain = audit.verify()
    assert chain.ok and chain.unsealed == 0 and chain.unanchored == 0, chain.message
    assert json.loads(storage.read(storage.list_keys(f"{audit.ANCHOR_PREFIX}/{audit.chain_id(_first())}/")[-1]))[
        "seq"
    ] == db.session.scalar(select(func.max(AuditLog.seal_seq)))


def _first() -> str:
    return db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
