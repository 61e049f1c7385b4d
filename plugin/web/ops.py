"""Operations: ``/healthz`` (alive), ``/readyz`` (able to work), ``/metrics``, ``/openapi.json``.

None needs authentication, so none says anything about people or where the store lives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mentorbridge import schemas
from mentorbridge.plugin.store.migrate import current_revision, head_revision
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.web import metrics
from mentorbridge.plugin.web.services import services

__all__ = ["bp", "openapi_document"]

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = _readiness()
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def prometheus() -> Response:
    return Response(metrics.exposition(services().store), content_type=metrics.CONTENT_TYPE)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@cache
def openapi_document() -> dict[str, Any]:
    """``schemas/openapi.yaml``, the description of every route, with the JSON Schema files
    it refers to bundled in as components (one self-contained document)."""
    source = resources.files("mentorbridge.schemas").joinpath("openapi.yaml").read_text("utf-8")
    document = json.loads(json.dumps(yaml.safe_load(source)))
    bundled = document.setdefault("components", {}).setdefault("schemas", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        if ref.endswith(".schema.json"):
            name = ref.removesuffix(".schema.json")
            component = name.replace("/", "_")
            if component not in bundled:
                schema = dict(schemas.load(name))
                schema.pop("$schema", None)
                schema.pop("$id", None)
                bundled[component] = schema
            node = {**node, "$ref": f"#/components/schemas/{component}"}
        return {key: inline(value) for key, value in node.items()}

    return inline(document)


def _readiness() -> dict[str, dict[str, Any]]:
    app = services()
    store = app.store
    try:
        with store.reading() as session:
            session.execute(text("select 1"))
    except SQLAlchemyError as err:
        return {"store": {"ok": False, "detail": f"cannot reach the store ({type(err).__name__})"}}
    checks: dict[str, dict[str, Any]] = {"store": {"ok": True}}
    found, needed = current_revision(store), head_revision()
    checks["migrations"] = (
        {"ok": True, "revision": found}
        if found == needed
        else {
            "ok": False,
            "detail": f"the store is at revision {found}, this version needs {needed}: "
            "run `mentorbridge db upgrade`",
        }
    )
    if not checks["migrations"]["ok"]:
        return checks
    now = datetime.now(UTC)
    status = SqlOutbox(store).status(now=now)
    limit = app.config["web"]["outbox_stuck_seconds"]
    waited = (now - status.oldest_pending).total_seconds() if status.oldest_pending else 0.0
    outbox: dict[str, Any] = {
        "ok": waited <= limit,
        "pending": status.pending,
        "dead_letters": status.dead,
        "oldest_pending_seconds": round(waited),
    }
    if not outbox["ok"]:
        outbox["detail"] = (
            f"a statement has waited {waited:.0f} s for delivery (more than {limit} s): is "
            "`mentorbridge worker` running, and can it reach the LRS? `mentorbridge outbox "
            "status` shows the last error"
        )
    checks["outbox"] = outbox
    return checks
