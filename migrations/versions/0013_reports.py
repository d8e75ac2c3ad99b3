"""reports: year-end runs and the dividend register

Revision ID: 0013
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "year_end_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fy", sa.String(length=7), nullable=False),
        sa.Column("year_start", sa.Date(), nullable=False),
        sa.Column("year_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("net_profit_paise", sa.BigInteger(), nullable=False),
        sa.Column("dividend_rate_bp", sa.Integer(), nullable=False),
        sa.Column("dividend_total_paise", sa.BigInteger(), nullable=False),
        sa.Column("appropriation", sa.JSON(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("closing_entry_id", BIG_ID, nullable=True),
        sa.Column("appropriation_entry_id", BIG_ID, nullable=True),
        sa.Column("dividend_entry_id", BIG_ID, nullable=True),
        sa.Column("prepared_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending','closed','rejected')", name=op.f("ck_year_end_runs_status_valid")),
        sa.CheckConstraint("dividend_rate_bp >= 0", name=op.f("ck_year_end_runs_rate_non_negative")),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approval_requests.id"], name=op.f("fk_year_end_runs_approval_id_approval_requests")
        ),
        sa.ForeignKeyConstraint(
            ["closing_entry_id"], ["journal_entries.id"], name=op.f("fk_year_end_runs_closing_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["appropriation_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_year_end_runs_appropriation_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["dividend_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_year_end_runs_dividend_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["prepared_by_id"], ["staff_users.id"], name=op.f("fk_year_end_runs_prepared_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff_users.id"], name=op.f("fk_year_end_runs_closed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_end_runs")),
    )
    op.create_index(op.f("ix_year_end_runs_fy"), "year_end_runs", ["fy"], unique=False)
    op.create_index(op.f("ix_year_end_runs_status"), "year_end_runs", ["status"], unique=False)
    # A year closes once: at most one closed run per financial year.
    op.create_index(
        "uq_year_end_runs_fy_closed",
        "year_end_runs",
        ["fy"],
        unique=True,
        postgresql_where=sa.text("status = 'closed'"),
        sqlite_where=sa.text("status = 'closed'"),
    )
    op.create_table(
        "dividend_lines",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("share_paise_months", sa.BigInteger(), nullable=False),
        sa.Column("paid_up_paise", sa.BigInteger(), nullable=False),
        sa.Column("dividend_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("credit_account_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", BIG_ID, nullable=True),
        sa.CheckConstraint("status IN ('credited','payable','paid')", name=op.f("ck_dividend_lines_status_valid")),
        sa.CheckConstraint("dividend_paise >= 0", name=op.f("ck_dividend_lines_non_negative")),
        sa.ForeignKeyConstraint(["run_id"], ["year_end_runs.id"], name=op.f("fk_dividend_lines_run_id_year_end_runs")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_dividend_lines_member_id_members")),
        sa.ForeignKeyConstraint(
            ["credit_account_id"], ["accounts.id"], name=op.f("fk_dividend_lines_credit_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_dividend_lines_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dividend_lines")),
    )
    op.create_index(op.f("ix_dividend_lines_run_id"), "dividend_lines", ["run_id"], unique=False)
    op.create_index(op.f("ix_dividend_lines_member_id"), "dividend_lines", ["member_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_dividend_lines_member_id"), table_name="dividend_lines")
    op.drop_index(op.f("ix_dividend_lines_run_id"), table_name="dividend_lines")
    op.drop_table("dividend_lines")
    op.drop_index("uq_year_end_runs_fy_closed", table_name="year_end_runs")
    op.drop_index(op.f("ix_year_end_runs_status"), table_name="year_end_runs")
    op.drop_index(op.f("ix_year_end_runs_fy"), table_name="year_end_runs")
    op.drop_table("year_end_runs")
