"""The registry round trip through the command line: train → register → promote → load by alias
→ predict, and promotion refusing a worse model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from serving.cli import app

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_train_register_promote_load_predict(project, labelled_file, tiny_base, tmp_path):
    code, out = invoke("train", "--model", "baseline", "--no-corpus", "--data", labelled_file)
    assert code == 0, out
    assert "registered version 1" in out
    code, out = invoke("promote")
    assert code == 0 and "promoted" in out and "champion none" in out

    code, out = invoke("train", "--model", "transformer", "--no-corpus", "--data", labelled_file,
                       "--base-model", tiny_base, "--epochs", "1")
    assert code == 0, out
    code, out = invoke("promote")  # a 1-epoch tiny transformer does not beat the baseline
    assert code == 0 and "not promoted" in out, out
    code, out = invoke("promote", "--version", "2", "--force")
    assert "promoted (forced)" in out

    from yuqing.predictor import load_predictor

    assert load_predictor().kind == "transformer"  # the alias now points at version 2
    assert load_predictor("models:/yuqing-classifier/1").kind == "baseline"

    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "华岳银行App崩了", "id": 7}\n{"text": "捐赠牛奶", "id": 8}\n', encoding="utf-8")
    code, out = invoke("predict", "--input", source, "--output", tmp_path / "out.jsonl", "--model", "models:/yuqing-classifier/1")
    assert code == 0, out
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [7, 8]
    assert {"sentiment", "topic", "crisis_type", "scores"} <= set(lines[0])
    assert set(lines[0]["scores"]) == {"sentiment", "topic", "crisis_type"}

    code, out = invoke("evaluate", "--data", labelled_file, "--model", "models:/yuqing-classifier/1")
    assert code == 0 and "macro-F1" in out


def test_mlflow_run_has_params_metrics_and_confusion_images(project, labelled_file):
    import mlflow

    assert invoke("train", "--model", "baseline", "--no-corpus", "--data", labelled_file)[0] == 0
    [run] = mlflow.search_runs(experiment_names=["yuqing-classifiers"], output_format="list")
    assert run.data.params["model"] == "baseline" and len(run.data.params["train_hash"]) == 16
    assert 0 <= run.data.metrics["dev_macro_f1_mean"] <= 1
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "confusion")}
    assert "confusion/dev_crisis_type.png" in artifacts


def test_bad_input_gives_clear_errors(project, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "好", "sentiment": "great"}\n', encoding="utf-8")
    code, out = invoke("train", "--model", "baseline", "--no-corpus", "--data", bad)
    assert code == 2 and "line 1: unknown sentiment label 'great'" in out

    code, out = invoke("predict", "--input", bad.with_name("nope.jsonl"), "--output", tmp_path / "o.jsonl")
    assert code == 2 and "no such file" in out

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "好"}\n{"id": 2}\n', encoding="utf-8")
    code, out = invoke("predict", "--input", broken, "--output", tmp_path / "o.jsonl")
    assert code == 2 and "line 2: missing or empty text" in out and not (tmp_path / "o.jsonl").exists()

    code, out = invoke("predict", "--input", tmp_path / "bad.jsonl", "--output", tmp_path / "o.jsonl")
    assert code == 2 and "yuqing train" in out  # no model registered yet


def test_promote_without_versions(project):
    code, out = invoke("promote")
    assert code == 2 and "no version" in out
