"""The store: SQLAlchemy models, the unit of work, migrations and repositories."""

from plugin.store.db import Store

__all__ = ["Store"]
