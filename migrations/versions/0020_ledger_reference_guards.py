"""account and GL ids kept by AFTER UPDATE OF id triggers (a BEFORE row trigger locked every updated row); TRUNCATE of accounts refused with its reason

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# 0019 refused a change of ``accounts.id`` / ``gl_accounts.id`` with BEFORE UPDATE OF id row
# triggers. PostgreSQL fetches and locks the old row for any BEFORE UPDATE row trigger before
# it looks at the trigger's column list and WHEN clause, so every balance update wrote a
# tuple lock (an extra WAL record and buffer work per row) although the trigger never fired:
# 1M interest credits, 1M extra records. An AFTER row trigger's column list and WHEN clause
# are checked when the event would be queued, with no lock; raising from it still aborts the
# statement, so an id change is refused exactly as before.

_TRIGGERS = """
DROP TRIGGER IF EXISTS accounts_id_fixed ON accounts;
DROP TRIGGER IF EXISTS gl_accounts_id_fixed ON gl_accounts;
CREATE TRIGGER accounts_id_fixed {when} UPDATE OF id ON accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_reference_kept();
CREATE TRIGGER gl_accounts_id_fixed {when} UPDATE OF id ON gl_accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION ledger_reference_kept();
"""

# 0019 also made ``accounts`` and ``gl_accounts`` refuse TRUNCATE with 0007's function, whose
# message called them append-only (they are not: balances and names change). It now says why.
_REFUSE_TRUNCATE = """
CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME IN ('accounts', 'gl_accounts') THEN
        RAISE EXCEPTION '% is referred to by journal lines: TRUNCATE refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _refuse_truncate_0007() -> str:
    """Migration 0007's ``refuse_truncate`` (the function alone, without its triggers), for downgrade."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("revision_0007", Path(__file__).with_name("0007_ledger_hardening.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    guards = module.TRUNCATE_GUARDS
    return guards[: guards.index("CREATE TRIGGER")]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_TRIGGERS.format(when="AFTER"))
        op.execute(_REFUSE_TRUNCATE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_refuse_truncate_0007())
        op.execute(_TRIGGERS.format(when="BEFORE"))
