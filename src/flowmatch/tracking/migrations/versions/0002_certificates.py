"""Certificate database (证照数据库, issue 16): certificates held per 统一社会信用代码.

Revision ID: 0002_certificates
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_certificates"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("material", sa.String(64), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("issuer", sa.String(64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("case_number", sa.String(32), nullable=True),
        sa.Column("step", sa.String(64), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("material", "number", name="uq_certificates_material_number"),
    )
    op.create_index("ix_certificates_credit_code", "certificates", ["credit_code"])


def downgrade() -> None:
    op.drop_index("ix_certificates_credit_code", table_name="certificates")
    op.drop_table("certificates")
