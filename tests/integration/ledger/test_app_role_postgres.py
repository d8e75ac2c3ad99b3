"""PostgreSQL: the app works as a role that does not own the tables (README, "The database role of
the app"), and that role cannot switch off the triggers guarding the journal and the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models.ledger import Account
from app.services import ledger
from app.services.common import SYSTEM, acting_as, audit, uow
from app.services.ledger import Line, coa
from tests.conftest import make_app, new_account

pytestmark = pytest.mark.postgres

ROLE = "sahakari_app_test"
README_GRANTS = [
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
]


def _grant(pg_url: str) -> str:
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DO $$ BEGIN CREATE ROLE {ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"))
        name = conn.execute(text("SELECT current_database()")).scalar()
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO {ROLE}'))
        for grant in README_GRANTS:
            conn.execute(text(grant.format(role=ROLE)))
    admin.dispose()
    return re.sub(r"://[^@/]+@", f"://{ROLE}@", pg_url)


def test_the_app_posts_seals_and_verifies_as_a_non_owner_role(pg_app, pg_books, pg_url, tmp_path):
    acc_id = new_account("savings", opening_paise=1_000).id
    uow.commit()
    app_url = _grant(pg_url)
    role_app = make_app(app_url, DOCUMENT_STORAGE_DIR=pg_app.config["DOCUMENT_STORAGE_DIR"])
    with role_app.app_context(), acting_as(SYSTEM):
        assert db.session.scalar(text("SELECT current_user")) == ROLE
        acc = db.session.get(Account, acc_id)
        ledger.post([Line.dr(coa.VAULT_CASH, 250), Line.cr(acc, 250)], kind="deposit", narration="As the app role")
        uow.commit()  # seals and anchors as this role too
        assert db.session.get(Account, acc_id).balance_paise == 1_250
        chain = audit.verify()
        assert chain.ok and chain.unsealed == 0 and chain.checkpoints >= 1, chain.message
        assert ledger.verify().ok
        # What an owner or superuser could do to hide a rewrite, this role cannot.
        for attempt in (
            "ALTER TABLE journal_lines DISABLE TRIGGER USER",
            "SET session_replication_role = replica",
            "UPDATE journal_lines SET debit_paise = debit_paise",
            "DELETE FROM audit_log",
        ):
            with pytest.raises(DBAPIError):
                db.session.execute(text(attempt))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Account)) >= 1
        db.session.remove()
        db.engine.dispose()
