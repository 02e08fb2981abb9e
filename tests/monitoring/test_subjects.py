"""Subject files: defaults, validation errors naming file and field, keyword matching."""

from __future__ import annotations

import pytest

from monitoring.subjects import Subject, SubjectError, load_subjects
from yuqing.text import normalize, tokenize

MINIMAL = "id: qinghe\nname: 青禾乳业\nkeywords: {any: [青禾], all: [], none: []}\n"


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def matches(s: Subject, text: str, channel: str | None = "weibo") -> bool:
    return s.matches(normalize(text), set(tokenize(text)), channel)


def test_minimal_file_gets_every_default(tmp_path):
    [s] = load_subjects(write(tmp_path, "qinghe.yaml", MINIMAL))
    assert s.rules.negative_share.window_minutes == 60 and s.rules.negative_share.above == 0.5
    assert s.rules.negative_share.min_volume == 20
    assert s.rules.viral.reposts_above == 1000 and s.rules.viral.views_at_least == 1_000_000
    assert (s.rules.spike.ratio_at_least, s.rules.spike.z_at_least, s.rules.spike.min_count) == (3, 3, 10)
    assert s.rules.authority.min_confidence == 0.7 and "regulator" in s.rules.authority.channels
    assert s.rules.silence.hours == 4 and s.cooldown_hours == 6 and s.incident_window_hours == 48
    assert s.cooldown_seconds("spike") == 6 * 3600 and s.channels is None and s.notify == {}


def test_per_rule_overrides_and_cooldown(tmp_path):
    text = MINIMAL + "cooldown_hours: 2\nrules:\n  spike: {ratio_at_least: 5, cooldown_hours: 1}\n"
    [s] = load_subjects(write(tmp_path, "q.yaml", text))
    assert s.rules.spike.ratio_at_least == 5 and s.cooldown_seconds("spike") == 3600
    assert s.cooldown_seconds("viral") == 2 * 3600


@pytest.mark.parametrize("body, field", [
    (MINIMAL + "rules:\n  spike: {ratio_at_least: lots}\n", "rules.spike.ratio_at_least"),
    (MINIMAL + "rules:\n  negative_share: {windw_minutes: 30}\n", "rules.negative_share.windw_minutes"),
    ("id: qinghe\nname: 青禾乳业\n", "keywords"),
    ("id: Qing He\nname: 青禾乳业\nkeywords: {any: [青禾]}\n", "id"),
    ("id: qinghe\nname: 青禾乳业\nkeywords: {any: [], all: []}\n", "keywords"),
])
def test_validation_errors_name_file_and_field(tmp_path, body, field):
    path = write(tmp_path, "broken.yaml", body)
    with pytest.raises(SubjectError) as error:
        load_subjects(path)
    assert str(path) in str(error.value) and field in str(error.value)


def test_folder_duplicate_ids_and_bad_yaml(tmp_path):
    write(tmp_path, "a.yaml", MINIMAL)
    write(tmp_path, "b.yaml", MINIMAL)
    with pytest.raises(SubjectError, match="already used"):
        load_subjects(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, "x.yaml", "id: [unclosed\n")
    with pytest.raises(SubjectError, match=r"x\.yaml: not valid YAML"):
        load_subjects(bad)
    with pytest.raises(SubjectError, match="no subject files"):
        load_subjects(_empty(tmp_path))


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_sample_subjects_load():
    from tests.monitoring.conftest import SAMPLES

    ids = [s.id for s in load_subjects(SAMPLES / "subjects")]
    assert ids == ["chenghu", "qinghe"]


def test_keywords_all_any_none_and_channels():
    s = Subject(id="q", name="青禾乳业", keywords={"any": ["青禾", "启护"], "all": ["奶粉"], "none": ["青禾路"]},
                channels=["weibo", "news"])
    assert matches(s, "青禾奶粉出问题了")
    assert not matches(s, "青禾酸奶好喝")                      # `all` keyword missing
    assert not matches(s, "青禾路上有人卖奶粉")                # `none` keyword present
    assert matches(s, "启护奶粉罐底有黑点")                   # any of the `any`
    assert not matches(s, "青禾奶粉出问题了", channel="douyin")  # channel not watched


def test_latin_keywords_match_whole_tokens_only():
    s = Subject(id="o", name="OFO", keywords={"any": ["ofo"]})
    assert matches(s, "ofo 单车押金退不了")
    assert matches(s, "OFO押金")   # normalised: case and full width
    assert not matches(s, "goofoff is a word")
