"""The one unit-of-work runner (``uow.run``) and the deferred commit (``context.deferring_commit``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models.ledger import Account, JournalEntry
from app.services import ledger
from app.services.common import context, uow
from app.services.ledger import Line, coa
from tests.conftest import new_account


class _Orig(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"simulated {sqlstate}")
        self.sqlstate = sqlstate


def _failure(sqlstate: str = "40001") -> OperationalError:
    return OperationalError("UPDATE", {}, _Orig(sqlstate))


def _entries(narration: str) -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.narration == narration))


def test_work_that_commits_itself_is_rerun_from_the_start_on_a_serialisation_failure(books):
    sb = new_account("savings")
    calls = []

    def view():  # like a view: posts, commits through uow.commit(), then fails once before answering
        calls.append(1)
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration=f"try {len(calls)}")
        if len(calls) == 1:
            raise _failure("40P01")
        uow.commit()
        return "done"

    assert uow.run(view, commit=False, attempts=3) == "done"
    assert len(calls) == 2
    assert _entries("try 1") == 0 and _entries("try 2") == 1  # the first attempt was rolled back
    assert db.session.get(Account, sb.id).balance_paise == 100


def test_the_last_failure_propagates_and_nothing_is_kept(books):
    sb = new_account("savings")

    def always_fails():
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="never")
        raise _failure()

    with pytest.raises(OperationalError):
        uow.run(always_fails, attempts=2)
    assert _entries("never") == 0


def test_other_errors_roll_back_at_once_without_a_retry(books):
    sb = new_account("savings")
    calls = []

    def refuses():
        calls.append(1)
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="refused")
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        uow.run(refuses)
    assert calls == [1] and _entries("refused") == 0


def test_a_deferred_commit_only_flushes_until_the_caller_commits(books):
    sb = new_account("savings")
    assert context.commit_deferred() is False
    with context.deferring_commit():
        assert context.commit_deferred() is True
        ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(sb, 100)], kind="deposit", narration="deferred")
        uow.commit()  # flush only
        uow.run(lambda: None)  # flush only, no seal
        db.session.rollback()  # the caller decides: here it throws the work away
    assert context.commit_deferred() is False
    assert _entries("deferred") == 0
    assert db.session.get(Account, sb.id).balance_paise == 0
