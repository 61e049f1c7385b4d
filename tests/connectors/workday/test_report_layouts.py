"""Report layouts and composed columns: a report stream reads one row per item or items nested
under a parent row (``rows_under``, the parent's columns inherited), ``workday check`` says
which layout it sees and what to set, and a field may be composed from several columns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from mentorbridge.connectors.workday.columns import expand_row
from mentorbridge.connectors.workday.fields import RowError, normalize
from mentorbridge.connectors.workday.sample.tenant import Tenant, generate_tenant
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.errors import MentorbridgeError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import CompetencyAssessment, HrisWorker
from tests.connectors.workday.test_sync import config, sync
from tests.workday_server import WorkdayServer

WORKER_ROOTED = {"competency_assessments": ("Employee_ID", "Competencies")}
LEGAL = ["Legal_First_Name", "Legal_Middle_Name", "Legal_Last_Name"]
PREFERRED = ["Preferred_First_Name", "Preferred_Middle_Name", "Preferred_Last_Name"]


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60, seed=29)


@pytest.fixture
def nested_server(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant, nested_report_rows=WORKER_ROOTED) as running:
        yield running


def assessments(store: Store) -> set[tuple[str, str, str]]:
    with store.reading() as session:
        return {
            (a.employee_id, a.competency_id, a.level_id)
            for a in session.scalars(select(CompetencyAssessment))
        }


def check(cfg: Config, store: Store) -> dict[str, Any]:
    connector = compose.workday_connector(cfg, store)
    try:
        return {r.source.split(" ")[0]: r for r in connector.check()}
    finally:
        connector.close()


def test_a_worker_rooted_assessments_report_yields_every_assessment(
    store: Store, nested_server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(
        nested_server,
        workers_from="raas",
        **{"fields.competency_assessments.rows_under": "Competencies"},
    )
    report = sync(cfg, store, full=True)

    expected = {
        (a["employee_id"], a["competency_id"], a["level_id"]) for a in tenant.competency_assessments
    }
    assert len(expected) > 20
    assert assessments(store) == expected
    assert report.counts["competency_assessments"].created == len(tenant.competency_assessments)
    assert report.counts["competency_assessments"].skipped == 0


def test_a_nested_report_without_rows_under_fails_naming_the_setting_instead_of_storing_nothing(
    store: Store, nested_server: WorkdayServer
) -> None:
    cfg = config(nested_server, workers_from="raas")
    with pytest.raises(MentorbridgeError) as failed:
        sync(cfg, store, full=True, only=["competency_assessments"])
    assert 'set workday.fields.competency_assessments.rows_under = "Competencies"' in str(
        failed.value
    )
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(CompetencyAssessment)) == 0


def test_check_says_which_layout_it_sees_and_what_to_set(
    store: Store, nested_server: WorkdayServer
) -> None:
    unset = check(config(nested_server, workers_from="raas"), store)["competency_assessments"]
    assert "layout: items nested under column Competencies" in unset.detail
    assert any(
        'set workday.fields.competency_assessments.rows_under = "Competencies"' in w
        for w in unset.warnings
    ), unset.warnings
    assert not any("absent from every row" in w for w in unset.warnings), unset.warnings

    cfg = config(
        nested_server,
        workers_from="raas",
        **{"fields.competency_assessments.rows_under": "Competencies"},
    )
    results = check(cfg, store)
    assert "layout: items nested under column Competencies" in (
        results["competency_assessments"].detail
    )
    assert results["competency_assessments"].warnings == ()
    assert "layout: one row per item" in results["workers"].detail


def test_check_warns_when_rows_under_names_a_column_the_flat_report_lacks(
    store: Store, tenant: Tenant
) -> None:
    with WorkdayServer(tenant) as flat:
        cfg = config(
            flat, workers_from="raas", **{"fields.competency_assessments.rows_under": "Items"}
        )
        result = check(cfg, store)["competency_assessments"]
    assert "layout: one row per item" in result.detail
    assert any(
        "rows_under = 'Items' but no row read has a column Items" in w
        and 'rows_under = "" (one row per item)' in w
        for w in result.warnings
    ), result.warnings


def test_nested_items_inherit_the_parent_columns_and_their_own_win() -> None:
    row = {"Employee_ID": "E1", "Source": "parent", "Competencies": [{"A": "1", "Source": "own"}]}
    assert expand_row(row, "Competencies") == [{"Employee_ID": "E1", "Source": "own", "A": "1"}]
    assert expand_row({"Employee_ID": "E2"}, "Competencies") == []
    with pytest.raises(RowError, match="array of objects"):
        expand_row({"Competencies": "not a list"}, "Competencies")


def workers(store: Store) -> dict[str, tuple[str, str | None]]:
    with store.reading() as session:
        return {
            w.employee_id: (w.legal_name, w.preferred_name)
            for w in session.scalars(select(HrisWorker))
        }


def test_names_composed_from_split_columns_are_stored_whole(store: Store, tenant: Tenant) -> None:
    with WorkdayServer(tenant, split_names=True) as server:
        cfg = config(
            server,
            workers_from="raas",
            **{"fields.workers.legal_name": LEGAL, "fields.workers.preferred_name": PREFERRED},
        )
        report = sync(cfg, store, full=True, only=["workers"])
    assert report.counts["workers"].skipped == 0
    stored = workers(store)
    assert any(len(w["legal_name"].split()) >= 3 for w in tenant.workers)  # middle names too
    for worker in tenant.workers:
        legal, preferred = stored[worker["employee_id"]]
        assert legal == " ".join(worker["legal_name"].split())
        assert preferred == (" ".join((worker["preferred_name"] or "").split()) or None)


def test_a_composed_field_joins_with_single_spaces_and_drops_empty_parts() -> None:
    aliases = load_config(environ={"XDG_CONFIG_HOME": "/nonexistent"})["workday"]["fields"]
    aliases = {**aliases, "workers": {**aliases["workers"], "legal_name": LEGAL}}
    row = {"Legal_First_Name": " Ada ", "Legal_Middle_Name": "", "Legal_Last_Name": "Lovelace"}
    assert normalize("workers", row, aliases)["legal_name"] == "Ada Lovelace"
    assert normalize("workers", {}, aliases)["legal_name"] is None


def test_a_composed_field_can_be_set_from_the_environment_as_a_comma_list() -> None:
    cfg = load_config(
        environ={
            "XDG_CONFIG_HOME": "/nonexistent",
            "MENTORBRIDGE_WORKDAY_FIELDS_WORKERS_LEGAL_NAME": "Legal_First_Name,Legal_Last_Name",
        }
    )
    aliases = cfg["workday"]["fields"]
    row = {"Legal_First_Name": "José", "Legal_Last_Name": "Nuñez", "Legal_Name": "wrong"}
    assert normalize("workers", row, aliases)["legal_name"] == "José Nuñez"
