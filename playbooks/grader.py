"""The learned part of severity grading: a text model stacked on the rule (SEVERITY.md stays the standard).

Why a text model: the rule reads the phrasings its lexicons hold, and on a writer it has never read
it grades .81–.91 (its *first reads*, `first_reads.jsonl`). A character n-gram model of the text,
trained on every writer, reads some of the phrasings the lexicons miss.

Why stacked on first reads: a small logistic regression decides, from the rule's grade and the text
model's probabilities, which grade to give. It is fitted on the grades the rule gave each writer
*before* its lexicons were extended for that writer, because that is how the rule behaves on new
text. Fitted on today's rule, whose lexicons have read every writer, it would learn to trust the rule
always. The text probabilities it is fitted on are cross-fitted by writer (each writer's come from a
text model that never saw that writer), so they are as noisy as on new text.

Policies (`meta.json` "policy"): "rule" (the rule alone) or "stacked". Which one ships is chosen by
leave-one-writer-out over the first-read writers (playbooks/evaluate.py), not by fit to one set.

A model is a directory: model.joblib (text model + stacker) + meta.json. No MLflow here;
serving/cli_severity.py logs and registers the directory."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from playbooks.severity import GRADES, Assessment, Grade, IncidentMetrics, assess, load_rule
from playbooks.signals import LEVEL_NAMES, normalise, read_signals

DEFAULT_MODEL_DIR = Path(__file__).with_name("grader_model")
FIRST_READS = Path(__file__).with_name("first_reads.jsonl")
POLICIES = ("rule", "stacked")
# Grading a major incident minor costs this many times any other miss: the stacker picks the grade of
# least expected cost, not the likeliest. Measured leave-one-writer-out over the fourteen first-read
# writers: at 3, major → minor fell from 6 to 2 for 0.3 points of accuracy (the worst writer unchanged).
MAJOR_AS_MINOR_COST = 3.0
# The text model learned from descriptions of 30–550 characters (2 of 2,951 are shorter); a headline or
# a fragment is outside what it has seen ("某批次奶粉情况说明" read as 重大 by topic alone), so the rule grades it.
MIN_TEXT_CHARS = 30
FORMAT_VERSION = 2


def load_first_reads(path: Path = FIRST_READS) -> dict[str, int]:
    """{incident id: the level the rule gave it before its lexicons had read that incident's writer}."""
    if not Path(path).exists():
        return {}
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row["id"]: GRADES.index(row["severity"]) for row in rows}


def append_first_reads(incidents: Sequence[dict], severities: Sequence[str], rule_commit: str,
                       path: Path = FIRST_READS) -> tuple[int, int]:
    """Record the rule's grades (`severities`, one per incident) of incidents that have no first read
    yet; an existing first read is never replaced (it is the record of how the rule did before it read
    that writer). (added, kept)."""
    known = load_first_reads(path)
    new = [(item, severity) for item, severity in zip(incidents, severities) if item["id"] not in known]
    with Path(path).open("a", encoding="utf-8") as out:
        for item, severity in new:
            out.write(json.dumps({"id": item["id"], "severity": severity, "rule_commit": rule_commit}) + "\n")
    return len(new), len(incidents) - len(new)


