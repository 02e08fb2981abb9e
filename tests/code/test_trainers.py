"""Both trainers on data and a base model the tests build."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset

from tests.conftest import sample_rows
from training.baseline import BaselinePredictor
from training.transformer import IGNORE, MultiTaskClassifier, TransformerPredictor, fine_tune
from yuqing.labels import TASKS


def _dataset(rows):
    return Dataset.from_list(rows)


def test_baseline_fits_and_predicts_every_task():
    rows = sample_rows(repeat=3)
    predictor = BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})
    [prediction] = predictor.predict(["星澜科技用户信息泄露，黑客入侵数据库"])
    assert prediction.crisis_type == "data_breach"
    for task, labels in TASKS.items():
        assert set(prediction.scores[task]) == set(labels)
        assert sum(prediction.scores[task].values()) == pytest.approx(1.0, abs=1e-4)


def test_baseline_skips_rows_without_the_label(tmp_path):
    rows = sample_rows(repeat=2)
    for row in rows[::2]:
        row["topic"] = None
    predictor = BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})
    predictor.save(tmp_path)
    again = BaselinePredictor.load(tmp_path)
    assert again.predict(["工厂排放黑烟"])[0].scores == predictor.predict(["工厂排放黑烟"])[0].scores


def test_a_head_fitted_alone_is_the_head_of_a_full_fit():
    """Leave-one-writer-out on crisis type fits that head alone; it must predict as a full fit does."""
    rows = sample_rows(repeat=2)
    texts = [r["text"] for r in rows]
    full = BaselinePredictor.fit(texts, {t: [r[t] for r in rows] for t in TASKS})
    alone = BaselinePredictor.fit(texts, {"crisis_type": [r["crisis_type"] for r in rows]})
    probe = ["工厂排放黑烟，河里死鱼", "App 用户数据在暗网出售", "骑手集体停工讨薪"]
    assert set(alone.heads) == {"crisis_type"}
    np.testing.assert_allclose(alone.probabilities(probe)[0]["crisis_type"], full.probabilities(probe)[0]["crisis_type"])


def test_masked_loss_ignores_missing_labels(tiny_base):
    from transformers import AutoModel

    model = MultiTaskClassifier(AutoModel.from_pretrained(tiny_base))
    logits = {t: torch.randn(2, len(labels)) for t, labels in TASKS.items()}
    only_sentiment = {"labels_sentiment": torch.tensor([0, 2]), "labels_topic": torch.tensor([IGNORE, IGNORE]),
                      "labels_crisis_type": torch.tensor([IGNORE, IGNORE])}
    loss = model._masked_loss(logits, only_sentiment)
    expected = torch.nn.functional.cross_entropy(logits["sentiment"], only_sentiment["labels_sentiment"])
    assert torch.isfinite(loss) and loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_transformer_one_pass_gives_labels_and_unit_embedding(tiny_base, tmp_path):
    rows = sample_rows(repeat=4)
    rows[0]["topic"] = None  # partial labels train too
    predictor = fine_tune(_dataset(rows), str(tiny_base), tmp_path / "model", epochs=1, batch_size=16)
    predictions = predictor.predict(["华岳银行App崩了", "捐赠牛奶", "工地坍塌"], batch_size=2)
    assert len(predictions) == 3
    for p in predictions:
        assert np.linalg.norm(p.embedding) == pytest.approx(1.0, abs=1e-4)
        assert all(sum(p.scores[t].values()) == pytest.approx(1.0, abs=1e-4) for t in TASKS)
    reloaded = TransformerPredictor.load(tmp_path / "model")
    assert [p.scores for p in reloaded.predict(["华岳银行App崩了"])] == [predictions[0].scores]


def test_prediction_order_matches_input_order(tiny_base, tmp_path):
    predictor = fine_tune(_dataset(sample_rows(repeat=2)), str(tiny_base), tmp_path / "m", epochs=1)
    texts = ["短", "这是一条长得多的文本，用来检验按长度排序后结果仍然回到原来的顺序", "中等长度的文本"]
    batched = predictor.predict(texts, batch_size=2)
    single = [predictor.predict([t])[0] for t in texts]
    for a, b in zip(batched, single):
        assert a.scores["crisis_type"] == pytest.approx(b.scores["crisis_type"], abs=1e-4)


def test_unknown_base_model_gives_clear_error(tmp_path):
    with pytest.raises(OSError, match="cannot load base model"):
        fine_tune(_dataset(sample_rows()), str(tmp_path / "no-such-model"), tmp_path / "m", epochs=1)


def test_ensemble_averages_members_and_keeps_the_embedding(tiny_base, tmp_path):
    from training.ensemble import EnsemblePredictor
    from training.persistence import load_predictor_from as load_predictor_dir
    from training.persistence import save_predictor as save_predictor_dir

    rows = sample_rows(repeat=3)
    baseline = BaselinePredictor.fit([r["text"] for r in rows], {t: [r[t] for r in rows] for t in TASKS})
    transformer = fine_tune(_dataset(rows), str(tiny_base), tmp_path / "t", epochs=1)
    ensemble = EnsemblePredictor([baseline, transformer], [3, 1])
    text = ["安禾化工厂排放黑烟"]
    [b], [t], [e] = baseline.predict(text), transformer.predict(text), ensemble.predict(text)
    for label in TASKS["crisis_type"]:
        expected = 0.75 * b.scores["crisis_type"][label] + 0.25 * t.scores["crisis_type"][label]
        assert e.scores["crisis_type"][label] == pytest.approx(expected, abs=1e-5)
    assert e.embedding == pytest.approx(t.embedding, abs=1e-6)
    save_predictor_dir(ensemble, tmp_path / "e")
    again = load_predictor_dir(tmp_path / "e")
    assert again.kind == "ensemble" and again.predict(text)[0].scores == e.scores


def test_ensemble_rejects_bad_weights():
    from training.ensemble import EnsemblePredictor

    with pytest.raises(ValueError):
        EnsemblePredictor([object()], [0])
    with pytest.raises(ValueError):
        EnsemblePredictor([object(), object()], [1])
