"""Logging set-up with a last line of defence: known secret values never reach a log."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from mentorbridge.plugin.config import REDACTED, Config

__all__ = [
    "JsonFormatter",
    "SchedulerChatterFilter",
    "SecretFilter",
    "TextFormatter",
    "configure_from",
    "configure_logging",
]


class SecretFilter(logging.Filter):
    """Replaces every known secret value in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short values would mask ordinary words; real secrets are longer than this.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            for secret in self.secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request fields a record carries (``extra=``).

    A traceback is logged as its frames and the exception's type only: exception messages can
    quote the data being processed, and logs must not hold personal data.
    """

    FIELDS = (
        "request_id",
        "method",
        "route",
        "status",
        "duration_ms",
        "event_type",
        "event_id",
        "outcome",
    )

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["error"] = type(error).__name__
            entry["traceback"] = "".join(traceback.format_tb(error.__traceback__))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain lines; one written while a request was answered ends with its ``request_id``."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request_id={request_id}]" if request_id else line


class SchedulerChatterFilter(logging.Filter):
    """APScheduler's per-run lines ("Running job …", "Job … executed successfully") become
    DEBUG: a flush every few seconds would otherwise fill the log with nothing happening.
    Its warnings (a missed run) and errors (a job that raised) keep their level."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("apscheduler.executors") and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return self.level <= logging.DEBUG
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record (tests and tools redirect it); ours,
    so configuring twice replaces it instead of doubling every line."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str, secrets: Iterable[str] = (), *, json_lines: bool = False) -> None:
    """Log to stderr at ``level``, with ``secrets`` masked in every record; ``json_lines`` for
    one JSON object per line (``logging.format``; the services by default). With JSON lines,
    Python's warnings are logged too, so nothing else reaches stderr as plain text."""
    handler = _StderrHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(SecretFilter(secrets))
    handler.addFilter(SchedulerChatterFilter(logging.getLevelName(level)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(json_lines)
    for noisy in ("httpx", "httpcore", "alembic", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def configure_from(config: Config, *, service: bool = False) -> None:
    """Logging as ``config`` says: ``logging.level``, and ``logging.format`` (``auto`` means
    JSON lines for a ``service`` process, ``serve`` and ``worker``, plain lines otherwise)."""
    settings = config["logging"]
    form = settings.get("format", "auto")
    json_lines = form == "json" or (form == "auto" and service)
    configure_logging(settings["level"], config.secrets(), json_lines=json_lines)
