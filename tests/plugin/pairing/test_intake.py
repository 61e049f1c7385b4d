"""Pairing intake: ``intake.submitted`` events through the event processor and the web endpoint,
and intake files; against the sample tenant. A record names a programme of the pairing file, an
active worker eligible on that side, and themes of the programme; anything else is refused with
the field and the fix, and nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError, ValidationError
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.pairing.file import load_programmes
from mentorbridge.plugin.pairing.intake import IntakeDesk, IntakeImport, import_intake
from mentorbridge.plugin.pairing.pool import load_pool
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.models import OutboxStatement
from mentorbridge.plugin.store.pairing_models import PairingIntake
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.plugin.webhooks.sender import EventSender, encode_event
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS
from tests.plugin.pairing.tenant import TODAY, add_workers
from tests.plugin.web.conftest import CLOCK, SECRET, example, table_counts, web_config

PROGRAMME = load_programmes(None)["rm-2026"]  # the shipped default
EXECUTIVE = "10004"  # 2 Senior Executive: a mentee
OTHER_EXECUTIVE = "10002"  # 2 Senior Executive
CEO = "10001"  # 1 Chief Executive: on neither side
JUNIOR = "10417"  # 6 Individual Contributor hired 2026-05-30: a mentor on TODAY
SENIOR_JUNIOR = "10412"  # 6 Individual Contributor hired 2018: too long in the company
NEWCOMER = "20001"  # hired after the last HRIS sync


@pytest.fixture
def sample(store_url: str, store: Store) -> Store:
    """The store with the sample Workday tenant in its HRIS mirror."""
    config = load_config(
        None,
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={"store.url": store_url, "lrs.auth": "none"},
    )
    sync_workday(config, store)
    return store


def desk(**changes: Any) -> IntakeDesk:
    """A desk for the shipped programme (with ``changes``), judging tenure on TODAY."""
    return IntakeDesk({"rm-2026": replace(PROGRAMME, **changes)}, today=lambda: TODAY)


def processor(store: Store, intake: IntakeDesk | None, unknown_people: str = "reject"):
    return EventProcessor(
        Recorder(store, StatementBuilder(SETTINGS)), unknown_people=unknown_people, intake=intake
    )


def intake_event(**data: Any) -> Any:
    """The shipped example (an executive's priorities) with ``data`` changed."""
    return parse_event(encode_event(example("intake.submitted", data=data)))


def stored(store: Store) -> dict[tuple[str, str], PairingIntake]:
    with store.reading() as session:
        return {(r.employee_id, r.role): r for r in session.scalars(select(PairingIntake))}


def count(store: Store, model: Any) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- the event, through the processor ---------------------------------------------------------


def test_an_intake_event_stores_the_intake_in_the_programmes_spelling_and_no_statement(
    sample: Store,
) -> None:
    event = intake_event(themes=["HYBRID WORK", "generative ai at work"], protected_consent=True)
    accepted = processor(sample, desk()).process(event)
    assert accepted.result["status"] == "processed"
    assert accepted.result["statement_ids"] == []
    row = stored(sample)[(EXECUTIVE, "mentee")]
    assert row.programme_key == "rm-2026"
    assert row.themes == ["hybrid work", "generative AI at work"]  # order kept: priorities
    assert row.languages == ["en", "pt"]
    assert row.protected_consent is True
    assert row.source == "example"
    assert row.submitted_at == datetime(2026, 8, 17, 9, tzinfo=UTC)  # the event's occurred_at
    assert count(sample, OutboxStatement) == 0  # the themes stay in the store
    # The pool of the next pairing run sees them.
    with sample.reading() as session:
        pool = load_pool(session, PROGRAMME, today=TODAY)
    [mentee] = [c for c in pool.mentees if c.employee_id == EXECUTIVE]
    assert mentee.themes == ("hybrid work", "generative AI at work")


def test_a_redelivered_intake_event_is_recorded_once(sample: Store) -> None:
    events = processor(sample, desk())
    first = events.process(intake_event())
    again = events.process(intake_event())
    assert again.redelivery and again.result == first.result
    assert count(sample, PairingIntake) == 1
    assert count(sample, WebhookEvent) == 1
    assert stored(sample)[(EXECUTIVE, "mentee")].themes == [
        "generative AI at work",
        "Gen Z customers",
        "hybrid work",
    ]


def test_a_later_submission_replaces_the_earlier_one_and_a_late_older_one_does_not(
    sample: Store,
) -> None:
    events = processor(sample, desk())
    events.process(intake_event())
    newer = example("intake.submitted", id="evt-intake-2", occurred_at="2026-08-20T09:00:00Z")
    newer["data"].update(themes=["social media"], languages=[], protected_consent=True)
    events.process(parse_event(encode_event(newer)))
    older = example("intake.submitted", id="evt-intake-3", occurred_at="2026-08-18T09:00:00Z")
    older["data"].update(themes=["mobile-first service"])
    assert events.process(parse_event(encode_event(older))).result["status"] == "processed"
    row = stored(sample)[(EXECUTIVE, "mentee")]
    assert count(sample, PairingIntake) == 1
    assert (row.themes, row.languages, row.protected_consent) == (["social media"], [], True)
    assert row.submitted_at == datetime(2026, 8, 20, 9, tzinfo=UTC)


def test_intake_is_kept_per_programme(sample: Store) -> None:
    other = replace(PROGRAMME, key="rm-2027")
    events = processor(sample, IntakeDesk({"rm-2026": PROGRAMME, "rm-2027": other}))
    events.process(intake_event())
    second = example("intake.submitted", id="evt-intake-2", data={"programme_id": "rm-2027"})
    events.process(parse_event(encode_event(second)))
    with sample.reading() as session:
        keys = sorted(session.scalars(select(PairingIntake.programme_key)))
    assert keys == ["rm-2026", "rm-2027"]


# -- refusals: the field, the fix, nothing stored ---------------------------------------------


def refused(store: Store, event: Any, error: type[Exception], **kwargs: Any) -> Exception:
    before = table_counts(store)
    with pytest.raises(error) as caught:
        processor(store, desk(), **kwargs).process(event)
    assert table_counts(store) == before  # not the intake, not even the event row
    return caught.value


def test_an_unknown_programme_is_refused_naming_the_field_and_the_programmes(
    sample: Store,
) -> None:
    err = refused(sample, intake_event(programme_id="rm-2025"), UnknownReferenceError)
    assert (err.kind, err.key) == ("programme", "rm-2025")
    assert "$.data.programme_id" in str(err)
    assert "use one of rm-2026" in str(err)


def test_an_unknown_worker_is_refused_naming_the_field_and_the_sync(sample: Store) -> None:
    err = refused(sample, intake_event(employee_id=NEWCOMER), UnknownReferenceError)
    assert (err.kind, err.key) == ("worker", NEWCOMER)
    message = str(err)
    assert f"worker {NEWCOMER} as mentee in rm-2026" in message  # the record
    assert "$.data.employee_id" in message and "mentorbridge sync workday" in message
    assert 'web.unknown_people = "hold"' in message


def test_an_inactive_worker_is_refused_as_not_an_active_worker(sample: Store) -> None:
    with sample.transaction() as session:
        session.execute(
            update(HrisWorker).where(HrisWorker.employee_id == EXECUTIVE).values(active=False)
        )
    err = refused(sample, intake_event(), UnknownReferenceError)
    assert (err.kind, err.key) == ("worker", EXECUTIVE)
    assert "inactive in the HRIS mirror" in str(err)


def test_an_unknown_worker_is_held_until_the_hris_sync_that_brings_them(sample: Store) -> None:
    events = processor(sample, desk(), unknown_people="hold")
    held = events.process(intake_event(employee_id=NEWCOMER))
    assert held.result["status"] == "held"
    assert held.result["waiting_for"] == {"kind": "worker", "key": NEWCOMER}
    assert count(sample, PairingIntake) == 0
    add_workers(sample, [{"employee_id": NEWCOMER, "management_level": "3 Vice President"}])
    report = events.release_held()
    assert report.processed == ["evt-example-00"]
    assert stored(sample)[(NEWCOMER, "mentee")].themes[0] == "generative AI at work"


def test_someone_outside_the_programme_is_refused_with_why_and_the_opt_in_fix(
    sample: Store,
) -> None:
    event = intake_event(employee_id=SENIOR_JUNIOR, role="mentor")
    err = refused(sample, event, ConflictError)
    message = str(err)
    assert "$.data.employee_id" in message
    assert f"worker {SENIOR_JUNIOR} is not eligible as a mentor in rm-2026" in message
    assert "days of tenure, more than 730" in message  # why
    assert f"add '{SENIOR_JUNIOR}' to opt_in under [programmes.rm-2026.mentors]" in message
    # The fix works.
    opted_in = replace(PROGRAMME.mentors, opt_in=(SENIOR_JUNIOR,))
    accepted = processor(sample, desk(mentors=opted_in)).process(event)
    assert accepted.result["status"] == "processed"
    assert (SENIOR_JUNIOR, "mentor") in stored(sample)


def test_an_executive_sending_a_mentors_intake_is_told_their_side(sample: Store) -> None:
    err = refused(sample, intake_event(role="mentor"), ConflictError)
    assert "management level 2 Senior Executive is not one the programme takes" in str(err)
    assert "they are eligible as a mentee: send their intake with role mentee" in str(err)


def test_someone_on_neither_side_is_refused(sample: Store) -> None:
    err = refused(sample, intake_event(employee_id=CEO), ConflictError)
    assert "management level 1 Chief Executive" in str(err)
    assert "[programmes.rm-2026.mentees]" in str(err)


def test_a_theme_the_programme_does_not_have_is_refused_listing_its_themes(
    sample: Store,
) -> None:
    event = intake_event(themes=["hybrid work", "blockchain"])
    err = refused(sample, event, ValidationError)
    [(path, message)] = err.problems
    assert path == "$.data.themes[1]"
    assert "'blockchain' (the 2nd theme) is not one of rm-2026's themes" in message
    assert all(theme in message for theme in PROGRAMME.themes)


def test_a_theme_given_twice_in_any_case_is_refused(sample: Store) -> None:
    event = intake_event(themes=["hybrid work", "Social media", "Hybrid Work"])
    err = refused(sample, event, ValidationError)
    assert err.problems == [
        (
            "$.data.themes[2]",
            "'Hybrid Work' (the 3rd theme) repeats the 1st: give each theme once, in "
            "priority order",
        )
    ]


def test_the_schema_refuses_an_intake_event_without_themes_or_with_another_role() -> None:
    for data, path in (({"themes": []}, "$.data.themes"), ({"role": "sponsor"}, "$.data.role")):
        with pytest.raises(ValidationError) as caught:
            intake_event(**data)
        assert [p for p, _ in caught.value.problems] == [path]


def test_a_processor_without_an_intake_desk_refuses_the_event(sample: Store) -> None:
    before = table_counts(sample)
    with pytest.raises(ValidationError) as caught:
        processor(sample, None).process(intake_event())
    [(path, message)] = caught.value.problems
    assert path == "$.type" and "without the pairing intake desk" in message
    assert table_counts(sample) == before


# -- the event, through the web endpoint ------------------------------------------------------


@pytest.fixture
def sender(sample: Store, store_url: str) -> Iterator[EventSender]:
    """The web app as `serve` builds it (its intake desk reads the shipped pairing file)."""
    app = create_app(web_config(store_url), store=sample, now=lambda: CLOCK)
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=client, clock=lambda: CLOCK) as sent:
        yield sent


