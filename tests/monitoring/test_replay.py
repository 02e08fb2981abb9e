"""Replay of the sample week: determinism, the bars (first alert fast, one incident, a quiet
subject stays quiet), the alerts-out contract and the CLI commands."""

from __future__ import annotations

from datetime import datetime

import pytest
import typer
from typer.testing import CliRunner

from monitoring.replay import read_alerts, replay
from serving.cli_monitoring import register
from tests.monitoring.conftest import SAMPLES, label_reader

STREAM, SUBJECTS = SAMPLES / "stream.jsonl", SAMPLES / "subjects"
CONTRACT = ["id", "subject", "rule", "fired_at", "incident_id", "severity", "drivers", "mention_ids"]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """The sample stream replayed twice into fresh data dirs."""
    runs = []
    for n in range(2):
        folder = tmp_path_factory.mktemp(f"replay{n}")
        result = replay(STREAM, SUBJECTS, folder / "data", label_reader(), alerts_out=folder / "alerts.jsonl",
                        timezone="Asia/Shanghai", durable=False)
        runs.append((result, folder))
    return runs


def test_same_stream_twice_gives_identical_alert_files(replayed):
    (_, first), (_, second) = replayed
    text = (first / "alerts.jsonl").read_text(encoding="utf-8")
    assert text and text == (second / "alerts.jsonl").read_text(encoding="utf-8")


def test_alert_lines_keep_the_contract(replayed):
    result, folder = replayed[0]
    lines = read_alerts(folder / "alerts.jsonl")
    assert len(lines) == len(result.alerts)
    for line in lines:
        assert list(line) == CONTRACT
        assert line["severity"] in ("minor", "general", "major") and isinstance(line["drivers"], dict)
        assert datetime.fromisoformat(line["fired_at"]).utcoffset() is not None
        assert line["mention_ids"] and "value" in line["drivers"] and "threshold" in line["drivers"]


def test_sample_bars(replayed):
    result, folder = replayed[0]
    lines = read_alerts(folder / "alerts.jsonl")
    assert {line["subject"] for line in lines} == {"qinghe"}                  # zero on the quiet bank
    assert len({line["incident_id"] for line in lines}) == 1                  # one incident, not dozens
    first_alert = min(datetime.fromisoformat(line["fired_at"]) for line in lines)
    first_crossing = _first_threshold_crossing(folder / "data")
    assert (first_alert - first_crossing).total_seconds() <= 15 * 60
    assert result.rejected == [] and result.unmatched > 0                     # 青禾路 and others matched nothing


def _first_threshold_crossing(data_dir) -> datetime:
    """Recomputed from the stored mentions, independently of the engine's in-memory windows: the
    first moment a default single-mention or negative-share threshold held for 青禾."""
    import sqlite3
    from zoneinfo import ZoneInfo

    db = sqlite3.connect(data_dir / "monitoring.db")
    rows = db.execute("SELECT m.ts, m.reposts, m.views, s.story_start, s.negative FROM mention_subjects s "
                      "JOIN mentions m ON m.id=s.mention_id WHERE s.subject='qinghe' ORDER BY m.ts").fetchall()
    crossings = [ts for ts, reposts, views, _, _ in rows if reposts > 1000 or views >= 1_000_000]
    starts = [(ts, neg) for ts, _, _, start, neg in rows if start]
    for ts, _ in starts:
        window = [neg for t, neg in starts if ts - 3600 < t <= ts]
        if len(window) >= 20 and sum(window) / len(window) > 0.5:
            crossings.append(ts)
            break
    return datetime.fromtimestamp(min(crossings), ZoneInfo("Asia/Shanghai"))


def test_cli_replay_report_and_case(tmp_path, replayed):
    app = typer.Typer()
    register(app, lambda: label_reader())

    @app.command("noop")  # a second command so typer keeps sub-command names
    def _noop():
        pass

    runner = CliRunner()
    data, alerts = tmp_path / "data", tmp_path / "alerts.jsonl"
    done = runner.invoke(app, ["replay", "--input", str(STREAM), "--subjects", str(SUBJECTS), "--data-dir", str(data),
                               "--fast", "--alerts-out", str(alerts)])
    assert done.exit_code == 0, done.output
    assert alerts.read_text(encoding="utf-8") == (replayed[0][1] / "alerts.jsonl").read_text(encoding="utf-8")
    for args in (["--daily", "--date", "2026-11-05"], ["--weekly", "--date", "2026-11-08"]):
        done = runner.invoke(app, ["report", *args, "--subjects", str(SUBJECTS), "--data-dir", str(data),
                                   "--out", str(tmp_path / "reports")])
        assert done.exit_code == 0, done.output
    html = (tmp_path / "reports" / "daily-2026-11-05.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "情感净值" in html
    incident_id = read_alerts(alerts)[0]["incident_id"]
    refused = runner.invoke(app, ["case-from-incident", incident_id, "--subjects", str(SUBJECTS),
                                  "--data-dir", str(data), "--out", str(tmp_path / "cases")])
    assert refused.exit_code == 2 and "not resolved" in refused.output
    done = runner.invoke(app, ["report", "--incident", incident_id, "--subjects", str(SUBJECTS),
                               "--data-dir", str(data), "--out", str(tmp_path / "reports")])
    assert done.exit_code == 0, done.output
    assert "高峰期" in (tmp_path / "reports" / f"incident-{incident_id}.md").read_text(encoding="utf-8")
    assert runner.invoke(app, ["report", "--daily", "--weekly", "--subjects", str(SUBJECTS)]).exit_code == 2
