"""Delivery settings, read from an environment mapping (prefix YUQING_) so that the shared
`yuqing.config.Settings` does not need to know about delivery."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from yuqing.config import PROJECT_ROOT


@dataclass(frozen=True)
class DeliverySettings:
    data_dir: Path = PROJECT_ROOT / "data"
    redis_url: str | None = None  # set → the queue lives in Redis; subscriptions/deliveries stay in SQLite
    max_attempts: int = 6  # failed attempts before a delivery goes to the dead-letter list
    backoff_base: float = 60.0  # seconds before the 2nd attempt; doubles each attempt
    backoff_cap: float = 3600.0  # no single wait is longer than this
    request_timeout: float = 10.0  # per HTTP / SMTP attempt
    timezone: str = "Asia/Shanghai"  # how deadlines are shown to people
    channels_file: Path | None = None  # named people channels (YAML/JSON); default <delivery_dir>/channels.yaml
    queue_name: str = "yuqing-delivery"
    incident_url: str | None = None  # https://…/incidents/{incident_id}: the link when a payload has none

    @property
    def delivery_dir(self) -> Path:
        return self.data_dir / "delivery"

    @property
    def database_path(self) -> Path:
        return self.delivery_dir / "delivery.db"

    @property
    def queue_path(self) -> Path:
        return self.delivery_dir / "queue.db"

    @property
    def channels_path(self) -> Path:
        return self.channels_file or self.delivery_dir / "channels.yaml"

    def with_(self, **changes) -> DeliverySettings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeliverySettings:
        """YUQING_DATA_DIR, YUQING_REDIS_URL, YUQING_DELIVERY_MAX_ATTEMPTS, YUQING_DELIVERY_BACKOFF_BASE,
        YUQING_DELIVERY_BACKOFF_CAP, YUQING_DELIVERY_TIMEOUT, YUQING_DELIVERY_CHANNELS, YUQING_INCIDENT_URL,
        YUQING_TIMEZONE."""
        env = os.environ if env is None else env
        defaults = cls()

        def number(name: str, default: float) -> float:
            return float(env[name]) if env.get(name) else default

        channels = env.get("YUQING_DELIVERY_CHANNELS")
        return cls(
            data_dir=Path(env.get("YUQING_DATA_DIR") or defaults.data_dir),
            redis_url=env.get("YUQING_REDIS_URL") or None,
            max_attempts=int(number("YUQING_DELIVERY_MAX_ATTEMPTS", defaults.max_attempts)),
            backoff_base=number("YUQING_DELIVERY_BACKOFF_BASE", defaults.backoff_base),
            backoff_cap=number("YUQING_DELIVERY_BACKOFF_CAP", defaults.backoff_cap),
            request_timeout=number("YUQING_DELIVERY_TIMEOUT", defaults.request_timeout),
            timezone=env.get("YUQING_TIMEZONE") or defaults.timezone,
            channels_file=Path(channels) if channels else None,
            incident_url=env.get("YUQING_INCIDENT_URL") or None,
        )
