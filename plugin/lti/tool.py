"""The LTI tool as the web app and the CLI use it: its URLs (built on ``web.public_url``), its
keys, the platforms it knows, and the launch checks, made once from the configuration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.lti.keys import ToolKeys
from mentorbridge.plugin.lti.launch import Launcher
from mentorbridge.plugin.lti.platform_keys import PlatformKeySets
from mentorbridge.plugin.lti.platforms import Platforms
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store

__all__ = ["LtiTool", "ToolUrls"]


@dataclass(frozen=True)
class ToolUrls:
    """The tool's addresses, as platforms and browsers reach them."""

    base: str

    @property
    def login(self) -> str:
        return f"{self.base}/lti/login"

    @property
    def launch(self) -> str:
        return f"{self.base}/lti/launch"

    @property
    def jwks(self) -> str:
        return f"{self.base}/.well-known/jwks.json"

    @property
    def register(self) -> str:
        return f"{self.base}/lti/register"

    @property
    def deep_link(self) -> str:
        return f"{self.base}/lti/deep-link"


class LtiTool:
    """Everything LTI, for one configuration and store."""

    def __init__(self, config: Config, store: Store, *, now: Any = utc_now) -> None:
        self.config, self.store, self.now = config, store, now
        self.settings = config["lti"]
        self.urls = ToolUrls(compose.service_url(config))

    @cached_property
    def keys(self) -> ToolKeys:
        key_file = self.settings.get("private_key_file")
        return ToolKeys(self.store, private_key_file=Path(key_file) if key_file else None)

    @cached_property
    def platforms(self) -> Platforms:
        return Platforms(self.store)

    @cached_property
    def key_sets(self) -> PlatformKeySets:
        return PlatformKeySets(timeout=self.timeout)

    @cached_property
    def launcher(self) -> Launcher:
        return Launcher(
            self.store,
            launch_url=self.urls.launch,
            key_sets=self.key_sets,
            leeway=self.settings["clock_leeway_seconds"],
            ttl=self.settings["launch_ttl_seconds"],
            now=self.now,
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.settings["connect_timeout"], self.settings["read_timeout"])
