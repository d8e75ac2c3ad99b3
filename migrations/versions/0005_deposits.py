"""deposits: products, rate cards, deposit accounts, SB daily products and rate segments, RD instalments, TDS

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deposit_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('savings','fd','rd')", name=op.f("ck_deposit_products_kind_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_products")),
        sa.UniqueConstraint("code", name=op.f("uq_deposit_products_code")),
        sa.UniqueConstraint("prefix", name=op.f("uq_deposit_products_prefix")),
    )
    op.create_index(op.f("ix_deposit_products_kind"), "deposit_products", ["kind"], unique=False)
    op.create_table(
        "deposit_product_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("max_days", sa.Integer(), nullable=True),
        sa.Column("min_months", sa.Integer(), nullable=True),
        sa.Column("max_months", sa.Integer(), nullable=True),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("senior_extra_bp", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rate_bp >= 0 AND senior_extra_bp >= 0", name=op.f("ck_deposit_product_rates_rates_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approval_requests.id"],
            name=op.f("fk_deposit_product_rates_approval_id_approval_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["deposit_products.id"], name=op.f("fk_deposit_product_rates_product_id_deposit_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_product_rates")),
    )
    op.create_index(
        "ix_deposit_product_rates_product_from", "deposit_product_rates", ["product_id", "effective_from"], unique=False
    )
    op.create_table(
        "tds_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("fy", sa.String(length=7), nullable=False),
        sa.Column("form", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("estimated_income_paise", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("form IN ('15G','15H')", name=op.f("ck_tds_forms_form_valid")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_tds_forms_member_id_members")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff_users.id"], name=op.f("fk_tds_forms_recorded_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_forms")),
        sa.UniqueConstraint("member_id", "fy", name="uq_tds_forms_member_fy"),
    )
    op.create_index(op.f("ix_tds_forms_fy"), "tds_forms", ["fy"], unique=False)
    op.create_table(
        "deposit_account_holders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_deposit_account_holders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_deposit_account_holders_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_account_holders")),
        sa.UniqueConstraint("account_id", "member_id", name="uq_deposit_account_holders_account_member"),
    )
    op.create_index(
        op.f("ix_deposit_account_holders_account_id"), "deposit_account_holders", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_deposit_account_holders_member_id"), "deposit_account_holders", ["member_id"], unique=False
    )
    op.create_table(
        "deposit_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("nominee_id", sa.Integer(), nullable=True),
        sa.Column("rate_bp", sa.Integer(), nullable=True),
        sa.Column("senior", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("maturity_date", sa.Date(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("expected_interest_paise", sa.BigInteger(), nullable=True),
        sa.Column("payout", sa.String(length=12), nullable=True),
        sa.Column("maturity_action", sa.String(length=12), nullable=True),
        sa.Column("payout_account_id", sa.Integer(), nullable=True),
        sa.Column("installment_paise", sa.BigInteger(), nullable=True),
        sa.Column("due_day", sa.Integer(), nullable=True),
        sa.Column("si_account_id", sa.Integer(), nullable=True),
        sa.Column("accrued_paise", sa.BigInteger(), nullable=False),
        sa.Column("accrued_through", sa.Date(), nullable=True),
        sa.Column("interest_paid_paise", sa.BigInteger(), nullable=False),
        sa.Column("last_payout_date", sa.Date(), nullable=True),
        sa.Column("matured_on", sa.Date(), nullable=True),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('savings','fd','rd')", name=op.f("ck_deposit_accounts_kind_valid")),
        sa.CheckConstraint(
            "maturity_action IS NULL OR maturity_action IN ('credit_sb','auto_renew')",
            name=op.f("ck_deposit_accounts_maturity_action_valid"),
        ),
        sa.CheckConstraint(
            "payout IS NULL OR payout IN ('cumulative','monthly','quarterly')",
            name=op.f("ck_deposit_accounts_payout_valid"),
        ),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_deposit_accounts_account_id_accounts")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_deposit_accounts_member_id_members")),
        sa.ForeignKeyConstraint(
            ["nominee_id"], ["member_nominees.id"], name=op.f("fk_deposit_accounts_nominee_id_member_nominees")
        ),
        sa.ForeignKeyConstraint(
            ["payout_account_id"], ["accounts.id"], name=op.f("fk_deposit_accounts_payout_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["deposit_products.id"], name=op.f("fk_deposit_accounts_product_id_deposit_products")
        ),
        sa.ForeignKeyConstraint(
            ["si_account_id"], ["accounts.id"], name=op.f("fk_deposit_accounts_si_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_accounts")),
        sa.UniqueConstraint("account_id", name=op.f("uq_deposit_accounts_account_id")),
    )
    op.create_index(op.f("ix_deposit_accounts_kind"), "deposit_accounts", ["kind"], unique=False)
    op.create_index(op.f("ix_deposit_accounts_maturity_date"), "deposit_accounts", ["maturity_date"], unique=False)
    op.create_index(op.f("ix_deposit_accounts_member_id"), "deposit_accounts", ["member_id"], unique=False)
    op.create_index(op.f("ix_deposit_accounts_product_id"), "deposit_accounts", ["product_id"], unique=False)
    op.create_table(
        "rd_installments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_month", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint("status IN ('due','overdue','paid')", name=op.f("ck_rd_installments_status_valid")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_rd_installments_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_rd_installments_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["fee_entry_id"], ["journal_entries.id"], name=op.f("fk_rd_installments_fee_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rd_installments")),
        sa.UniqueConstraint("account_id", "seq", name="uq_rd_installments_account_seq"),
    )
    op.create_index("ix_rd_installments_status_due", "rd_installments", ["status", "due_date"], unique=False)
    op.create_table(
        "sb_daily_products",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=True),
        sa.Column("product_paise", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("last_product_date", sa.Date(), nullable=True),
        sa.Column("interest_through", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sb_daily_products_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["deposit_products.id"], name=op.f("fk_sb_daily_products_product_id_deposit_products")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sb_daily_products")),
    )
    op.create_table(
        "sb_product_segments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("product_paise", sa.BigInteger(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("credited_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sb_product_segments_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sb_product_segments")),
    )
    op.create_index(op.f("ix_sb_product_segments_account_id"), "sb_product_segments", ["account_id"], unique=False)
    op.create_table(
        "tds_deductions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("fy", sa.String(length=7), nullable=False),
        sa.Column("credited_on", sa.Date(), nullable=False),
        sa.Column("interest_paise", sa.BigInteger(), nullable=False),
        sa.Column("tds_paise", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("senior", sa.Boolean(), nullable=False),
        sa.Column("pan", sa.String(length=10), nullable=True),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("tds_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("interest_paise >= 0 AND tds_paise >= 0", name=op.f("ck_tds_deductions_non_negative")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_tds_deductions_account_id_accounts")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_tds_deductions_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_tds_deductions_member_id_members")),
        sa.ForeignKeyConstraint(
            ["tds_entry_id"], ["journal_entries.id"], name=op.f("fk_tds_deductions_tds_entry_id_journal_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tds_deductions")),
    )
    op.create_index(op.f("ix_tds_deductions_account_id"), "tds_deductions", ["account_id"], unique=False)
    op.create_index(op.f("ix_tds_deductions_credited_on"), "tds_deductions", ["credited_on"], unique=False)
    op.create_index("ix_tds_deductions_member_fy", "tds_deductions", ["member_id", "fy"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The day-end rewrites every row of sb_daily_products once a day; free space on each
        # page lets PostgreSQL update in place (HOT) instead of touching the index.
        op.execute("ALTER TABLE sb_daily_products SET (fillfactor = 50)")


def downgrade():
    op.drop_index("ix_tds_deductions_member_fy", table_name="tds_deductions")
    op.drop_index(op.f("ix_tds_deductions_credited_on"), table_name="tds_deductions")
    op.drop_index(op.f("ix_tds_deductions_account_id"), table_name="tds_deductions")
    op.drop_table("tds_deductions")
    op.drop_index(op.f("ix_sb_product_segments_account_id"), table_name="sb_product_segments")
    op.drop_table("sb_product_segments")
    op.drop_table("sb_daily_products")
    op.drop_index("ix_rd_installments_status_due", table_name="rd_installments")
    op.drop_table("rd_installments")
    op.drop_index(op.f("ix_deposit_accounts_product_id"), table_name="deposit_accounts")
    op.drop_index(op.f("ix_deposit_accounts_member_id"), table_name="deposit_accounts")
    op.drop_index(op.f("ix_deposit_accounts_maturity_date"), table_name="deposit_accounts")
    op.drop_index(op.f("ix_deposit_accounts_kind"), table_name="deposit_accounts")
    op.drop_table("deposit_accounts")
    op.drop_index(op.f("ix_deposit_account_holders_member_id"), table_name="deposit_account_holders")
    op.drop_index(op.f("ix_deposit_account_holders_account_id"), table_name="deposit_account_holders")
    op.drop_table("deposit_account_holders")
    op.drop_index(op.f("ix_tds_forms_fy"), table_name="tds_forms")
    op.drop_table("tds_forms")
    op.drop_index("ix_deposit_product_rates_product_from", table_name="deposit_product_rates")
    op.drop_table("deposit_product_rates")
    op.drop_index(op.f("ix_deposit_products_kind"), table_name="deposit_products")
    op.drop_table("deposit_products")
