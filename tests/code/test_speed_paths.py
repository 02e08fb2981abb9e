"""The fast paths of issue #10: the int8 transformer kind, the baseline's shared feature pass, the
ensemble's single preprocessing, and streaming prediction of a JSONL file."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pytest
from datasets import Dataset
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from tests.conftest import SAMPLE, sample_rows
from training.baseline import BaselinePredictor, default_segmenter, segmenter, word_ngrams
from training.persistence import load_predictor_from, save_predictor
from yuqing.jsonl import InputError
from yuqing.labels import TASKS
from yuqing.text import normalize

TEXTS = [text for text, *_ in SAMPLE]


def _fit_baseline(rows):
    return BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})


@pytest.fixture(scope="module")
def baseline():
    return _fit_baseline(sample_rows(repeat=3))


@pytest.fixture(scope="module")
def fp32(tiny_base, tmp_path_factory):
    from training.transformer import fine_tune

    rows = sample_rows(repeat=4)
    return fine_tune(Dataset.from_list(rows), str(tiny_base), tmp_path_factory.mktemp("fp32"), epochs=2, batch_size=16)


# ---- int8 transformer -------------------------------------------------------------------------

def test_int8_kind_round_trips_and_agrees_with_fp32(fp32, tmp_path):
    from training.quantized import QUANT_FILE, QuantizedTransformerPredictor

    int8 = QuantizedTransformerPredictor.from_fp32(fp32)
    assert int8.kind == "transformer-int8"
    save_predictor(int8, tmp_path / "int8")
    assert (tmp_path / "int8" / QUANT_FILE).exists()
    again = load_predictor_from(tmp_path / "int8")
    assert isinstance(again, QuantizedTransformerPredictor)
    reference, quantised, reloaded = fp32.predict(TEXTS), int8.predict(TEXTS), again.predict(TEXTS)
    assert [p.scores for p in reloaded] == [p.scores for p in quantised]  # quantisation is deterministic
    same = sum(getattr(a, t) == getattr(b, t) for a, b in zip(reference, quantised) for t in TASKS)
    assert same >= 0.8 * len(TEXTS) * len(TASKS)
    for a, b in zip(reference, quantised):  # same outputs: three heads and a unit embedding
        assert set(b.scores) == set(TASKS) and len(b.embedding) == len(a.embedding)
        assert np.linalg.norm(b.embedding) == pytest.approx(1.0, abs=1e-4)
        assert float(np.dot(a.embedding, b.embedding)) > 0.95
    assert fp32.kind == "transformer"  # quantising left the fp32 predictor as it was
    assert [p.scores for p in fp32.predict(TEXTS)] == [p.scores for p in reference]


def test_int8_keeps_order_across_length_sorted_chunks(fp32):
    from training.quantized import QuantizedTransformerPredictor

    int8 = QuantizedTransformerPredictor.from_fp32(fp32)
    texts = ["短", "这是一条长得多的文本，用来检验按长度排序后结果仍然回到原来的顺序", "中等长度的文本"]
    batched = int8.predict(texts, batch_size=2)
    single = [int8.predict([t])[0] for t in texts]
    for a, b in zip(batched, single):
        assert a.scores["crisis_type"] == pytest.approx(b.scores["crisis_type"], abs=2e-3)


def test_train_selects_int8(tiny_base, tmp_path):
    from training.train import TrainArguments, fit

    args = TrainArguments(model="transformer-int8", base_model=str(tiny_base), epochs=1, batch_size=16)
    predictor = fit(args, Dataset.from_list(sample_rows(repeat=2)), tmp_path)
    assert predictor.kind == "transformer-int8"
    assert len(predictor.predict(["银行App崩了"])[0].embedding) > 0


def test_quantising_needs_a_saved_model(fp32):
    from training.quantized import QuantizedTransformerPredictor
    from training.transformer import TransformerPredictor

    with pytest.raises(ValueError, match="saved"):
        QuantizedTransformerPredictor.from_fp32(TransformerPredictor(fp32.model, fp32.tokenizer))


# ---- baseline: one feature pass -------------------------------------------------------------

def test_shared_features_equal_per_task_pipelines(baseline):
    """With every row labelled, one shared TF-IDF + three heads is the per-task pipeline, only once."""
    rows = sample_rows(repeat=3)
    texts = [r["text"] for r in rows]
    cut = segmenter(baseline.features.segmenter)
    queries = ["星澜科技用户信息泄露，黑客入侵数据库", "澜山乳业奶粉有异物", "ＡＰＰ崩了 工资 转不出去"]
    ours, _ = baseline.probabilities(queries)
    for task in TASKS:
        pipeline = Pipeline([
            ("tfidf", FeatureUnion([
                ("words", TfidfVectorizer(analyzer=lambda t: word_ngrams(cut(normalize(t))), sublinear_tf=True)),
                ("chars", TfidfVectorizer(analyzer="char", preprocessor=normalize, ngram_range=(1, 3), min_df=2,
                                          sublinear_tf=True, max_features=200_000)),
            ])),
            ("clf", LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")),
        ]).fit(texts, [r[task] for r in rows])
        expected = pipeline.predict_proba(queries)
        for j, label in enumerate(pipeline.classes_):
            np.testing.assert_allclose(ours[task][:, TASKS[task].index(label)], expected[:, j], atol=1e-6)


def test_fast_transform_equals_sklearns(baseline):
    import scipy.sparse as sp

    features = baseline.features
    texts = TEXTS + ["", "!!!", "ＡＰＰ 崩了 崩了 崩了", "没见过的字龘靐"]
    clean = [normalize(t) for t in texts]
    cut = segmenter(features.segmenter)
    expected = sp.hstack([features.words.transform([cut(t) for t in clean]), features.chars.transform(clean)]).toarray()
    np.testing.assert_allclose(features.transform(texts).toarray(), expected, atol=1e-12)
    np.testing.assert_allclose(features.transform(clean, normalized=True).toarray(), expected, atol=1e-12)


def test_baseline_segments_each_text_once(baseline, monkeypatch):
    import training.baseline as module

    calls = []
    real = module.segmenter(baseline.features.segmenter)
    monkeypatch.setitem(module._segmenters, baseline.features.segmenter, lambda t: calls.append(t) or real(t))
    baseline.predict(TEXTS[:5])
    assert len(calls) == 5


def test_baseline_round_trips_and_is_deterministic(baseline, tmp_path):
    save_predictor(baseline, tmp_path / "b")
    again = load_predictor_from(tmp_path / "b")
    assert again.kind == "baseline" and again.features.segmenter == default_segmenter()
    assert [p.scores for p in again.predict(TEXTS)] == [p.scores for p in baseline.predict(TEXTS)]
    assert [p.scores for p in baseline.predict(TEXTS, batch_size=1)] == [p.scores for p in baseline.predict(TEXTS)]


def test_baseline_loads_the_old_per_task_format(tmp_path):
    """Models saved before the shared pass (one pipeline per task) load and predict as before."""
    from yuqing.text import tokenize

    rows = sample_rows(repeat=2)
    pipelines = {}
    for task in TASKS:
        pipelines[task] = Pipeline([
            ("tfidf", FeatureUnion([
                ("words", TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, ngram_range=(1, 2))),
                ("chars", TfidfVectorizer(analyzer="char", preprocessor=normalize, ngram_range=(1, 3))),
            ])),
            ("clf", LogisticRegression(max_iter=500)),
        ]).fit([r["text"] for r in rows], [r[task] for r in rows])
    (tmp_path / "old").mkdir()
    joblib.dump(pipelines, tmp_path / "old" / "baseline.joblib")
    old = BaselinePredictor.load(tmp_path / "old")
    [prediction] = old.predict(["工厂排放黑烟"])
    raw = pipelines["crisis_type"].predict_proba(["工厂排放黑烟"])[0]
    for j, label in enumerate(pipelines["crisis_type"].classes_):
        assert prediction.scores["crisis_type"][label] == pytest.approx(raw[j], abs=1e-6)


# ---- ensemble: members run once on texts normalised once ---------------------------------------

class _Spy:
    """A member that records what it was given."""

    kind = "spy"

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def probabilities(self, texts, batch_size=32, normalized=False):
        self.calls.append((list(texts), normalized))
        return self.inner.probabilities(texts, batch_size, normalized=normalized)


def test_ensemble_normalises_once_and_runs_each_member_once(baseline, fp32):
    from training.ensemble import EnsemblePredictor
    from training.quantized import QuantizedTransformerPredictor

    int8 = QuantizedTransformerPredictor.from_fp32(fp32)
    members = [_Spy(baseline), _Spy(int8)]
    texts = ["ＡＰＰ  又崩了", "工地脚手架坍塌"]
    predictions = EnsemblePredictor(members, [1, 1]).predict(texts)
    for member in members:
        assert member.calls == [([normalize(t) for t in texts], True)]
    b, q = baseline.predict(texts), int8.predict(texts)
    for e, pb, pq in zip(predictions, b, q):
        for label in TASKS["topic"]:
            assert e.scores["topic"][label] == pytest.approx((pb.scores["topic"][label] + pq.scores["topic"][label]) / 2,
                                                             abs=2e-6)
        assert e.embedding == pytest.approx(pq.embedding, abs=1e-6)


# ---- streaming prediction of a file --------------------------------------------------------------

def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_predict_file_keeps_keys_and_order_in_chunks(baseline, tmp_path):
    from yuqing.streaming import predict_file

    records = [{"id": f"m{i}", "text": TEXTS[i % len(TEXTS)], "channel": "weibo", "reposts": i} for i in range(11)]
    source = _write_lines(tmp_path / "in.jsonl", [json.dumps(r, ensure_ascii=False) for r in records[:5]] + [""]
                          + [json.dumps(r, ensure_ascii=False) for r in records[5:]])
    seen = []
    count = predict_file(baseline, source, tmp_path / "out" / "labelled.jsonl", chunk=4,
                         progress=lambda done, total: seen.append((done, total)))
    assert count == 11
    assert seen == [(0, 11), (4, 11), (8, 11), (11, 11)]
    out = [json.loads(line) for line in (tmp_path / "out" / "labelled.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == [r["id"] for r in records]
    expected = baseline.predict([r["text"] for r in records])
    for o, r, p in zip(out, records, expected):
        assert {k: o[k] for k in r} == r
        assert (o["sentiment"], o["topic"], o["crisis_type"]) == (p.sentiment, p.topic, p.crisis_type)
        assert set(o["scores"]) == set(TASKS)
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_predict_file_names_bad_lines_and_writes_nothing(baseline, tmp_path):
    from yuqing.streaming import predict_file

    source = _write_lines(tmp_path / "in.jsonl", [
        json.dumps({"id": 1, "text": "银行App崩了"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": 3, "text": "  "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": 5, "text": "正常"}, ensure_ascii=False),
    ])
    output = tmp_path / "out.jsonl"
    with pytest.raises(InputError) as error:
        predict_file(baseline, source, output)
    message = str(error.value)
    assert "3 bad line(s)" in message and "nothing was processed" in message
    assert "line 2: invalid JSON" in message and "line 3: missing or empty text" in message
    assert "line 4: not a JSON object" in message
    assert not output.exists() and not (tmp_path / "out.jsonl.tmp").exists()
    with pytest.raises(InputError, match="no such file"):
        predict_file(baseline, tmp_path / "missing.jsonl", output)
