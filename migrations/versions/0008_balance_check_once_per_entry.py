"""balance check once per entry: the deferred trigger sums an entry's lines once, not once per line

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The deferred constraint trigger fires once per line and once for the entry. It used to sum
# the whole entry every time: O(n²) for an entry of n lines (a quarter's savings interest
# posts entries of hundreds of lines). Now the first invocation at commit sums the entry and
# remembers, in a transaction-local setting, how many more invocations the lines it saw
# account for (n lines + the entry − this one). Later invocations only count down; one
# invocation more than that means a line arrived after the check (e.g. under SET CONSTRAINTS
# IMMEDIATE), and the entry is summed again. A rolled-back savepoint takes its queued
# invocations and its settings with it, so the count stays exact.
BALANCED_ONCE = """
CREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger AS $$
DECLARE
    eid bigint;
    n integer;
    dr bigint;
    cr bigint;
    total bigint;
    remaining text;
BEGIN
    IF TG_TABLE_NAME = 'journal_lines' THEN
        eid := NEW.entry_id;
    ELSE
        eid := NEW.id;
    END IF;
    remaining := current_setting('sahakari.je_' || eid, true);
    IF remaining IS NOT NULL AND remaining <> '' AND remaining::integer > 0 THEN
        PERFORM set_config('sahakari.je_' || eid, (remaining::integer - 1)::text, true);
        RETURN NULL;
    END IF;
    SELECT count(*), coalesce(sum(debit_paise), 0), coalesce(sum(credit_paise), 0)
      INTO n, dr, cr FROM journal_lines WHERE entry_id = eid;
    SELECT total_paise INTO total FROM journal_entries WHERE id = eid;
    IF n < 2 OR dr <> cr OR dr <> total THEN
        RAISE EXCEPTION 'journal entry % does not balance (% lines, debits %, credits %, total %)', eid, n, dr, cr, total
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM set_config('sahakari.je_' || eid, n::text, true);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

BALANCED_EVERY_TIME = """
CREATE OR REPLACE FUNCTION journal_entry_balanced() RETURNS trigger AS $$
DECLARE
    eid bigint;
    n integer;
    dr bigint;
    cr bigint;
    total bigint;
BEGIN
    IF TG_TABLE_NAME = 'journal_lines' THEN
        eid := NEW.entry_id;
    ELSE
        eid := NEW.id;
    END IF;
    SELECT count(*), coalesce(sum(debit_paise), 0), coalesce(sum(credit_paise), 0)
      INTO n, dr, cr FROM journal_lines WHERE entry_id = eid;
    SELECT total_paise INTO total FROM journal_entries WHERE id = eid;
    IF n < 2 OR dr <> cr OR dr <> total THEN
        RAISE EXCEPTION 'journal entry % does not balance (% lines, debits %, credits %, total %)', eid, n, dr, cr, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCED_ONCE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCED_EVERY_TIME)
