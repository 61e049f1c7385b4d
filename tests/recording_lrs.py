"""Ralph, with every statement id it is sent written down: ``uvicorn tests.recording_lrs:app``.

Ralph keeps one copy of a statement sent twice (an identical duplicate is dropped, as xAPI
allows), so its store cannot tell a statement delivered twice from one delivered once. This
wraps its ASGI app and appends the id of every statement in every POST or PUT to
``$RECORDING_LRS_FILE`` (one id a line) before Ralph sees the request. Set Ralph's own
``RALPH_*`` variables as :meth:`xapi.localrs.LocalLRS.environment` gives them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from mentorbridge.xapi.ralph_app import app as ralph

__all__ = ["app"]

Message = dict[str, Any]
_written = threading.Lock()


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """Record the ids of the statements a write carries, then hand the request to Ralph."""
    if not _is_statement_write(scope):
        await ralph(scope, receive, send)
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    _record(body, scope)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()  # a disconnect, if the client goes away
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    await ralph(scope, replay, send)


def _is_statement_write(scope: Message) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in ("POST", "PUT")
        and scope["path"].rstrip("/").endswith("/statements")
    )


def _record(body: bytes, scope: Message) -> None:
    try:
        sent = json.loads(body)
    except ValueError:
        return  # Ralph answers 400 itself
    statements = sent if isinstance(sent, list) else [sent]
    ids = [s.get("id") for s in statements if isinstance(s, dict)]
    if scope["method"] == "PUT":  # the id is in the query string
        query = dict(
            part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part
        )
        ids = [query.get("statementId")]
    with _written, open(os.environ["RECORDING_LRS_FILE"], "a", encoding="utf-8") as file:
        file.writelines(f"{statement_id}\n" for statement_id in ids)
