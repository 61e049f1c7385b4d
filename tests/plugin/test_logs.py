"""``logging.format``: which processes write JSON lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.logs import configure_from, configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    configure_logging("WARNING")


@pytest.mark.parametrize(
    ("form", "service", "json_lines"),
    [
        (None, True, True),  # auto: serve and worker
        (None, False, False),  # auto: the other commands
        ("json", False, True),
        ("json", True, True),
        ("text", True, False),
    ],
    ids=["auto-service", "auto-command", "json-command", "json-service", "text-service"],
)
def test_logging_format_chooses_json_lines_per_process(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    form: str | None,
    service: bool,
    json_lines: bool,
) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_LRS_PASSWORD": "lrs-secret-value"}
    if form is not None:
        environ["MENTORBRIDGE_LOGGING_FORMAT"] = form
    configure_from(load_config(environ=environ), service=service)
    logging.getLogger("mentorbridge.test").info("sent with %s", "lrs-secret-value")
    (line,) = capsys.readouterr().err.splitlines()
    if json_lines:
        record = json.loads(line)
        assert (record["level"], record["logger"]) == ("INFO", "mentorbridge.test")
        assert record["message"] == "sent with ********"
    else:
        assert line.endswith("INFO mentorbridge.test: sent with ********")


def test_logging_format_refuses_an_unknown_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_config(
            environ={"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_LOGGING_FORMAT": "xml"}
        )
