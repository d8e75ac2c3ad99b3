"""posting speed: journal lines by (business date, GL) with the amounts included; the posting-day function

Revision ID: 0011
Revises: 0009
"""

from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

# A posting takes the day lock shared and reads the open day in ONE statement. A single
# SELECT cannot do it by itself: its snapshot is taken before the lock is granted, so a close
# that committed while the posting waited would stay invisible. A VOLATILE plpgsql function
# takes a fresh snapshot for each statement inside it, so the read after PERFORM sees it.
POSTING_DAY = """
CREATE OR REPLACE FUNCTION ledger_posting_day() RETURNS date
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    d date;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7241002);
    SELECT business_date INTO d FROM business_days WHERE status = 'open'
        ORDER BY business_date DESC LIMIT 1;
    RETURN d;
END
$$;
"""


def upgrade():
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journal_lines_date_gl",
            ["business_date", "gl_account_id"],
            unique=False,
            postgresql_include=["debit_paise", "credit_paise", "entry_id"],
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTING_DAY)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_posting_day()")
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_lines_date_gl")
