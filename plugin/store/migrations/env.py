"""Alembic environment: migrations run on the connection :mod:`plugin.store.migrate` hands in."""

from alembic import context

from mentorbridge.plugin.store import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
