"""Operations a client must not notice: the champion alias moving while requests run (the
service switches without restart and without failing anything), and `kill -9` during ingest
(every acknowledged mention is there after the restart)."""

from __future__ import annotations

import threading
import time

from tests.serving.conftest import KEY, copy_project, project_env, start_server, train_and_promote

AUTH = {"Authorization": f"Bearer {KEY}"}


def test_champion_reload_during_load(trained_project, tmp_path):
    import httpx

    folder = copy_project(trained_project, tmp_path / "reload")
    env = project_env(folder, YUQING_RELOAD_INTERVAL_S="1")
    server = start_server(env, folder / "serve.log")
    results: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while not stop.is_set():
                response = http.post("/classify", json={"texts": [f"华岳银行App又崩了，工资转不出去 {n}"] * 3})
                version = response.json()[0]["model_version"] if response.status_code == 200 else ""
                results.append((time.monotonic(), response.status_code, version))
                time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    try:
        for thread in threads:
            thread.start()
        train_and_promote(env, folder / "labelled.jsonl", force=True)  # registers v2 and moves the alias
        promoted = time.monotonic()
        deadline = promoted + 60
        while time.monotonic() < deadline and not any(v == "2" for _, _, v in results[-5:]):
            time.sleep(0.5)
        time.sleep(1.0)  # and requests keep flowing on the new version
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        log = server.log.read_text(encoding="utf-8", errors="replace")  # all of it: access lines are many
        server.stop()
    statuses = [s for _, s, _ in results]
    assert statuses and all(s == 200 for s in statuses), f"failures: {[s for s in statuses if s != 200][:10]}\n{log[-4000:]}"
    versions = [v for _, _, v in results]
    assert versions[0] == "1" and versions[-1] == "2", log[-4000:]
    first_new = versions.index("2")
    assert set(versions[first_new + 3 * 3:]) == {"2"}  # once switched, stays switched (3 clients in flight)
    assert "champion switched (alias check): v1 -> v2" in log
    import re

    indexed, total = map(int, re.search(r"v1 -> v2; (\d+) of (\d+) cases re-embedded", log).groups())
    assert indexed == total > 0  # the case library was re-embedded with the new model before the switch


def test_acknowledged_mentions_survive_kill_9(trained_project, tmp_path):
    import httpx

    folder = copy_project(trained_project, tmp_path / "kill")
    env = project_env(folder, YUQING_RELOAD_INTERVAL_S="0")
    server = start_server(env, folder / "serve.log")
    acknowledged: list[str] = []
    stop = threading.Event()

    def ingest() -> None:
        batch = 0
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                ids = [f"kill-{batch}-{i}" for i in range(20)]
                try:
                    response = http.post("/ingest", headers=AUTH, json={"mentions": [
                        {"id": i, "text": f"鼎昇消费金融催收员辱骂借款人家属 批次{batch}", "reposts": batch} for i in ids]})
                except httpx.HTTPError:
                    return  # the server died mid-request: that batch was never acknowledged
                if response.status_code == 200:
                    acknowledged.extend(ids)
                batch += 1

    thread = threading.Thread(target=ingest)
    thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()  # while requests are in flight
    stop.set()
    thread.join(timeout=30)
    assert len(acknowledged) >= 200

    restarted = start_server(env, folder / "serve-after-kill.log")
    try:
        with httpx.Client(base_url=restarted.url, timeout=30) as http:
            total = http.post("/search", json={"query": {"text": "鼎昇消费金融 催收", "size": 1}}).json()["total"]
        assert total >= len(acknowledged)
    finally:
        restarted.stop()
    from search.embedded import EmbeddedBackend

    backend = EmbeddedBackend(folder / "data" / "search")
    missing = [i for i in acknowledged if backend.get("mentions", i) is None]
    assert not missing, f"{len(missing)} acknowledged mentions lost, e.g. {missing[:5]}"
