"""The store: SQLAlchemy models, the unit of work, migrations and repositories."""

from plugin.store import hris_models, models, sync_models, webhook_models
from plugin.store.base import Base
from plugin.store.db import Store

__all__ = ["Base", "Store", "hris_models", "models", "sync_models", "webhook_models"]
