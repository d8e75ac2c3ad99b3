"""payments: Razorpay orders, payment events, payouts and beneficiaries

Revision ID: 0015
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "beneficiaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("account_number", sa.String(length=18), nullable=True),
        sa.Column("ifsc", sa.String(length=11), nullable=True),
        sa.Column("vpa", sa.String(length=100), nullable=True),
        sa.Column("cooling_until", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_beneficiaries_member_id", "beneficiaries", ["member_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("gateway", sa.String(length=20), nullable=False),
        sa.Column("gateway_order_id", sa.String(length=40), nullable=True),
        sa.Column("gateway_payment_id", sa.String(length=40), nullable=True),
        sa.Column("received_paise", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", BIG_ID, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("refund_entry_id", BIG_ID, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("amount_paise > 0", name="ck_payments_amount_positive"),
        sa.CheckConstraint(
            "status IN ('created', 'paid', 'failed', 'refunded', 'mismatch')", name="ck_payments_status"
        ),
        sa.CheckConstraint("purpose IN ('emi', 'deposit', 'rd')", name="ck_payments_purpose"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payment_id"),
        sa.UniqueConstraint("gateway_order_id"),
    )
    op.create_index("ix_payments_member_id", "payments", ["member_id"])
    op.create_index("ix_payments_status", "payments", ["status"])
    op.create_index("ix_payments_gateway_payment_id", "payments", ["gateway_payment_id"])
    op.create_table(
        "payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), sa.ForeignKey("beneficiaries.id"), nullable=True),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("beneficiary", sa.JSON(), nullable=False),
        sa.Column("narration", sa.String(length=120), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("utr", sa.String(length=40), nullable=True),
        sa.Column("gateway_key", sa.String(length=64), nullable=False),
        sa.Column("gateway_payout_id", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("entry_id", BIG_ID, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("return_entry_id", BIG_ID, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("approval_id", sa.Integer(), sa.ForeignKey("approval_requests.id"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("amount_paise > 0", name="ck_payouts_amount_positive"),
        sa.CheckConstraint(
            "status IN ('queued', 'pending_approval', 'processing', 'processed', 'reversed', 'failed')",
            name="ck_payouts_status",
        ),
        sa.CheckConstraint("mode IN ('NEFT', 'IMPS', 'UPI', 'RTGS')", name="ck_payouts_mode"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payout_id"),
        sa.UniqueConstraint("gateway_key"),
        sa.UniqueConstraint("gateway_payout_id"),
    )
    op.create_index("ix_payouts_member_id", "payouts", ["member_id"])
    op.create_index("ix_payouts_status", "payouts", ["status"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("payout_id", sa.Integer(), sa.ForeignKey("payouts.id"), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("needs_attention", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_payment_events_payment_id", "payment_events", ["payment_id"])
    op.create_index("ix_payment_events_payout_id", "payment_events", ["payout_id"])


def downgrade():
    op.drop_table("payment_events")
    op.drop_table("payouts")
    op.drop_table("payments")
    op.drop_table("beneficiaries")
