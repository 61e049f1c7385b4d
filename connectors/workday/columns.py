"""Report layouts and columns: items nested under a parent row, and the columns a run lacks.

A report may carry one row per item (one per assessment) or one row per parent with the items
nested in a multi-instance column (one per worker, ``Competencies: [...]``); ``rows_under`` in
the stream's field mapping names that column, and each item inherits the parent's columns.

Workday leaves empty fields out of a row, but drops a column the integration user may not see
from *every* row: a mapped column absent from every row of a run is hidden, not empty. Workers
from REST and SOAP are judged the same way on their normalised fields (:func:`held_until_seen`).
"""

from __future__ import annotations

import json
import logging
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import IO, Any

from mentorbridge import schemas
from mentorbridge.connectors.workday.fields import (
    SENSITIVE_FIELDS,
    STREAM_FIELDS,
    RowError,
    alias_columns,
)
from mentorbridge.plugin.errors import SourcePermissionError

__all__ = [
    "JUDGED_FROM",
    "ROWS_UNDER",
    "SPARSE_FIELDS",
    "Columns",
    "absent_fields",
    "expand_row",
    "held_until_seen",
    "judge_absent",
    "nested_under",
    "required_fields",
]

log = logging.getLogger(__name__)

#: Fields (``list.field`` inside multi-instance fields) most rows rightly leave out: a run
#: whose rows all lack one has not lost the column.
SPARSE_FIELDS: dict[str, tuple[str, ...]] = {
    "workers": (
        "preferred_name",
        "termination_date",
        "original_hire_date",
        "additional_jobs",
        "additional_jobs.business_title",
        "additional_jobs.job_profile_id",
        "additional_jobs.supervisory_organization_id",
        "last_updated",
    ),
    # flags a report may leave out when false read as false, as they always have
    "organizations": ("type", "superior_organization_id", "manager_employee_id", "inactive"),
    "competencies": ("category", "scale_id", "inactive"),
    "competency_assessments": ("level", "last_updated"),
    "job_profile_competencies": ("job_profile",),
    "succession_plans": (
        "position",
        "incumbent_employee_id",
        "last_updated",
        "candidates.top_candidate",
        "candidates.temporary_fill",
    ),
}
#: The mapping key that names the multi-instance column a stream's items are nested under.
ROWS_UNDER = "rows_under"
#: An incremental run (only what changed) with fewer records than this cannot tell a hidden
#: column from fields those few leave empty (a chief executive has no manager): it keeps the
#: stored values of the fields no record carries (marked stale) and does not fail. A full run,
#: or one with this many records, is judged.
JUDGED_FROM = 20
#: Records :func:`held_until_seen` keeps in memory before it holds the rest in a temporary file.
HELD_IN_MEMORY = 2_000


@cache
def required_fields(stream: str) -> frozenset[str]:
    """The fields (``list.field`` inside lists) a record of ``stream`` cannot be without."""
    schema = schemas.load(f"workday/{stream}")
    found = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        items = prop.get("items", {}) if isinstance(prop, dict) else {}
        found |= {f"{name}.{f}" for f in items.get("required", ())}
    return frozenset(found)


def expand_row(row: Mapping[str, Any], under: str) -> list[dict[str, Any]]:
    """The items of a row whose items are nested under column ``under`` (one row per worker,
    their assessments inside): each item with the parent row's other columns, the item's own
    columns winning. A row without the column has no items.

    Raises:
        RowError: the column is not a list of objects.
    """
    value = row.get(under)
    if value is None or value == "":
        return []
    if isinstance(value, str):  # a report file in CSV carries the array as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError(ROWS_UNDER, under, value, "a JSON array of objects") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RowError(ROWS_UNDER, under, value, "an array of objects")
    parent = {k: v for k, v in row.items() if k != under}
    return [parent | item for item in value]


class Columns:
    """The columns a run's rows carry: top-level ones, and those inside each list column."""

    __slots__ = ("nested", "rows", "top")

    def __init__(self) -> None:
        self.rows = 0
        self.top: set[str] = set()
        self.nested: dict[str, set[str]] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        top = self.top
        for key, value in row.items():
            if type(value) is str:  # most columns: only whether the row carries them counts
                if not value.startswith("["):
                    if value:
                        top.add(key)
                    continue
            elif value is None or value == []:
                continue
            top.add(key)
            if isinstance(value, str):  # a list column of a CSV file, as JSON text
                try:
                    value = json.loads(value)
                except ValueError:
                    continue
            items = [value] if isinstance(value, dict) else value
            if isinstance(items, list):
                inside = self.nested.setdefault(key, set())
                for item in items:
                    if isinstance(item, dict):
                        inside.update(k for k, v in item.items() if v not in (None, ""))


