"""JSON Lines in and out, with errors that name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from yuqing.errors import UserError


class InputError(UserError, ValueError):
    """Bad input the user can fix; the message says where and what."""


def parse_lines(path: Path) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """(line number, object) for each JSON object line, and (line number, problem) for the rest."""
    records, problems = [], []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append((number, f"invalid JSON ({error.msg})"))
            continue
        if not isinstance(record, dict):
            problems.append((number, "not a JSON object"))
            continue
        records.append((number, record))
    return records, problems


def read_records(path: str | Path, require: tuple[str, ...] = ("text",)) -> list[dict]:
    """All objects of a JSONL file; raises InputError listing every bad line (nothing is skipped)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    parsed, problems = parse_lines(path)
    records = []
    for number, record in parsed:
        missing = [k for k in require if not (isinstance(record.get(k), str) and record[k].strip())]
        if missing:
            problems.append((number, f"missing or empty {', '.join(missing)}"))
        else:
            records.append(record)
    if problems:
        listed = [f"line {n}: {p}" for n, p in sorted(problems)]
        shown = "\n  ".join(listed[:20]) + (f"\n  … and {len(listed) - 20} more" if len(listed) > 20 else "")
        raise InputError(f"{path}: {len(listed)} bad line(s), nothing was processed\n  {shown}")
    return records


def write_records(path: str | Path, records: Iterable[dict]) -> int:
    """Write atomically (temp file then rename) so a failure never leaves half an output."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with temporary.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            count += 1
    temporary.replace(path)
    return count


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
