"""Settings from the environment, and the queue backend they pick (no Redis server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.delivery import DeliverySettings, Dispatcher
from monitoring.delivery.queue import make_huey


def test_settings_from_env(tmp_path):
    settings = DeliverySettings.from_env({"YUQING_DATA_DIR": str(tmp_path), "YUQING_DELIVERY_MAX_ATTEMPTS": "4",
                                          "YUQING_DELIVERY_BACKOFF_BASE": "2.5", "YUQING_REDIS_URL": ""})
    assert settings.max_attempts == 4 and settings.backoff_base == 2.5 and settings.redis_url is None
    assert settings.queue_path == tmp_path / "delivery" / "queue.db"
    assert settings.channels_path == Path(tmp_path) / "delivery" / "channels.yaml"


def test_sqlite_by_default_and_redis_when_a_url_is_given(tmp_path):
    assert type(make_huey(DeliverySettings(data_dir=tmp_path)).storage).__name__ == "SqliteStorage"
    pytest.importorskip("redis")
    huey = make_huey(DeliverySettings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6390/3"))
    assert type(huey.storage).__name__ == "RedisStorage"
    assert huey.storage.pool.connection_kwargs["db"] == 3  # nothing connects until the queue is used


def test_backoff_is_exponential_capped_and_jittered(tmp_path):
    dispatcher = Dispatcher(DeliverySettings(data_dir=tmp_path, backoff_base=60, backoff_cap=3600))
    waits = [[dispatcher.backoff(n) for n in range(1, 9)] for _ in range(20)]
    for run in waits:
        for n, wait in enumerate(run, 1):
            ceiling = min(3600, 60 * 2 ** (n - 1))
            assert ceiling / 2 <= wait <= ceiling
    assert len({run[2] for run in waits}) > 1  # jitter
    dispatcher.close()


def test_channels_file_with_secrets_from_the_environment(tmp_path, monkeypatch):
    settings = DeliverySettings(data_dir=tmp_path)
    settings.delivery_dir.mkdir(parents=True)
    settings.channels_path.write_text("analysts:\n  type: wecom\n  key: ${WECOM_KEY}\n", encoding="utf-8")
    monkeypatch.setenv("WECOM_KEY", "k-123")
    dispatcher = Dispatcher(settings)
    [delivery_id] = dispatcher.publish("alert.raised", {"title": "t", "severity": "minor",
                                                         "routing": {"minor": ["analysts"]}})
    config = dispatcher._target_config(dispatcher.delivery(delivery_id))
    assert config == {"type": "wecom", "key": "k-123"}
    dispatcher.close()
