"""Every visit has a stable key (visits.dedupe_key NOT NULL), so an export re-imports as a no-op.

Visits written before this (the demo data set's) get a random "v:<uuid>" key: random, so a key
exported from one database never names a different visit in another.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    visits = sa.table("visits", sa.column("id", sa.Integer), sa.column("dedupe_key", sa.String))
    ids = conn.execute(sa.select(visits.c.id).where(visits.c.dedupe_key.is_(None))).scalars().all()
    for visit_id in ids:
        conn.execute(visits.update().where(visits.c.id == visit_id).values(dedupe_key="v:" + uuid.uuid4().hex))
    with op.batch_alter_table("visits") as batch:
        batch.alter_column("dedupe_key", existing_type=sa.String(64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.alter_column("dedupe_key", existing_type=sa.String(64), nullable=True)
