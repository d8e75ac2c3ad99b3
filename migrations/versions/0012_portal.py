"""portal: member sessions (devices), member preferences, statement PDFs made by a job;
approval requests a member makes (no staff maker)

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["login_id"], ["member_logins.id"], name=op.f("fk_member_sessions_login_id_member_logins")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_member_sessions_token_hash")),
    )
    op.create_index(op.f("ix_member_sessions_login_id"), "member_sessions", ["login_id"], unique=False)
    op.create_table(
        "member_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_preferences_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_preferences")),
        sa.UniqueConstraint("member_id", name=op.f("uq_member_preferences_member_id")),
    )
    op.create_table(
        "statement_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_member_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued','running','ready','failed')", name=op.f("ck_statement_files_status_valid")
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_statement_files_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["requested_by_member_id"], ["members.id"], name=op.f("fk_statement_files_requested_by_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_statement_files_requested_by_staff_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_files")),
        sa.UniqueConstraint("token", name=op.f("uq_statement_files_token")),
    )
    op.create_index(op.f("ix_statement_files_account_id"), "statement_files", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_statement_files_requested_by_member_id"), "statement_files", ["requested_by_member_id"], unique=False
    )
    # A member's request from the portal (a nominee change) has no staff maker.
    with op.batch_alter_table("approval_requests") as batch:
        batch.alter_column("maker_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    with op.batch_alter_table("approval_requests") as batch:
        batch.alter_column("maker_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_statement_files_requested_by_member_id"), table_name="statement_files")
    op.drop_index(op.f("ix_statement_files_account_id"), table_name="statement_files")
    op.drop_table("statement_files")
    op.drop_table("member_preferences")
    op.drop_index(op.f("ix_member_sessions_login_id"), table_name="member_sessions")
    op.drop_table("member_sessions")
