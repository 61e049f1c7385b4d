"""The store: SQLAlchemy models, the unit of work, migrations and repositories."""

# Tables of other packages, so migrations and metadata see every table.
from mentorbridge.plugin.privacy import models as privacy_models
from mentorbridge.plugin.store import (
    access_models,
    evidence_models,
    hris_models,
    lms_models,
    lti_models,
    models,
    pairing_models,
    sync_models,
    webhook_models,
)
from mentorbridge.plugin.store.base import Base
from mentorbridge.plugin.store.db import Store

__all__ = [
    "Base",
    "Store",
    "access_models",
    "evidence_models",
    "hris_models",
    "lms_models",
    "lti_models",
    "models",
    "pairing_models",
    "privacy_models",
    "sync_models",
    "webhook_models",
]