def test_the_webhook_endpoint_records_an_intake_event_once(
    sender: EventSender, sample: Store
) -> None:
    first = sender.send(example("intake.submitted"))
    assert first.status == 202, first.body
    assert first.body["status"] == "processed" and first.body["statement_ids"] == []
    again = sender.send(example("intake.submitted"))
    assert again.status == 200
    assert count(sample, PairingIntake) == 1
    assert stored(sample)[(EXECUTIVE, "mentee")].themes[0] == "generative AI at work"


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        ({"programme_id": "rm-2025"}, 422, "$.data.programme_id: no programme 'rm-2025'"),
        ({"employee_id": NEWCOMER}, 422, "$.data.employee_id: worker '20001' is not known"),
        ({"employee_id": CEO}, 409, "$.data.employee_id: worker 10001 is not eligible"),
    ],
    ids=["unknown-programme", "unknown-worker", "outside-the-programme"],
)
def test_the_webhook_endpoint_refuses_bad_intake_with_the_field(
    sender: EventSender, sample: Store, data: dict[str, str], status: int, says: str
) -> None:
    before = table_counts(sample)
    sent = sender.send(example("intake.submitted", data=data))
    assert sent.status == status, sent.body
    assert says in sent.body["message"]
    assert table_counts(sample) == before


