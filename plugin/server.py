"""``mentorbridge serve``: the web app under gunicorn, for production.

Each gunicorn worker builds its own app (and so its own database connections) after the fork.
Metrics from all workers are summed through a directory of prometheus_client's multiprocess
mode, which must be chosen before anything imports prometheus_client: this module therefore
never imports :mod:`plugin.web` itself, only the workers do.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.logs import configure_from

__all__ = ["serve"]


class _Service(BaseApplication):
    def __init__(self, config_path: Path | None, options: dict[str, Any]) -> None:
        self.config_path = config_path
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # gunicorn < 25.1 has no control socket to disable
                self.cfg.set(key, value)

    def load(self) -> Any:
        config = load_config(self.config_path)
        configure_from(config, service=True)
        from mentorbridge.plugin.web import create_app

        return create_app(config)


class _GunicornLogs(Logger):
    """gunicorn's own lines (arbiter and workers) go through our handler and formatter
    instead of gunicorn's plain-text handlers, so ``logging.format = "json"`` covers them.

    gunicorn's access log stays off: it would print each path with its query (worker ids, a
    signed link's signature); the app's own line per request names the route instead.
    """

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        self._access_log_enabled = False
        self.loglevel = self.LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO)
        self.error_log.setLevel(self.loglevel)
        for log in (self.error_log, self.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
            log.propagate = True


def _worker_exited(_arbiter: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve(
    config: Config,
    config_path: Path | None,
    *,
    host: str,
    port: int,
    workers: int,
    with_worker: bool = False,
) -> None:
    """Serve until stopped (SIGINT or SIGTERM). With ``with_worker``, also run
    ``mentorbridge worker`` beside it (a single-machine install) and stop it on the way out."""
    configure_from(config, service=True)  # the arbiter's lines, before it forks
    metrics_dir = tempfile.mkdtemp(prefix="mentorbridge-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    background = None
    if with_worker:
        config_args = ["--config", str(config_path)] if config_path else []
        background = subprocess.Popen(
            [sys.executable, "-m", "mentorbridge.plugin.cli", *config_args, "worker"]
        )
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "sync",
        "timeout": 30,
        "graceful_timeout": 20,
        # Recycle workers now and then, so a slow leak can never grow without bound.
        "max_requests": 20000,
        "max_requests_jitter": 2000,
        # Our own JSON line per request names the route, not the path (no worker ids).
        "accesslog": None,
        "errorlog": "-",
        "logger_class": _GunicornLogs,
        "loglevel": config["logging"]["level"].lower(),
        "proc_name": "mentorbridge",
        "child_exit": _worker_exited,
        # No control socket in the home directory, which two services would fight over.
        "control_socket_disable": True,
    }
    try:
        _Service(config_path, options).run()
    finally:
        if background is not None:
            background.terminate()
            background.wait(timeout=30)
        shutil.rmtree(metrics_dir, ignore_errors=True)
