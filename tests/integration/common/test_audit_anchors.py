"""The audit chain's checkpoints outside the database, and sealing off the request path (ADR 0014)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.audit import AuditLog
from app.services import ledger
from app.services.common import audit, storage, uow
from app.services.ledger import Line, coa
from config import ProductionConfig
from tests.conftest import new_account


def _deposit(acc, paise: int) -> None:
    ledger.post([Line.dr(coa.VAULT_CASH, paise), Line.cr(acc, paise)], kind="deposit", narration="Cash deposit")
    uow.commit()


def _unsealed() -> int:
    return db.session.scalar(select(func.count()).where(AuditLog.hash.is_(None)))


def test_each_seal_writes_a_keyed_checkpoint_of_its_last_row(app, books):
    acc = new_account("savings")
    _deposit(acc, 100)
    first = db.session.scalar(select(AuditLog.hash).where(AuditLog.seal_seq == 1))
    keys = storage.list_keys(f"{audit.ANCHOR_PREFIX}/{audit.chain_id(first)}/")
    assert keys, "a checkpoint per sealed range"
    doc = json.loads(storage.read(keys[-1]))
    last = db.session.execute(
        select(AuditLog.seal_seq, AuditLog.hash).order_by(AuditLog.seal_seq.desc()).limit(1)
    ).one()
    assert (doc["seq"], doc["hash"]) == (last.seal_seq, last.hash)
    assert len(doc["mac"]) == 64 and doc["mac"] != doc["hash"]
    result = audit.verify()
    assert result.ok and result.checkpoints == len(keys) and result.unanchored == 0, result.message
    # A checkpoint is written once: the same key cannot be overwritten.
    with pytest.raises(FileExistsError):
        storage.put_object(keys[-1], b"{}", content_type="application/json")


def test_a_lost_checkpoint_is_made_good_by_anchor_tail(app, books, monkeypatch):
    acc = new_account("savings")
    monkeypatch.setattr(storage, "put_object", lambda *a, **k: (_ for _ in ()).throw(OSError("storage down")))
    _deposit(acc, 100)  # sealed, but its checkpoint could not be written (logged, not raised)
    monkeypatch.undo()
    result = audit.verify()
    assert result.ok and result.unanchored > 0, result.message
    assert audit.anchor_tail() is True
    result = audit.verify()
    assert result.ok and result.unanchored == 0, result.message
    assert audit.anchor_tail() is False  # nothing left to anchor


def test_sealing_runs_off_the_request_path_within_the_interval(app, books):
    app.config["AUDIT_SEAL_INTERVAL_SECONDS"] = 0.3
    acc = new_account("savings")
    audit.wait_for_sealer()
    _deposit(acc, 250)
    assert _unsealed() >= 1  # the commit did not seal
    audit.wait_for_sealer()
    db.session.rollback()
    assert _unsealed() == 0
    result = audit.verify()
    assert result.ok and result.unanchored == 0, result.message


def test_production_refuses_the_development_anchor_key(monkeypatch):
    from cryptography.fernet import Fernet

    env = {
        "SECRET_KEY": "x" * 40,
        "DATABASE_URL": "postgresql+psycopg://app@db/bank",
        "REDIS_URL": "redis://r",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "LOOKUP_HASH_KEY": "lookup-key-for-tests",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AUDIT_ANCHOR_KEY", raising=False)
    with pytest.raises(RuntimeError, match="AUDIT_ANCHOR_KEY"):
        ProductionConfig.validate()
    monkeypatch.setenv("AUDIT_ANCHOR_KEY", "k" * 40)
    try:
        ProductionConfig.validate()
    except RuntimeError as exc:  # a later check may still refuse; never for the anchor key
        assert "AUDIT_ANCHOR_KEY" not in str(exc)


CHILD = """
import os
from app import create_app
from app.extensions import db
from app.services.common import SYSTEM, acting_as, uow
from app.services.ledger import Line, coa
from app.services import ledger
from config import TestingConfig
from tests.conftest import new_account, open_books

app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=os.environ["URL"], DOCUMENT_STORAGE_DIR=os.environ["DOCS"],
                 AUDIT_SEAL_INTERVAL_SECONDS=600)
with app.app_context(), acting_as(SYSTEM):
    db.create_all()
    open_books()
    acc = new_account("savings")
    ledger.post([Line.dr(coa.VAULT_CASH, 100), Line.cr(acc, 100)], kind="deposit", narration="then exit")
    uow.commit()  # the sealer would run in 600 s; the process exits first
"""


def test_a_process_that_exits_normally_seals_what_it_committed(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from app.services.common import SYSTEM, acting_as
    from tests.conftest import make_app

    url, docs = f"sqlite:///{tmp_path / 'exit.db'}", str(tmp_path / "docs")
    root = Path(__file__).parents[3]
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env={**os.environ, "URL": url, "DOCS": docs}, cwd=str(root), timeout=120
    )
    assert done.returncode == 0
    app = make_app(url, DOCUMENT_STORAGE_DIR=docs)
    with app.app_context(), acting_as(SYSTEM):
        assert _unsealed() == 0
        result = audit.verify()
        assert result.ok and result.checkpoints >= 1 and result.unanchored == 0, result.message
        db.session.remove()
        db.engine.dispose()
