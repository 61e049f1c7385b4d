"""Sign and send events: ``mentorbridge events send``, the demo and the benchmark use it, and
it shows a sender's integration what to do."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx

from mentorbridge.plugin.errors import ServiceUnreachableError
from mentorbridge.plugin.webhooks.signing import HEADER, signature_header

__all__ = [
    "EVENTS_PATH",
    "EXAMPLE_SEQUENCE",
    "EventSender",
    "Sent",
    "encode_event",
    "example_event",
]

EVENTS_PATH = "/webhooks/v1/events"
#: The shipped example events (``schemas/webhooks/examples/<name>.json``) in the order that
#: tells one pair's story; sent in this order to a store holding the sample tenant, each is
#: accepted. The executive's pairing intake comes first; then the pair is formed, a session
#: booked and held, a reflection, a goal and a rating follow (its release taken back the next
#: morning), the next session is booked and called off, the goal is reached, the pair ends.
EXAMPLE_SEQUENCE = (
    "intake.submitted",
    "pair.created",
    "session.scheduled",
    "session.completed",
    "goal.set",
    "reflection.submitted",
    "outcome.rated",
    "outcome.release_changed",
    "session.scheduled.next",
    "session.cancelled",
    "goal.achieved",
    "pair.ended",
)


def example_event(name: str) -> bytes:
    """The shipped example ``name`` (one of :data:`EXAMPLE_SEQUENCE`), as its file holds it."""
    examples = resources.files("mentorbridge.schemas") / "webhooks" / "examples"
    return (examples / f"{name}.json").read_bytes()


def encode_event(event: dict[str, Any]) -> bytes:
    """An event's body as we send it: compact UTF-8 JSON."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Sent:
    """The service's answer to one event."""

    status: int
    body: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.status in (200, 202)


class EventSender:
    """Posts events to a Mentorbridge service, each signed with every one of ``secrets``.

    Args:
        base_url: the service, such as ``http://127.0.0.1:8080``.
        secrets: signing secrets; during a rotation, the old and the new one.
        client: an ``httpx.Client`` to send with (tests pass Flask's via a transport).
        clock: unix time, for the signature's timestamp.
    """

    def __init__(
        self,
        base_url: str,
        secrets: Sequence[str],
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.url = base_url.rstrip("/") + EVENTS_PATH
        self.secrets = list(secrets)
        self.clock = clock
        self._client = client or httpx.Client(timeout=timeout)

    def send(self, event: dict[str, Any] | bytes) -> Sent:
        """Sign and post one event (a dict, or a body already encoded)."""
        body = event if isinstance(event, bytes) else encode_event(event)
        return self.post(body, signature=signature_header(body, self.secrets, int(self.clock())))

    def post(
        self, body: bytes, *, signature: str | None, content_type: str = "application/json"
    ) -> Sent:
        """Post ``body`` with the given signature header as it is (or none): for tests of
        what the service refuses."""
        headers = {"Content-Type": content_type}
        if signature is not None:
            headers[HEADER] = signature
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as err:
            raise ServiceUnreachableError(
                f"cannot reach the Mentorbridge service at {self.url} ({_reason(err)})",
                url=self.url,
            ) from err
        try:
            answer = response.json()
        except ValueError:
            answer = {"error": "not_json", "message": response.text[:500]}
        return Sent(response.status_code, answer)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EventSender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _reason(err: httpx.TransportError) -> str:
    """A few words on why a connection failed, without httpx's internals."""
    if isinstance(err, httpx.TimeoutException):
        return "no answer in time"
    text = str(err)
    for marker, reason in (
        ("refused", "connection refused: nothing listens there"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ):
        if marker in text:
            return reason
    return text.split("] ", 1)[-1] or type(err).__name__
