"""Security headers on every answer.

Every answer says ``Referrer-Policy: no-referrer`` (a signed transcript link is a credential
until it expires, and must not leave in a Referer) and ``X-Content-Type-Options: nosniff``.

HTML pages (the transcript, error pages) carry a Content-Security-Policy that allows nothing
but their own inline styles, and lets only the origins in ``web.frame_ancestors`` (the LMS that
embeds the transcript; ``'self'`` by default) show them in a frame. The styles are allowed by
the hash of each ``<style>`` block in the templates, computed when the app is built, so a style
injected into a page would not apply. Other answers (JSON, metrics) get
``default-src 'none'; frame-ancestors 'none'``: nothing in them is meant to load or be framed.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response

__all__ = ["init_app", "page_policy", "template_scripts", "template_styles"]

_STYLE = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.DOTALL | re.IGNORECASE)
_SCRIPT = re.compile(r"<script(?:\s[^>]*)?>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    """Set the headers on every answer of ``app``, framed by ``web.frame_ancestors``."""
    ancestors = app.extensions["mentorbridge"].config["web"]["frame_ancestors"]
    policy = page_policy(template_styles(app), ancestors)

    def secure(response: Response) -> Response:
        headers = response.headers
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = (
                policy if response.mimetype == "text/html" else _OTHER_POLICY
            )
        return response

    app.after_request(secure)


def page_policy(
    styles: list[str],
    frame_ancestors: list[str],
    *,
    scripts: list[str] | None = None,
    form_action: list[str] | None = None,
) -> str:
    """The Content-Security-Policy of an HTML page whose inline ``<style>`` blocks are
    ``styles``, framable by ``frame_ancestors``; ``scripts`` (inline ``<script>`` texts) and
    ``form_action`` (where its forms may post) for the LTI pages that need them."""
    hashes = " ".join(sorted({_sha256(style) for style in styles})) or "'none'"
    directives = ["default-src 'none'", f"style-src {hashes}"]
    if scripts:
        directives.append(f"script-src {' '.join(sorted({_sha256(s) for s in scripts}))}")
    forms = " ".join(form_action) if form_action else "'none'"
    directives += [
        "base-uri 'none'",
        f"form-action {forms}",
        f"frame-ancestors {' '.join(frame_ancestors)}",
    ]
    return "; ".join(directives)


def template_styles(app: Flask) -> list[str]:
    """The text of every ``<style>`` block in the app's HTML templates, as written."""
    return _blocks(app, _STYLE)


def template_scripts(app: Flask) -> list[str]:
    """The text of every inline ``<script>`` block in the app's HTML templates, as written
    (they take their values from data attributes, so the text, and its hash, never varies)."""
    return _blocks(app, _SCRIPT)


def _blocks(app: Flask, pattern: re.Pattern[str]) -> list[str]:
    env, blocks = app.jinja_env, []
    for name in env.list_templates(extensions=["html"]):
        source, _filename, _uptodate = env.loader.get_source(env, name)
        blocks += pattern.findall(source)
    return blocks


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
