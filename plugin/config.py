"""Configuration: schema defaults, then one TOML file, then ``MENTORBRIDGE_*`` variables.

``schemas/config.schema.json`` is the single source of keys, defaults and what each value must
be; :func:`load_config` merges the three layers, resolves secrets and validates the result,
raising :class:`~plugin.errors.ConfigError` that names the key, the value, where it came from
and what is expected. It runs in the composition root (the CLI, the app factory), never at
import. Secrets (``"x-secret": true`` in the schema) have no defaults and are read only from
``MENTORBRIDGE_<SECTION>_<KEY>`` or from the file named by ``<key>_file``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mentorbridge import schemas
from mentorbridge.plugin.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "REDACTED",
    "Config",
    "default_config_path",
    "env_name",
    "load_config",
    "redacted",
    "setting_paths",
]

ENV_PREFIX = "MENTORBRIDGE_"
REDACTED = "********"
#: Variables in our prefix that are not settings.
_NOT_SETTINGS = {"MENTORBRIDGE_CONFIG"}
_NOT_SETTINGS_PREFIXES = ("MENTORBRIDGE_TEST_",)


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$MENTORBRIDGE_CONFIG``, else ``$XDG_CONFIG_HOME/mentorbridge/config.toml``."""
    if environ.get("MENTORBRIDGE_CONFIG"):
        return Path(environ["MENTORBRIDGE_CONFIG"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mentorbridge" / "config.toml"


@dataclass(frozen=True, slots=True)
class Setting:
    """One leaf of the config schema."""

    path: tuple[str, ...]
    schema: dict[str, Any]

    @property
    def key(self) -> str:
        return ".".join(self.path)

    @property
    def secret(self) -> bool:
        return bool(self.schema.get("x-secret"))


def setting_paths() -> list[Setting]:
    """Every setting the schema defines, in schema order."""

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> Iterator[Setting]:
        for name, child in node.get("properties", {}).items():
            if child.get("type") == "object":
                yield from walk(child, (*prefix, name))
            else:
                yield Setting((*prefix, name), child)

    return list(walk(schemas.load("config"), ()))


def env_name(setting: Setting) -> str:
    """``lrs.password_file`` → ``MENTORBRIDGE_LRS_PASSWORD_FILE``."""
    return ENV_PREFIX + "_".join(setting.path).upper()


class Config(Mapping[str, Any]):
    """The effective configuration: a read-only mapping of sections, plus typed helpers.

    ``config["lrs"]["endpoint"]``; ``config.get_path("lrs.endpoint")``.
    """

    def __init__(self, values: dict[str, Any], sources: dict[str, str], path: Path | None):
        self._values = values
        self.sources = sources
        self.path = path

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get_path(self, dotted: str) -> Any:
        """Value at a dotted key, ``None`` when unset."""
        node: Any = self._values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    @property
    def data_dir(self) -> Path:
        """The data directory, ``~`` expanded."""
        return Path(self._values["data_dir"]).expanduser()

    @property
    def mapping_file(self) -> Path | None:
        """The mapping file, ``~`` expanded; ``None``: the shipped default."""
        file = self._values.get("mapping", {}).get("file")
        return Path(file).expanduser() if file else None

    @property
    def pairing_file(self) -> Path | None:
        """The pairing file, ``~`` expanded; ``None``: the shipped default."""
        file = self._values.get("pairing", {}).get("file")
        return Path(file).expanduser() if file else None

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL to use, with the password (if any) filled in."""
        store = self._values["store"]
        url = store["url"] or f"sqlite:///{self.data_dir / 'mentorbridge.sqlite3'}"
        if url.startswith("postgresql://"):  # the driver we ship, not SQLAlchemy's psycopg2
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if store.get("password"):
            url = make_url(url).set(password=store["password"]).render_as_string(False)
        return url

    def secrets(self) -> list[str]:
        """The secret values in effect (for log redaction)."""
        return [
            value
            for setting in setting_paths()
            if setting.secret and (value := self.get_path(setting.key))
        ]

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the values (secrets included: do not print it; see :func:`redacted`)."""
        return json.loads(json.dumps(self._values))


def redacted(config: Config) -> dict[str, Any]:
    """The effective config with every secret value replaced by ``********``."""
    values = config.as_dict()
    for setting in setting_paths():
        if setting.secret and config.get_path(setting.key) is not None:
            section = values
            for part in setting.path[:-1]:
                section = section[part]
            section[setting.path[-1]] = REDACTED
    return values


def load_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the effective configuration.

    Args:
        path: the TOML file. ``None`` reads :func:`default_config_path` if it exists and uses
            the embedded defaults if it does not; an explicit path must exist.
        environ: the environment (``os.environ`` by default).
        overrides: dotted keys set by the caller after everything else (the demo uses it).

    Raises:
        ConfigError: naming the key, the value, its source and what is expected; every
            problem in the file and the environment at once, one per line.
    """
    environ = os.environ if environ is None else environ
    settings = setting_paths()
    values = _defaults(environ)
    sources: dict[str, str] = {}
    problems = _Problems()

    file_path = _choose_file(path, environ)
    if file_path is not None:
        for key, value in _flatten(_read_toml(file_path)):
            setting = _find(settings, key, f"{file_path}", problems)
            if setting is None:
                continue
            if setting.secret:
                problems.add(
                    key,
                    f"{key}: secrets never go in the config file ({file_path}); set "
                    f"{env_name(setting)} or {setting.schema.get('x-file', key + '_file')} "
                    "(a path to a file holding it)",
                )
                continue
            _assign(values, setting.path, value)
            sources[key] = str(file_path)

    by_env = {env_name(s): s for s in settings}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_SETTINGS:
            continue
        if name.startswith(_NOT_SETTINGS_PREFIXES):
            continue
        setting = by_env.get(name)
        if setting is None:
            problems.add(name, f"{name} is not a Mentorbridge setting{_suggest(name, by_env)}")
            continue
        try:
            _assign(values, setting.path, _coerce(raw, setting, name))
        except ConfigError as err:
            problems.add(setting.key, str(err))
            continue
        sources[setting.key] = name

    for key, value in (overrides or {}).items():
        setting = _find(settings, key, "overrides", problems)
        if setting is not None:
            _assign(values, setting.path, value)
            sources[key] = "overrides"

    _resolve_secret_files(values, settings, sources, problems)
    _validate(values, sources, problems)
    problems.raise_any()
    return Config(values, sources, file_path)


class _Problems:
    """Every problem found while loading, so one run of `config check` lists them all."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.found.append((key, message))

    def __contains__(self, key: object) -> bool:
        return any(found == key for found, _ in self.found)

    def raise_any(self) -> None:
        if not self.found:
            return
        first = self.found[0][0]
        if len(self.found) == 1:
            raise ConfigError(self.found[0][1], key=first)
        lines = "\n  ".join(message for _, message in self.found)
        raise ConfigError(f"{len(self.found)} problems in the configuration:\n  {lines}", key=first)


# -- steps ----------------------------------------------------------------------------------


def _defaults(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in setting_paths():
        if "default" in setting.schema:
            _assign(values, setting.path, setting.schema["default"])
    if environ.get("XDG_DATA_HOME"):
        values["data_dir"] = str(Path(environ["XDG_DATA_HOME"]) / "mentorbridge")
    for name, section in schemas.load("config")["properties"].items():
        if section.get("type") == "object":
            values.setdefault(name, {})
    return values


def _choose_file(path: Path | str | None, environ: Mapping[str, str]) -> Path | None:
    if path is not None:
        chosen = Path(path).expanduser()
        if not chosen.is_file():
            raise ConfigError(f"config file {chosen} does not exist", key="--config")
        return chosen
    default = default_config_path(environ)
    if environ.get("MENTORBRIDGE_CONFIG") and not default.is_file():
        raise ConfigError(
            f"MENTORBRIDGE_CONFIG names {default}, which does not exist", key="MENTORBRIDGE_CONFIG"
        )
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from err
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def _find(settings: list[Setting], key: str, source: str, problems: _Problems) -> Setting | None:
    for setting in settings:
        if setting.key == key:
            return setting
    known = {s.key: s for s in settings}
    # Its value is never shown: a mistyped key may well hold a secret.
    problems.add(key, f"{key} (in {source}) is not a Mentorbridge setting{_suggest(key, known)}")
    return None


def _suggest(name: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    if close:
        return f"; did you mean {close[0]}?"
    return "; `mentorbridge config reference` lists every setting"


def _assign(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _coerce(raw: str, setting: Setting, name: str) -> Any:
    kind = setting.schema.get("type")
    try:
        match kind:
            case "integer":
                return int(raw)
            case "number":
                return float(raw)
            case "boolean":
                lowered = raw.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(raw)
            case "array":
                return [item.strip() for item in raw.split(",") if item.strip()]
            case _:
                return raw
    except ValueError:
        expected = setting.schema.get("description", kind)
        raise ConfigError(
            f"{setting.key} = {raw!r} (from {name}): expected {expected}", key=setting.key
        ) from None


def _resolve_secret_files(
    values: dict[str, Any], settings: list[Setting], sources: dict[str, str], problems: _Problems
) -> None:
    for setting in settings:
        if not setting.secret:
            continue
        file_key = (*setting.path[:-1], setting.path[-1] + "_file")
        section = values
        for part in setting.path[:-1]:
            section = section.get(part, {})
        file_name = section.get(file_key[-1])
        if file_name is None or section.get(setting.path[-1]) is not None:
            continue  # the variable wins over the file
        secret_path = Path(file_name).expanduser()
        try:
            secret = secret_path.read_text("utf-8").strip()
        except OSError as err:
            dotted = ".".join(file_key)
            problems.add(
                dotted,
                f"{dotted} = {file_name!r} (from {sources.get(dotted, 'defaults')}): cannot read "
                f"it ({err.strerror}); expected a readable file holding {setting.key}",
            )
            continue
        if not secret:
            problems.add(setting.key, f"{setting.key}: the file {secret_path} is empty")
            continue
        _assign(values, setting.path, secret)
        sources[setting.key] = str(secret_path)


def _validate(values: dict[str, Any], sources: dict[str, str], problems: _Problems) -> None:
    _check_store_url(values.get("store", {}).get("url"), sources, problems)
    found = schemas.problems("config", values, root="")
    secret_keys = {s.key for s in setting_paths() if s.secret}
    for path, message in found:
        key = path.lstrip(".") or "(top level)"
        if key in problems:
            continue  # already said, better
        where = sources.get(key.split("[")[0])
        if key in secret_keys:
            message = "is not valid: expected " + _setting(key).schema.get("description", "")
        problems.add(key, f"{key}{f' (from {where})' if where else ''}: {message}")
    if found:
        return  # the lease check below needs valid numbers
    lrs, outbox = values["lrs"], values["outbox"]
    request = lrs["connect_timeout"] + lrs["read_timeout"]
    if outbox["lease_seconds"] <= request:
        problems.add(
            "outbox.lease_seconds",
            f"outbox.lease_seconds = {outbox['lease_seconds']}: expected more than "
            f"lrs.connect_timeout + lrs.read_timeout = {request:g}, or two flushers could send "
            "the same statements",
        )


#: What store.url may start with (``postgresql://`` means psycopg, see Config.store_url).
_STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _check_store_url(url: Any, sources: dict[str, str], problems: _Problems) -> None:
    """SQLite or PostgreSQL only, and never a password in the URL (it would be shown)."""
    if not isinstance(url, str) or not url:
        return
    where = f" (from {sources['store.url']})" if "store.url" in sources else ""
    shown = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:" + REDACTED + "@", url)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in _STORE_SCHEMES:
        problems.add(
            "store.url",
            f"store.url = {json.dumps(shown)}{where}: SQLite (sqlite:///PATH) or PostgreSQL "
            "(postgresql+psycopg://…) only",
        )
    elif shown != url:
        problems.add(
            "store.url",
            f"store.url = {json.dumps(shown)}{where}: the password never goes in the URL; set "
            "MENTORBRIDGE_STORE_PASSWORD or store.password_file",
        )


def _setting(key: str) -> Setting:
    return next(s for s in setting_paths() if s.key == key)
