"""counter: teller cash drawers and the cash transaction register

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "teller_drawers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opening_float_paise", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("denominations", sa.JSON(), nullable=True),
        sa.Column("expected_paise", sa.BigInteger(), nullable=True),
        sa.Column("counted_paise", sa.BigInteger(), nullable=True),
        sa.Column("difference_paise", sa.BigInteger(), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_request_id", sa.Integer(), nullable=True),
        sa.Column("close_entry_id", BIG_ID, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open','closing','closed')", name=op.f("ck_teller_drawers_status_valid")),
        sa.CheckConstraint("opening_float_paise >= 0", name=op.f("ck_teller_drawers_float_non_negative")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_teller_drawers_account_id_accounts")),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_teller_drawers_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["cashier_id"], ["staff_users.id"], name=op.f("fk_teller_drawers_cashier_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["close_entry_id"], ["journal_entries.id"], name=op.f("fk_teller_drawers_close_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["close_request_id"],
            ["approval_requests.id"],
            name=op.f("fk_teller_drawers_close_request_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff_users.id"], name=op.f("fk_teller_drawers_closed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teller_drawers")),
        sa.UniqueConstraint("account_id", name=op.f("uq_teller_drawers_account_id")),
        sa.UniqueConstraint("cashier_id", "business_date", name="uq_teller_drawers_cashier_date"),
    )
    op.create_index(op.f("ix_teller_drawers_business_date"), "teller_drawers", ["business_date"], unique=False)
    op.create_index(op.f("ix_teller_drawers_cashier_id"), "teller_drawers", ["cashier_id"], unique=False)
    op.create_index(op.f("ix_teller_drawers_status"), "teller_drawers", ["status"], unique=False)

    op.create_table(
        "cash_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", BIG_ID, nullable=False),
        sa.Column("drawer_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_paise", sa.BigInteger(), nullable=False),
        sa.Column("id_proof", sa.String(length=10), nullable=False),
        sa.Column("form60_ref", sa.String(length=40), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('in','out')", name=op.f("ck_cash_transactions_direction_valid")),
        sa.CheckConstraint("id_proof IN ('pan','form60','none')", name=op.f("ck_cash_transactions_id_proof_valid")),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_cash_transactions_amount_positive")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_cash_transactions_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff_users.id"], name=op.f("fk_cash_transactions_approved_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["cashier_id"], ["staff_users.id"], name=op.f("fk_cash_transactions_cashier_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["drawer_id"], ["teller_drawers.id"], name=op.f("fk_cash_transactions_drawer_id_teller_drawers")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_cash_transactions_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_cash_transactions_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_transactions")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_cash_transactions_entry_id")),
    )
    op.create_index(op.f("ix_cash_transactions_account_id"), "cash_transactions", ["account_id"], unique=False)
    op.create_index(op.f("ix_cash_transactions_business_date"), "cash_transactions", ["business_date"], unique=False)
    op.create_index(op.f("ix_cash_transactions_drawer_id"), "cash_transactions", ["drawer_id"], unique=False)
    op.create_index(
        "ix_cash_transactions_member_date", "cash_transactions", ["member_id", "business_date"], unique=False
    )


def downgrade():
    op.drop_index("ix_cash_transactions_member_date", table_name="cash_transactions")
    op.drop_index(op.f("ix_cash_transactions_drawer_id"), table_name="cash_transactions")
    op.drop_index(op.f("ix_cash_transactions_business_date"), table_name="cash_transactions")
    op.drop_index(op.f("ix_cash_transactions_account_id"), table_name="cash_transactions")
    op.drop_table("cash_transactions")
    op.drop_index(op.f("ix_teller_drawers_status"), table_name="teller_drawers")
    op.drop_index(op.f("ix_teller_drawers_cashier_id"), table_name="teller_drawers")
    op.drop_index(op.f("ix_teller_drawers_business_date"), table_name="teller_drawers")
    op.drop_table("teller_drawers")
