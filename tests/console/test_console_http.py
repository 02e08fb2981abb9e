"""The console over HTTP (starlette's TestClient, mounted at /console as in the service): every
page and action, login and roles, CSRF, and the feedback export as training data."""

from __future__ import annotations

import json
import re
import time

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from tests.console.conftest import ANALYST_KEY, INCIDENT, READONLY_KEY, FakeRegistry

ANALYST = {"Authorization": f"Bearer {ANALYST_KEY}"}
READONLY = {"Authorization": f"Bearer {READONLY_KEY}"}


def mounted(app) -> Starlette:
    return Starlette(routes=[Mount("/console", app=app)])


def client_for(app, host: str = "127.0.0.1") -> TestClient:
    return TestClient(mounted(app), base_url="http://127.0.0.1:3000", client=(host, 50000))


@pytest.fixture(scope="module")
def app(world):
    return world.app()


@pytest.fixture
def client(app):
    return client_for(app)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def login(client: TestClient, key: str = ANALYST_KEY, name: str = "张分析") -> None:
    page = client.get("/console/login")
    answer = client.post("/console/login", data={"key": key, "name": name, "next": "/", "csrf": csrf_of(page.text)},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console/" in cookie


# ---- pages ------------------------------------------------------------------------------------------

def test_every_page_renders_in_chinese_and_quickly(client):
    pages = ["/console/", "/console/mentions", "/console/mentions?q=异物", "/console/mentions/m0001",
             f"/console/incidents/{INCIDENT}", "/console/incidents", "/console/cases", "/console/cases?q=奶粉",
             "/console/recommend", "/console/models", "/console/feedback", f"/console/incidents/{INCIDENT}/report"]
    timings = {}
    for path in pages:
        started = time.perf_counter()
        answer = client.get(path, headers=ANALYST)
        timings[path] = time.perf_counter() - started
        assert answer.status_code == 200, (path, answer.text[:500])
        assert 'lang="zh-CN"' in answer.text or "专报" in answer.text
        assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", answer.text.split("<main")[0])
    print("page times (TestClient, s):", {p: round(t, 3) for p, t in timings.items()})
    assert max(timings.values()) < 3.0, timings


def test_overview_shows_volume_sentiment_negative_share_incidents_and_alerts(client):
    page = client.get("/console/", headers=ANALYST).text
    assert "青禾乳业" in page and "负面占比" in page and "<svg" in page
    assert "最新告警" in page and INCIDENT in page
    assert re.search(r"重大 1|一般 1|轻微 1", page)


def test_mention_search_filters_facets_highlight_and_scores(client):
    page = client.get("/console/mentions", params={"q": "异物", "sentiment": "negative"}, headers=ANALYST).text
    assert "<em>异物</em>" in page
    assert "分面" in page and "0.86" in page
    total = int(re.search(r"共 ([\d,]+) 条", page).group(1).replace(",", ""))
    assert total > 0
    everything = client.get("/console/mentions", params={"min_reposts": "1000"}, headers=ANALYST).text
    assert int(re.search(r"共 ([\d,]+) 条", everything).group(1).replace(",", "")) < 330
    bad = client.get("/console/mentions", params={"since": "not-a-date"}, headers=ANALYST)
    assert bad.status_code == 400 and "日期" in bad.text
    fragment = client.get("/console/mentions", params={"q": "异物"},
                          headers={**ANALYST, "HX-Request": "true", "HX-Target": "results"}).text
    assert fragment.lstrip().startswith('<div id="results"')


def test_incident_page_has_steps_reasons_effects_cases_deliveries_and_report_link(client):
    page = client.get(f"/console/incidents/{INCIDENT}", headers=ANALYST).text
    for part in ("严重程度依据", "处置步骤", "已逾期", "处置效果", "时间线", "相似历史案例", "通知与联动投递", "查看舆情专报"):
        assert part in page, part
    assert "subscription:" in page  # the webhook deliveries recorded during the replay
    assert 'class="step overdue"' in page
    report = client.get(f"/console/incidents/{INCIDENT}/report", headers=ANALYST)
    assert report.status_code == 200 and "舆情专报" in report.text
    assert "style-src 'unsafe-inline'" in report.headers["content-security-policy"]
    assert client.get("/console/incidents/nope", headers=ANALYST).status_code == 404


def test_case_library_search_and_read(client, world):
    page = client.get("/console/cases", params={"q": "奶粉", "crisis_type": "product_quality"}, headers=ANALYST).text
    first = re.search(r'href="/console/cases/([^"]+)"', page).group(1)
    case = client.get(f"/console/cases/{first}", headers=ANALYST).text
    assert "处置动作" in case and "教训" in case
    assert client.get("/console/cases/no-such-case", headers=ANALYST).status_code == 404


def test_new_incident_box_renders_a_recommendation(client):
    page = client.get("/console/recommend", headers=ANALYST).text
    answer = client.post("/console/recommend", headers=ANALYST,
                         json={"text": "青禾奶粉被曝含有异物，多名婴儿呕吐就医，微博转发2万，央视跟进报道", "organisation": "青禾乳业"})
    assert answer.status_code == 200
    assert "产品质量危机" in answer.text and "处置步骤" in answer.text and "相似历史案例" in answer.text
    too_short = client.post("/console/recommend", headers={**ANALYST, "HX-Request": "true"}, json={"text": "短"})
    assert too_short.status_code == 400 and "至少 4 个字" in too_short.text
    assert 'for="incident-text"' in page


def test_models_page_tolerates_no_registry_and_shows_a_champion(world):
    def broken():
        raise RuntimeError("no tracking server")

    page = client_for(world.app(registry_client=broken)).get("/console/models?wait=1", headers=ANALYST).text
    assert "无法读取模型注册表" in page
    page = client_for(world.app(registry_client=FakeRegistry)).get("/console/models?wait=1", headers=ANALYST).text
    assert "当前冠军模型" in page and "v2" in page and "ensemble" in page and "0.910" in page and "baseline" in page
    fragment = client_for(world.app(registry_client=FakeRegistry)).get(
        "/console/models?wait=1", headers={**ANALYST, "HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="models">')


# ---- login, roles, CSRF -----------------------------------------------------------------------------

def test_pages_need_a_login_and_bad_keys_are_refused(client):
    answer = client.get("/console/mentions", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login?next=")
    assert client.get("/console/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    page = client.get("/console/login")
    wrong = client.post("/console/login", data={"key": "wrong", "next": "/", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 401 and "API 密钥无效" in wrong.text


def test_login_form_sets_a_session_and_logout_ends_it(client):
    login(client)
    page = client.get("/console/")
    assert page.status_code == 200 and "张分析 · 分析员" in page.text
    client.post("/console/logout", data={"csrf": csrf_of(page.text)})
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_session_cookie_cannot_be_forged(client):
    client.cookies.set("yuqing_console", "eyJyIjoiYW5hbHlzdCJ9.deadbeef", path="/console/")
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_readonly_key_reads_but_cannot_change_anything(client, world):
    assert client.get(f"/console/incidents/{INCIDENT}", headers=READONLY).status_code == 200
    page = client.get(f"/console/incidents/{INCIDENT}", headers=READONLY).text
    assert "标记完成" not in page and "只读账号" in page
    for path, body in [("/console/mentions/m0001/labels", {"task": "sentiment", "label": "negative"}),
                       (f"/console/incidents/{INCIDENT}/steps/1/done", {}),
                       (f"/console/incidents/{INCIDENT}/resolve", {}),
                       (f"/console/incidents/{INCIDENT}/case", {})]:
        answer = client.post(path, headers=READONLY, json=body)
        assert answer.status_code == 403 and "只读" in answer.text, path
    assert client.post("/console/recommend", headers=READONLY, json={"text": "青禾奶粉有异物，家长投诉"}).status_code == 200


def test_cookie_posts_need_the_csrf_token_and_the_same_origin(client):
    login(client)
    page = client.get("/console/mentions/m0002").text
    token = csrf_of(page)
    no_token = client.post("/console/mentions/m0002/labels", data={"task": "sentiment", "label": "negative"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.post("/console/mentions/m0002/labels", data={"task": "sentiment", "label": "negative", "csrf": "x" * 32})
    assert wrong.status_code == 403
    cross = client.post("/console/mentions/m0002/labels", headers={"Origin": "http://evil.example"},
                        data={"task": "sentiment", "label": "negative", "csrf": token})
    assert cross.status_code == 403 and "跨站" in cross.text
    ok = client.post("/console/mentions/m0002/labels", headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:3000"},
                     json={"task": "sentiment", "label": "negative"}, follow_redirects=False)
    assert ok.status_code == 303


def test_open_mode_without_keys_is_analyst_on_loopback_only(world):
    app = world.app(analyst_keys=[], readonly_keys=[])
    local = client_for(app)
    page = local.get("/console/incidents")
    assert page.status_code == 200 and "只对本机 127.0.0.1 开放" in page.text
    assert "set-cookie" in page.headers  # the session that carries the CSRF token
    remote = client_for(app, host="10.0.0.8")
    assert remote.get("/console/", follow_redirects=False).status_code == 303


def test_security_headers(client):
    answer = client.get("/console/", headers=ANALYST)
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"
    static = client.get("/console/static/htmx.min.js")
    assert static.status_code == 200 and "htmx" in static.text[:200]


# ---- actions ----------------------------------------------------------------------------------------

def test_correct_a_label_and_export_it_as_training_data(private_world, tmp_path):
    from serving.console import export_feedback
    from training.data import validate_record

    client = client_for(private_world.app())
    answer = client.post("/console/mentions/m0005/labels", headers={**ANALYST, "HX-Request": "true"},
                         json={"task": "crisis_type", "label": "product_quality"})
    assert answer.status_code == 200 and "已更正" in answer.text
    same = client.post("/console/mentions/m0005/labels", headers=ANALYST, json={"task": "crisis_type", "label": "product_quality"})
    assert same.status_code == 400
    unknown = client.post("/console/mentions/m0005/labels", headers=ANALYST, json={"task": "topic", "label": "negative"})
    assert unknown.status_code == 400
    client.post("/console/mentions/m0005/labels", headers=ANALYST, json={"task": "sentiment", "label": "negative"})
    page = client.get("/console/feedback", headers=ANALYST).text
    assert "m0005" in page and "key-" in page
    exported = client.get("/console/feedback/export.jsonl", headers=ANALYST)
    rows = [json.loads(line) for line in exported.text.splitlines()]
    assert len(rows) == 1 and rows[0]["id"] == "m0005" and rows[0]["crisis_type"] == "product_quality"
    assert rows[0]["sentiment"] == "negative" and "topic" not in rows[0]
    out = tmp_path / "feedback.jsonl"
    assert export_feedback(private_world.data, out) == 1
    row, problem = validate_record(json.loads(out.read_text(encoding="utf-8")))
    assert problem is None and row["crisis_type"] == "product_quality" and row["topic"] is None


def test_mark_a_step_done_persists_and_resolve_then_add_a_case(private_world):
    import yaml

    client = client_for(private_world.app())
    answer = client.post(f"/console/incidents/{INCIDENT}/steps/1/done", headers={**ANALYST, "HX-Request": "true"}, json={})
    assert answer.status_code == 200 and "已标记步骤 1 完成" in answer.text
    again = client.post(f"/console/incidents/{INCIDENT}/steps/1/done", headers=ANALYST, json={})
    assert again.status_code == 409
    fresh = client_for(private_world.app())  # a new app over the same data: the step stays done
    page = fresh.get(f"/console/incidents/{INCIDENT}", headers=ANALYST).text
    assert re.search(r'id="step-1">.*?(已完成|逾期完成)', page, re.S)
    assert client.post(f"/console/incidents/{INCIDENT}/case", headers=ANALYST, json={}).status_code == 409  # not resolved
    resolved = client.post(f"/console/incidents/{INCIDENT}/resolve", headers=ANALYST, json={}, follow_redirects=False)
    assert resolved.status_code == 303
    added = client.post(f"/console/incidents/{INCIDENT}/case", headers=ANALYST, json={}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == f"/console/cases/case-{INCIDENT}"
    written = private_world.cases_out / f"case-{INCIDENT}.yaml"
    assert yaml.safe_load(written.read_text(encoding="utf-8"))[0]["id"] == f"case-{INCIDENT}"
    assert "青禾乳业" in client.get(f"/console/cases/case-{INCIDENT}", headers=ANALYST).text
