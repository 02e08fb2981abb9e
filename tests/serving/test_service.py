"""The BentoML service, started by the test on 127.0.0.1 with a model registered in a temporary
project: classification (also under concurrent requests, merged by adaptive batching), refusal of
bad input per request, and recommendations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.cli import app
from tests.conftest import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    import httpx

    from tests.conftest import sample_rows

    folder = tmp_path_factory.mktemp("service")
    env = {**os.environ, "YUQING_DATA_DIR": str(folder / "data"), "BENTOML_HOME": str(folder / "bentoml"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'data' / 'mlflow.db'}", "YUQING_SEARCH": "embedded"}
    env.pop("YUQING_MODEL_URI", None)
    data = folder / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in sample_rows(repeat=6)), encoding="utf-8")
    yuqing = [sys.executable, "-m", "serving.cli"]
    for command in (["train", "--model", "baseline", "--no-corpus", "--data", str(data)], ["promote"]):
        subprocess.run(yuqing + command, env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bentoml", "serve", "serving.service:Yuqing", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_http(f"{url}/readyz", seconds=120):
            pytest.fail("the BentoML service did not become ready")
        with httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_classify(service):
    response = service.post("/classify", json={"texts": ["星澜科技数据库遭黑客入侵，十万用户信息泄露", "澜山乳业向山区学校捐赠牛奶"]})
    assert response.status_code == 200
    first, second = response.json()
    assert first["crisis_type"] == "data_breach" and second["crisis_type"] == "none"
    assert set(first["scores"]) == {"sentiment", "topic", "crisis_type"}


def test_concurrent_requests_each_get_their_own_answer(service):
    texts = ["安禾化工厂排放黑烟，周边居民闻到刺鼻气味", "速达物流拖欠快递员三个月工资，员工集体讨薪"] * 8
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda t: service.post("/classify", json={"texts": [t]}).json()[0]["crisis_type"], texts))
    assert answers == ["environmental_pollution", "labor_dispute"] * 8


def test_bad_input_is_refused_without_failing_others(service):
    with ThreadPoolExecutor(2) as pool:
        bad = pool.submit(service.post, "/classify", json={"texts": ["   "]})
        good = pool.submit(service.post, "/classify", json={"texts": ["华岳银行App崩了"]})
    assert bad.result().status_code == 400 and "texts" in bad.result().text
    assert good.result().status_code == 200


def test_recommend(service):
    response = service.post("/recommend", json={"incident": {
        "text": "速达物流拖欠两百多名快递员三个月工资，员工集体讨薪，本地热搜", "detected_at": "2026-11-22T23:30:00+08:00"}})
    assert response.status_code == 200
    plan = response.json()
    assert plan["crisis_type"] == "labor_dispute" and plan["severity"] == "general"
    assert plan["steps"][0]["due_at"].startswith("2026-11-2") and len(plan["similar_cases"]) == 5
