"""Each side's intake for pairing: an executive's development priorities (most important first)
or a junior's strengths, the languages they work in, and their consent to protected attributes
being used for diversity.

Intake arrives one record at a time as ``intake.submitted`` webhook events (through the event
processor, which calls :meth:`IntakeDesk.record`) or as a file an admin imports
(:func:`import_intake`, ``mentorbridge pairing intake FILE``). Either way a record is checked
against the pairing file and the HRIS mirror: the programme exists, the worker is active and
eligible on that side (or opted in), and every theme is one of the programme's (any case; the
programme's spelling is stored). A later submission for the same programme, person and role
replaces the earlier one.

An intake file is CSV with a header row (``programme,employee_id,role,themes,languages,
protected_consent``; themes and languages separated by ``;``, themes in priority order;
protected_consent yes/no/true/false/1/0 or empty for no) or JSON Lines (one object per line
with the same keys, themes and languages as arrays, protected_consent true/false). Every row is
checked first; a file with any problem stores nothing and every problem is reported with its
line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError, ValidationError
from mentorbridge.plugin.pairing.file import load_programmes, programme_named
from mentorbridge.plugin.pairing.pool import _WORKER_COLUMNS, Directory, eligible_on
from mentorbridge.plugin.pairing.programme import PairingProgramme
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.pairing_models import PairingIntake

__all__ = [
    "FILE_COLUMNS",
    "MAX_THEMES",
    "ROLES",
    "IntakeDesk",
    "IntakeImport",
    "IntakeProblem",
    "import_intake",
]

ROLES = ("mentee", "mentor")
#: The columns of an intake CSV file (and the keys of a JSON Lines object); the first four
#: are required.
FILE_COLUMNS = ("programme", "employee_id", "role", "themes", "languages", "protected_consent")
_REQUIRED_COLUMNS = FILE_COLUMNS[:4]
#: Themes one person may give (as ``intake.submitted`` allows).
MAX_THEMES = 20
MAX_LANGUAGES = 20
_MAX_LANGUAGE = 35
_MAX_EMPLOYEE_ID = 128
#: protected_consent in a CSV file (any case); left empty, no consent.
_CONSENT = {
    "yes": True,
    "true": True,
    "1": True,
    "no": False,
    "false": False,
    "0": False,
    "": False,
}
#: Workers looked up per query when telling an inactive worker from an unknown one.
_CHUNK = 500

Kind = Literal["programme", "worker", "eligibility", "value"]
#: Where a problem is, for the input it came from: ``(field, index in a list or None)`` to a
#: path such as ``$.data.themes[1]`` or ``line 4: themes``.
Where = Callable[[str, int | None], str]


@dataclass(frozen=True, slots=True)
class IntakeProblem:
    """One thing wrong with one intake record.

    Attributes:
        field: ``programme``, ``employee_id``, ``role``, ``themes``, ``languages`` or
            ``protected_consent``.
        message: what is wrong and the fix.
        kind: ``programme`` (not in the pairing file), ``worker`` (not an active worker in the
            HRIS mirror), ``eligibility`` (outside the programme on that side) or ``value``.
        index: the position in ``themes`` or ``languages`` it concerns, if one.
    """

    field: str
    message: str
    kind: Kind = "value"
    index: int | None = None


@dataclass(frozen=True, slots=True)
class IntakeImport:
    """What :func:`import_intake` stored: new records, and records that replaced earlier ones."""

    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True, slots=True)
class _Checked:
    """A record that passed every check, ready to store."""

    programme_key: str
    employee_id: str
    role: str
    themes: list[str]
    languages: list[str]
    protected_consent: bool


def _today() -> date:
    return datetime.now(UTC).date()


def _plain(field: str, index: int | None) -> str:
    return field


class IntakeDesk:
    """Checks and records intake against the programmes of the pairing file.

    Args:
        programmes: the pairing file's programmes (:func:`~plugin.pairing.file.load_programmes`).
        today: the date eligibility (tenure) is judged on; today in UTC unless given.
    """

    def __init__(
        self,
        programmes: Mapping[str, PairingProgramme],
        *,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._programmes: Mapping[str, PairingProgramme] | None = dict(programmes)
        self._load: Callable[[], Mapping[str, PairingProgramme]] | None = None
        self.today = today or _today

    @classmethod
    def from_file(cls, path: Path | None, *, today: Callable[[], date] | None = None) -> IntakeDesk:
        """A desk that reads the pairing file at ``path`` (``None``: the shipped default) with
        :func:`~plugin.pairing.file.load_programmes` each time intake arrives, as the pairing
        API does per request: an edited file applies without a restart, and a broken one
        fails intake only (:class:`~plugin.errors.PairingFileError`), not every other event."""
        desk = cls({}, today=today)
        desk._programmes, desk._load = None, lambda: load_programmes(path)
        return desk

    @property
    def programmes(self) -> Mapping[str, PairingProgramme]:
        """The programmes intake is checked against (read now, for a desk :meth:`from_file`)."""
        if self._load is not None:
            return self._load()
        assert self._programmes is not None
        return self._programmes

    def record(
        self,
        session: Session,
        *,
        programme_key: str,
        employee_id: str,
        role: str,
        themes: Sequence[str],
        languages: Sequence[str] = (),
        protected_consent: bool = False,
        source: str,
        submitted_at: datetime | None = None,
        where: Where | None = None,
    ) -> PairingIntake:
        """Check one record and store it in ``session``, replacing an earlier submission for
        the same programme, person and role.

        Args:
            source: where it came from (the event's source, ``file:intake.csv``).
            submitted_at: when it was submitted (an event's ``occurred_at``); a record already
                stored with a later time is kept and this one ignored, so a late delivery
                cannot undo a newer submission. ``None``: now, replacing whatever is stored.
            where: names a field for the messages (``$.data.themes[1]``); the plain field
                names (``themes``) unless given.

        Raises:
            UnknownReferenceError: ``kind="programme"``, the pairing file has no such
                programme; ``kind="worker"`` (``key`` the Employee ID), the HRIS mirror has no
                active worker of that id (the processor can hold the event until a sync).
            ValidationError: a value is wrong (role, a theme the programme does not have, a
                theme given twice, …); every problem is listed.
            ConflictError: the worker is outside the programme on that side.
        """
        where = where or _plain
        subject = _subject(employee_id, role, programme_key)
        raw = {
            "programme": programme_key,
            "employee_id": employee_id,
            "role": role,
            "themes": themes,
            "languages": languages,
            "protected_consent": protected_consent,
        }
        programmes = self.programmes
        try:
            programme = programme_named(programmes, programme_key)
        except UnknownReferenceError as err:
            raise UnknownReferenceError(
                f"{subject}: {where('programme', None)}: {err}", kind="programme", key=err.key
            ) from None
        checked, problems = _values(raw, programmes)
        if problems:
            raise ValidationError(subject, [(where(p.field, p.index), p.message) for p in problems])
        assert checked is not None
        directory = _directory_of(session, checked.employee_id, programme)
        problem = self._person_problem(session, directory, programme, checked)
        if problem is not None:
            message = f"{subject}: {where(problem.field, None)}: {problem.message}"
            if problem.kind == "worker":
                raise UnknownReferenceError(message, kind="worker", key=checked.employee_id)
            raise ConflictError(message)
        existing = session.scalar(_stored(checked.programme_key, checked.employee_id, role))
        if (
            existing is not None
            and submitted_at is not None
            and existing.submitted_at > submitted_at
        ):
            return existing  # a newer submission is stored already
        row = _store(session, existing, checked, source, submitted_at or utc_now())
        session.flush()
        return row

    def _check_rows(
        self, session: Session, rows: Sequence[Mapping[str, Any]]
    ) -> tuple[list[_Checked], list[list[IntakeProblem]]]:
        """Check many records at once (the HRIS mirror read once): the valid ones, and per
        row its problems (empty for a valid row)."""
        programmes = self.programmes
        checked: list[_Checked] = []
        found: list[list[IntakeProblem]] = []
        pending: list[tuple[int, _Checked]] = []
        for row in rows:
            ok, problems = _values(row, programmes)
            found.append(problems)
            if ok is not None:
                pending.append((len(found) - 1, ok))
        if pending:
            directory = Directory.read(session)
            inactive = _inactive(
                session, {c.employee_id for _, c in pending} - directory.workers.keys()
            )
            for number, ok in pending:
                problem = self._person_problem(
                    session, directory, programmes[ok.programme_key], ok, inactive=inactive
                )
                if problem is None:
                    checked.append(ok)
                else:
                    found[number].append(problem)
        return checked, found

    def _person_problem(
        self,
        session: Session,
        directory: Directory,
        programme: PairingProgramme,
        record: _Checked,
        *,
        inactive: Collection[str] | None = None,
    ) -> IntakeProblem | None:
        """Why the worker cannot give this intake, if they cannot."""
        employee_id, role = record.employee_id, record.role
        row = directory.workers.get(employee_id)
        if row is None:
            if inactive is None:
                inactive = _inactive(session, {employee_id})
            if employee_id in inactive:
                return IntakeProblem(
                    "employee_id",
                    f"worker {employee_id} is inactive in the HRIS mirror (they left, or have "
                    "not started): check the Employee ID; run `mentorbridge sync workday` if "
                    f"they were rehired since the last sync so the HRIS mirror knows worker "
                    f"{employee_id}",
                    "worker",
                )
            return IntakeProblem(
                "employee_id",
                f"worker {employee_id!r} is not known: the HRIS mirror has no such worker; "
                "check the Employee ID, or if they joined since the last sync run "
                f"`mentorbridge sync workday` so the HRIS mirror knows worker {employee_id}",
                "worker",
            )
        today = self.today()
        side, other = (
            (programme.mentees, programme.mentors)
            if role == "mentee"
            else (programme.mentors, programme.mentees)
        )
        why = eligible_on(side, row, directory, today)
        if why is None:
            return None
        other_role = "mentor" if role == "mentee" else "mentee"
        table = f"[programmes.{programme.key}.{role}s]"
        if eligible_on(other, row, directory, today) is None:
            fix = (
                f"they are eligible as a {other_role}: send their intake with role {other_role}"
                + (
                    ""
                    if employee_id in other.opt_in
                    else f", or add {employee_id!r} to opt_in under {table} in the pairing file "
                    f"(pairing.file) if they should take part as a {role}"
                )
            )
        else:
            fix = (
                f"if they should take part as a {role}, add {employee_id!r} to opt_in under "
                f"{table} in the pairing file (pairing.file)"
            )
        return IntakeProblem(
            "employee_id",
            f"worker {employee_id} is not eligible as a {role} in {programme.key}: {why}; {fix}",
            "eligibility",
        )


def import_intake(store: Store, desk: IntakeDesk, path: Path | str) -> IntakeImport:
    """Check every record of the intake file at ``path`` and store them all in one
    transaction, or none.

    CSV (``.csv``) or JSON Lines (``.jsonl``, ``.ndjson``; another name is read as JSON Lines
    when its first character is ``{``, else as CSV).

    Raises:
        ValidationError: the file cannot be read, or has problems; ``problems`` lists every
            one as ``("line N: field", message)`` and nothing was stored.
    """
    path = Path(path)
    subject = f"the intake file {path}"
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ValidationError(
            subject, [("(file)", f"cannot read it ({reason}): give a readable UTF-8 file")]
        ) from err
    rows, problems = _parse(text, _format(path, text))
    if not rows and not problems:
        problems = [
            (
                "(file)",
                f"holds no intake records: give one row per person ({', '.join(FILE_COLUMNS)})",
            )
        ]
    problems += _repeated(rows)
    source = f"file:{path.name}"[:128]
    # One transaction: the mirror cannot change between the checks and the writes.
    with store.transaction() as session:
        checked, found = desk._check_rows(session, [row for _, row in rows])
        for (number, _), row_problems in zip(rows, found, strict=True):
            problems += [_at_line(number, p) for p in row_problems]
        if problems:
            problems.sort(key=lambda p: _line_of(p[0]))  # stable: a line's fields keep order
            raise ValidationError(subject, problems)
        keys = {c.programme_key for c in checked}
        stored = {
            (row.programme_key, row.employee_id, row.role): row
            for row in session.scalars(
                select(PairingIntake).where(PairingIntake.programme_key.in_(keys))
            )
        }
        now = utc_now()
        created = 0
        for record in checked:
            existing = stored.get((record.programme_key, record.employee_id, record.role))
            created += existing is None
            _store(session, existing, record, source, now)
    return IntakeImport(created=created, updated=len(checked) - created)


# -- checking one record's values -------------------------------------------------------------


def _subject(employee_id: Any, role: Any, programme_key: Any) -> str:
    return f"the intake of worker {employee_id} as {role} in {programme_key}"


def _values(
    raw: Mapping[str, Any], programmes: Mapping[str, PairingProgramme]
) -> tuple[_Checked | None, list[IntakeProblem]]:
    """Check what needs no HRIS mirror: the programme, the role and the lists."""
    problems: list[IntakeProblem] = []
    key = raw.get("programme")
    programme = programmes.get(key) if isinstance(key, str) else None
    if programme is None:
        known = ", ".join(sorted(programmes)) or "(none)"
        problems.append(
            IntakeProblem(
                "programme",
                f"no programme {key!r} in the pairing file: use one of {known}"
                + (f", or add [programmes.{key}] to the pairing file" if key else ""),
                "programme",
            )
        )
    employee_id = raw.get("employee_id")
    if (
        not isinstance(employee_id, str)
        or not employee_id
        or len(employee_id) > _MAX_EMPLOYEE_ID
        or not employee_id.isprintable()
        or any(c.isspace() for c in employee_id)
    ):
        problems.append(
            IntakeProblem(
                "employee_id",
                f"{employee_id!r} is not an Employee ID: give the worker's HRIS worker id, 1 to "
                f"{_MAX_EMPLOYEE_ID} characters without spaces",
            )
        )
    role = raw.get("role")
    if role not in ROLES:
        problems.append(
            IntakeProblem(
                "role",
                f"{role!r} is not a role: use mentee (an executive giving their development "
                "priorities) or mentor (a junior giving their strengths)",
            )
        )
    themes = _themes(raw.get("themes"), programme, role, problems)
    languages = _languages(raw.get("languages"), problems)
    consent = raw.get("protected_consent", False)
    if consent is None:
        consent = False
    if not isinstance(consent, bool):
        problems.append(
            IntakeProblem(
                "protected_consent",
                f"{consent!r} is not a yes or no: give true if they consent to the programme "
                "using their protected attributes for diversity (in aggregate only), else false",
            )
        )
    if problems:
        return None, problems
    assert programme is not None and isinstance(employee_id, str) and isinstance(role, str)
    return (
        _Checked(programme.key, employee_id, role, themes, languages, bool(consent)),
        [],
    )


def _themes(
    value: Any,
    programme: PairingProgramme | None,
    role: Any,
    problems: list[IntakeProblem],
) -> list[str]:
    what = "development priorities, most important first" if role == "mentee" else "strengths"
    if role not in ROLES:
        what = "themes (a mentee's priorities, most important first; a mentor's strengths)"
    if not isinstance(value, list | tuple) or not value:
        given = "no themes" if value in (None, [], ()) else f"{_show(value)} is not a list"
        problems.append(
            IntakeProblem(
                "themes",
                f"{given}: give their {what}, 1 to {MAX_THEMES} of "
                + (f"{programme.key}'s themes" if programme else "the programme's themes"),
            )
        )
        return []
    if len(value) > MAX_THEMES:
        problems.append(
            IntakeProblem(
                "themes",
                f"{len(value)} themes, more than {MAX_THEMES}: keep the {MAX_THEMES} that "
                "matter most",
            )
        )
    themes: list[str] = []
    first: dict[str, int] = {}
    for index, theme in enumerate(value):
        if not isinstance(theme, str) or not theme.strip():
            problems.append(
                IntakeProblem(
                    "themes",
                    f"{_show(theme)} (the {_ordinal(index)} theme) is not a theme: give it as text",
                    index=index,
                )
            )
            continue
        if programme is None:
            continue
        spelled = programme.theme_key(theme.strip())
        if spelled is None:
            problems.append(
                IntakeProblem(
                    "themes",
                    f"{theme!r} (the {_ordinal(index)} theme) is not one of {programme.key}'s "
                    f"themes: use one of {'; '.join(programme.themes)} (any case), or add it "
                    "to the programme's themes in the pairing file",
                    index=index,
                )
            )
            continue
        if spelled in first:
            problems.append(
                IntakeProblem(
                    "themes",
                    f"{theme!r} (the {_ordinal(index)} theme) repeats the "
                    f"{_ordinal(first[spelled])}: give each theme once, in priority order",
                    index=index,
                )
            )
            continue
        first[spelled] = index
        themes.append(spelled)
    return themes


def _languages(value: Any, problems: list[IntakeProblem]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        problems.append(
            IntakeProblem(
                "languages",
                f"{_show(value)} is not a list: give the languages they work in, such as "
                '["en", "de"]',
            )
        )
        return []
    if len(value) > MAX_LANGUAGES:
        problems.append(
            IntakeProblem(
                "languages",
                f"{len(value)} languages, more than {MAX_LANGUAGES}: keep the ones they work in",
            )
        )
    languages: list[str] = []
    seen: set[str] = set()
    for index, language in enumerate(value):
        if (
            not isinstance(language, str)
            or not language.strip()
            or len(language.strip()) > _MAX_LANGUAGE
            or not language.isprintable()
        ):
            problems.append(
                IntakeProblem(
                    "languages",
                    f"{_show(language)} is not a language: give a name or code of 1 to "
                    f"{_MAX_LANGUAGE} characters, such as en",
                    index=index,
                )
            )
            continue
        # The same language twice means nothing more: kept once, as first written.
        if language.strip().casefold() not in seen:
            seen.add(language.strip().casefold())
            languages.append(language.strip())
    return languages


def _ordinal(index: int) -> str:
    n = index + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# -- the HRIS mirror and the store ------------------------------------------------------------


def _directory_of(session: Session, employee_id: str, programme: PairingProgramme) -> Directory:
    """What eligibility needs to judge one worker: their row, and the organisations only when
    a side of the programme is scoped to some (reading every worker per event would cost a
    second on a large tenant)."""
    if programme.mentees.organizations or programme.mentors.organizations:
        return Directory.read(session)
    rows = session.execute(
        select(*_WORKER_COLUMNS).where(
            HrisWorker.active.is_(True), HrisWorker.employee_id == employee_id
        )
    )
    workers = {row.employee_id: row for row in rows}
    return Directory(workers=workers, managers={}, organisation_of={}, parent={})


def _inactive(session: Session, employee_ids: Iterable[str]) -> set[str]:
    """The ones the HRIS mirror has, but not as active workers."""
    wanted = sorted(employee_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            session.scalars(
                select(HrisWorker.employee_id).where(
                    HrisWorker.employee_id.in_(wanted[start : start + _CHUNK])
                )
            )
        )
    return found


def _stored(programme_key: str, employee_id: str, role: str) -> Any:
    return select(PairingIntake).where(
        PairingIntake.programme_key == programme_key,
        PairingIntake.employee_id == employee_id,
        PairingIntake.role == role,
    )


def _store(
    session: Session,
    existing: PairingIntake | None,
    record: _Checked,
    source: str,
    submitted_at: datetime,
) -> PairingIntake:
    row = existing or PairingIntake(
        programme_key=record.programme_key, employee_id=record.employee_id, role=record.role
    )
    row.themes = list(record.themes)
    row.languages = list(record.languages)
    row.protected_consent = record.protected_consent
    row.source = source
    row.submitted_at = submitted_at
    if existing is None:
        session.add(row)
    return row


# -- reading a file ---------------------------------------------------------------------------


def _format(path: Path, text: str) -> Literal["csv", "jsonl"]:
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _parse(
    text: str, form: Literal["csv", "jsonl"]
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[str, str]]]:
    """The file's records, each with the line it starts on, and the problems of its form."""
    return _parse_csv(text) if form == "csv" else _parse_jsonl(text)


def _parse_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[tuple[str, str]] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    header: list[str] | None = None
    header_line = 0
    end = 0
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [cell.strip().casefold() for cell in cells], start
                problems += _header_problems(header, start)
                if problems:
                    return [], problems
                continue
            if len(cells) > len(header):
                problems.append(
                    (
                        f"line {start}",
                        f"{len(cells)} fields, more than the header's {len(header)} "
                        f"(line {header_line}): quote a value that holds a comma",
                    )
                )
                continue
            values = dict(zip(header, (cell.strip() for cell in cells), strict=False))
            rows.append((start, _from_csv(values, start, problems)))
    except csv.Error as err:
        problems.append((f"line {reader.line_num}", f"not valid CSV ({err}): fix the quoting"))
    if header is None:
        problems.append(
            (
                "line 1",
                f"no header row: start the file with {','.join(FILE_COLUMNS)}",
            )
        )
    return rows, problems


def _header_problems(header: list[str], line: int) -> list[tuple[str, str]]:
    problems = [
        (
            f"line {line}: {name or '(empty)'}",
            f"{name!r} is not an intake column: use {', '.join(FILE_COLUMNS)}",
        )
        for name in header
        if name not in FILE_COLUMNS
    ]
    problems += [
        (f"line {line}: {name}", f"the header has no {name} column: add it")
        for name in _REQUIRED_COLUMNS
        if name not in header
    ]
    repeated = sorted({name for name in header if header.count(name) > 1 and name})
    problems += [
        (f"line {line}: {name}", f"the header names {name} twice: keep one") for name in repeated
    ]
    return problems


def _from_csv(values: dict[str, str], line: int, problems: list[tuple[str, str]]) -> dict:
    """A CSV row as the record's values: lists split at ``;``, consent as true or false."""
    row: dict[str, Any] = {
        "programme": values.get("programme", ""),
        "employee_id": values.get("employee_id", ""),
        "role": values.get("role", "").casefold(),
        "themes": _split(values.get("themes", "")),
        "languages": _split(values.get("languages", "")),
    }
    consent = values.get("protected_consent", "").casefold()
    if consent in _CONSENT:
        row["protected_consent"] = _CONSENT[consent]
    else:
        row["protected_consent"] = False
        problems.append(
            (
                f"line {line}: protected_consent",
                f"{values['protected_consent']!r} is not a yes or no: give yes, no, true, "
                "false, 1, 0 or leave it empty (no)",
            )
        )
    return row


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _parse_jsonl(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[str, str]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    problems: list[tuple[str, str]] = []
    # Split at line feeds only: a JSON string may hold U+2028, which splitlines() splits at.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(
                (
                    f"line {number}",
                    f"not JSON ({err.msg} at column {err.colno}): give one JSON object per line",
                )
            )
            continue
        if not isinstance(value, dict):
            problems.append(
                (
                    f"line {number}",
                    f"{_show(value)} is not an object: give one JSON object per line with "
                    f"{', '.join(FILE_COLUMNS)}",
                )
            )
            continue
        unknown = [key for key in value if key not in FILE_COLUMNS]
        problems += [
            (
                f"line {number}: {key}",
                f"{key!r} is not an intake key: use {', '.join(FILE_COLUMNS)}",
            )
            for key in unknown
        ]
        missing = [key for key in _REQUIRED_COLUMNS if key not in value]
        problems += [(f"line {number}: {key}", f"no {key}: add it") for key in missing]
        if unknown or missing:
            continue
        rows.append((number, dict(value)))
    return rows, problems


def _repeated(rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[str, str]]:
    """Two rows for the same programme, person and role: which one is meant is unclear."""
    first: dict[tuple[Any, ...], int] = {}
    problems: list[tuple[str, str]] = []
    for number, row in rows:
        key = (row.get("programme"), row.get("employee_id"), row.get("role"))
        if not all(isinstance(part, str) for part in key):
            continue
        if key in first:
            problems.append(
                (
                    f"line {number}: employee_id",
                    f"{key[1]} has a {key[2]} intake for {key[0]} on line {first[key]} already: "
                    "keep one row per programme, person and role",
                )
            )
        else:
            first[key] = number
    return problems


def _at_line(number: int, problem: IntakeProblem) -> tuple[str, str]:
    return f"line {number}: {problem.field}", problem.message


def _line_of(where: str) -> int:
    number = where.split(":", 1)[0].removeprefix("line ").strip()
    return int(number) if number.isdigit() else 0
