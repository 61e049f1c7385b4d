"""The web service: webhooks in, learner transcripts and talent reports out, and what
operations need.

``create_app`` is the one way to build it: ``mentorbridge serve`` runs it under gunicorn,
``flask --app mentorbridge.plugin.web run`` for development, tests with their own store and clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import errors, headers, request_log
from mentorbridge.plugin.web.lti import bp as lti_bp
from mentorbridge.plugin.web.ops import bp as ops_bp
from mentorbridge.plugin.web.pairing import bp as pairing_bp
from mentorbridge.plugin.web.reports import bp as reports_bp
from mentorbridge.plugin.web.services import build_services
from mentorbridge.plugin.web.transcripts import bp as transcripts_bp
from mentorbridge.plugin.web.webhooks import bp as webhooks_bp
from mentorbridge.xapi.lrs import LRSClient

__all__ = ["create_app"]


def create_app(
    config: Config | None = None,
    *,
    store: Store | None = None,
    lrs: LRSClient | None = None,
    now: Callable[[], float] = time.time,
) -> Flask:
    """The Flask app.

    Args:
        config: the configuration; loaded the usual way (file, then environment) if omitted.
        store: the store to use instead of opening ``store.url`` (tests).
        lrs: the LRS client transcripts confirm delivery with, instead of one from ``[lrs]``.
        now: unix time, for signatures and links (tests pass a fake clock).
    """
    config = config or load_config()
    # An explicit instance path: Flask's own search cannot walk the installed namespace package,
    # and nothing is kept in an instance folder anyway.
    app = Flask(__name__, static_folder=None, instance_path=str(Path(__file__).parent / "instance"))
    app.json.sort_keys = False
    app.extensions["mentorbridge"] = build_services(config, store=store, lrs=lrs, now=now)
    errors.init_app(app)
    request_log.init_app(app)
    headers.init_app(app)
    for blueprint in (webhooks_bp, transcripts_bp, reports_bp, pairing_bp, lti_bp, ops_bp):
        app.register_blueprint(blueprint)
    return app
