"""payments: the staff remark on a resolved payment event

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("resolution", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("payment_events") as batch:
        batch.drop_column("resolution")
