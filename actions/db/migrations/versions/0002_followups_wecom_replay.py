"""Follow-up outcomes, WeCom identity, used message ids (replay protection).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each step checks what is already there: on SQLite an earlier attempt of this migration could
    # stop half-way (DDL is not transactional there) and leave the visits' columns added.
    inspector = sa.inspect(op.get_bind())
    have = {c["name"] for c in inspector.get_columns("visits")}
    if "follow_up_outcome" not in have:
        with op.batch_alter_table("visits") as batch:
            # follow_up_done stays the open/closed flag; these say how and when it was closed.
            batch.add_column(sa.Column("follow_up_outcome", sa.String(8), nullable=False, server_default=""))
            batch.add_column(sa.Column("follow_up_closed_at", sa.DateTime(), nullable=True))
            batch.add_column(sa.Column("follow_up_note", sa.Text(), nullable=False, server_default=""))
    if "wecom_user_id" not in {c["name"] for c in inspector.get_columns("managers")}:
        with op.batch_alter_table("managers") as batch:
            batch.add_column(sa.Column("wecom_user_id", sa.String(64), nullable=True))
            batch.create_unique_constraint("uq_managers_wecom_user_id", ["wecom_user_id"])
    if inspector.has_table("used_messages"):
        return
    op.create_table(
        "used_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender", sa.String(96), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("sender", "message_id", name="uq_used_messages_sender_message"),
    )
    op.create_index("ix_used_messages_at", "used_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_used_messages_at", table_name="used_messages")
    op.drop_table("used_messages")
    with op.batch_alter_table("managers") as batch:
        batch.drop_constraint("uq_managers_wecom_user_id", type_="unique")
        batch.drop_column("wecom_user_id")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("follow_up_note")
        batch.drop_column("follow_up_closed_at")
        batch.drop_column("follow_up_outcome")
