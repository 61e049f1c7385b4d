"""Walk a launch through a live tool the way a browser does, with a ``requests.Session``.

Login initiation → the tool's redirect (or auto-submitted form) to the platform's ``/auth`` →
the platform's auto-submitted form → POST to the tool's redirect_uri. The session carries the
tool's cookies between the steps, as a browser would (mind that ``requests`` never sends a
``Secure`` cookie over plain http).
"""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from tests.lti_platform.model import LaunchStart
from tests.lti_platform.pages import LaunchForm

__all__ = ["browse_launch", "submit"]

_MAX_HOPS = 5


def submit(session: requests.Session, form: LaunchForm, timeout: float = 5) -> requests.Response:
    """Submit a form as the browser's script would (without following redirects)."""
    if form.method == "get":
        return session.get(form.action, params=form.fields, allow_redirects=False, timeout=timeout)
    return session.post(form.action, data=form.fields, allow_redirects=False, timeout=timeout)


def browse_launch(
    start: LaunchStart, session: requests.Session, *, timeout: float = 5
) -> requests.Response:
    """Run the launch to the end; the tool's answer to the id_token POST (not followed).

    Raises AssertionError when a step does not lead where the flow says it must.
    """
    if start.method == "GET":
        response = session.get(
            start.url, params=start.params, allow_redirects=False, timeout=timeout
        )
    else:
        response = session.post(
            start.url, data=start.params, allow_redirects=False, timeout=timeout
        )
    authorization_endpoint = f"{start.params['iss']}/auth"
    for _ in range(_MAX_HOPS):
        if response.url.split("?", 1)[0] == authorization_endpoint:
            break
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            response = session.get(location, allow_redirects=False, timeout=timeout)
        elif response.status_code == 200 and "<form" in response.text:
            response = submit(session, LaunchForm.parse(response.text), timeout)
        else:
            raise AssertionError(
                f"login initiation stopped at {response.url} with {response.status_code}"
            )
    else:
        raise AssertionError("the tool never sent the browser to the authorization endpoint")
    if response.status_code != 200:
        raise AssertionError(f"the platform refused the authentication request: {response.text}")
    return submit(session, LaunchForm.parse(response.text), timeout)
