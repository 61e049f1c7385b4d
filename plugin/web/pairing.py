"""Pairing review over HTTP, for admin tokens (`mentorbridge token add --role admin`):

- ``GET  /api/pairing/<programme>``: the latest run and the current pairs, explained;
- ``POST /api/pairing/<programme>/propose``: a new run (``{"objective": "best"|"most",
  "re_pair": false}``, all optional);
- ``POST /api/pairing/<programme>/proposals/<id>/lock`` and ``…/reject``;
- ``POST /api/pairing/<programme>/lock``: a pair by hand (``{"mentee", "mentor"}``);
- ``POST /api/pairing/<programme>/approve``: ``{"proposals": [ids]}`` or ``{"all": true}``.

Refusals are JSON like every API error (401/403 without an admin token, 409 for a pair that
breaks a rule or a closed proposal, 422 for an unknown programme or proposal, 400 for a bad
body);
every call is in the report audit, as reports are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from mentorbridge.plugin.errors import ValidationError
from mentorbridge.plugin.pairing.file import load_programmes, programme_named
from mentorbridge.plugin.pairing.programme import PairingProgramme
from mentorbridge.plugin.pairing.review import (
    approve,
    current,
    describe,
    lock,
    lock_pair,
    propose,
    reject,
)
from mentorbridge.plugin.reports.access import record
from mentorbridge.plugin.web.reports import authorise
from mentorbridge.plugin.web.services import services

__all__ = ["bp"]

bp = Blueprint("pairing", __name__)


def _open(programme: str, action: str) -> tuple[PairingProgramme, Any]:
    caller = authorise(f"pairing {action}", {"programme": programme}, roles=("admin",))
    spec = programme_named(load_programmes(services().config.pairing_file), programme)
    return spec, caller


def _done(caller: Any, action: str, programme: str, body: dict[str, Any]) -> Response:
    record(
        services().store,
        caller,
        f"pairing {action}",
        filters={"programme": programme},
        outcome="ok",
    )
    return jsonify(body)


def _body(*allowed: str) -> dict[str, Any]:
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise ValidationError("the request", [("$", "send a JSON object")])
    unknown = [key for key in body if key not in allowed]
    if unknown:
        raise ValidationError(
            "the request",
            [(f"$.{key}", f"unknown key: the keys are {', '.join(allowed)}") for key in unknown],
        )
    return body


def _today() -> Any:
    return datetime.now(UTC).date()


@bp.get("/api/pairing/<programme>")
def show(programme: str) -> Response:
    spec, caller = _open(programme, "show")
    run, proposals = current(services().store, spec.key)
    return _done(caller, "show", spec.key, describe(run, proposals))


@bp.post("/api/pairing/<programme>/propose")
def propose_view(programme: str) -> Response:
    spec, caller = _open(programme, "propose")
    body = _body("objective", "re_pair")
    objective = body.get("objective")
    if objective not in (None, "best", "most"):
        raise ValidationError("the request", [("$.objective", 'expected "best" or "most"')])
    if not isinstance(body.get("re_pair", False), bool):
        raise ValidationError("the request", [("$.re_pair", "expected true or false")])
    run, plan = propose(
        services().store,
        spec,
        today=_today(),
        objective=objective,
        re_pair=body.get("re_pair", False),
    )
    return _done(
        caller,
        "propose",
        spec.key,
        {
            "run": run.id,
            "objective": plan.objective,
            "proposed": len(plan.pairs),
            "total_score": plan.total,
            "upper_bound": plan.bound,
            "unmatched": plan.unmatched,
        },
    )


@bp.post("/api/pairing/<programme>/proposals/<int:proposal>/lock")
def lock_proposal(programme: str, proposal: int) -> Response:
    return _decide(programme, proposal, "lock")


@bp.post("/api/pairing/<programme>/proposals/<int:proposal>/reject")
def reject_proposal(programme: str, proposal: int) -> Response:
    return _decide(programme, proposal, "reject")


def _decide(programme: str, proposal: int, action: str) -> Response:
    spec, caller = _open(programme, action)
    _body()
    row = (lock if action == "lock" else reject)(services().store, spec.key, proposal)
    return _done(caller, action, spec.key, {"id": row.id, "status": row.status})


@bp.post("/api/pairing/<programme>/lock")
def lock_by_hand(programme: str) -> Response:
    spec, caller = _open(programme, "lock")
    body = _body("mentee", "mentor")
    missing = [
        (f"$.{key}", "required: an Employee ID")
        for key in ("mentee", "mentor")
        if not isinstance(body.get(key), str) or not body.get(key)
    ]
    if missing:
        raise ValidationError("the request", missing)
    row = lock_pair(services().store, spec, body["mentee"], body["mentor"], today=_today())
    return _done(caller, "lock", spec.key, {"id": row.id, "status": row.status, "score": row.score})


@bp.post("/api/pairing/<programme>/approve")
def approve_view(programme: str) -> Response:
    spec, caller = _open(programme, "approve")
    body = _body("proposals", "all")
    ids = body.get("proposals")
    everything = body.get("all") is True
    if everything == (ids is not None) or (
        ids is not None
        and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids) or not ids)
    ):
        raise ValidationError(
            "the request",
            [("$", 'send {"proposals": [ids]} (proposal ids, integers) or {"all": true}')],
        )
    app = services()
    done = approve(app.store, app.processor, spec, None if everything else ids, today=_today())
    return _done(caller, "approve", spec.key, {"created": done.created, "already": done.already})
