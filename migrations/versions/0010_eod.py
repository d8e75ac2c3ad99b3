"""eod: day-end runs, steps, chunks and the holiday calendar

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "eod_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("current_step", sa.String(length=60), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running','done','failed')", name=op.f("ck_eod_runs_status_valid")),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["staff_users.id"], name=op.f("fk_eod_runs_started_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eod_runs")),
    )
    op.create_index("ix_eod_runs_date", "eod_runs", ["business_date"], unique=False)
    op.create_table(
        "eod_step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("chunks_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','running','done','failed','skipped')", name=op.f("ck_eod_step_runs_status_valid")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["eod_runs.id"], name=op.f("fk_eod_step_runs_run_id_eod_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eod_step_runs")),
        sa.UniqueConstraint("business_date", "step", name="uq_eod_step_runs_date_step"),
    )
    op.create_table(
        "eod_chunks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_run_id", sa.Integer(), nullable=False),
        sa.Column("lo", sa.BigInteger(), nullable=False),
        sa.Column("hi", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("lo <= hi", name=op.f("ck_eod_chunks_range_valid")),
        sa.CheckConstraint("status IN ('pending','done','failed')", name=op.f("ck_eod_chunks_status_valid")),
        sa.ForeignKeyConstraint(
            ["step_run_id"],
            ["eod_step_runs.id"],
            name=op.f("fk_eod_chunks_step_run_id_eod_step_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eod_chunks")),
        sa.UniqueConstraint("step_run_id", "lo", name="uq_eod_chunks_step_lo"),
    )
    op.create_index(op.f("ix_eod_chunks_step_run_id"), "eod_chunks", ["step_run_id"], unique=False)
    op.create_table(
        "holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holiday_date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holidays")),
        sa.UniqueConstraint("holiday_date", name=op.f("uq_holidays_holiday_date")),
    )


def downgrade():
    op.drop_table("holidays")
    op.drop_index(op.f("ix_eod_chunks_step_run_id"), table_name="eod_chunks")
    op.drop_table("eod_chunks")
    op.drop_table("eod_step_runs")
    op.drop_index("ix_eod_runs_date", table_name="eod_runs")
    op.drop_table("eod_runs")
