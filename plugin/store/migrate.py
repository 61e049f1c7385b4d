"""Schema migrations (Alembic), run in code: no ``alembic.ini`` to carry around."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mentorbridge.plugin.errors import StoreNotMigratedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import PreparedKeys, prepare_keys

__all__ = ["check_current", "current_revision", "head_revision", "upgrade"]


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option(
        "script_location", str(resources.files("mentorbridge.plugin.store") / "migrations")
    )
    return config


def head_revision() -> str:
    """The revision this version of Mentorbridge expects."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    """The revision the store is at; ``None`` for an empty database."""
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> PreparedKeys | None:
    """Apply migrations up to ``revision`` in one transaction; at the head, then prepare the
    store's keys (:func:`plugin.store.keys.prepare_keys`: the default key file of a SQLite
    store, secrets stored in plain text encrypted) and say what was done."""
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision == "head":
        return prepare_keys(store)
    return None


def check_current(store: Store) -> None:
    """Refuse to run on a store whose schema is not the one this code expects.

    Raises:
        StoreNotMigratedError: with the revision found, the one needed and the fix.
    """
    found, needed = current_revision(store), head_revision()
    if found == needed:
        return
    if found is None:
        raise StoreNotMigratedError(
            f"the store ({store.describe()}) has no Mentorbridge tables yet: "
            "run `mentorbridge db upgrade` first"
        )
    known = {
        rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    if found in known:
        raise StoreNotMigratedError(
            f"the store ({store.describe()}) is at revision {found}, this version needs "
            f"{needed}: run `mentorbridge db upgrade`"
        )
    raise StoreNotMigratedError(
        f"the store ({store.describe()}) is at revision {found}, which this version of "
        "Mentorbridge does not know: it was migrated by a newer version; upgrade Mentorbridge"
    )