class TextModel:
    """Character 1–3-gram TF-IDF + multinomial logistic regression over the three grades.

    Characters, not words: incident text mixes Chinese, 繁體, Cantonese and English, and no tokenizer
    reads all four; n-grams also survive the typos of voice-to-text."""

    def __init__(self, c: float = 4.0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
        self.logistic = LogisticRegression(C=c, max_iter=3000)

    def fit(self, texts: Sequence[str], levels: Sequence[int], weights: Sequence[float] | None = None) -> TextModel:
        self.logistic.fit(self.vectorizer.fit_transform([normalise(t) for t in texts]), np.asarray(levels), sample_weight=weights)
        return self

    @classmethod
    def fit_incidents(cls, incidents: Sequence[dict], c: float = 4.0) -> TextModel:
        """Fitted on labelled incidents; a row's optional "weight" (the guide's examples) scales it."""
        return cls(c).fit([i["text"] for i in incidents], [GRADES.index(i["severity"]) for i in incidents],
                          [float(i.get("weight", 1.0)) for i in incidents])

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities of minor / general / major."""
        return self.logistic.predict_proba(self.vectorizer.transform([normalise(t) for t in texts]))

    def contributors(self, text: str, level: int, top: int = 4) -> list[str]:
        """The n-grams of this text that pull most toward `level` (relative to the other grades)."""
        row = self.vectorizer.transform([normalise(text)])
        coef = self.logistic.coef_
        pull = coef[level] - coef.mean(axis=0)
        names = self.vectorizer.get_feature_names_out()
        scored = sorted(((row[0, j] * pull[j], names[j].strip()) for j in row.indices), reverse=True)
        chosen: list[str] = []
        for score, gram in scored:
            if score <= 0 or len(chosen) == top:
                break
            readable = len(gram) >= 2 and not re.fullmatch(r"[\W\d_a-z]+", gram)  # English 3-grams are word fragments
            if readable and not any(gram in c or c in gram for c in chosen):
                chosen.append(gram)
        return chosen


def readable(text: str) -> bool:
    """Long enough for the text model (MIN_TEXT_CHARS, spaces not counted)."""
    return len(re.sub(r"\s", "", normalise(text or ""))) >= MIN_TEXT_CHARS


def stack_features(rule_levels: Sequence[int], probabilities: np.ndarray) -> np.ndarray:
    """The rule's grade (one-hot), the text model's probabilities, and their products: the stacker
    can learn, per rule grade, how far to trust the text."""
    rule = np.eye(3)[np.asarray(rule_levels, dtype=int)]
    interactions = (rule[:, :, None] * probabilities[:, None, :]).reshape(len(rule), 9)
    return np.hstack([rule, probabilities, interactions])


def cross_fitted_probabilities(incidents: Sequence[dict], writers: Sequence[str], c: float = 4.0) -> dict[str, np.ndarray]:
    """{incident id: text probabilities} for the incidents of `writers`, each writer's from a text
    model fitted on every other writer (two writers at a time on two cores)."""
    from joblib import Parallel, delayed

    def one(writer: str) -> dict[str, np.ndarray]:
        train = [i for i in incidents if i["writer"] != writer]
        test = [i for i in incidents if i["writer"] == writer]
        model = TextModel.fit_incidents(train, c)
        return dict(zip((i["id"] for i in test), model.probabilities([i["text"] for i in test])))

    out: dict[str, np.ndarray] = {}
    for part in Parallel(n_jobs=min(2, len(writers)) or 1)(delayed(one)(w) for w in writers):
        out.update(part)
    return out


class StackedGrader:
    """The rule, and (policy "stacked") the text model + stacker that may move its grade."""

    def __init__(self, text_model: TextModel | None = None, stacker=None, policy: str = "stacked", meta: dict | None = None):
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; allowed: {', '.join(POLICIES)}")
        if policy == "stacked" and (text_model is None or stacker is None):
            raise ValueError("policy 'stacked' needs a fitted text model and stacker")
        self.text_model, self.stacker, self.policy, self.meta = text_model, stacker, policy, dict(meta or {})

    # -- fitting ---------------------------------------------------------------------------------
    @classmethod
    def fit(cls, incidents: Sequence[dict], first_reads: dict[str, int], policy: str = "stacked",
            c: float = 4.0, stack_c: float = 1.0, major_as_minor_cost: float = MAJOR_AS_MINOR_COST) -> StackedGrader:
        """Text model on every incident; stacker on the incidents that have a first read."""
        meta = {"c": c, "stack_c": stack_c, "major_as_minor_cost": major_as_minor_cost, "trained_on": len(incidents)}
        if policy == "rule":
            return cls(policy="rule", meta=meta)
        from sklearn.linear_model import LogisticRegression

        read = [i for i in incidents if i["id"] in first_reads]
        if len({i["writer"] for i in read}) < 2:
            raise ValueError("the stacker needs first reads from at least two writers (playbooks/first_reads.jsonl)")
        held_out = cross_fitted_probabilities(incidents, sorted({i["writer"] for i in read}), c)
        X = stack_features([first_reads[i["id"]] for i in read], np.array([held_out[i["id"]] for i in read]))
        stacker = LogisticRegression(C=stack_c, max_iter=2000).fit(X, [GRADES.index(i["severity"]) for i in read])
        text_model = TextModel.fit_incidents(incidents, c)
        meta["stacker_trained_on"] = len(read)
        return cls(text_model, stacker, policy, meta)

    # -- predicting ------------------------------------------------------------------------------
    @property
    def text(self) -> TextModel:
        if self.text_model is None:
            raise ValueError("a rule-only grader has no text model")
        return self.text_model

    def levels(self, texts: Sequence[str], rule_levels: Sequence[int]) -> list[int]:
        """Final levels for texts the rule graded `rule_levels`."""
        if self.policy == "rule":
            return list(rule_levels)
        learned, _ = self._stacked(texts, rule_levels)
        return [new if readable(text) else rule for text, rule, new in zip(texts, rule_levels, learned)]

    def _stacked(self, texts: Sequence[str], rule_levels: Sequence[int]) -> tuple[list[int], np.ndarray]:
        """The stacker's levels and the text model's probabilities behind them."""
        probabilities = self.text.probabilities(texts)
        return self._decide(self.stacker.predict_proba(stack_features(rule_levels, probabilities))), probabilities

    def assess_level(self, assessment: Assessment, text: str) -> tuple[int, list[str]]:
        """(level, the learned part's reasons) for one incident the rule assessed."""
        if self.policy == "rule":
            return assessment.level, []
        if not readable(text):
            return assessment.level, [f"学习模型未参与：文本不足 {MIN_TEXT_CHARS} 字，按规则定级"]
        [level], probabilities = self._stacked([text], [assessment.level])
        return level, [self._explain(text, probabilities[0], level, assessment.level)]

    def _decide(self, grade_probabilities: np.ndarray) -> list[int]:
        """The grade of least expected cost: every miss costs 1, major graded minor costs more."""
        cost = 1 - np.eye(3)  # cost[gold][graded]
        cost[2, 0] = self.meta.get("major_as_minor_cost", MAJOR_AS_MINOR_COST)
        return [int(level) for level in np.argmin(grade_probabilities @ cost, axis=1)]

    def _explain(self, text: str, probabilities: np.ndarray, level: int, rule_level: int) -> str:
        shares = " / ".join(f"{word} {p:.2f}" for word, p in zip(LEVEL_NAMES, probabilities))
        grams = self.text.contributors(text, int(np.argmax(probabilities)))
        basis = f"，主要依据 {'、'.join(f'“{g}”' for g in grams)}" if grams else ""
        if level == rule_level:
            verdict = f"维持规则等级 {LEVEL_NAMES[level]}"
        else:
            direction = "上调" if level > rule_level else "下调"
            verdict = f"{direction}为 {LEVEL_NAMES[level]}（规则 {LEVEL_NAMES[rule_level]}）"
        return f"学习模型（文本 {shares}{basis}）：{verdict}"

    def grade(self, text: str = "", metrics: IncidentMetrics | None = None, crisis_type: str | None = None) -> Grade:
        signals = read_signals(text or "", crisis_type)
        assessment = assess(text, metrics, crisis_type, load_rule(), signals=signals)
        if not (text or "").strip():  # metrics alone: nothing for the text model to read
            return Grade(severity=GRADES[assessment.level], level=assessment.level, reasons=assessment.reasons)
        level, extra = self.assess_level(assessment, text)
        return Grade(severity=GRADES[level], level=level, reasons=assessment.reasons + extra)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        import joblib
        import sklearn

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.policy == "stacked":
            joblib.dump({"text_model": self.text_model, "stacker": self.stacker}, directory / "model.joblib", compress=3)
        else:  # a rule-only grader: a model left from an earlier fit must not look current
            (directory / "model.joblib").unlink(missing_ok=True)
        meta = {**self.meta, "format_version": FORMAT_VERSION, "policy": self.policy, "classes": list(GRADES),
                "sklearn_version": sklearn.__version__,
                "model": "char 1-3-gram TF-IDF + LogisticRegression, stacked with the rule by LogisticRegression"}
        (directory / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path) -> StackedGrader:
        import joblib

        directory = Path(directory)
        meta_file = directory / "meta.json"
        if not meta_file.exists():
            raise FileNotFoundError(f"{directory}: not a severity grader directory (no meta.json)")
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{directory}: grader format {meta.get('format_version')}, this code reads {FORMAT_VERSION}; "
                             "re-run `yuqing train-severity`")
        if meta["policy"] == "rule":
            return cls(policy="rule", meta=meta)
        parts = joblib.load(directory / "model.joblib")
        return cls(parts["text_model"], parts["stacker"], meta["policy"], meta)


@lru_cache
def default_grader() -> StackedGrader | None:
    """The grader `grade()` uses: YUQING_SEVERITY_MODEL (a directory, or `rule`), else the packaged model."""
    setting = os.environ.get("YUQING_SEVERITY_MODEL")
    if setting and setting.lower() in ("rule", "none", "off"):
        return None
    directory = Path(setting) if setting else DEFAULT_MODEL_DIR
    if not (directory / "meta.json").exists():
        if setting:
            raise FileNotFoundError(f"YUQING_SEVERITY_MODEL={setting}: no meta.json there")
        return None
    grader = StackedGrader.load(directory)
    return None if grader.policy == "rule" else grader