def test_the_webhook_endpoint_refuses_an_unknown_theme_as_an_invalid_event(
    sender: EventSender, sample: Store
) -> None:
    before = table_counts(sample)
    sent = sender.send(example("intake.submitted", data={"themes": ["Hybrid work", "metaverse"]}))
    assert sent.status == 400, sent.body
    assert sent.body["error"] == "invalid_event"
    assert [p["path"] for p in sent.body["problems"]] == ["$.data.themes[1]"]
    assert table_counts(sample) == before


# -- intake files -----------------------------------------------------------------------------

HEADER = "programme,employee_id,role,themes,languages,protected_consent\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_a_csv_file_stores_every_row(sample: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intake.csv",
        HEADER
        + f"rm-2026,{EXECUTIVE},mentee,Generative AI at work;hybrid work,en;pt,yes\n"
        + f'rm-2026,{OTHER_EXECUTIVE},mentee,"social media; Gen Z customers",,\n'
        + f"rm-2026,{JUNIOR},Mentor,social media;generative AI at work;hybrid work,EN,0\n",
    )
    assert import_intake(sample, desk(), path) == IntakeImport(created=3, updated=0)
    rows = stored(sample)
    assert set(rows) == {(EXECUTIVE, "mentee"), (OTHER_EXECUTIVE, "mentee"), (JUNIOR, "mentor")}
    executive = rows[(EXECUTIVE, "mentee")]
    assert executive.themes == ["generative AI at work", "hybrid work"]
    assert (executive.languages, executive.protected_consent) == (["en", "pt"], True)
    assert rows[(OTHER_EXECUTIVE, "mentee")].themes == ["social media", "Gen Z customers"]
    assert rows[(OTHER_EXECUTIVE, "mentee")].protected_consent is False
    assert rows[(JUNIOR, "mentor")].themes == [
        "social media",
        "generative AI at work",
        "hybrid work",
    ]
    assert all(row.source == "file:intake.csv" for row in rows.values())
    # Imported again with one change: the rows are replaced, not added.
    path.write_text(path.read_text().replace("en;pt,yes", "de,no"), "utf-8")
    assert import_intake(sample, desk(), path) == IntakeImport(created=0, updated=3)
    assert count(sample, PairingIntake) == 3
    executive = stored(sample)[(EXECUTIVE, "mentee")]
    assert (executive.languages, executive.protected_consent) == (["de"], False)


