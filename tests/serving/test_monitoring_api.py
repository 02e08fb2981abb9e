"""Monitoring through the HTTP service, as a client sees it (`bentoml serve` started by the test,
a tiny baseline champion, YUQING_SUBJECTS pointing at a copy of the sample subjects): /ingest
feeds the monitor and answers the alerts it raised; alerts, incidents, steps, subjects, reports,
webhooks and deliveries; the key on every write; bounded inputs answered 4xx naming the field.

The sample stream is sent with the labels its writer intended (given labels are kept and count
with confidence 1), so the replay bars hold exactly: alerts only for the crisis subject, all in
one incident. A mention without labels (the subject test) goes through the tiny classifier."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.serving.conftest import KEY, ROOT, copy_project, project_env, start_server

AUTH = {"Authorization": f"Bearer {KEY}"}
SAMPLES = ROOT / "monitoring" / "samples"
LABELS = ROOT / "tests" / "monitoring" / "data" / "stream_labels.jsonl"
CONTRACT = ["id", "subject", "rule", "fired_at", "incident_id", "severity", "drivers", "mention_ids"]
BATCH = 60


@pytest.fixture(scope="module")
def monitored(trained_project, tmp_path_factory):
    folder = copy_project(trained_project, tmp_path_factory.mktemp("monitored"))
    subjects = folder / "watched"
    shutil.copytree(SAMPLES / "subjects", subjects)
    env = project_env(folder, YUQING_RELOAD_INTERVAL_S="0", YUQING_SUBJECTS=str(subjects),
                      YUQING_MONITOR_TICK_S="3600", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    server = start_server(env, folder / "serve.log")
    yield server, folder
    server.stop()


@pytest.fixture(scope="module")
def client(monitored):
    import httpx

    with httpx.Client(base_url=monitored[0].url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def fed(client, webhook_receiver):
    """A webhook subscription for alert.raised, then the sample week ingested in batches with the key."""
    added = client.post("/webhooks", json={"action": "add", "url": webhook_receiver.url, "events": ["alert.raised"],
                                           "description": "CRM test receiver"}, headers=AUTH)
    assert added.status_code == 200, added.text
    labels = {}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[row["id"]] = {k: row[k] for k in ("sentiment", "topic", "crisis_type")}
    stream = [json.loads(line) for line in (SAMPLES / "stream.jsonl").read_text(encoding="utf-8").splitlines()]
    stream.sort(key=lambda m: (m["published_at"], m["id"]))
    answers = []
    for start in range(0, len(stream), BATCH):
        batch = [{**m, **labels[m["id"]]} for m in stream[start:start + BATCH]]
        response = client.post("/ingest", json={"mentions": batch}, headers=AUTH)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return {"subscription": added.json()["subscription"], "answers": answers}


# ---- /ingest feeds the monitor --------------------------------------------------------------------

def test_ingest_answers_alerts_and_subjects(fed):
    answers = fed["answers"]
    assert all(a["monitoring"]["ok"] and a["monitoring"]["rejected"] == [] for a in answers)
    alerts = [alert for a in answers for alert in a["alerts"]]
    assert alerts, "the crisis day raised no alert"
    for alert in alerts:
        assert list(alert) == CONTRACT
        assert alert["severity"] in ("minor", "general", "major") and alert["mention_ids"]
    assert {a["subject"] for a in alerts} == {"qinghe"}                     # the quiet bank: nothing
    assert len({a["incident_id"] for a in alerts}) == 1                     # one incident, not dozens
    subjects = {k: v for a in answers for k, v in a["subjects"].items()}
    assert subjects["m0001"] == ["qinghe"] and subjects["m0003"] == ["chenghu"]
    assert sum(a["monitoring"]["unmatched"] for a in answers) > 0           # 青禾路 … match nothing


def test_alerts_and_incidents_endpoints(client, fed):
    raised = [alert for a in fed["answers"] for alert in a["alerts"]]
    every = client.post("/alerts", json={}).json()
    in_order = sorted(raised, key=lambda a: (a["fired_at"], a["id"]))  # event time, then id
    assert every["total"] == len(raised) and [a["id"] for a in every["alerts"]] == [a["id"] for a in in_order]
    assert client.post("/alerts", json={"subject": "chenghu"}).json() == {"total": 0, "alerts": []}
    latest = client.post("/alerts", json={"limit": 1}).json()
    assert latest["total"] == len(raised) and latest["alerts"][0]["id"] == in_order[-1]["id"]
    first = in_order[0]
    by_rule = client.post("/alerts", json={"rule": first["rule"], "until": first["fired_at"]}).json()
    assert by_rule["total"] == 0  # until is exclusive: nothing of that rule fired before the first alert
    since = client.post("/alerts", json={"since": "2026-11-05T00:00:00", "subject": "qinghe"}).json()  # naive: +08:00
    assert since["total"] == sum(a["fired_at"] >= "2026-11-05T00:00:00+08:00" for a in raised)

    incidents = client.post("/incidents", json={"subject": "qinghe"}).json()
    assert incidents["total"] == 1
    (incident,) = incidents["incidents"]
    assert incident["id"] == first["incident_id"] and incident["alerts"] == len(raised) and incident["steps_total"] > 0
    assert client.post("/incidents", json={"subject": "chenghu"}).json()["total"] == 0
    assert client.post("/incidents", json={"state": "active"}).json()["total"] == 1
    assert client.post("/incidents", json={"state": "resolved"}).json()["total"] == 0


def test_incident_detail_step_done_and_resolve(client, fed):
    incident_id = fed["answers"][-1]["alerts"][-1]["incident_id"] if fed["answers"][-1]["alerts"] else \
        next(a for ans in fed["answers"] for a in ans["alerts"])["incident_id"]
    detail = client.post("/incident", json={"incident_id": incident_id}).json()
    assert detail["subject"] == "qinghe" and detail["state"] == "open" and detail["severity_reasons"]
    assert detail["steps"] and all(s["due_at"] and s["done"] is False for s in detail["steps"])
    assert detail["alerts"] and detail["mention_ids"] and detail["timeline"] and detail["effects"] == []
    assert detail["mention_ids_total"] >= len(detail["mention_ids"])

    done = client.post("/incident/step_done", json={"incident_id": incident_id, "step_no": 1, "by": "公关部",
                                                    "at": "2026-11-05T12:00:00+08:00"}, headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "responding" and done.json()["step"]["done_by"] == "公关部"
    again = client.post("/incident", json={"incident_id": incident_id}).json()
    step = next(s for s in again["steps"] if s["no"] == 1)
    assert step["done"] and step["done_at"] == "2026-11-05T12:00:00+08:00" and again["state"] == "responding"
    assert [e["step_no"] for e in again["effects"]] == [1] and "before" in again["effects"][0]
    assert any(t["kind"] == "step_done" for t in again["timeline"])

    missing = client.post("/incident/step_done", json={"incident_id": incident_id, "step_no": 999, "by": "x"},
                          headers=AUTH)
    assert missing.status_code == 404 and missing.json()["field"] == "step_no"
    unknown = client.post("/incident", json={"incident_id": "inc-nope"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "incident_id"

    report = client.post("/report", json={"kind": "incident", "incident_id": incident_id})
    assert report.status_code == 200 and "专报" in report.json()["markdown"]

    resolved = client.post("/incident/resolve", json={"incident_id": incident_id, "by": "值班经理"}, headers=AUTH)
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    twice = client.post("/incident/resolve", json={"incident_id": incident_id, "by": "值班经理"}, headers=AUTH)
    assert twice.status_code == 409 and twice.json()["field"] == "incident_id"


def test_daily_report_has_net_sentiment(client, fed):
    response = client.post("/report", json={"kind": "daily", "date": "2026-11-05"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["title"] == "舆情日报" and "情感净值" in report["markdown"] and "青禾乳业" in report["markdown"]
    assert "<html" in report["html"].lower() and "情感净值" in report["html"]
    weekly = client.post("/report", json={"kind": "weekly", "date": "2026-11-08", "subject": "chenghu"}).json()
    assert "澄湖农商银行" in weekly["markdown"] and "青禾乳业" not in weekly["markdown"]
    assert client.post("/report", json={"kind": "incident"}).json()["field"] == "incident_id"
    assert client.post("/report", json={"kind": "daily", "subject": "nobody"}).status_code == 404


# ---- webhooks -------------------------------------------------------------------------------------

def test_webhook_receives_a_signed_alert(client, fed, webhook_receiver):
    from monitoring.delivery import verify_signature

    secret = fed["subscription"]["secret"]
    deadline = time.time() + 30
    while time.time() < deadline and not webhook_receiver.received:
        time.sleep(0.2)
    assert webhook_receiver.received, "no delivery reached the receiver"
    headers, body = webhook_receiver.received[0]
    assert verify_signature(secret, headers, body)
    envelope = json.loads(body)
    assert envelope["type"] == "alert.raised" and headers["X-Yuqing-Event"] == "alert.raised"
    assert envelope["data"]["subject"]["id"] == "qinghe"

    listed = client.post("/webhooks", json={"action": "list"}, headers=AUTH)
    assert listed.status_code == 200 and secret not in listed.text
    assert [s["id"] for s in listed.json()["subscriptions"]] == [fed["subscription"]["id"]]
    deliveries = client.post("/deliveries", json={"status": "delivered", "limit": 5}).json()
    assert deliveries["counts"]["delivered"] >= 1 and len(deliveries["deliveries"]) <= 5
    assert all("body" not in d for d in deliveries["deliveries"])
    rotated = client.post("/webhooks", json={"action": "rotate", "id": fed["subscription"]["id"]}, headers=AUTH).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    paused = client.post("/webhooks", json={"action": "pause", "id": fed["subscription"]["id"]}, headers=AUTH).json()
    assert paused["subscription"]["active"] is False and rotated["secret"] not in json.dumps(paused)
    gone = client.post("/webhooks", json={"action": "remove", "id": "sub_nope"}, headers=AUTH)
    assert gone.status_code == 404 and gone.json()["field"] == "id"


# ---- subjects -------------------------------------------------------------------------------------

def test_put_list_match_and_delete_a_subject(client, fed, monitored):
    _, folder = monitored
    subject = {"id": "xinghe", "name": "星河电器", "industry": "家电", "keywords": {"any": ["星河电器"]},
               "rules": {"viral": {"reposts_above": 5000}}}
    put = client.post("/subjects/put", json={"subject": subject}, headers=AUTH)
    assert put.status_code == 200, put.text
    assert put.json()["created"] is True and "xinghe" in put.json()["subjects"]
    written = folder / "data" / "subjects" / "xinghe.yaml"
    assert written.exists() and "星河电器" in written.read_text(encoding="utf-8")
    listed = {s["id"]: s for s in client.post("/subjects", json={}).json()["subjects"]}
    assert set(listed) == {"qinghe", "chenghu", "xinghe"}
    assert listed["xinghe"]["origin"] == "api" and listed["qinghe"]["origin"] == "YUQING_SUBJECTS"
    assert listed["xinghe"]["rules"]["viral"]["reposts_above"] == 5000

    mention = {"id": "xh-1", "text": "星河电器新款冰箱上市，静音效果不错", "published_at": "2026-11-09T10:00:00+08:00"}
    answer = client.post("/ingest", json={"mentions": [mention]}, headers=AUTH).json()
    assert answer["subjects"] == {"xh-1": ["xinghe"]} and answer["monitoring"]["accepted"] == 1

    broken = client.post("/subjects/put", json={"subject": {"id": "x", "name": "X", "keywords": {}}}, headers=AUTH)
    assert broken.status_code == 400 and broken.json()["field"].startswith("subject.keywords")
    bad_id = client.post("/subjects/put", json={"subject": {**subject, "id": "../etc"}}, headers=AUTH)
    assert bad_id.status_code == 400 and bad_id.json()["field"] == "subject.id"
    loop = client.post("/subjects/put", json={"subject": {**subject, "rules": {"spike": {"window_minutes": 1,
                                                                                           "recent_hours": 720}}}},
                       headers=AUTH)
    assert loop.status_code == 400 and loop.json()["field"].startswith("subject.rules.spike")

    assert client.post("/subjects/delete", json={"id": "qinghe"}, headers=AUTH).status_code == 409  # YUQING_SUBJECTS
    assert client.post("/subjects/delete", json={"id": "nobody"}, headers=AUTH).status_code == 404
    deleted = client.post("/subjects/delete", json={"id": "xinghe"}, headers=AUTH)
    assert deleted.status_code == 200 and "xinghe" not in deleted.json()["subjects"] and not written.exists()
    assert "xinghe" not in {s["id"] for s in client.post("/subjects", json={}).json()["subjects"]}


# ---- the front door -------------------------------------------------------------------------------

WRITES = [
    ("/incident/step_done", {"incident_id": "inc-x", "step_no": 1, "by": "x"}),
    ("/incident/resolve", {"incident_id": "inc-x", "by": "x"}),
    ("/subjects/put", {"subject": {"id": "k", "name": "K", "keywords": {"any": ["K"]}}}),
    ("/subjects/delete", {"id": "k"}),
    ("/webhooks", {"action": "list"}),
    ("/webhooks", {"action": "add", "url": "http://127.0.0.1:9/x"}),
]


@pytest.mark.parametrize("path,body", WRITES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(WRITES)])
def test_every_monitoring_write_needs_the_key(client, path, body):
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    from serving.security import Policy, needs_key

    assert needs_key(Policy(keys=["k"]), "/" + path) == "write"  # '//path' is no way around it


def test_reads_are_open_on_loopback_and_keyed_when_asked(client):
    from serving.security import Policy, needs_key

    for path in ("/alerts", "/incidents", "/incident", "/subjects", "/report", "/deliveries"):
        assert client.post(path, json={"incident_id": "inc-x"} if path == "/incident" else {}).status_code in (200, 404)
        assert needs_key(Policy(keys=["k"], read_requires_key=True), path) == "read"
        assert needs_key(Policy(keys=["k"]), path) is None
    for path, _ in WRITES:
        assert needs_key(Policy(keys=["k"]), path) == "write"


MALFORMED = [
    ("/alerts", {"limit": 1001}), ("/alerts", {"limit": 0}), ("/alerts", {"rule": "everything"}),
    ("/alerts", {"since": "0001-01-01T00:00:00Z"}), ("/alerts", {"subject": "../x"}),
    ("/incidents", {"state": "burning"}), ("/incidents", {"severity": "huge"}), ("/incidents", {"limit": 10**9}),
    ("/incident", {}), ("/incident", {"incident_id": "x" * 201}),
    ("/incident/step_done", {"incident_id": "inc-x", "step_no": 0, "by": "x"}),
    ("/incident/step_done", {"incident_id": "inc-x", "step_no": 1, "by": "   "}),
    ("/incident/step_done", {"incident_id": "inc-x", "step_no": 1, "by": "x", "at": "9999-01-01T00:00:00"}),
    ("/incident/resolve", {"incident_id": "inc-nope", "by": "x"}),
    ("/subjects/put", {"subject": "qinghe"}),
    ("/subjects/put", {"subject": {"id": "big", "name": "B", "keywords": {"any": ["词"] * 201}}}),
    ("/subjects/put", {"subject": {"id": "big", "name": "B", "keywords": {"any": ["长" * 101]}}}),
    ("/subjects/put", {"subject": {"id": "big", "name": "B", "keywords": {"any": ["B"]}, "cooldown_hours": 1e300}}),
    ("/subjects/put", {"subject": {"id": "big", "name": "B", "keywords": {"any": ["B"]}, "extra": 1}}),
    ("/subjects/put", {"subject": {"id": "big", "name": "B" * 70_000, "keywords": {"any": ["B"]}}}),
    ("/subjects/delete", {"id": "UPPER"}),
    ("/report", {"kind": "monthly"}), ("/report", {"date": "1900-01-01"}), ("/report", {"date": "not a date"}),
    ("/webhooks", {"action": "add", "url": "ftp://example.com/x"}),
    ("/webhooks", {"action": "add", "url": "http://user:pw@example.com/x"}),
    ("/webhooks", {"action": "add", "url": "http://127.0.0.1:9/x", "events": ["alert.everything"]}),
    ("/webhooks", {"action": "add", "url": "http://127.0.0.1:9/x", "events": ["*"] * 21}),
    ("/webhooks", {"action": "rotate"}), ("/webhooks", {"action": "explode"}),
    ("/deliveries", {"status": "lost"}), ("/deliveries", {"limit": 1001}),
]


@pytest.mark.parametrize("path,body", MALFORMED, ids=[f"{p}-{i}" for i, (p, _) in enumerate(MALFORMED)])
def test_malformed_monitoring_input_is_a_fast_4xx_naming_the_field(client, path, body):
    started = time.perf_counter()
    response = client.post(path, json=body, headers=AUTH)
    elapsed = time.perf_counter() - started
    assert 400 <= response.status_code < 500, f"{response.status_code} {response.text[:300]}"
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    answer = response.json()
    assert isinstance(answer["error"], str) and answer.get("field"), answer


# ---- in-process: the hub's failure path and where subjects come from ------------------------------

def _settings(tmp_path: Path, **extra):
    from yuqing.config import Settings

    return Settings(data_dir=tmp_path / "data", **extra)


def test_a_monitoring_failure_is_answered_not_raised(tmp_path):
    from serving.monitoring_api import MonitoringHub

    hub = MonitoringHub(_settings(tmp_path), classify=lambda texts: [], publish=lambda *_: None)

    def broken(records):
        raise RuntimeError("disk full")

    hub.monitor.ingest = broken
    answer = hub.ingest([{"id": "a", "text": "青禾", "sentiment": "neutral", "topic": "product_quality",
                          "crisis_type": "none", "published_at": "2026-11-02T08:00:00+08:00"}], [set()])
    assert answer["monitoring"]["ok"] is False and "disk full" in answer["monitoring"]["error"]
    assert answer["alerts"] == []
    hub.close()


def test_subject_sources_samples_then_data_folder(tmp_path):
    from monitoring.subjects import Subject
    from serving.monitoring_api import MonitoringHub, SubjectSource

    settings = _settings(tmp_path)
    assert SubjectSource.resolve(settings).kind == "samples"
    hub = MonitoringHub(settings, classify=lambda texts: [], publish=lambda *_: None)
    hub.put_subject(Subject.model_validate({"id": "xinghe", "name": "星河电器", "keywords": {"any": ["星河"]}}))
    files = sorted(p.name for p in (tmp_path / "data" / "subjects").iterdir())
    assert files == ["chenghu.yaml", "qinghe.yaml", "xinghe.yaml"]  # the samples were copied first
    assert SubjectSource.resolve(settings).kind == "data" and set(hub.monitor.subjects) == {"qinghe", "chenghu", "xinghe"}
    assert hub.delete_subject("qinghe")["subjects"] == ["chenghu", "xinghe"]
    hub.close()
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("id: solo\nname: 独立\nkeywords: {any: [独立]}\n", encoding="utf-8")
    source = SubjectSource.resolve(_settings(tmp_path, subjects=elsewhere))
    assert source.kind == "YUQING_SUBJECTS" and {s.id for s in source.load()} == {"solo", "chenghu", "xinghe"}


def test_the_ticker_runs_the_time_based_rules_at_wall_time(tmp_path):
    """The sample week ingested in-process, then one tick at wall time (weeks later): the
    incident's golden 4 hours passed with no step done, so `silence` fires at its deadline."""
    import threading

    from serving.monitoring_api import MonitoringHub, Ticker

    events = []
    hub = MonitoringHub(_settings(tmp_path), classify=lambda texts: [], publish=lambda *event: events.append(event))
    labels = {json.loads(line)["id"]: json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()}
    stream = [json.loads(line) for line in (SAMPLES / "stream.jsonl").read_text(encoding="utf-8").splitlines()]
    documents = [{**m, **{k: labels[m["id"]][k] for k in ("sentiment", "topic", "crisis_type")}} for m in stream]
    assert hub.ingest(documents, [{"sentiment", "topic", "crisis_type"}] * len(documents))["alerts"]
    ticked = threading.Event()
    alerts: list = []
    ticker = Ticker(lambda: (alerts.extend(hub.tick()), ticked.set()), interval_s=0.05)
    ticker.start()
    assert ticked.wait(10)
    ticker.stop()
    assert [a["rule"] for a in alerts] == ["silence"] and alerts[0]["subject"] == "qinghe"
    assert "step.overdue" in [e for e, _ in events]
    hub.close()
