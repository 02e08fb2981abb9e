"""A world for the console tests, built once per session in a temp folder: the sample stream
replayed through monitoring (labels from the test-only file, via the fake classifier of the
monitoring tests), deliveries recorded for a webhook subscription, the stream and the case library
in an embedded search index, and a fake model (keyword rules; FAKE, for tests only)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from serving.runtime import Runtime
from tests.monitoring.conftest import SAMPLES, label_reader
from yuqing.labels import TASKS
from yuqing.schemas import Prediction

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LABELS_FILE = ROOT / "tests" / "monitoring" / "data" / "stream_labels.jsonl"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=TZ).timestamp()  # the console's clock: the day after the crisis
ANALYST_KEY, READONLY_KEY = "analyst-key-123", "readonly-key-456"
INCIDENT = "inc-qinghe-20261105102944"  # the sample stream's one incident (README, monitoring tests)

CRISIS_WORDS = {"product_quality": ("异物", "颗粒", "呕吐", "腹泻", "召回", "奶粉", "变质"),
                "service_failure": ("崩了", "无法登录", "转不出去", "故障", "宕机"),
                "data_breach": ("泄露", "隐私"), "labor_dispute": ("欠薪", "讨薪", "裁员")}
NEGATIVE_WORDS = ("异物", "呕吐", "腹泻", "投诉", "失望", "崩了", "泄露", "欠薪", "辱骂", "故障")


def _distribution(task: str, winner: str, confidence: float) -> dict[str, float]:
    labels = TASKS[task]
    rest = (1 - confidence) / (len(labels) - 1)
    return {label: round(confidence if label == winner else rest, 4) for label in labels}


class FakePredictor:
    """FAKE model for tests only: keyword rules, full score distributions, no embedding."""

    kind = "fake"
    identity = "fake-keyword-model"

    def predict(self, texts, batch_size: int = 32) -> list[Prediction]:
        out = []
        for text in texts:
            crisis = next((c for c, words in CRISIS_WORDS.items() if any(w in text for w in words)), "none")
            sentiment = "negative" if any(w in text for w in NEGATIVE_WORDS) else "neutral"
            labels = {"sentiment": sentiment, "topic": "product_quality", "crisis_type": crisis}
            out.append(Prediction(**labels, scores={t: _distribution(t, labels[t], 0.8) for t in TASKS}))
        return out


class FakeRuntime(Runtime):
    """The real Runtime (search, similar cases, recommendations) over a given backend and the fake
    model, without touching the environment (no MLflow)."""

    def __init__(self, backend, predictor):
        from yuqing.config import get_settings

        self.settings = get_settings()
        self.model_uri = None
        self._model_version = "fake"
        self.__dict__["backend"] = backend
        self.__dict__["predictor"] = predictor


class FakeRegistry:
    """FAKE MLflow client for tests: two versions, v2 (an ensemble) the champion."""

    class _Version:
        def __init__(self, version: str, run_id: str, aliases=()):
            self.version, self.run_id, self.aliases, self.creation_timestamp = version, run_id, list(aliases), 1.79e12

    class _Run:
        def __init__(self, metrics: dict, params: dict):
            self.data = type("RunData", (), {"metrics": metrics, "params": params})()

    def search_model_versions(self, query: str):
        return [self._Version("1", "r1"), self._Version("2", "r2", ["champion"])]

    def get_model_version_by_alias(self, name: str, alias: str):
        return self._Version("2", "r2", ["champion"])

    def get_run(self, run_id: str):
        base = 0.9 if run_id == "r2" else 0.8
        metrics = {f"{split}_{task}_{m}": base + (0.01 if split == "heldout" else 0)
                   for split in ("dev", "heldout") for task in TASKS for m in ("macro_f1", "accuracy")}
        metrics.update(dev_macro_f1_mean=base, heldout_macro_f1_mean=base + 0.01, train_seconds=57.0)
        return self._Run(metrics, {"model": "ensemble" if run_id == "r2" else "baseline"})


@dataclass
class World:
    root: Path
    data: Path
    monitoring: Path
    cases_out: Path
    runtime: FakeRuntime
    labels: dict

    def app(self, monitoring: Path | None = None, **options):
        from serving.console import create_console

        settings = {"data_dir": self.data, "subjects_path": SAMPLES / "subjects", "cases_dir": self.cases_out,
                    "analyst_keys": [ANALYST_KEY], "readonly_keys": [READONLY_KEY], "secret": "test-secret",
                    "clock": lambda: NOW, "timezone": "Asia/Shanghai", "registry_client": FakeRegistry}
        settings.update(options)
        return create_console(lambda: self.runtime, monitoring or self.monitoring, **settings)

    def copy_monitoring(self, target: Path) -> Path:
        """A private copy of monitoring.db, for tests that change an incident's state."""
        target.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(self.monitoring / "monitoring.db")
        copy = sqlite3.connect(target / "monitoring.db")
        source.backup(copy)
        source.close()
        copy.close()
        return target


def _subject_of(text: str) -> str | None:
    return "qinghe" if "青禾" in text else "chenghu" if "澄湖" in text else None


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    from monitoring.delivery import DeliverySettings, Dispatcher
    from monitoring.replay import replay
    from search.embedded import EmbeddedBackend

    root = tmp_path_factory.mktemp("console")
    data = root / "data"
    dispatcher = Dispatcher(DeliverySettings(data_dir=data))
    dispatcher.create_subscription("http://127.0.0.1:9/crm-hook", ["incident.opened", "step.overdue", "incident.resolved"])
    result = replay(SAMPLES / "stream.jsonl", SAMPLES / "subjects", data / "monitoring", label_reader(), durable=False,
                    publish=dispatcher.publish)
    dispatcher.close()
    assert INCIDENT in result.incidents, result.incidents
    labels = {}
    for line in LABELS_FILE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[row["id"]] = row
    mentions = []
    for line in (SAMPLES / "stream.jsonl").read_text(encoding="utf-8").splitlines():
        mention = json.loads(line)
        truth = labels[mention["id"]]
        mention.update({t: truth[t] for t in TASKS})
        mention["scores"] = {t: _distribution(t, truth[t], 0.86) for t in TASKS}
        subject = _subject_of(mention["text"])
        if subject:
            mention["subject"] = subject
        mentions.append(mention)
    backend = EmbeddedBackend(data / "search")
    backend.upsert("mentions", mentions)
    runtime = FakeRuntime(backend, FakePredictor())
    runtime.index_cases()
    return World(root=root, data=data, monitoring=data / "monitoring", cases_out=root / "cases_out", runtime=runtime,
                 labels=labels)


@pytest.fixture
def private_world(world, tmp_path) -> World:
    """The world with its own copy of monitoring.db and its own feedback store (state-changing tests)."""
    data = tmp_path / "data"
    data.mkdir()
    if (world.data / "delivery").exists():
        shutil.copytree(world.data / "delivery", data / "delivery")
    monitoring = world.copy_monitoring(data / "monitoring")
    return World(root=tmp_path, data=data, monitoring=monitoring, cases_out=tmp_path / "cases_out", runtime=world.runtime,
                 labels=world.labels)
