"""The tool served over HTTP on 127.0.0.1 for the LTI tests (the platform fetches its key set
and posts back to it), and a browser-like session driving launches through the platform."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.demo.delivery import serving_on
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from tests.lti_platform import LaunchForm, LocalPlatform

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@dataclass
class Tool:
    url: str
    app: Flask
    store: Store

    @property
    def lti(self) -> Any:
        from mentorbridge.plugin.lti.tool import LtiTool

        services = self.app.extensions["mentorbridge"]
        if services.lti is None:
            services.lti = LtiTool(services.config, services.store)
        return services.lti


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve_tool(
    store: Store, store_url: str, *, host: str = "127.0.0.1", **overrides: Any
) -> Iterator[Tool]:
    """The tool on 127.0.0.1, its public URL naming ``host`` (``localhost``: another site
    than the platform's 127.0.0.1, as an LMS and a tool on their own domains are)."""
    port = free_port()
    url = f"http://{host}:{port}"
    config = load_config(
        None,
        environ={},
        overrides={"store.url": store_url, "lrs.auth": "none", "web.public_url": url, **overrides},
    )
    app = create_app(config, store=store)
    with serving_on(app, port):
        yield Tool(url, app, store)


def launch(
    browser: requests.Session, platform: LocalPlatform, start: Any, *, accept: str = "text/html"
) -> requests.Response:
    """Drive a launch as a browser would: the login at the tool, the platform's authorisation,
    then the form-post back to the tool."""
    login = browser.request(
        start.method if hasattr(start, "method") else "GET",
        start.url,
        params=start.params,
        allow_redirects=False,
    )
    assert login.status_code == 302, login.text
    authorised = browser.get(login.headers["Location"])
    assert authorised.status_code == 200, authorised.text
    form = LaunchForm.parse(authorised.text)
    return browser.post(form.action, data=form.fields, headers={"Accept": accept})
