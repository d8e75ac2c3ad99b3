"""loans: products and rate cards, loans, stored schedules, events, guarantors, collateral, penal charges, classification history, gold rates

Revision ID: 0009
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = (
    "loan_schedule_rows", "loan_guarantors", "loan_events", "loan_collateral", "loan_classifications",
    "loan_charges", "loans", "loan_product_rates", "loan_products", "gold_rates",
)  # fmt: skip


def upgrade():
    op.create_table(
        "gold_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate_22k_paise", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gold_rates")),
        sa.UniqueConstraint("rate_date", name=op.f("uq_gold_rates_rate_date")),
    )
    op.create_table(
        "loan_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("prefix", sa.String(length=4), nullable=False),
        sa.Column("control_gl_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("interest_type", sa.String(length=10), nullable=False),
        sa.Column("floating_rate", sa.Boolean(), nullable=False),
        sa.Column("min_rate_bp", sa.Integer(), nullable=False),
        sa.Column("max_rate_bp", sa.Integer(), nullable=False),
        sa.Column("min_amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("max_amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("min_months", sa.Integer(), nullable=False),
        sa.Column("max_months", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("processing_fee_bp", sa.Integer(), nullable=False),
        sa.Column("gst_bp", sa.Integer(), nullable=False),
        sa.Column("penal_mode", sa.String(length=8), nullable=False),
        sa.Column("penal_rate_bp", sa.Integer(), nullable=False),
        sa.Column("penal_fixed_paise", sa.BigInteger(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("security_type", sa.String(length=10), nullable=False),
        sa.Column("max_ltv_bp", sa.Integer(), nullable=False),
        sa.Column("share_link_bp", sa.Integer(), nullable=False),
        sa.Column("foreclosure_charge_bp", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "frequency IN ('monthly','quarterly','half_yearly')", name=op.f("ck_loan_products_frequency_valid")
        ),
        sa.CheckConstraint("interest_type IN ('reducing','flat')", name=op.f("ck_loan_products_interest_type_valid")),
        sa.CheckConstraint(
            "kind IN ('personal','gold','agri','housing','vehicle','deposit','business')",
            name=op.f("ck_loan_products_kind_valid"),
        ),
        sa.CheckConstraint("penal_mode IN ('percent','fixed')", name=op.f("ck_loan_products_penal_mode_valid")),
        sa.CheckConstraint(
            "security_type IN ('none','gold','deposit','property','vehicle')",
            name=op.f("ck_loan_products_security_valid"),
        ),
        sa.CheckConstraint(
            "min_amount_paise > 0 AND max_amount_paise >= min_amount_paise", name=op.f("ck_loan_products_amount_range")
        ),
        sa.CheckConstraint("min_months > 0 AND max_months >= min_months", name=op.f("ck_loan_products_tenure_range")),
        sa.CheckConstraint("min_rate_bp >= 0 AND max_rate_bp >= min_rate_bp", name=op.f("ck_loan_products_rate_range")),
        sa.ForeignKeyConstraint(
            ["control_gl_id"], ["gl_accounts.id"], name=op.f("fk_loan_products_control_gl_id_gl_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_products")),
        sa.UniqueConstraint("code", name=op.f("uq_loan_products_code")),
        sa.UniqueConstraint("prefix", name=op.f("uq_loan_products_prefix")),
    )
    op.create_table(
        "loan_product_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate_bp >= 0", name=op.f("ck_loan_product_rates_rate_non_negative")),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approval_requests.id"], name=op.f("fk_loan_product_rates_approval_id_approval_requests")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["loan_products.id"], name=op.f("fk_loan_product_rates_product_id_loan_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_product_rates")),
    )
    with op.batch_alter_table("loan_product_rates", schema=None) as batch_op:
        batch_op.create_index("ix_loan_product_rates_product_from", ["product_id", "effective_from"], unique=False)

    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_no", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("si_account_id", sa.Integer(), nullable=True),
        sa.Column("principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("interest_type", sa.String(length=10), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("secured", sa.Boolean(), nullable=False),
        sa.Column("emi_paise", sa.BigInteger(), nullable=True),
        sa.Column("processing_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("sanctioned_on", sa.Date(), nullable=True),
        sa.Column("disbursed_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("asset_class", sa.String(length=12), nullable=False),
        sa.Column("npa_since", sa.Date(), nullable=True),
        sa.Column("loss_marked", sa.Boolean(), nullable=False),
        sa.Column("provision_paise", sa.BigInteger(), nullable=False),
        sa.Column("schedule_version", sa.Integer(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=True),
        sa.Column("remarks", sa.String(length=255), nullable=True),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("appraised_by_id", sa.Integer(), nullable=True),
        sa.Column("sanctioned_by_id", sa.Integer(), nullable=True),
        sa.Column("disbursed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "asset_class IN ('standard','sma0','sma1','sma2','substandard','d1','d2','d3','loss')",
            name=op.f("ck_loans_asset_class_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('applied','appraised','sanctioned','rejected','disbursed','active','closed','foreclosed','written_off')",
            name=op.f("ck_loans_status_valid"),
        ),
        sa.CheckConstraint("dpd >= 0", name=op.f("ck_loans_dpd_non_negative")),
        sa.CheckConstraint("principal_paise > 0 AND months > 0 AND rate_bp >= 0", name=op.f("ck_loans_terms_positive")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_loans_account_id_accounts")),
        sa.ForeignKeyConstraint(["applied_by_id"], ["staff_users.id"], name=op.f("fk_loans_applied_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["appraised_by_id"], ["staff_users.id"], name=op.f("fk_loans_appraised_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["disbursed_by_id"], ["staff_users.id"], name=op.f("fk_loans_disbursed_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_loans_member_id_members")),
        sa.ForeignKeyConstraint(["product_id"], ["loan_products.id"], name=op.f("fk_loans_product_id_loan_products")),
        sa.ForeignKeyConstraint(
            ["sanctioned_by_id"], ["staff_users.id"], name=op.f("fk_loans_sanctioned_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(["si_account_id"], ["accounts.id"], name=op.f("fk_loans_si_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("account_id", name=op.f("uq_loans_account_id")),
        sa.UniqueConstraint("loan_no", name=op.f("uq_loans_loan_no")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loans_product_id"), ["product_id"], unique=False)
        batch_op.create_index("ix_loans_status_class", ["status", "asset_class"], unique=False)

    op.create_table(
        "loan_charges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("charge_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("base_paise", sa.BigInteger(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("paid_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_loan_charges_amount_positive")),
        sa.CheckConstraint(
            "paid_paise >= 0 AND paid_paise <= amount_paise", name=op.f("ck_loan_charges_paid_le_amount")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_charges_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_charges")),
        sa.UniqueConstraint("loan_id", "charge_date", "kind", name="uq_loan_charges_loan_date_kind"),
    )
    with op.batch_alter_table("loan_charges", schema=None) as batch_op:
        batch_op.create_index("ix_loan_charges_loan_open", ["loan_id", "status"], unique=False)
        batch_op.create_index("ix_loan_charges_date", ["charge_date"], unique=False)

    op.create_table(
        "loan_classifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("from_class", sa.String(length=12), nullable=False),
        sa.Column("to_class", sa.String(length=12), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_classifications_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_classifications")),
    )
    with op.batch_alter_table("loan_classifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_classifications_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_collateral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("gross_weight_mg", sa.Integer(), nullable=True),
        sa.Column("net_weight_mg", sa.Integer(), nullable=True),
        sa.Column("purity_carat", sa.Integer(), nullable=True),
        sa.Column("rate_per_gram_paise", sa.BigInteger(), nullable=True),
        sa.Column("value_paise", sa.BigInteger(), nullable=False),
        sa.Column("deposit_account_id", sa.Integer(), nullable=True),
        sa.Column("lien_paise", sa.BigInteger(), nullable=True),
        sa.Column("lien_active", sa.Boolean(), nullable=False),
        sa.Column("ownership_declared", sa.Boolean(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('gold','deposit','property','vehicle')", name=op.f("ck_loan_collateral_kind_valid")
        ),
        sa.CheckConstraint("lien_paise IS NULL OR lien_paise >= 0", name=op.f("ck_loan_collateral_lien_non_negative")),
        sa.CheckConstraint(
            "net_weight_mg IS NULL OR net_weight_mg <= gross_weight_mg", name=op.f("ck_loan_collateral_net_le_gross")
        ),
        sa.ForeignKeyConstraint(
            ["deposit_account_id"], ["accounts.id"], name=op.f("fk_loan_collateral_deposit_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_collateral_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_collateral")),
    )
    with op.batch_alter_table("loan_collateral", schema=None) as batch_op:
        batch_op.create_index("ix_loan_collateral_deposit_active", ["deposit_account_id", "lien_active"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_collateral_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=True),
        sa.Column("amount_paise", sa.BigInteger(), nullable=True),
        sa.Column("remarks", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("business_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["staff_users.id"], name=op.f("fk_loan_events_actor_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_loan_events_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_events_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_events")),
    )
    with op.batch_alter_table("loan_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_events_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "loan_guarantors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_guarantors_loan_id_loans")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_loan_guarantors_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_guarantors")),
        sa.UniqueConstraint("loan_id", "member_id", name="uq_loan_guarantors_loan_member"),
    )
    with op.batch_alter_table("loan_guarantors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loan_guarantors_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_guarantors_member_id"), ["member_id"], unique=False)

    op.create_table(
        "loan_schedule_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("installment", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("opening_principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("interest_paise", sa.BigInteger(), nullable=False),
        sa.Column("emi_paise", sa.BigInteger(), nullable=False),
        sa.Column("closing_principal_paise", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid_paise", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("interest_accrued_on", sa.Date(), nullable=True),
        sa.Column("accrued_to", sa.String(length=8), nullable=True),
        sa.CheckConstraint(
            "accrued_to IS NULL OR accrued_to IN ('income','suspense')",
            name=op.f("ck_loan_schedule_rows_accrued_to_valid"),
        ),
        sa.CheckConstraint("status IN ('due','partial','paid')", name=op.f("ck_loan_schedule_rows_status_valid")),
        sa.CheckConstraint(
            "closing_principal_paise = opening_principal_paise - principal_paise",
            name=op.f("ck_loan_schedule_rows_closing_sum"),
        ),
        sa.CheckConstraint("emi_paise = principal_paise + interest_paise", name=op.f("ck_loan_schedule_rows_emi_sum")),
        sa.CheckConstraint(
            "interest_paid_paise >= 0 AND interest_paid_paise <= interest_paise",
            name=op.f("ck_loan_schedule_rows_interest_paid_le_due"),
        ),
        sa.CheckConstraint(
            "principal_paid_paise >= 0 AND principal_paid_paise <= principal_paise",
            name=op.f("ck_loan_schedule_rows_principal_paid_le_due"),
        ),
        sa.CheckConstraint(
            "principal_paise >= 0 AND interest_paise >= 0", name=op.f("ck_loan_schedule_rows_amounts_non_negative")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_schedule_rows_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_schedule_rows")),
        sa.UniqueConstraint("loan_id", "version", "installment", name="uq_loan_schedule_rows_loan_version_no"),
    )
    with op.batch_alter_table("loan_schedule_rows", schema=None) as batch_op:
        batch_op.create_index("ix_loan_schedule_rows_due", ["due_date", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_loan_schedule_rows_loan_id"), ["loan_id"], unique=False)

    # ### end Alembic commands ###


def downgrade():
    for table in TABLES:
        op.drop_table(table)
