"""Migrations build the schema on PostgreSQL and agree with the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app.extensions import db
from app.models.schema import include_object_for

pytestmark = pytest.mark.postgres


def _diff():
    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_object_for(conn.dialect.name)}
        ctx = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(ctx, db.metadata)


def test_upgrade_from_empty_matches_the_models(pg_app):
    # pg_url built this database from empty with `upgrade()`.
    assert _diff() == []
    tables = set(inspect(db.engine).get_table_names())
    assert {"staff_users", "audit_log", "business_days", "alembic_version"} <= tables


def test_downgrade_and_upgrade_round_trip(pg_app):
    db.session.remove()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _diff() == []


def test_sqlite_upgrade_from_empty(tmp_path):
    from tests.conftest import make_app

    application = make_app(f"sqlite:///{tmp_path / 'm.db'}")
    with application.app_context():
        upgrade()
        assert "staff_users" in inspect(db.engine).get_table_names()
        assert _diff() == []
        db.engine.dispose()
