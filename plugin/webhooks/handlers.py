"""What each event type does: one :class:`~plugin.recorder.Recorder` call, in the caller's
transaction. Events that carry no time of their own happened at ``occurred_at``.

``intake.submitted`` goes to the pairing intake desk instead
(:class:`~plugin.pairing.intake.IntakeDesk`) and queues no statement: intake themes stay in
the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import ValidationError
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.webhooks.events import IncomingEvent
from mentorbridge.xapi.statements import Event

if TYPE_CHECKING:
    from mentorbridge.plugin.pairing.intake import IntakeDesk

__all__ = ["HANDLERS", "apply_event", "created_by"]

Handler = Callable[[Recorder, Session, IncomingEvent], tuple[str, ...]]


def apply_event(
    recorder: Recorder,
    session: Session,
    event: IncomingEvent,
    *,
    intake: IntakeDesk | None = None,
) -> tuple[str, ...]:
    """Record ``event`` in ``session``; the ids of the statements it queued.

    ``intake.submitted`` is recorded by ``intake``, the pairing intake desk; without one it is
    refused.
    """
    if event.type == "intake.submitted":
        return _intake_submitted(intake, session, event)
    return HANDLERS[event.type](recorder, session, event)


def created_by(event_type: str, data: dict) -> tuple[str, str] | None:
    """The ``(kind, key)`` an event of this type brings into being, if any: later events
    may refer to it while it is held."""
    match event_type:
        case "pair.created":
            return ("pair", data["pair_id"])
        case "session.scheduled" | "session.completed":
            return ("session", data["session_id"])
        case "goal.set":
            return ("goal", data["goal_id"])
    return None


def _pair_created(recorder: Recorder, session: Session, event: IncomingEvent) -> tuple[str, ...]:
    d = event.data
    recorder.register_programme(d["programme_id"], d.get("programme_name"), within=session)
    recorder.create_pair(
        key=d["pair_id"],
        programme=d["programme_id"],
        mentee=d["mentee"],
        mentor=d["mentor"],
        started_on=d["started_on"],
        cadence=d.get("cadence"),
        themes=d.get("themes", ()),
        within=session,
    )
    return ()


def _pair_ended(recorder: Recorder, session: Session, event: IncomingEvent) -> tuple[str, ...]:
    recorder.end_pair(key=event.data["pair_id"], ended_on=event.data["ended_on"], within=session)
    return ()


def _session_scheduled(
    recorder: Recorder, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    d = event.data
    return recorder.schedule_session(
        _statement_event(event),
        pair=d["pair_id"],
        session_key=d["session_id"],
        planned_start=d["planned_start"],
        planned_minutes=d.get("planned_minutes"),
        scheduled_at=event.occurred_at,
        within=session,
    ).statement_ids


def _session_completed(
    recorder: Recorder, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    d = event.data
    return recorder.complete_session(
        _statement_event(event),
        pair=d["pair_id"],
        session_key=d["session_id"],
        started_at=d["started_at"],
        duration_minutes=d["duration_minutes"],
        themes=d.get("themes_discussed", ()),
        attendees=d["attendees"],
        within=session,
    ).statement_ids


def _session_cancelled(
    recorder: Recorder, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    return recorder.cancel_session(
        _statement_event(event),
        session_key=event.data["session_id"],
        cancelled_at=event.occurred_at,
        reason=event.data.get("reason"),
        within=session,
    ).statement_ids


def _reflection_submitted(
    recorder: Recorder, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    d = event.data
    return recorder.submit_reflection(
        _statement_event(event),
        session_key=d["session_id"],
        reflection_key=d["reflection_id"],
        author=d["author"],
        text=d["text"],
        visibility=d.get("visibility", "private"),
        submitted_at=event.occurred_at,
        within=session,
    ).statement_ids


def _goal_set(recorder: Recorder, session: Session, event: IncomingEvent) -> tuple[str, ...]:
    d = event.data
    return recorder.set_goal(
        _statement_event(event),
        pair=d["pair_id"],
        goal_key=d["goal_id"],
        owner=d["owner"],
        title=d["title"],
        target_date=d.get("target_date"),
        session_key=d.get("session_id"),
        set_at=event.occurred_at,
        within=session,
    ).statement_ids


def _goal_achieved(recorder: Recorder, session: Session, event: IncomingEvent) -> tuple[str, ...]:
    return recorder.achieve_goal(
        _statement_event(event),
        goal_key=event.data["goal_id"],
        achieved_at=event.occurred_at,
        within=session,
    ).statement_ids


def _outcome_rated(recorder: Recorder, session: Session, event: IncomingEvent) -> tuple[str, ...]:
    d = event.data
    low, high = d["scale"]["min"], d["scale"]["max"]
    if low >= high:
        raise ValidationError(
            "the event", [("$.data.scale", f"min {low} is not below max {high}: fix the scale")]
        )
    if not low <= d["rating"] <= high:
        raise ValidationError(
            "the event",
            [
                (
                    "$.data.rating",
                    f"{d['rating']} is not valid: expected a rating from {low} to {high}",
                )
            ],
        )
    return recorder.rate_outcome(
        _statement_event(event),
        session_key=d["session_id"],
        outcome_key=d["outcome_id"],
        subject=d["subject"],
        rater=d["rater"],
        competency=d["competency"]["id"],
        competency_name=d["competency"]["name"],
        rating=d["rating"],
        scale=(low, high),
        released=d["released"],
        rated_at=event.occurred_at,
        within=session,
    ).statement_ids


def _outcome_release_changed(
    recorder: Recorder, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    return recorder.change_release(
        _statement_event(event),
        outcome_key=event.data["outcome_id"],
        released=event.data["released"],
        changed_at=event.occurred_at,
        within=session,
    ).statement_ids


def _intake_submitted(
    desk: IntakeDesk | None, session: Session, event: IncomingEvent
) -> tuple[str, ...]:
    if desk is None:
        raise ValidationError(
            "the event",
            [
                (
                    "$.type",
                    "intake.submitted is not taken by this event processor: it was built "
                    "without the pairing intake desk; build it with compose.event_processor "
                    "(or pass intake=IntakeDesk(...) to EventProcessor)",
                )
            ],
        )
    d = event.data
    desk.record(
        session,
        programme_key=d["programme_id"],
        employee_id=d["employee_id"],
        role=d["role"],
        themes=d["themes"],
        languages=d.get("languages", ()),
        protected_consent=d.get("protected_consent", False),
        source=event.source,
        submitted_at=event.occurred_at,
        where=_intake_path,
    )
    return ()  # the themes stay in the store: no statement


def _intake_path(field: str, index: int | None) -> str:
    """An intake field as ``intake.submitted`` names it: ``$.data.programme_id``."""
    path = "$.data." + ("programme_id" if field == "programme" else field)
    return path if index is None else f"{path}[{index}]"


def _statement_event(event: IncomingEvent) -> Event:
    return Event(source=event.source, id=event.id)


HANDLERS: dict[str, Handler] = {
    "pair.created": _pair_created,
    "pair.ended": _pair_ended,
    "session.scheduled": _session_scheduled,
    "session.completed": _session_completed,
    "session.cancelled": _session_cancelled,
    "reflection.submitted": _reflection_submitted,
    "goal.set": _goal_set,
    "goal.achieved": _goal_achieved,
    "outcome.rated": _outcome_rated,
    "outcome.release_changed": _outcome_release_changed,
}