def absent_fields(
    stream: str,
    columns: Columns,
    aliases: Mapping[str, Mapping[str, Any]],
    *,
    sensitive: Sequence[str] = (),
    sparse: bool = True,
) -> dict[str, str]:
    """Mapped fields whose columns no row carries, as ``{field: columns}`` (nested fields as
    ``list.field``). Workday drops a column the integration user may no longer see from every
    row: that is not "the value became empty". Sparse fields are left out unless ``sparse``
    is false."""
    found: dict[str, str] = {}
    skip = set(SPARSE_FIELDS.get(stream, ())) if sparse else set()

    def visit(section: str, prefix: str, present: set[str], within: str = "") -> None:
        for field, kind in STREAM_FIELDS[section].items():
            if field in SENSITIVE_FIELDS and field not in sensitive:
                continue
            names = alias_columns(aliases[section].get(field, ""))
            path = prefix + field
            if not names:
                continue
            if kind.startswith("list:"):
                if names[0] in present:
                    inside = columns.nested.get(names[0], set())
                    visit(kind[5:], path + ".", inside, f"{within}{names[0]} → ")
                elif path not in skip:
                    found[path] = within + names[0]
            elif path not in skip and not any(n in present for n in names):
                found[path] = within + " + ".join(names)

    if columns.rows:
        visit(stream, "", columns.top)
    return found


def nested_under(
    stream: str,
    columns: Columns,
    aliases: Mapping[str, Mapping[str, Any]],
    *,
    sensitive: Sequence[str] = (),
) -> str:
    """The multi-instance column the stream's mapped columns sit inside when the rows lack
    them at the top level (one row per parent, items nested): "" when none does."""
    own_lists: set[str] = set()
    mapped: set[str] = set()
    for name, kind in STREAM_FIELDS[stream].items():
        if name in SENSITIVE_FIELDS and name not in sensitive:
            continue
        names = alias_columns(aliases[stream].get(name, ""))
        (own_lists if kind.startswith("list:") else mapped).update(names)
    missing = mapped - columns.top
    best, score = "", 0
    for column, inside in columns.nested.items():
        hits = len(missing & inside)
        if column not in own_lists and hits > score:
            best, score = column, hits
    return best


def judge_absent(
    stream: str,
    absent: Mapping[str, str],
    records: int,
    message: str,
    *,
    mode: str,
    changes_only: bool,
) -> frozenset[str]:
    """The verdict on the fields ``absent`` from every one of a run's ``records``: the fields to
    leave out of every record (the mirror keeps their stored values, marked stale).

    Args:
        message: says which fields are absent, where they come from and how to restore them.
        mode: ``workday.absent_columns``: ``"fail"`` or ``"warn"``.
        changes_only: the run read only what changed (an incremental run).

    Raises:
        SourcePermissionError: a required field is absent, or ``mode`` is ``"fail"`` and the
            run has enough records to tell a hidden field from empty ones.
    """
    if not absent:
        return frozenset()
    required = sorted(set(absent) & required_fields(stream))
    if required:
        raise SourcePermissionError(f"{message}; {', '.join(required)} cannot be left out")
    if changes_only and records < JUDGED_FROM:
        log.info(
            "%s; with only %d record(s) they may simply be empty: stored values kept (stale)",
            message,
            records,
        )
    elif mode != "warn":
        raise SourcePermissionError(
            f"{message}; to sync the rest and keep the stored values of these fields, set "
            'workday.absent_columns = "warn"'
        )
    else:
        log.warning("%s; the mirror keeps their stored values (marked stale)", message)
    return frozenset(absent)


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != []


def held_until_seen(
    items: Iterable[Any],
    watched: Mapping[str, str],
    judge: Callable[[dict[str, str], int], frozenset[str]],
) -> Iterator[Any]:
    """``items`` (records, and markers such as skips), each record passed on once every watched
    field has had a value in some record so far; the first ones are held back until then.

    A source that gives whole records (workers from REST or SOAP) drops a field the integration
    user may not see from every one of them, as a report drops the column. A watched field still
    without a value when the items end goes to ``judge`` (``{field: where it comes from}`` and
    the number of records) before anything is passed on: it raises, or names the fields to
    leave out of every record. Normally every watched field turns up in the first page, so
    little is held; when one never does, the run is held in a temporary file, not in memory.
    """
    pending = dict(watched)
    held = _Held()
    records = 0
    for item in items:
        if not pending:
            yield item
            continue
        if isinstance(item, dict):
            records += 1
            for field in [f for f in pending if _has_value(item.get(f))]:
                del pending[field]
        held.add(item)
        if not pending:
            yield from held.drain()
    left_out = judge(pending, records) if pending else frozenset()
    for item in held.drain():
        if left_out and isinstance(item, dict):
            item = {k: v for k, v in item.items() if k not in left_out}
        yield item


class _Held:
    """Items held back in order: the first :data:`HELD_IN_MEMORY` in memory, the rest pickled
    into a temporary file (they were made by this process a moment ago)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.file: IO[bytes] | None = None

    def add(self, item: Any) -> None:
        if self.file is None and len(self.items) < HELD_IN_MEMORY:
            self.items.append(item)
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="mentorbridge-held-")  # noqa: SIM115 - closed by drain()
        pickle.dump(item, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def drain(self) -> Iterator[Any]:
        items, self.items = self.items, []
        yield from items
        file, self.file = self.file, None
        if file is None:
            return
        with file:
            file.seek(0)
            while True:
                try:
                    yield pickle.load(file)  # written by this process a moment ago
                except EOFError:
                    return
