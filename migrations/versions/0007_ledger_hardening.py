"""ledger hardening: one open business day, audit indexes (unsealed rows, entity history), no TRUNCATE of the ledger or audit log

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# On PostgreSQL the append-only tables also refuse TRUNCATE (row triggers never see it).
# The test fixture empties tables with session_replication_role = replica, which skips
# ordinary triggers; that needs a superuser, which production roles are not.
TRUNCATE_GUARDS = """
CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();
CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate();
"""

DROP_TRUNCATE_GUARDS = """
DROP TRIGGER IF EXISTS journal_lines_no_truncate ON journal_lines;
DROP TRIGGER IF EXISTS journal_entries_no_truncate ON journal_entries;
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
DROP FUNCTION IF EXISTS refuse_truncate();
"""


def upgrade():
    # The sealing step reads "unsealed rows in id order": a small partial index, not a scan.
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(
            'ix_audit_log_unsealed', ['id'], unique=False,
            postgresql_where=sa.text('hash IS NULL'), sqlite_where=sa.text('hash IS NULL'),
        )
        # An entity's history (the KYC maker check reads who edited a member).
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)

    # At most one open business day, and only known statuses, enforced by the database.
    with op.batch_alter_table('business_days', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_business_days_status_valid'), "status IN ('open','closed')")
        batch_op.create_index(
            'uq_business_days_one_open', ['status'], unique=True,
            postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRUNCATE_GUARDS)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_TRUNCATE_GUARDS)
    with op.batch_alter_table('business_days', schema=None) as batch_op:
        batch_op.drop_index('uq_business_days_one_open')
        batch_op.drop_constraint(op.f('ck_business_days_status_valid'), type_='check')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index('ix_audit_log_unsealed')
