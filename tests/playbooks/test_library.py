"""Every playbook and case file validates, and a broken file says where and what is wrong."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import yaml

from playbooks.library import CASES_DIR, LIBRARY_DIR, LibraryError, load_cases, load_playbook, load_playbooks
from yuqing.labels import CRISIS_TYPES


def test_every_crisis_type_and_tier_resolves_to_a_playbook():
    playbooks = load_playbooks()
    assert set(playbooks) == set(CRISIS_TYPES)
    for playbook in playbooks.values():
        for severity in ("minor", "general", "major"):
            assert playbook.tiers[severity].steps


def test_general_and_major_tiers_keep_the_golden_hours():
    for playbook in load_playbooks().values():
        for severity in ("general", "major"):
            deadlines = [s.deadline_hours for s in playbook.tiers[severity].steps]
            assert min(deadlines) <= 1, f"{playbook.crisis_type}/{severity}: assess within 1 h"
            assert any(d <= 2 and s.template for d, s in zip(deadlines, playbook.tiers[severity].steps)) or \
                any(d <= 4 and s.template for d, s in zip(deadlines, playbook.tiers[severity].steps)), \
                f"{playbook.crisis_type}/{severity}: a public statement within the golden hours"
        major = playbook.tiers["major"].steps
        assert any(s.owner == "舆情应急领导小组" for s in major)


def test_playbooks_warn_against_the_classic_mistakes():
    text = " ".join(d.action for p in load_playbooks().values() for d in p.do_not)
    for mistake in ("删", "沉默", "否认"):
        assert mistake in text


def test_case_library_covers_every_type_and_severity():
    cases = load_cases()
    assert len(cases) >= 80
    per_type = Counter(c.crisis_type for c in cases)
    assert set(per_type) == set(CRISIS_TYPES) and min(per_type.values()) >= 5
    assert set(Counter(c.severity for c in cases)) == {"minor", "general", "major"}
    assert len({c.industry for c in cases}) >= 12
    assert any(not a.effective for c in cases for a in c.actions), "cases record what went wrong too"


def _broken_copy(tmp_path, edit):
    folder = tmp_path / "library"
    shutil.copytree(LIBRARY_DIR, folder)
    path = folder / "rumor.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder, path


@pytest.mark.parametrize("edit, field, problem", [
    (lambda d: d["tiers"]["major"]["steps"][0].update(owner="保安部"), "tiers.major.steps.0.owner", "Input should be"),
    (lambda d: d["tiers"]["minor"]["steps"][0].update(deadline_hours=-1), "tiers.minor.steps.0.deadline_hours", "greater than 0"),
    (lambda d: d["tiers"].pop("general"), "tiers", "tiers missing: general"),
    (lambda d: d["tiers"]["minor"]["steps"][0].update(template="致{customer}"), "tiers.minor.steps.0", "unknown placeholder"),
    (lambda d: d.update(surprise=1), "surprise", "Extra inputs"),
])
def test_a_broken_playbook_names_file_field_and_problem(tmp_path, edit, field, problem):
    folder, path = _broken_copy(tmp_path, edit)
    with pytest.raises(LibraryError) as error:
        load_playbooks(folder)
    message = str(error.value)
    assert str(path) in message and field in message and problem in message


def test_invalid_yaml_and_misnamed_file(tmp_path):
    bad = tmp_path / "rumor.yaml"
    bad.write_text("crisis_type: [unclosed", encoding="utf-8")
    with pytest.raises(LibraryError, match="not valid YAML"):
        load_playbook(bad)
    misnamed = tmp_path / "gossip.yaml"
    shutil.copy(LIBRARY_DIR / "rumor.yaml", misnamed)
    with pytest.raises(LibraryError, match="file is named 'gossip'"):
        load_playbook(misnamed)


def test_broken_case_names_the_case(tmp_path):
    folder = tmp_path / "cases"
    shutil.copytree(CASES_DIR, folder)
    path = folder / "rumor.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases[1]["severity"] = "catastrophic"
    path.write_text(yaml.safe_dump(cases, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LibraryError, match=rf"case\[1\] \({cases[1]['id']}\)\.severity"):
        load_cases(folder)
