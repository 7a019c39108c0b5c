"""Initial CRM schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "managers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("telegram_user_id", sa.String(32), nullable=True, unique=True),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("industry", sa.String(32), nullable=False),
        sa.Column("importance", sa.String(8), nullable=False),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("managers.id"), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("competitors", sa.Text(), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_customers_manager_id", "customers", ["manager_id"])
    op.create_table(
        "billing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.UniqueConstraint("customer_id", "month", name="uq_billing_customer_month"),
    )
    op.create_index("ix_billing_month", "billing", ["month"])
    for table, extra in (
        (
            "subscriptions",
            [
                sa.Column("product", sa.String(32), nullable=False),
                sa.Column("quantity", sa.Integer(), nullable=False),
                sa.Column("monthly_fee", sa.Numeric(14, 2), nullable=False),
                sa.Column("start", sa.Date(), nullable=True),
                sa.Column("end", sa.Date(), nullable=True),
            ],
        ),
        (
            "contacts",
            [
                sa.Column("name", sa.String(64), nullable=False),
                sa.Column("title", sa.String(64), nullable=False),
                sa.Column("role", sa.String(16), nullable=False),
                sa.Column("phone", sa.String(32), nullable=False),
            ],
        ),
        (
            "tickets",
            [
                sa.Column("opened", sa.DateTime(), nullable=False),
                sa.Column("kind", sa.String(8), nullable=False),
                sa.Column("status", sa.String(8), nullable=False),
                sa.Column("summary", sa.Text(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                "customer_id",
                sa.Integer(),
                sa.ForeignKey("customers.id", ondelete="CASCADE"),
                nullable=False,
            ),
            *extra,
        )
        op.create_index(f"ix_{table}_customer_id", table, ["customer_id"])
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("manager_id", sa.Integer(), sa.ForeignKey("managers.id"), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("people", sa.Text(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.Column("follow_up_done", sa.Boolean(), nullable=False),
        sa.Column("dedupe_key", sa.String(64), nullable=True, unique=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_visits_customer_id", "visits", ["customer_id"])
    op.create_index("ix_visits_manager_id", "visits", ["manager_id"])
    op.create_index("ix_visits_follow_up", "visits", ["follow_up"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_customer_id", "audit_log", ["customer_id"])
    op.create_table(
        "bind_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column(
            "manager_id",
            sa.Integer(),
            sa.ForeignKey("managers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    for table in (
        "bind_codes",
        "audit_log",
        "visits",
        "tickets",
        "contacts",
        "subscriptions",
        "billing",
        "customers",
        "managers",
    ):
        op.drop_table(table)
