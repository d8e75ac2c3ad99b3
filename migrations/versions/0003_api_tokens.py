"""api_tokens: rotating refresh tokens and idempotency records for the JSON API

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_refresh_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["api_refresh_tokens.id"],
            name=op.f("fk_api_refresh_tokens_parent_id_api_refresh_tokens"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("api_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_refresh_tokens_family_id"), ["family_id"], unique=False)
        batch_op.create_index("ix_api_refresh_tokens_subject", ["subject_kind", "subject_id"], unique=False)

    op.create_table(
        "api_idempotency_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_records")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_api_idempotency_records_scope")),
    )
    with op.batch_alter_table("api_idempotency_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_idempotency_records_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("api_idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_idempotency_records_created_at"))

    op.drop_table("api_idempotency_records")
    with op.batch_alter_table("api_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_api_refresh_tokens_subject")
        batch_op.drop_index(batch_op.f("ix_api_refresh_tokens_family_id"))

    op.drop_table("api_refresh_tokens")
