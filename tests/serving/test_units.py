"""The serving pieces without a server: the batcher (merging, splitting, overload, model pinning),
the champion reloader, the limits and the front door's helpers."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, timedelta

import pytest

from serving.batcher import Batcher, Overloaded
from serving.limits import LimitError, check_buckets, parse_interval
from serving.reloader import Reloader
from serving.security import Policy, host_name, rewrite_validation_body


class _Prediction:
    def __init__(self, text, version):
        self.text, self.version = text, version


class _Predictor:
    def __init__(self, version, delay=0.01):
        self.version, self.delay, self.calls = version, delay, []
        self.lock = threading.Lock()

    def predict(self, texts, batch_size=32):
        with self.lock:
            self.calls.append(len(texts))
        time.sleep(self.delay)
        return [_Prediction(t, self.version) for t in texts]


class _Runtime:
    def __init__(self, version, delay=0.01):
        self.model_version, self.predictor, self.backend = version, _Predictor(version, delay), None

    def sync_cases(self):
        return {"indexed": 3, "removed": 0, "total": 3}


def test_batcher_merges_concurrent_requests_and_splits_large_ones():
    runtime = _Runtime("1", delay=0.05)
    batcher = Batcher(lambda: runtime, max_batch_size=8)

    async def main():
        small = [batcher.predict([f"a{i}", f"b{i}"]) for i in range(8)]
        large = batcher.predict([f"x{i}" for i in range(20)])
        return await asyncio.gather(*small, large)

    answers = asyncio.run(main())
    assert [[p.text for p in ps] for ps, _ in answers[:8]] == [[f"a{i}", f"b{i}"] for i in range(8)]
    assert [p.text for p in answers[8][0]] == [f"x{i}" for i in range(20)]
    assert max(runtime.predictor.calls) <= 8 and len(runtime.predictor.calls) < 8 + 3  # merged, not one pass each
    batcher.close()


def test_batcher_refuses_beyond_its_queue_with_retry_after():
    runtime = _Runtime("1", delay=0.2)
    batcher = Batcher(lambda: runtime, max_batch_size=4, max_queue_texts=8)

    async def main():
        first = asyncio.ensure_future(batcher.predict(["a"] * 8))
        await asyncio.sleep(0)
        with pytest.raises(Overloaded) as refused:
            await batcher.predict(["b"] * 4)
        assert refused.value.retry_after >= 1
        return await first

    assert len(asyncio.run(main())[0]) == 8
    batcher.close()


def test_requests_finish_on_the_model_they_were_admitted_with():
    current = {"runtime": _Runtime("1", delay=0.05)}
    batcher = Batcher(lambda: current["runtime"], max_batch_size=4)

    async def main():
        old = asyncio.ensure_future(batcher.predict(["a"] * 10))
        await asyncio.sleep(0.01)
        current["runtime"] = _Runtime("2", delay=0.01)
        new = await batcher.predict(["b"] * 3)
        return await old, new

    (old, old_rt), (new, new_rt) = asyncio.run(main())
    assert {p.version for p in old} == {"1"} and old_rt.model_version == "1"
    assert {p.version for p in new} == {"2"} and new_rt.model_version == "2"

def test_batcher_uses_each_models_own_batch_size_unless_configured():
    """A fast sparse model serves best in large passes, an encoder in small ones; after a champion
    switch the new model's size applies. A configured size overrides both."""
    first = _Runtime("1", delay=0.02)
    first.predictor.serving_batch_size = 5
    current = {"runtime": first}
    batcher = Batcher(lambda: current["runtime"])

    async def main():
        await batcher.predict([f"a{i}" for i in range(12)])
        current["runtime"] = _Runtime("2", delay=0.02)  # declares nothing: the encoder default, 64
        await batcher.predict([f"b{i}" for i in range(100)])

    asyncio.run(main())
    assert max(first.predictor.calls) == 5 and sum(first.predictor.calls) == 12
    assert max(current["runtime"].predictor.calls) == 64
    batcher.close()
    fixed = _Runtime("3")
    fixed.predictor.serving_batch_size = 256
    batcher = Batcher(lambda: fixed, max_batch_size=7)
    asyncio.run(batcher.predict(["c"] * 20))
    assert max(fixed.predictor.calls) == 7
    batcher.close()

    batcher.close()


def test_reloader_switches_only_when_the_alias_moved():
    state = {"runtime": _Runtime("1"), "champion": "1"}
    reloader = Reloader(lambda: state["runtime"], lambda rt: state.update(runtime=rt), interval_s=0,
                        champion=lambda: state["champion"], load=lambda version, backend: _Runtime(version))

    async def main():
        unchanged = await reloader.reload()
        state["champion"] = "2"
        switched = await reloader.reload()
        return unchanged, switched

    unchanged, switched = asyncio.run(main())
    assert unchanged["reloaded"] is False and state["runtime"].model_version == "2"
    assert switched == {"reloaded": True, "previous_version": "1", "model_version": "2",
                        "cases": {"indexed": 3, "removed": 0, "total": 3}, "seconds": switched["seconds"]}
    reloader.enabled = False
    assert asyncio.run(reloader.reload())["reloaded"] is False


@pytest.mark.parametrize("interval,ok", [("1m", True), ("15m", True), ("1h", True), ("30d", True), ("31d", False),
                                          ("0m", False), ("abc", False), ("1000000d", False), ("1s", False), ("", False)])
def test_intervals(interval, ok):
    if ok:
        assert parse_interval(interval) >= timedelta(minutes=1)
    else:
        with pytest.raises(LimitError) as refused:
            parse_interval(interval)
        assert refused.value.field == "interval"


def test_bucket_limit():
    from datetime import datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    check_buckets("1h", timedelta(hours=1), start, start + timedelta(days=30))
    with pytest.raises(LimitError):
        check_buckets("1m", timedelta(minutes=1), start, start + timedelta(days=30))


def test_front_door_helpers():
    assert host_name("[::1]:3000") == "::1" and host_name("LocalHost:80") == "localhost"
    policy = Policy(allowed_hosts=["yuqing.example.com"])
    assert policy.host_allowed("yuqing.example.com:443") and policy.host_allowed("127.0.0.1:3000")
    assert not policy.host_allowed("evil.example") and not policy.host_allowed(None)
    assert Policy(allowed_hosts=["*"]).host_allowed("anything")
    assert policy.origin_allowed("http://localhost:3000") and not policy.origin_allowed("https://evil.example")
    body = rewrite_validation_body(b'{"error": "1 validation error", "detail": [{"loc": ["texts", 0], "msg": "too long"}]}')
    assert b'"field": "texts.0"' in body and b'"error": "texts.0: too long"' in body


def test_settings_keys(tmp_path, monkeypatch):
    from yuqing.config import Settings

    keys = tmp_path / "keys"
    keys.write_text("# operators\nfile-key-1\n\nfile-key-2  # ci\n", encoding="utf-8")
    settings = Settings(api_keys=" a , ,b", api_keys_file=keys)
    assert settings.keys() == ["a", "b", "file-key-1", "file-key-2"]
