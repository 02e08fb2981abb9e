"""Label a JSONL file of any size in constant memory: read lazily, predict chunk by chunk, write as it goes.

    from yuqing.streaming import predict_file
    count = predict_file(predictor, "mentions.jsonl", "predictions.jsonl", progress=lambda done, total: ...)

Every output line keeps every input key, in input order, and adds `sentiment`, `topic`,
`crisis_type` and `scores`. The input is checked in a first, cheap pass (JSON only, no model), so a
bad line fails the whole run before any prediction, with every bad line named (as
`yuqing.jsonl.read_records` does); the output appears only when complete (temp file, then rename)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from yuqing.jsonl import InputError
from yuqing.labels import TASKS
from yuqing.predictor import Predictor

SHOWN_PROBLEMS = 20


def _problem(line: str) -> str | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return f"invalid JSON ({error.msg})"
    if not isinstance(record, dict):
        return "not a JSON object"
    text = record.get("text")
    if not (isinstance(text, str) and text.strip()):
        return "missing or empty text"
    return None


def check_file(path: str | Path) -> int:
    """Number of records in a JSONL file of mentions; InputError naming every bad line (up to 20
    listed, all counted). Reads line by line: memory does not grow with the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    count, bad = 0, 0
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            problem = _problem(line)
            if problem is None:
                count += 1
                continue
            bad += 1
            if len(problems) < SHOWN_PROBLEMS:
                problems.append(f"line {number}: {problem}")
    if bad:
        more = f"\n  … and {bad - len(problems)} more" if bad > len(problems) else ""
        raise InputError(f"{path}: {bad} bad line(s), nothing was processed\n  " + "\n  ".join(problems) + more)
    return count


def iter_records(path: str | Path) -> Iterator[dict]:
    """The JSON objects of a (checked) JSONL file, lazily, in order; blank lines skipped."""
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def label(record: dict, prediction) -> dict:
    """The output line of a record: every input key, then the three labels and their scores."""
    return {**record, **{task: getattr(prediction, task) for task in TASKS}, "scores": prediction.scores}


def predict_file(predictor: Predictor, input_path: str | Path, output_path: str | Path, chunk: int = 512,
                 batch_size: int = 32, progress: Callable[[int, int], None] | None = None) -> int:
    """Label every line of `input_path` into `output_path`; returns the number of lines written.

    Holds at most `chunk` records at a time. `progress(done, total)` is called once with done=0,
    then after each chunk. Identical texts within a chunk are predicted once. Raises InputError
    (nothing written) when a line is not a JSON object with a non-empty `text`."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    total = check_file(input_path)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = output_path.with_name(output_path.name + ".tmp")
    done = 0
    if progress:
        progress(0, total)
    try:
        with temporary.open("w", encoding="utf-8") as out:
            batch: list[dict] = []
            for record in iter_records(input_path):
                batch.append(record)
                if len(batch) == chunk:
                    done += _write_chunk(predictor, batch, out, batch_size)
                    batch = []
                    if progress:
                        progress(done, total)
            if batch:
                done += _write_chunk(predictor, batch, out, batch_size)
                if progress:
                    progress(done, total)
        temporary.replace(output_path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return done


def _write_chunk(predictor: Predictor, records: list[dict], out, batch_size: int) -> int:
    unique = list(dict.fromkeys(r["text"] for r in records))
    predictions = dict(zip(unique, predictor.predict(unique, batch_size=batch_size)))
    out.write("".join(json.dumps(label(r, predictions[r["text"]]), ensure_ascii=False, default=str) + "\n"
                      for r in records))
    return len(records)
