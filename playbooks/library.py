"""Loading and validating the playbook and case files. A broken file raises LibraryError that
names the file, the field and the problem, so an editor can fix it without reading code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from playbooks.schema import Playbook
from yuqing.errors import UserError
from yuqing.labels import CRISIS_TYPES
from yuqing.schemas import Case

HERE = Path(__file__).resolve().parent
LIBRARY_DIR = HERE / "library"
CASES_DIR = HERE / "cases"
INCIDENTS_DEV = LIBRARY_DIR / "incidents_dev.jsonl"


class LibraryError(UserError, ValueError):
    pass


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LibraryError(f"{path}: not valid YAML: {error}") from error


def _validate(model: type[BaseModel], data, path: Path, where: str = ""):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{where}{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
                             for e in error.errors())
        raise LibraryError(f"{path}: {problems}") from None


def load_playbook(path: Path) -> Playbook:
    playbook = _validate(Playbook, _read_yaml(path), path)
    if path.stem != playbook.crisis_type:
        raise LibraryError(f"{path}: crisis_type is {playbook.crisis_type!r} but the file is named {path.stem!r}")
    return playbook


def load_playbooks(folder: Path = LIBRARY_DIR) -> dict[str, Playbook]:
    """Every playbook of a folder, keyed by crisis type; all ten crisis types must be covered."""
    playbooks = {p.crisis_type: p for p in (load_playbook(f) for f in sorted(folder.glob("*.yaml")))}
    missing = set(CRISIS_TYPES) - set(playbooks)
    if missing:
        raise LibraryError(f"{folder}: no playbook for {', '.join(sorted(missing))}")
    return playbooks


def load_cases(folder: Path = CASES_DIR) -> list[Case]:
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = _read_yaml(path)
        if not isinstance(data, list):
            raise LibraryError(f"{path}: expected a list of cases")
        for index, item in enumerate(data):
            case = _validate(Case, item, path, where=f"case[{index}] ({item.get('id', '?') if isinstance(item, dict) else '?'}).")
            if case.id in seen:
                raise LibraryError(f"{path}: case id {case.id!r} already used in {seen[case.id]}")
            seen[case.id] = path.name
            cases.append(case)
    return cases


@lru_cache
def default_playbooks() -> dict[str, Playbook]:
    return load_playbooks()


@lru_cache
def default_cases() -> tuple[Case, ...]:
    return tuple(load_cases())