def test_a_json_lines_file_stores_every_row(sample: Store, tmp_path: Path) -> None:
    lines = [
        {
            "programme": "rm-2026",
            "employee_id": EXECUTIVE,
            "role": "mentee",
            "themes": ["inclusive leadership"],
            "languages": ["en"],
            "protected_consent": True,
        },
        {
            "programme": "rm-2026",
            "employee_id": JUNIOR,
            "role": "mentor",
            "themes": ["Inclusive Leadership"],
        },
    ]
    path = write(tmp_path, "intake.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n\n")
    assert import_intake(sample, desk(), path) == IntakeImport(created=2, updated=0)
    rows = stored(sample)
    assert rows[(JUNIOR, "mentor")].themes == ["inclusive leadership"]
    assert rows[(JUNIOR, "mentor")].languages == []
    assert rows[(EXECUTIVE, "mentee")].protected_consent is True


def test_a_file_with_one_bad_row_stores_nothing_and_names_the_line(
    sample: Store, tmp_path: Path
) -> None:
    import_intake(
        sample,
        desk(),
        write(tmp_path, "before.csv", HEADER + f"rm-2026,{EXECUTIVE},mentee,hybrid work,,\n"),
    )
    path = write(
        tmp_path,
        "intake.csv",
        HEADER
        + f"rm-2026,{EXECUTIVE},mentee,social media,,\n"  # would replace the stored one
        + f"rm-2026,{OTHER_EXECUTIVE},mentee,hybrid work;blockchain,,\n"
        + f"rm-2026,{JUNIOR},mentor,social media,,\n",
    )
    before = table_counts(sample)
    with pytest.raises(ValidationError) as caught:
        import_intake(sample, desk(), path)
    assert [where for where, _ in caught.value.problems] == ["line 3: themes"]
    assert "'blockchain' (the 2nd theme) is not one of rm-2026's themes" in str(caught.value)
    assert str(path) in str(caught.value)
    assert table_counts(sample) == before
    assert stored(sample)[(EXECUTIVE, "mentee")].themes == ["hybrid work"]


