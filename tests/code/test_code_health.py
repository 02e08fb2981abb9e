"""The seams issue #7 fixed: a broken champion fails loudly, promotion compares like with like,
persistence by kind in one place, no import cycles, and the bentofile agrees with pyproject."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from serving.cli import app

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("yuqing", "training", "search", "playbooks", "serving", "monitoring")
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def test_corrupted_champion_fails_loudly_with_a_clear_error(project, labelled_file, tmp_path):
    import mlflow

    from training.registry import champion_version

    assert invoke("train", "--model", "baseline", "--no-corpus", "--data", labelled_file)[0] == 0
    assert invoke("promote")[0] == 0
    champion = champion_version()
    artifacts = Path(mlflow.artifacts.download_artifacts(f"models:/{champion.name}/{champion.version}"))
    # Corrupt the stored artifact in place (the local artifact store is what the registry serves).
    stored = Path(mlflow.MlflowClient().get_model_version_download_uri(champion.name, champion.version).removeprefix("file://"))
    for model_file in [*stored.rglob("baseline.joblib"), *stored.rglob("kind.json")]:
        model_file.write_bytes(b"not a model")
    assert artifacts.exists()
    mentions = tmp_path / "m.jsonl"
    mentions.write_text('{"text": "华岳银行App又崩了"}\n', encoding="utf-8")
    code, out = invoke("predict", "--input", mentions, "--output", tmp_path / "out.jsonl")
    assert code == 1, out
    assert "exists but failed to load" in out and "--debug" in out
    assert not (tmp_path / "out.jsonl").exists()


def test_promote_refuses_scores_from_different_dev_sets(project, labelled_file, tmp_path):
    from training.registry import PromotionRefused, champion_version, promote

    assert invoke("train", "--model", "baseline", "--no-corpus", "--data", labelled_file)[0] == 0
    assert invoke("promote")[0] == 0
    other = tmp_path / "other.jsonl"
    rows = [json.loads(line) for line in labelled_file.read_text(encoding="utf-8").splitlines()]
    other.write_text("\n".join(json.dumps({**r, "text": r["text"] + "。"}, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert invoke("train", "--model", "baseline", "--no-corpus", "--data", other)[0] == 0
    with pytest.raises(PromotionRefused, match="dev set"):
        promote("2")
    code, out = invoke("promote", "--version", "2")
    assert code == 2 and "not comparable" in out
    assert str(champion_version().version) == "1"
    assert promote("2", force=True)["promoted"] and str(champion_version().version) == "2"


def test_mean_macro_f1_averages_only_the_tasks_scored():
    from training.metrics import mean_macro_f1

    assert mean_macro_f1({"sentiment": {"macro_f1": 0.8}}) == pytest.approx(0.8)
    assert mean_macro_f1({"sentiment": {"macro_f1": 0.8}, "topic": {"macro_f1": 0.6}}) == pytest.approx(0.7)


def test_unknown_model_kind_is_refused_by_persistence(tmp_path):
    from training.persistence import KIND_FILE, ModelDirectoryError, load_predictor_from

    (tmp_path / KIND_FILE).write_text('{"kind": "crystal-ball"}')
    with pytest.raises(ModelDirectoryError, match="unknown model kind 'crystal-ball'"):
        load_predictor_from(tmp_path)
    with pytest.raises(ModelDirectoryError, match="not a saved model"):
        load_predictor_from(tmp_path / "missing")


def _imports(package: str) -> set[str]:
    """Top-level project packages a package imports anywhere (function-level imports included)."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            found |= {n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES}
    return found - {package}


def test_dependencies_flow_one_way():
    allowed = {
        "yuqing": set(),
        "training": {"yuqing"},
        "search": {"yuqing"},
        "playbooks": {"yuqing"},
        "monitoring": {"yuqing", "playbooks"},
        "serving": set(PACKAGES) - {"serving"},
    }
    for package, may_import in allowed.items():
        assert _imports(package) <= may_import, f"{package} imports {_imports(package) - may_import}"


def test_bentofile_packages_agree_with_pyproject():
    """The bento's Python requirements are pyproject's: every bentofile pin appears there verbatim."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {r.split(";")[0].split("#")[0].strip() for r in pyproject["project"]["dependencies"]}
    bento = yaml.safe_load((ROOT / "bentofile.yaml").read_text(encoding="utf-8"))
    for requirement in bento["python"]["packages"]:
        assert requirement in declared, f"bentofile.yaml asks for {requirement!r}, pyproject does not declare it so"
