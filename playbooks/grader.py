"""The learned part of severity grading, on top of the rule (SEVERITY.md stays the standard).

Features are what the rule extracted (playbooks/severity.py `assess`): per-family levels (outside and
inside the event itself), near-threshold and combination indicators, escalations, the rule's own
level, counts on a log scale and the crisis type. The model is a multinomial logistic regression, so
every feature's contribution (coefficient × scaled value) can be read and turned into a Chinese
reason ("学习模型：弱势群体与敏感信息 + 组合(a) 推高一级").

Policies (`meta.json` "policy"): "rule" (the rule alone), "learned" (the model, which sees the rule's
level) or "max" (the higher of rule and model: never grades below the rule). Which one ships is
chosen by leave-one-writer-out accuracy (playbooks/evaluate.py), not by fit to one set.

A model is a directory: model.joblib (the sklearn pipeline) + meta.json (feature names, policy,
metrics). No MLflow here; serving/cli_severity.py logs and registers the directory."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from playbooks.severity import GRADES, Assessment, Grade, IncidentMetrics, assess, load_rule
from playbooks.signals import FAMILIES, SIGNALS, read_signals
from yuqing.labels import CRISIS_TYPES

DEFAULT_MODEL_DIR = Path(__file__).with_name("grader_model")
POLICIES = ("rule", "learned", "max")
GRADED_FAMILIES = [f for f in FAMILIES if f != "J"]
LOG_COUNTS = ["reposts", "views", "mentions", "platforms", "deaths", "injured", "affected_people", "amount_yuan",
              "stock_drop_pct", "crowd_size", "complaints", "fine_yuan", "unanswered_hours"]
FORMAT_VERSION = 1


def feature_names() -> list[str]:
    names = []
    for family in GRADED_FAMILIES:
        names += [f"family:{family}", f"body:{family}"]
    names += ["near", "combo:a", "combo:b", "combo:c", "escalations", "rule_level", "base_level",
              "general_families", "harm_families", "major_signals", "still_on_sale", "silence_hours_24"]
    names += [f"log:{name}" for name in LOG_COUNTS]
    names += [f"type:{t}" for t in CRISIS_TYPES]
    return names


FEATURE_LABELS = {**{f"family:{c}": FAMILIES[c][0] for c in FAMILIES}, **{f"body:{c}": f"{FAMILIES[c][0]}(事件本体)" for c in FAMILIES},
                  "near": "临界信号", "combo:a": "组合(a)", "combo:b": "组合(b)", "combo:c": "组合(c)", "escalations": "升级条件",
                  "rule_level": "规则等级", "base_level": "最高单项信号", "general_families": "达一般的家族数",
                  "harm_families": "实害家族数", "major_signals": "重大级信号数", "still_on_sale": "仍在售/未恢复",
                  "silence_hours_24": "未回应时长", **{f"log:{n}": SIGNALS[n].label for n in LOG_COUNTS},
                  **{f"type:{t}": f"类型{t}" for t in CRISIS_TYPES}}


def features(assessment: Assessment, text_signals=None) -> list[float]:
    """One incident's feature vector, in `feature_names()` order."""
    row: list[float] = []
    for family in GRADED_FAMILIES:
        row += [assessment.family_level(family, body=False), assessment.family_level(family, body=True)]
    general = {f.family for f in assessment.findings if f.level >= 1 and not f.body}
    values = {f.name: f.value for f in assessment.findings}
    if text_signals is not None:
        for name in ("unanswered_hours", "still_on_sale"):
            if getattr(text_signals, name):
                values[name] = getattr(text_signals, name)
    row += [float(any(f.near for f in assessment.findings)), *(float(assessment.combination == c) for c in "abc"),
            float(len(assessment.escalations)), float(assessment.level), float(assessment.base_level),
            float(len(general)), float(len(general & {"D", "E", "F", "G", "H"})),
            float(sum(f.level == 2 for f in assessment.findings)), float(bool(values.get("still_on_sale"))),
            float(min((values.get("unanswered_hours") or 0) / 24, 10))]
    for name in LOG_COUNTS:
        value = values.get(name)
        row.append(math.log10(1 + float(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0)
    row += [float(assessment.crisis_type == t) for t in CRISIS_TYPES]
    return row


def _pipeline(c: float = 0.5):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, class_weight="balanced"))


