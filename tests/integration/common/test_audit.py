"""The audit chain: sealing, verification, tamper detection; append-only on PostgreSQL."""

import itertools

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models.audit import AuditLog
from app.services.common import Actor, acting_as, audit, uow


def _write(n: int) -> None:
    with acting_as(Actor(type="staff", id=7, name="asha", role="clerk", ip="10.0.0.5", user_agent="pytest")):
        for i in range(n):
            audit.record("test.change", "thing", i, before={"v": i}, after={"v": i + 1})
        uow.commit()


def test_rows_are_sealed_into_a_chain_and_verify(app):
    _write(5)
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.seal_seq)).all()
    assert [r.seal_seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    for earlier, later in itertools.pairwise(rows):
        assert later.prev_hash == earlier.hash
    assert rows[2].actor_name == "asha" and rows[2].actor_role == "clerk" and rows[2].ip == "10.0.0.5"
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.unsealed == 0


def test_verify_names_the_first_modified_row(app):
    _write(4)
    third = db.session.scalars(select(AuditLog).order_by(AuditLog.seal_seq)).all()[2]
    db.session.execute(update(AuditLog).where(AuditLog.id == third.id).values(after={"v": 999}))
    db.session.commit()
    result = audit.verify()
    assert not result.ok
    assert result.broken_id == third.id
    assert "content does not match" in result.message


def test_verify_detects_a_deleted_row(app):
    _write(4)
    second = db.session.scalars(select(AuditLog).order_by(AuditLog.seal_seq)).all()[1]
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": second.id})
    db.session.commit()
    result = audit.verify()
    assert not result.ok and "gap" in result.message


def test_cli_verify_exit_codes(runner):
    _write(2)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "2 rows verified" in ok.output
    db.session.execute(update(AuditLog).where(AuditLog.seal_seq == 1).values(action="tampered"))
    db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and "audit row" in bad.output


def test_rows_committed_later_are_sealed_later(app):
    audit.record("late.one", "thing", 1)
    db.session.commit()  # committed but not sealed (as if the sealing step had not run yet)
    assert audit.verify().unsealed == 1
    _write(1)  # the next unit of work seals both
    result = audit.verify()
    assert result.ok and result.checked == 2 and result.unsealed == 0


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(pg_app):
    _write(1)
    row = db.session.scalars(select(AuditLog)).one()
    for statement in (
        "UPDATE audit_log SET action = 'x' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
        "UPDATE audit_log SET hash = 'f' WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement), {"id": row.id})
        db.session.rollback()
    assert audit.verify().ok


@pytest.mark.postgres
def test_postgres_allows_only_the_sealing_update(pg_app):
    audit.record("x.y", "thing", 1)
    db.session.commit()
    row = db.session.scalars(select(AuditLog)).one()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE audit_log SET hash = 'abc', action = 'changed' WHERE id = :id"), {"id": row.id})
    db.session.rollback()
    assert audit.seal_pending() == 1
    assert audit.verify().ok


@pytest.mark.postgres
def test_a_busy_sealer_never_blocks_the_writer(pg_app):
    """While another session holds the sealing lock, a commit returns at once, unsealed."""
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": audit._SEAL_LOCK_KEY})
        _write(1)  # commits and tries to seal: must not wait
        assert db.session.scalar(select(AuditLog)).hash is None
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": audit._SEAL_LOCK_KEY})
        other.commit()
    assert audit.seal_pending(wait=True) == 1
    assert audit.verify().ok


@pytest.mark.postgres
def test_sealing_finds_unsealed_rows_through_the_partial_index(pg_app):
    indexdef = db.session.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_audit_log_unsealed'"))
    assert indexdef is not None and "WHERE (hash IS NULL)" in indexdef
    # Many sealed rows and a few unsealed ones: the sealing query reads the small index.
    db.session.execute(
        text(
            "INSERT INTO audit_log (occurred_at, actor_type, action, seal_seq, prev_hash, hash) "
            "SELECT now(), 'system', 'bulk', g, 'p', 'h' FROM generate_series(1, 20000) g"
        )
    )
    _write(3)
    db.session.execute(text("ANALYZE audit_log"))
    query = select(AuditLog.id).where(AuditLog.hash.is_(None)).order_by(AuditLog.id).limit(5000)
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_audit_log_unsealed" in plan and "Seq Scan" not in plan, plan
    db.session.rollback()
