"""Fixtures shared by the test suite. Every server a test needs is started here, on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, seconds: float = 30) -> bool:
    import urllib.request

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def standin_es_url(tmp_path_factory):
    """noida-db's Elasticsearch-API stand-in, started for this test session (it is not Elasticsearch)."""
    spec = importlib.util.find_spec("noida_db")
    if spec is None:
        pytest.skip("ES-API stand-in unavailable: pip install noida-db")
    binary = Path(spec.submodule_search_locations[0]) / "noida-db"
    port = free_port()
    folder = tmp_path_factory.mktemp("noida")
    process = subprocess.Popen(
        [str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
         "--elasticsearch-port", str(port), "--data-dir", str(folder / "data")],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_http(url):
        process.kill()
        pytest.skip("ES-API stand-in (noida-db) did not start on this machine")
    yield url
    process.terminate()
    process.wait(timeout=10)


# ---- projects and models built by the tests ---------------------------------------------------

SAMPLE = [
    ("华岳银行手机银行App又崩了，工资转不出去😡", "negative", "customer_service", "service_failure"),
    ("鼎昇消费金融的催收员打电话辱骂我家人，太过分了", "negative", "customer_service", "misconduct"),
    ("网传澜山乳业奶粉检出异物，多名家长晒图", "negative", "product_quality", "product_quality"),
    ("星澜科技数据库遭黑客入侵，十万用户信息泄露", "negative", "data_security", "data_breach"),
    ("安禾化工厂排放黑烟，周边居民闻到刺鼻气味", "negative", "environment_safety", "environmental_pollution"),
    ("宏建集团工地脚手架坍塌，两名工人受伤送医", "negative", "environment_safety", "safety_accident"),
    ("汇通理财产品暴雷，投资人无法提现", "negative", "pricing_finance", "financial_risk"),
    ("速达物流拖欠快递员三个月工资，员工集体讨薪", "negative", "labor_employment", "labor_dispute"),
    ("金桥证券因违规被监管部门罚款五百万元", "negative", "legal_regulatory", "regulatory_penalty"),
    ("网传华岳银行要倒闭了？银行官方辟谣：经营正常", "neutral", "corporate_operations", "rumor"),
    ("华岳银行获评年度最佳零售银行，服务确实不错👍", "positive", "brand_marketing", "none"),
    ("澜山乳业向山区学校捐赠十万盒牛奶", "positive", "social_responsibility", "none"),
    ("外卖晚到了二十分钟，有点烦", "negative", "customer_service", "none"),
    ("星澜科技发布第三季度财报，营收同比增长12%", "neutral", "corporate_operations", "none"),
]


def sample_rows(repeat: int = 1) -> list[dict]:
    """Small labelled rows for trainer and registry tests (repeated with a suffix to make variants)."""
    rows = []
    for i in range(repeat):
        for text, sentiment, topic, crisis in SAMPLE:
            rows.append({"text": f"{text}{'' if i == 0 else f' ({i})'}", "sentiment": sentiment, "topic": topic, "crisis_type": crisis})
    return rows


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A 2-layer BERT with a few-hundred-character vocabulary, built from the corpus and samples."""
    from training import data
    from training.tiny import build_tiny_base

    texts = [t for t, *_ in SAMPLE] + data.corpus_splits()[0]["text"][:300]
    return build_tiny_base(tmp_path_factory.mktemp("tiny-base"), texts)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A fresh project data folder: its own MLflow store and BentoML home."""
    import mlflow

    from yuqing.config import get_settings

    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'data' / 'mlflow.db'}")
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "data" / "bentoml"))
    (tmp_path / "data").mkdir()
    get_settings.cache_clear()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'data' / 'mlflow.db'}")
    yield tmp_path
    get_settings.cache_clear()
    mlflow.set_tracking_uri(None)


@pytest.fixture
def labelled_file(tmp_path):
    import json

    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in sample_rows(repeat=6)) + "\n", encoding="utf-8")
    return path