class LearnedGrader:
    """The rule + a fitted model, combined by `policy`."""

    def __init__(self, model=None, policy: str = "max", meta: dict | None = None):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; allowed: {', '.join(POLICIES)}")
        if policy != "rule" and model is None:
            raise ValueError(f"policy {policy!r} needs a fitted model")
        self.model, self.policy, self.meta = model, policy, dict(meta or {})

    # -- fitting ---------------------------------------------------------------------------------
    @classmethod
    def fit(cls, incidents: Sequence[dict], policy: str = "max", c: float = 0.5) -> LearnedGrader:
        """Fit on labelled incidents (text, crisis_type, severity)."""
        X = np.array([features(*_assess(item)) for item in incidents])
        y = np.array([GRADES.index(item["severity"]) for item in incidents])
        model = _pipeline(c).fit(X, y) if policy != "rule" else None
        return cls(model, policy, {"c": c, "trained_on": len(incidents)})

    # -- predicting ------------------------------------------------------------------------------
    def predict_levels(self, incidents: Sequence[dict]) -> list[int]:
        return [self.assess_level(*_assess(item))[0] for item in incidents]

    def assess_level(self, assessment: Assessment, text_signals=None) -> tuple[int, list[str]]:
        """(level, the learned part's reasons) for one assessed incident."""
        if self.policy == "rule":
            return assessment.level, []
        x = np.array([features(assessment, text_signals)])
        learned = int(self.model.predict(x)[0])
        level = max(learned, assessment.level) if self.policy == "max" else learned
        if level == assessment.level:
            return level, []
        return level, [self._explain(x[0], level, assessment.level)]

    def _explain(self, x: np.ndarray, level: int, rule_level: int) -> str:
        scaler, logistic = self.model[0], self.model[-1]
        scaled = scaler.transform(x.reshape(1, -1))[0]
        classes = list(logistic.classes_)
        names = feature_names()
        # what pushes the chosen grade above (or below) the rule's grade
        delta = logistic.coef_[classes.index(level)] - logistic.coef_[classes.index(rule_level)]
        contributions = delta * scaled
        top = [names[i] for i in np.argsort(-contributions)[:3] if contributions[i] > 0 and x[i] != 0]
        top = top or [names[i] for i in np.argsort(-contributions)[:2]]
        direction = "推高" if level > rule_level else "拉低"
        steps = abs(level - rule_level)
        label = " + ".join(FEATURE_LABELS.get(n, n) for n in top)
        return f"学习模型：{label} {direction}{'一' if steps == 1 else '两'}级（规则 {GRADES[rule_level]} → {GRADES[level]}）"

    def grade(self, text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None) -> Grade:
        signals = read_signals(text or "", crisis_type)
        assessment = assess(text, metrics, crisis_type, load_rule(), signals=signals)
        level, extra = self.assess_level(assessment, signals)
        return Grade(severity=GRADES[level], level=level, reasons=assessment.reasons + extra)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        import joblib
        import sklearn

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            joblib.dump(self.model, directory / "model.joblib")
        else:  # a rule-only grader: a model left from an earlier fit must not look current
            (directory / "model.joblib").unlink(missing_ok=True)
        meta = {**self.meta, "format_version": FORMAT_VERSION, "policy": self.policy, "features": feature_names(),
                "classes": GRADES, "sklearn_version": sklearn.__version__, "model": "StandardScaler+LogisticRegression"}
        (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> LearnedGrader:
        import joblib

        directory = Path(directory)
        meta_file = directory / "meta.json"
        if not meta_file.exists():
            raise FileNotFoundError(f"{directory}: not a severity grader directory (no meta.json)")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("features") != feature_names():
            raise ValueError(f"{directory}: its features do not match this code's signals; re-run `yuqing train-severity`")
        model = joblib.load(directory / "model.joblib") if (directory / "model.joblib").exists() else None
        return cls(model, meta["policy"], meta)


def _assess(item: dict):
    signals = read_signals(item["text"], item.get("crisis_type"))
    return assess(item["text"], None, item.get("crisis_type"), load_rule(), signals=signals), signals


@lru_cache
def default_grader() -> LearnedGrader | None:
    """The grader `grade()` uses: YUQING_SEVERITY_MODEL (a directory, or `rule`), else the packaged model."""
    setting = os.environ.get("YUQING_SEVERITY_MODEL")
    if setting and setting.lower() in ("rule", "none", "off"):
        return None
    directory = Path(setting) if setting else DEFAULT_MODEL_DIR
    if not (directory / "meta.json").exists():
        if setting:
            raise FileNotFoundError(f"YUQING_SEVERITY_MODEL={setting}: no meta.json there")
        return None
    grader = LearnedGrader.load(directory)
    return None if grader.policy == "rule" else grader
