"""Alembic environment: the URL comes from the Config object built in actions.db.migrate."""

from alembic import context
from sqlalchemy import pool

from actions.db.models import Base
from actions.db.session import get_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = get_engine(url)
    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode copies a table and drops the old one; with foreign keys on, dropping
            # `managers` (referenced by customers) fails once there is data. Off for the migration
            # (it must be set outside a transaction), checked afterwards, on again.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for (name,) in connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '\\_alembic\\_tmp\\_%' ESCAPE '\\'"
            ).fetchall():  # the copy an interrupted batch migration left behind
                connection.exec_driver_sql(f'DROP TABLE "{name}"')
            connection.commit()  # end the transaction the PRAGMA began: alembic commits its own
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} rows whose foreign keys point nowhere: {broken[:5]}")


_ = pool  # keep the import for generated revisions that use it
if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