def test_a_file_reports_every_problem_at_once_by_line(sample: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "intake.csv",
        HEADER
        + f"rm-2025,{EXECUTIVE},mentee,hybrid work,,\n"  # 2: unknown programme
        + f"rm-2026,{NEWCOMER},mentee,hybrid work,,\n"  # 3: unknown worker
        + "\n"  # 4: blank, skipped
        + f"rm-2026,{SENIOR_JUNIOR},mentor,hybrid work,,\n"  # 5: outside the programme
        + f"rm-2026,{JUNIOR},mentor,hybrid work;HYBRID WORK,,maybe\n"  # 6: twice; consent
        + f"rm-2026,{OTHER_EXECUTIVE},sponsor,,,\n"  # 7: role, no themes
        + f"rm-2026,{JUNIOR},mentor,social media,,\n",  # 8: line 6's person and role again
    )
    with pytest.raises(ValidationError) as caught:
        import_intake(sample, desk(), path)
    problems = caught.value.problems
    assert [where for where, _ in problems] == [
        "line 2: programme",
        "line 3: employee_id",
        "line 5: employee_id",
        "line 6: protected_consent",
        "line 6: themes",
        "line 7: role",
        "line 7: themes",
        "line 8: employee_id",
    ]
    text = dict(problems)
    assert "use one of rm-2026" in text["line 2: programme"]
    assert "mentorbridge sync workday" in text["line 3: employee_id"]
    assert "opt_in under [programmes.rm-2026.mentors]" in text["line 5: employee_id"]
    assert "on line 6 already" in text["line 8: employee_id"]
    assert count(sample, PairingIntake) == 0


def test_a_file_with_an_unknown_column_is_refused_before_any_row(
    sample: Store, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "intake.csv",
        "programme,employee_id,role,theme\n" + f"rm-2026,{EXECUTIVE},mentee,hybrid work\n",
    )
    with pytest.raises(ValidationError) as caught:
        import_intake(sample, desk(), path)
    assert [where for where, _ in caught.value.problems] == ["line 1: theme", "line 1: themes"]
    assert count(sample, PairingIntake) == 0
