"""audit log snapshots compressed with lz4: a day-end's batch postings write big audit rows

Revision ID: 0021
Revises: 0020
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# A batch posting's ``ledger.post`` audit row holds every account's balance before and after
# (about 100 KB for 2,000 accounts), stored out of line and compressed. PostgreSQL's default
# pglz compressed such a row in ~4 ms; lz4 in ~1.3 ms (measured on this machine), about 1.4 s
# of a quarter's interest credit to 1M accounts. Only values written from now on use it. A
# server built without lz4 keeps pglz (the statement is skipped, not failed).

_SET = """
DO $$
BEGIN
    ALTER TABLE audit_log ALTER COLUMN before SET COMPRESSION {method};
    ALTER TABLE audit_log ALTER COLUMN after SET COMPRESSION {method};
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 compression is not available; audit snapshots stay pglz';
END
$$;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SET.format(method="lz4"))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_SET.format(method="pglz"))
