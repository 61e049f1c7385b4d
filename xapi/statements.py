"""Build the reverse-mentoring profile's statements as plain JSON objects and freeze their bytes.

Statements are written out as dicts, not through a model library: a webhook builds two per
event and the mapper hundreds of thousands per run, and model objects cost more than the
checks. Version is left out, timestamps are UTC milliseconds with ``Z`` and durations
canonical. Every statement is validated before it leaves this module, and carries a
deterministic id, so a replay of the same event is an exact duplicate; the bytes of every
template are pinned by ``tests/xapi/golden_statements.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from mentorbridge.xapi import vocab
from mentorbridge.xapi.profile import load_profile
from mentorbridge.xapi.validate import validate_statement, validate_timestamp

#: A JSON object of a statement (an agent, an activity, a context …).
Json = dict[str, Any]

__all__ = [
    "BuiltStatement",
    "Event",
    "PairContext",
    "StatementBuilder",
    "StatementSettings",
    "format_duration",
    "format_timestamp",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementSettings:
    """What an installation configures about its statements.

    Attributes:
        identity_home_page: ``account.homePage`` for people (the company's identity system).
        activity_base: IRI under which sessions, pairs, goals … get their activity ids.
        profile_iri: IRI of the reverse-mentoring profile (its version goes in ``category``).
        platform: ``context.platform``.
        language: ``context.language`` and the language of display strings.
        service_account: account name of Mentorbridge itself, the actor of scheduling and voiding.
    """

    identity_home_page: str
    activity_base: str
    profile_iri: str = vocab.DEFAULT_PROFILE_IRI
    platform: str = "mentorbridge"
    language: str = "en"
    service_account: str = "mentorbridge"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """The domain event a statement records; with the role it fixes the statement id."""

    source: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PairContext:
    """What every statement about a mentoring pair carries.

    Attributes:
        key: the pair's stable key in our store.
        registration: the pair's registration UUID, shared by all its statements.
        programme: the programme's key; ``programme_name`` its display name.
        mentee: opaque id of the executive mentee; ``mentor`` of the junior mentor.
    """

    key: str
    registration: uuid.UUID
    programme: str
    programme_name: str
    mentee: str
    mentor: str


#: Statement shapes remembered as checked, at most (then forgotten and checked again); the
#: same bound for compiled forms.
_CHECKED_SHAPES = 10_000
#: The values the builder makes itself, masked out of a statement's shape: uuid5 ids (also
#: inside activity IRIs), :func:`format_timestamp` and :func:`format_duration` output.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_DURATION = re.compile(r"P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?")


@dataclass(frozen=True, slots=True)
class BuiltStatement:
    """A validated statement and the exact bytes that will be sent, now and on every retry."""

    id: str
    template: str
    verb: str
    registration: str | None
    payload: bytes


def format_timestamp(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z``: ``2025-03-04T10:02:11.000Z``."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def format_duration(length: timedelta) -> str:
    """Canonical ISO 8601 duration: ``PT47M``, ``PT1H5M30S``, ``PT0.5S``, ``P1DT2H``."""
    millis = round(length.total_seconds() * 1000)
    if millis < 0:
        raise ValueError("durations cannot be negative")
    days, millis = divmod(millis, 86_400_000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds = f"{millis / 1000:.3f}".rstrip("0").rstrip(".")
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M")) if value) + (
        f"{seconds}S" if millis else ""
    )
    text = "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")
    return text if text != "P" else "PT0S"


class StatementBuilder:
    """One method per statement template of the reverse-mentoring profile.

    Args:
        settings: the installation's statement settings.
        now: clock used to refuse timestamps in the future (tests pass a fixed one).
    """

    def __init__(self, settings: StatementSettings, *, now: Any = None) -> None:
        self.settings = settings
        self.vocabulary = vocab.ProfileVocabulary(settings.profile_iri)
        self.profile = load_profile(settings.profile_iri)
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, settings.activity_base)
        self._now = now or (lambda: datetime.now(UTC))
        #: Shapes of the statements already validated in full (see :meth:`_seal`).
        self._checked: set[str] = set()
        #: Compiled forms of session statements, by template and pair (see :meth:`_render`);
        #: ``None`` for a statement that cannot be compiled.
        self._forms: dict[tuple[Any, ...], _Form | None] = {}
        self._slot = f"mbslot{secrets.token_hex(8)}"
        self._registrations: dict[str, uuid.UUID] = {}

    # -- ids and activities -----------------------------------------------------------------

    def statement_id(self, event: Event, role: str) -> str:
        """UUIDv5 of source, event id and statement role: the same event, the same id."""
        return _uuid5(self.namespace, f"{event.source}/{event.id}/{role}")

    def registration(self, pair_key: str) -> uuid.UUID:
        """The registration UUID of a pair."""
        known = self._registrations.get(pair_key)
        if known is None:
            if len(self._registrations) >= _CHECKED_SHAPES:
                self._registrations.clear()
            known = self._registrations[pair_key] = uuid.uuid5(self.namespace, f"pair/{pair_key}")
        return known

    def activity_id(self, kind: str, key: str) -> str:
        """Opaque activity IRI (``…/sessions/<uuid>``): keys never leak into the LRS."""
        return f"{self.settings.activity_base}/{kind}/{_uuid5(self.namespace, f'{kind}/{key}')}"

    def competency_iri(self, competency: str) -> str:
        """A competency's activity IRI: an IRI stays as it is, an HRIS code such as
        ``SUCC-DIGI`` becomes ``<activity_base>/competencies/SUCC-DIGI`` (readable on purpose:
        a competency is not personal data, and reports match on it)."""
        if competency.startswith(("http://", "https://")):
            return competency
        return f"{self.settings.activity_base}/competencies/{quote(competency, safe='')}"

    # -- templates --------------------------------------------------------------------------

    def session_scheduled(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        sequence: int,
        planned_start: datetime,
        planned_duration: timedelta | None,
        scheduled_at: datetime,
    ) -> BuiltStatement:
        """The service records that a session of the pair was put in the calendar."""

        def build(v: Sequence[str | None]) -> Json:
            extensions: dict[str, Any] = {vocab.PLANNED_START_TIME: v[4]}
            if v[5] is not None:
                extensions[vocab.PLANNED_DURATION] = v[5]
            return self._statement(
                v,
                actor=self._service(),
                verb=vocab.SCHEDULED,
                target=self._session(v[2], v[3]),
                context=self._context(pair, extensions=extensions),
            )

        values = (
            self.statement_id(event, "session-scheduled"),
            *self._session_values(session, sequence, scheduled_at),
            format_timestamp(planned_start),
            None if planned_duration is None else format_duration(planned_duration),
        )
        return self._render("session-scheduled", pair, build, values)

    def session_attended(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        sequence: int,
        started_at: datetime,
        duration: timedelta,
    ) -> BuiltStatement:
        """The executive mentee attended; the junior mentor is the context instructor."""
        return self._attended(
            event, pair, self._completed_values(session, sequence, started_at, duration)
        )

    def session_mentored(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        sequence: int,
        started_at: datetime,
        duration: timedelta,
    ) -> BuiltStatement:
        """The junior mentor led the session; the pair is the context team."""
        return self._mentored(
            event, pair, self._completed_values(session, sequence, started_at, duration)
        )

    def session_completed(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        sequence: int,
        started_at: datetime,
        duration: timedelta,
    ) -> tuple[BuiltStatement, BuiltStatement]:
        """The two statements of a completed session, :meth:`session_attended` and
        :meth:`session_mentored`, with what they share worked out once."""
        shared = self._completed_values(session, sequence, started_at, duration)
        return self._attended(event, pair, shared), self._mentored(event, pair, shared)

    def _attended(self, event: Event, pair: PairContext, shared: tuple[str, ...]) -> BuiltStatement:
        def build(v: Sequence[str | None]) -> Json:
            return self._statement(
                v,
                actor=self._person(pair.mentee),
                verb=vocab.ATTENDED,
                target=self._session(v[2], v[3]),
                result={"completion": True, "duration": v[4]},
                context=self._context(pair, instructor=self._person(pair.mentor)),
            )

        values = (self.statement_id(event, "session-attended"), *shared)
        return self._render("session-attended", pair, build, values)

    def _mentored(self, event: Event, pair: PairContext, shared: tuple[str, ...]) -> BuiltStatement:
        def build(v: Sequence[str | None]) -> Json:
            return self._statement(
                v,
                actor=self._person(pair.mentor),
                verb=vocab.MENTORED,
                target=self._session(v[2], v[3]),
                result={"completion": True, "duration": v[4]},
                context=self._context(pair, team=self._team(pair)),
            )

        values = (self.statement_id(event, "session-mentored"), *shared)
        return self._render("session-mentored", pair, build, values)

    def _completed_values(
        self, session: str, sequence: int, started_at: datetime, duration: timedelta
    ) -> tuple[str, ...]:
        return (*self._session_values(session, sequence, started_at), format_duration(duration))

    def reflection_submitted(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        reflection: str,
        author: str,
        visibility: str,
        submitted_at: datetime,
    ) -> BuiltStatement:
        """A participant reflected on a session: a reference, never the text."""
        target = self._activity(
            self.activity_id("reflections", reflection), self.vocabulary.reflection, "Reflection"
        )
        return self._finish(
            "reflection-submitted",
            event,
            actor=self._person(author),
            verb=vocab.SUBMITTED,
            target=target,
            context=self._context(
                pair,
                parent=self._session_ref(session),
                extensions={self.vocabulary.visibility: visibility},
            ),
            timestamp=submitted_at,
        )

    def goal_planned(
        self,
        event: Event,
        pair: PairContext,
        *,
        goal: str,
        owner: str,
        target_date: date | None,
        session: str | None,
        planned_at: datetime,
    ) -> BuiltStatement:
        """A participant set a goal; its wording stays in our store."""
        extensions = {self.vocabulary.target_date: target_date.isoformat()} if target_date else None
        return self._finish(
            "goal-planned",
            event,
            actor=self._person(owner),
            verb=vocab.PLANNED,
            target=self._goal(goal),
            context=self._context(
                pair,
                parent=self._session_ref(session) if session else None,
                extensions=extensions,
            ),
            timestamp=planned_at,
        )

    def goal_achieved(
        self,
        event: Event,
        pair: PairContext,
        *,
        goal: str,
        owner: str,
        planned_statement_id: str,
        achieved_at: datetime,
    ) -> BuiltStatement:
        """A participant reached a goal; ``context.statement`` points at the goal-planned one."""
        return self._finish(
            "goal-achieved",
            event,
            actor=self._person(owner),
            verb=vocab.ACHIEVED,
            target=self._goal(goal),
            result={"success": True, "completion": True},
            context=self._context(pair, statement=planned_statement_id),
            timestamp=achieved_at,
        )

    def competency_evidence(
        self,
        event: Event,
        pair: PairContext,
        *,
        session: str,
        competency_id: str,
        competency_name: str,
        subject: str,
        rater: str,
        score: tuple[float, float, float],
        evidence_statement_id: str,
        rated_at: datetime,
    ) -> BuiltStatement:
        """``subject`` progressed on a competency, as ``rater`` judged after a session.

        Args:
            score: ``(raw, min, max)`` on the rating scale.
            evidence_statement_id: the session statement (attended or mentored) it rests on.
        """
        raw, low, high = score
        if not low <= raw <= high or low == high:
            raise ValueError(f"score {raw} is not within a {low}..{high} scale")
        scaled = round((raw - low) / (high - low), 4)
        score_json = {"raw": float(raw), "min": float(low), "max": float(high), "scaled": scaled}
        instructor = self._person(pair.mentor) if subject == pair.mentee else None
        source = "self-rating" if rater == subject else "peer-rating"
        return self._finish(
            "competency-evidence",
            event,
            actor=self._person(subject),
            verb=vocab.PROGRESSED,
            target=self._activity(
                self.competency_iri(competency_id), vocab.COMPETENCY, competency_name
            ),
            result={"score": score_json},
            context=self._context(
                pair,
                instructor=instructor,
                parent=self._session_ref(session),
                statement=evidence_statement_id,
                extensions={self.vocabulary.evidence_source: source},
            ),
            timestamp=rated_at,
        )

    def evidence_registration(self, subject: str, competency_key: str, side: str) -> uuid.UUID:
        """The registration of one person's evidence record on a competency and side: its
        level statements and their voiding share it."""
        return uuid.uuid5(self.namespace, f"evidence/{subject}/{competency_key}/{side}")

    def competency_level(
        self,
        event: Event,
        *,
        subject: str,
        competency_key: str,
        competency_iri: str,
        competency_name: str,
        side: str,
        level: float,
        level_name: str,
        reached_at: datetime,
    ) -> BuiltStatement:
        """``subject`` reached ``level`` (0-1) on a competency, on one side of their pairs, as
        the mapper concluded from their sessions, goals and released ratings.

        Args:
            competency_key: the mapping's key for it (keys the record's registration).
            competency_iri: the competency's activity IRI (``xapi_iri`` in the mapping).
            side: ``mentee`` or ``mentor``.
        """
        if not 0 <= level <= 1:
            raise ValueError(f"level {level} is not within 0..1")
        language = self.settings.language
        registration = self.evidence_registration(subject, competency_key, side)
        data = {
            "id": self.statement_id(event, "competency-level"),
            "actor": {
                "objectType": "Agent",
                "account": {"homePage": self.settings.identity_home_page, "name": subject},
            },
            "verb": {
                "id": vocab.ACHIEVED,
                "display": {language: vocab.VERB_DISPLAY[vocab.ACHIEVED]},
            },
            "object": {
                "objectType": "Activity",
                "id": self.competency_iri(competency_iri),
                "definition": {"type": vocab.COMPETENCY, "name": {language: competency_name}},
            },
            "result": {
                "score": {"scaled": round(level, 4)},
                "extensions": {self.vocabulary.level_name: level_name},
            },
            "context": {
                "registration": str(registration),
                "platform": self.settings.platform,
                "language": language,
                "contextActivities": {
                    "category": [{"objectType": "Activity", "id": self.vocabulary.version}]
                },
                "extensions": {self.vocabulary.pair_side: side},
            },
            "timestamp": format_timestamp(reached_at),
        }
        return self._seal("competency-level", data)

    def voiding(
        self,
        event: Event,
        pair: PairContext | None,
        *,
        target_id: str,
        voided_at: datetime,
        registration: uuid.UUID | None = None,
    ) -> BuiltStatement:
        """Retract ``target_id``: a voided-verb statement with a StatementRef object, under
        the pair's registration (or ``registration``, for statements outside a pair)."""
        if pair is not None:
            registration = pair.registration
        if registration is None:
            raise ValueError("a voiding statement needs the pair or the registration it is in")
        context = {
            "registration": str(registration),
            "language": self.settings.language,
            "contextActivities": {"category": [self._version_activity()]},
        }
        return self._finish(
            "statement-voided",
            event,
            role=f"voids/{target_id}",
            actor=self._service(),
            verb=vocab.VOIDED,
            target=_statement_ref(target_id),
            context=context,
            timestamp=voided_at,
        )

    # -- parts ------------------------------------------------------------------------------

    def _person(self, opaque_id: str) -> Json:
        return {
            "objectType": "Agent",
            "account": {"homePage": self.settings.identity_home_page, "name": opaque_id},
        }

    def _service(self) -> Json:
        return self._person(self.settings.service_account)

    def _team(self, pair: PairContext) -> Json:
        return {
            "objectType": "Group",
            "account": {
                "homePage": f"{self.settings.activity_base}/pairs",
                "name": str(uuid.uuid5(self.namespace, f"pairs/{pair.key}")),
            },
            "member": [self._person(pair.mentor), self._person(pair.mentee)],
        }

    def _activity(self, iri: str, kind: str, name: str | None = None) -> Json:
        definition: Json = {"type": kind}
        if name:
            definition["name"] = {self.settings.language: name}
        return {"objectType": "Activity", "id": iri, "definition": definition}

    def _session(self, iri: str | None, sequence: str | None) -> Json:
        return self._activity(str(iri), vocab.MEETING, f"Reverse-mentoring session {sequence}")

    def _session_values(
        self, session: str, sequence: int, timestamp: datetime
    ) -> tuple[str, str, str]:
        """What a session's statements share, after their ids (see :meth:`_render`): the
        statement's timestamp, the session's activity IRI and its number."""
        return (
            format_timestamp(timestamp),
            self.activity_id("sessions", session),
            str(sequence),
        )

    def _session_ref(self, session: str) -> Json:
        return self._activity(self.activity_id("sessions", session), vocab.MEETING)

    def _goal(self, goal: str) -> Json:
        return self._activity(self.activity_id("goals", goal), vocab.GOAL, "Mentoring goal")

    def _version_activity(self) -> Json:
        return {"objectType": "Activity", "id": self.vocabulary.version}

    def _context(
        self,
        pair: PairContext,
        *,
        instructor: Json | None = None,
        team: Json | None = None,
        parent: Json | None = None,
        statement: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> Json:
        base = self.settings.activity_base
        activities: Json = {
            "grouping": [
                self._activity(
                    f"{base}/programmes/{_slug(pair.programme)}",
                    self.vocabulary.programme,
                    pair.programme_name,
                ),
                self._activity(self.activity_id("pairs", pair.key), self.vocabulary.pair),
            ],
            "category": [self._version_activity()],
        }
        if parent is not None:
            activities["parent"] = [parent]
        context: Json = {
            "registration": str(pair.registration),
            "platform": self.settings.platform,
            "language": self.settings.language,
            "contextActivities": activities,
        }
        if instructor is not None:
            context["instructor"] = instructor
        if team is not None:
            context["team"] = team
        if statement is not None:
            context["statement"] = _statement_ref(statement)
        if extensions:
            context["extensions"] = dict(extensions)
        return context

    def _finish(
        self,
        template: str,
        event: Event,
        *,
        actor: Json,
        verb: str,
        target: Json,
        context: Json,
        timestamp: datetime,
        result: Json | None = None,
        role: str | None = None,
    ) -> BuiltStatement:
        data = self._statement(
            (self.statement_id(event, role or template), format_timestamp(timestamp)),
            actor=actor,
            verb=verb,
            target=target,
            context=context,
            result=result,
        )
        return self._seal(template, data)

    def _statement(
        self,
        values: Sequence[str | None],
        *,
        actor: Json,
        verb: str,
        target: Json,
        context: Json,
        result: Json | None = None,
    ) -> Json:
        """A statement whose id and timestamp are ``values[0]`` and ``values[1]``."""
        data: Json = {
            "id": values[0],
            "actor": actor,
            "verb": {"id": verb, "display": {self.settings.language: vocab.VERB_DISPLAY[verb]}},
            "object": target,
            "context": context,
            "timestamp": values[1],
        }
        if result is not None:
            data["result"] = result
        return data

    def _render(
        self,
        template: str,
        pair: PairContext,
        build: Callable[[Sequence[str | None]], Json],
        values: tuple[str | None, ...],
    ) -> BuiltStatement:
        """Seal ``build(values)``, from its compiled form once there is one.

        The builder makes a session's statements by the thousand per pair, alike but for the
        values it makes itself: the statement id (``values[0]``), its timestamp
        (``values[1]``), the session's IRI and number, durations. The first statement of a
        template and pair (and of which values are absent) is built and sealed as any other;
        it is then compiled into a form, a format string with a slot for each value, which
        must give back exactly that statement's bytes. Later statements are that form filled
        in, with the clock check alone. The values are uuids, timestamps, durations and
        numbers, which JSON writes as they are.
        """
        key = (template, pair, *(value is None for value in values))
        form = self._forms.get(key)
        if form is not None:
            payload = form.text.format(*values)
            validate_timestamp({"id": values[0], "timestamp": values[1]}, now=self._now())
            return BuiltStatement(
                id=str(values[0]),
                template=template,
                verb=form.verb,
                registration=form.registration,
                payload=payload.encode("utf-8"),
            )
        built = self._seal(template, build(values))
        if key not in self._forms:
            if len(self._forms) >= _CHECKED_SHAPES:
                self._forms.clear()
            self._forms[key] = self._compile(build, values, built)
        return built

    def _compile(
        self,
        build: Callable[[Sequence[str | None]], Json],
        values: tuple[str | None, ...],
        built: BuiltStatement,
    ) -> _Form | None:
        """The form of ``build`` (see :meth:`_render`), or ``None`` if filling it in with
        ``values`` does not give ``built``'s bytes exactly."""
        slots = [None if value is None else f"{self._slot}x{i}x" for i, value in enumerate(values)]
        text = _dumps(build(slots)).replace("{", "{{").replace("}", "}}")
        for i, slot in enumerate(slots):
            if slot is not None:
                text = text.replace(slot, f"{{{i}}}")
        if text.format(*values).encode("utf-8") != built.payload:
            return None
        return _Form(text, built.verb, built.registration)

    def _seal(self, template: str, data: dict[str, Any]) -> BuiltStatement:
        """Validate a statement and freeze its bytes.

        A webhook builds two statements per event and a mapper run hundreds of thousands, and
        statements of one template differ mostly in values the builder makes itself: ids,
        opaque account names, timestamps, durations. The first statement of each shape (the
        statement with those values masked) passes every check; the others of that shape get
        the one check that depends on such a value, the timestamp against the clock. What the
        schema asks of a masked value (a uuid, a date-time, a duration, a non-empty account
        name) holds for every value the builder makes in its place.
        """
        parts = [template]
        _shape(data, parts)
        shape = "|".join(parts)
        if shape in self._checked:
            validate_timestamp(data, now=self._now())
            return self._freeze(template, data)
        validate_statement(data, profile=self.profile, template=template, now=self._now())
        if len(self._checked) >= _CHECKED_SHAPES:
            self._checked.clear()
        self._checked.add(shape)
        return self._freeze(template, data)

    @staticmethod
    def _freeze(template: str, data: dict[str, Any]) -> BuiltStatement:
        return BuiltStatement(
            id=data["id"],
            template=template,
            verb=data["verb"]["id"],
            registration=data.get("context", {}).get("registration"),
            payload=_dumps(data).encode("utf-8"),
        )


@dataclass(frozen=True, slots=True)
class _Form:
    """A compiled statement (see :meth:`StatementBuilder._render`): its JSON text as a format
    string with a slot for each value, and what every statement of it shares."""

    text: str
    verb: str
    registration: str | None


def _dumps(data: Json) -> str:
    """A statement's JSON text: sorted keys, no spaces, UTF-8 as it is."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _shape(value: Any, parts: list[str], account: bool = False) -> None:
    """Append ``value``'s shape to ``parts``: the value with what the builder makes masked (see
    :meth:`StatementBuilder._seal`); other strings, keys and numbers as their ``repr``."""
    kind = type(value)
    if kind is dict:
        parts.append("{")
        for key, item in value.items():
            parts.append(repr(key))
            if account and key == "name" and item:
                parts.append("<name>")
            else:
                _shape(item, parts, key == "account")
        parts.append("}")
    elif kind is list:
        parts.append("[")
        for item in value:
            _shape(item, parts)
        parts.append("]")
    elif kind is str:
        size = len(value)
        if size == 24 and value[-1] == "Z" and _TIMESTAMP.fullmatch(value):
            parts.append("<timestamp>")
        elif size > 1 and value[0] == "P" and _DURATION.fullmatch(value):
            parts.append("<duration>")
        else:
            parts.append(repr(_UUID.sub("<uuid>", value) if size >= 36 else value))
    else:
        parts.append(repr(value))


def _uuid5(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, without the :class:`~uuid.UUID` object: a
    statement's id and its activities' take several per statement."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _statement_ref(statement_id: str) -> Json:
    return {"objectType": "StatementRef", "id": str(uuid.UUID(statement_id))}


def _slug(key: str) -> str:
    return quote(key, safe="-._~")
