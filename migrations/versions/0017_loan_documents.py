"""loans: documents filed with a loan application

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DOC_TYPES = (
    "income_proof", "bank_statement", "property_papers", "valuation", "quotation", "sanction_letter", "progress", "other",
)  # fmt: skip


def upgrade():
    op.create_table(
        "loan_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), sa.ForeignKey("loans.id"), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "doc_type IN (" + ",".join(f"'{t}'" for t in DOC_TYPES) + ")", name="ck_loan_documents_doc_type_valid"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("storage_key"),
    )
    op.create_index("ix_loan_documents_loan_id", "loan_documents", ["loan_id"])


def downgrade():
    op.drop_index("ix_loan_documents_loan_id", table_name="loan_documents")
    op.drop_table("loan_documents")
