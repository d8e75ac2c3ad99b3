"""members: members, KYC documents, nominees, status history, shares, portal logins and OTPs, outbox, counters

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_no", sa.String(length=20), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("father_or_spouse_name", sa.String(length=120), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("mobile", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("address_line", sa.String(length=255), nullable=False),
        sa.Column("village_town", sa.String(length=120), nullable=False),
        sa.Column("district", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("pin", sa.String(length=6), nullable=False),
        sa.Column("occupation", sa.String(length=120), nullable=True),
        sa.Column("member_type", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("aadhaar_enc", sa.Text(), nullable=True),
        sa.Column("aadhaar_hash", sa.String(length=64), nullable=True),
        sa.Column("aadhaar_last4", sa.String(length=4), nullable=True),
        sa.Column("pan", sa.String(length=10), nullable=True),
        sa.Column("form60_on_file", sa.Boolean(), nullable=False),
        sa.Column("guardian_name", sa.String(length=120), nullable=True),
        sa.Column("guardian_relation", sa.String(length=40), nullable=True),
        sa.Column("kyc_status", sa.String(length=10), nullable=False),
        sa.Column("kyc_risk", sa.String(length=10), nullable=False),
        sa.Column("kyc_submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("kyc_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kyc_approved_by_id", sa.Integer(), nullable=True),
        sa.Column("kyc_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kyc_rejection_reason", sa.String(length=255), nullable=True),
        sa.Column("rekyc_due_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("self_registered", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kyc_status IN ('pending','submitted','approved','rejected')", name=op.f("ck_members_kyc_status_valid")
        ),
        sa.CheckConstraint(
            "status IN ('applicant','active','inactive','deceased','expelled','resigned')",
            name=op.f("ck_members_status_valid"),
        ),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_members_branch_id_branches")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_users.id"], name=op.f("fk_members_created_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["kyc_approved_by_id"], ["staff_users.id"], name=op.f("fk_members_kyc_approved_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["kyc_submitted_by_id"], ["staff_users.id"], name=op.f("fk_members_kyc_submitted_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("aadhaar_hash", name=op.f("uq_members_aadhaar_hash")),
        sa.UniqueConstraint("member_no", name=op.f("uq_members_member_no")),
        sa.UniqueConstraint("pan", name=op.f("uq_members_pan")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_kyc_status"), ["kyc_status"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_mobile"), ["mobile"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_rekyc_due_on"), ["rekyc_due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_status"), ["status"], unique=False)

    op.create_table(
        "kyc_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rejection_reason", sa.String(length=255), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_kyc_documents_member_id_members")),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["staff_users.id"], name=op.f("fk_kyc_documents_reviewed_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["staff_users.id"], name=op.f("fk_kyc_documents_uploaded_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyc_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_kyc_documents_storage_key")),
    )
    with op.batch_alter_table("kyc_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kyc_documents_member_id"), ["member_id"], unique=False)

    op.create_table(
        "member_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("mobile", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_logins_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_logins")),
        sa.UniqueConstraint("member_id", name=op.f("uq_member_logins_member_id")),
        sa.UniqueConstraint("mobile", name=op.f("uq_member_logins_mobile")),
    )
    op.create_table(
        "member_otps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["login_id"], ["member_logins.id"], name=op.f("fk_member_otps_login_id_member_logins")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_otps")),
    )
    with op.batch_alter_table("member_otps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_otps_login_id"), ["login_id"], unique=False)

    op.create_table(
        "member_nominees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("relationship", sa.String(length=40), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.Column("guardian_name", sa.String(length=120), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000", name=op.f("ck_member_nominees_share_range")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_nominees_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_nominees")),
    )
    with op.batch_alter_table("member_nominees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_nominees_member_id"), ["member_id"], unique=False)

    op.create_table(
        "member_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=True),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["staff_users.id"], name=op.f("fk_member_status_changes_changed_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_status_changes_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_status_changes")),
    )
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_status_changes_member_id"), ["member_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_notifications_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_status"), ["status"], unique=False)

    op.create_table(
        "share_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("first_share_no", sa.BigInteger(), nullable=False),
        sa.Column("last_share_no", sa.BigInteger(), nullable=False),
        sa.Column("face_value_paise", sa.BigInteger(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source_certificate_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_share_certificates_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["source_certificate_id"],
            ["share_certificates.id"],
            name=op.f("fk_share_certificates_source_certificate_id_share_certificates"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_share_certificates_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_share_certificates_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_certificates")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_share_certificates_certificate_no")),
    )
    with op.batch_alter_table("share_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_certificates_member_id"), ["member_id"], unique=False)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f("fk_accounts_member_id_members"), "members", ["member_id"], ["id"])


def downgrade():
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_accounts_member_id_members"), type_="foreignkey")

    with op.batch_alter_table("share_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_certificates_member_id"))

    op.drop_table("share_certificates")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_status"))
        batch_op.drop_index(batch_op.f("ix_notifications_recipient"))

    op.drop_table("notifications")
    with op.batch_alter_table("member_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_status_changes_member_id"))

    op.drop_table("member_status_changes")
    with op.batch_alter_table("member_nominees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_nominees_member_id"))

    op.drop_table("member_nominees")
    with op.batch_alter_table("member_otps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_otps_login_id"))

    op.drop_table("member_otps")
    op.drop_table("member_logins")
    with op.batch_alter_table("kyc_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyc_documents_member_id"))

    op.drop_table("kyc_documents")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_status"))
        batch_op.drop_index(batch_op.f("ix_members_rekyc_due_on"))
        batch_op.drop_index(batch_op.f("ix_members_name"))
        batch_op.drop_index(batch_op.f("ix_members_mobile"))
        batch_op.drop_index(batch_op.f("ix_members_kyc_status"))

    op.drop_table("members")
    op.drop_table("counters")
