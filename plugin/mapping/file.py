"""Reading a mapping file: TOML, then ``schemas/mapping.schema.json``, then the checks a schema
cannot express (:mod:`.sense`), into a :class:`~plugin.mapping.model.Mapping`.

Every problem is reported at once, each with the file, the line, the key path and the fix
(:class:`~plugin.errors.MappingError`, a configuration error: the CLI exits 2). The mapping's
digest is computed from the parsed content, so comments and layout never make the mapper
recompute anyone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mentorbridge.plugin.checked_toml import parse_checked
from mentorbridge.plugin.errors import MappingError
from mentorbridge.plugin.mapping.model import (
    Competency,
    EvidenceRules,
    Level,
    Mapping,
    ScaleMap,
    SideRule,
)
from mentorbridge.plugin.mapping.sense import DEFAULT_MOODLE_SCALE, sense_problems

__all__ = [
    "DEFAULT_SOURCE",
    "MappingError",
    "default_text",
    "load_mapping",
    "parse_mapping",
    "read_mapping_text",
]

#: The ``source`` of the mapping shipped with Mentorbridge.
DEFAULT_SOURCE = "default"


def default_text() -> str:
    """The shipped default mapping (``plugin/mapping/default.toml``)."""
    return resources.files(__package__).joinpath("default.toml").read_text("utf-8")


def load_mapping(path: Path | None) -> Mapping:
    """Read and check a mapping file; ``None`` reads the shipped default.

    Raises:
        MappingError: the file cannot be read, or is invalid (every problem, with its line).
    """
    return parse_mapping(*read_mapping_text(path))


def read_mapping_text(path: Path | None) -> tuple[str, str]:
    """The text of a mapping file and its ``source`` for messages (``None``: the default).

    Raises:
        MappingError: the file cannot be read as UTF-8 text.
    """
    if path is None:
        return default_text(), DEFAULT_SOURCE
    try:
        return Path(path).expanduser().read_text("utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        fix = "expected a readable UTF-8 TOML file (unset mapping.file to use the shipped default)"
        problem = (None, "(file)", f"cannot read it ({reason}); {fix}")
        raise MappingError(str(path), [problem]) from err


def parse_mapping(text: str, source: str) -> Mapping:
    """Check ``text`` (the contents of ``source``) and build the mapping.

    Raises:
        MappingError: naming ``source``, each problem's line and key path, and the fix.
    """
    data = parse_checked(text, source, "mapping", MappingError, sense=sense_problems)
    return _build(data, source)


# -- the model ----------------------------------------------------------------------------------


def _build(data: dict[str, Any], source: str) -> Mapping:
    rules = _rules(data["rules"])
    competencies = {
        key: Competency(
            key=key,
            name=table["name"],
            category=table["category"],
            workday_id=table.get("workday_id"),
            moodle_idnumber=table.get("moodle_idnumber"),
            xapi_iri=table["xapi_iri"],
            mentee=_side(table.get("mentee")),
            mentor=_side(table.get("mentor")),
            rules=_rules({**data["rules"], **table["rules"]}) if "rules" in table else None,
        )
        for key, table in data["competencies"].items()
    }
    workday_scales = {
        scale_id: ScaleMap(_thresholds(scale["thresholds"], "level_id"))
        for scale_id, scale in data.get("workday", {}).get("scales", {}).items()
    }
    moodle = data.get("moodle", {})
    content = {
        "competencies": competencies,
        "rules": rules,
        "workday_scales": workday_scales,
        "moodle_scale": tuple(moodle.get("scale", DEFAULT_MOODLE_SCALE)),
        "moodle_map": ScaleMap(_thresholds(moodle.get("thresholds", []), "item")),
        "proficient_level": float(moodle.get("proficient_level", 0.5)),
    }
    return Mapping(
        source=source,
        digest=_digest(content),
        **{
            **content,
            "competencies": MappingProxyType(competencies),
            "workday_scales": MappingProxyType(workday_scales),
        },
    )


def _rules(table: dict[str, Any]) -> EvidenceRules:
    half_life = table.get("half_life_days")
    return EvidenceRules(
        levels=tuple(
            Level(
                name=level["name"],
                level=float(level["level"]),
                min_sessions=float(level.get("min_sessions", 0)),
                min_rating=None if level.get("min_rating") is None else float(level["min_rating"]),
                min_goals=float(level.get("min_goals", 0)),
            )
            for level in table["levels"]
        ),
        recency_days=table.get("recency_days"),
        half_life_days=None if half_life is None else float(half_life),
        minimum_level=float(table.get("minimum_level", 0)),
    )


def _side(table: dict[str, Any] | None) -> SideRule | None:
    if table is None:
        return None
    return SideRule(
        themes=MappingProxyType({k: float(v) for k, v in table.get("themes", {}).items()}),
        outcomes=MappingProxyType({k: float(v) for k, v in table.get("outcomes", {}).items()}),
        goals=float(table.get("goals", 0)),
    )


def _thresholds(rows: list[dict[str, Any]], name: str) -> tuple[tuple[float, str], ...]:
    return tuple((float(row["min_level"]), row[name]) for row in rows)


def _digest(content: dict[str, Any]) -> str:
    """SHA-256 of the parsed content as canonical JSON: what it says, not how it is written."""
    text = json.dumps(content, default=_plain, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, MappingProxyType):
        return dict(value)
    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"cannot digest {type(value).__name__}")
