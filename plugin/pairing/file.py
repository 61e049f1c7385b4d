"""Reading the pairing file: TOML, ``schemas/pairing.schema.json``, then the contradictions a
schema cannot see, into :class:`~plugin.pairing.programme.PairingProgramme` objects.

Every problem is reported at once with its line, key path and fix
(:class:`~plugin.errors.PairingFileError`; the CLI exits 2).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from mentorbridge.plugin.checked_toml import KeyProblem, parse_checked
from mentorbridge.plugin.errors import PairingFileError, UnknownReferenceError
from mentorbridge.plugin.pairing.programme import COMPONENTS, PairingProgramme, Side, Weights

__all__ = ["DEFAULT_SOURCE", "load_programmes", "parse_programmes", "programme_named"]

DEFAULT_SOURCE = "default"


def load_programmes(path: Path | None) -> dict[str, PairingProgramme]:
    """The programmes of the pairing file at ``path``; ``None`` reads the shipped default."""
    if path is None:
        text = resources.files(__package__).joinpath("default.toml").read_text("utf-8")
        return parse_programmes(text, DEFAULT_SOURCE)
    try:
        text = Path(path).expanduser().read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        fix = "expected a readable UTF-8 TOML file (unset pairing.file to use the shipped default)"
        problem = (None, "(file)", f"cannot read it ({reason}); {fix}")
        raise PairingFileError(str(path), [problem]) from err
    return parse_programmes(text, str(path))


def programme_named(programmes: dict[str, PairingProgramme], key: str) -> PairingProgramme:
    """The programme ``key``, or an error listing the ones the pairing file has."""
    if key not in programmes:
        raise UnknownReferenceError(
            f"no programme {key!r} in the pairing file: use one of {', '.join(sorted(programmes))} "
            "or add [programmes." + key + "] to the file pairing.file names",
            kind="programme",
            key=key,
        )
    return programmes[key]


def parse_programmes(text: str, source: str) -> dict[str, PairingProgramme]:
    """Check ``text`` (the contents of ``source``) and build its programmes."""
    data = parse_checked(
        text,
        source,
        "pairing",
        PairingFileError,
        sense=_contradictions,
        example_table="[programmes.KEY]",
    )
    return {key: _programme(key, table) for key, table in data["programmes"].items()}


def _contradictions(data: dict[str, Any]) -> list[KeyProblem]:
    found: list[KeyProblem] = []
    for key, table in data["programmes"].items():
        at = ("programmes", key)
        rules = table.get("rules", {})
        start, end = _working_hours(rules)
        if end <= start:
            found.append(
                (
                    (*at, "rules", "working_hours"),
                    "the working day ends before it starts: give "
                    'the start first, such as ["09:00", "17:00"]',
                )
            )
        elif rules.get("min_overlap_hours", 2) * 60 > end - start:
            found.append(
                (
                    (*at, "rules", "min_overlap_hours"),
                    f"{rules.get('min_overlap_hours', 2)} hours is more than the "
                    f"{(end - start) / 60:g}-hour working day: no pair could pass; lower it or "
                    "lengthen working_hours",
                )
            )
        for side in ("mentees", "mentors"):
            spec = table[side]
            low, high = spec.get("min_tenure_days"), spec.get("max_tenure_days")
            if low is not None and high is not None and low > high:
                found.append(
                    (
                        (*at, side, "min_tenure_days"),
                        f"{low} days is more than max_tenure_days "
                        f"({high}): nobody could be eligible; lower min_tenure_days or raise "
                        "max_tenure_days",
                    )
                )
        both = set(table["mentees"].get("opt_in", [])) & set(table["mentors"].get("opt_in", []))
        for employee_id in sorted(both):
            found.append(
                (
                    (*at, "mentors", "opt_in"),
                    f"{employee_id} opted in as a mentee and as a mentor: keep them on one side",
                )
            )
        weights = table.get("weights")
        if weights is not None and not any(weights.get(c, 0) for c in COMPONENTS):
            found.append(
                (
                    (*at, "weights"),
                    "every weight is 0: every pair would score 0; give themes "
                    "(or another rule) a weight above 0",
                )
            )
        if table.get("weights", {}).get("protected") and not table.get("diversity", {}).get(
            "protected_attributes"
        ):
            found.append(
                (
                    (*at, "weights", "protected"),
                    "weighs protected attributes but "
                    "diversity.protected_attributes lists none: list them or set the weight to 0",
                )
            )
    return found


def _working_hours(rules: dict[str, Any]) -> tuple[int, int]:
    start, end = rules.get("working_hours", ["09:00", "17:00"])
    return _minutes(start), _minutes(end)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _side(table: dict[str, Any]) -> Side:
    return Side(
        management_levels=tuple(table.get("management_levels", ())),
        min_tenure_days=table.get("min_tenure_days"),
        max_tenure_days=table.get("max_tenure_days"),
        worker_types=tuple(table.get("worker_types", ("employee",))),
        organizations=tuple(table.get("organizations", ())),
        opt_in=tuple(table.get("opt_in", ())),
        capacity=table.get("capacity", 1),
    )


def _programme(key: str, table: dict[str, Any]) -> PairingProgramme:
    rules = table.get("rules", {})
    defaults = Weights()
    weights = table.get("weights", {})
    return PairingProgramme(
        key=key,
        name=table["name"],
        purpose=table.get("purpose", ""),
        themes=tuple(table["themes"]),
        mentees=_side(table["mentees"]),
        mentors=_side(table["mentors"]),
        cadence=table.get("cadence", "monthly"),
        min_overlap_hours=float(rules.get("min_overlap_hours", 2)),
        working_hours=_working_hours(rules),
        shared_language=bool(rules.get("shared_language", False)),
        weights=Weights(**{c: float(weights.get(c, defaults.of(c))) for c in COMPONENTS}),
        protected_attributes=tuple(table.get("diversity", {}).get("protected_attributes", ())),
        objective=table.get("objective", "best"),
        candidates=int(table.get("candidates_per_person", 200)),
    )
