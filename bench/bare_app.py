"""The benchmark's baseline: a bare Flask endpoint that reads the body and answers 202.

It is what Flask and gunicorn cost per request with nothing done: the framework's limit.
"""

from __future__ import annotations

from flask import Flask, request

app = Flask(__name__)


@app.post("/webhooks/v1/events")
def receive() -> tuple[dict[str, str], int]:
    request.get_data()
    return {"status": "accepted"}, 202
