"""Helpers shared by the benchmark scripts: corpus texts, percentiles, tables and JSON output.

Not a benchmark itself; imported by search_benchmark.py, predict_benchmark.py and locustfile.py."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(REPO_ROOT))

# The data paths are the training package's, so benchmarks read exactly the files training reads.
from training.data import CORPUS_GLOB, DATA_DIR, HELDOUT_GLOB  # noqa: E402, F401 - re-exported for the scripts


def read_jsonl(pattern: str, root: Path = DATA_DIR) -> list[dict]:
    """Every record of the JSONL files matching `pattern` under `root`, in file order."""
    files = sorted(root.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no files match {root / pattern}")
    records = []
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def corpus_records() -> list[dict]:
    return [r for r in read_jsonl(CORPUS_GLOB) if isinstance(r.get("text"), str) and r["text"].strip()]


def corpus_texts() -> list[str]:
    return [r["text"].strip() for r in corpus_records()]


def percentiles(samples_s: Sequence[float]) -> dict:
    """Latency summary in milliseconds from samples in seconds."""
    import numpy as np

    ms = np.asarray(samples_s, dtype=float) * 1000.0
    if ms.size == 0:
        return {"n": 0}
    return {
        "n": int(ms.size),
        "mean_ms": float(ms.mean()),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def environment() -> dict:
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        info["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            info["mem_total_gb"] = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def package_versions(names: Iterable[str]) -> dict:
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence], console=None) -> None:
    """A rich table when rich is installed, a plain aligned table otherwise."""
    rows = [[_cell(v) for v in row] for row in rows]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text
        widths = [max(len(str(c)), *(len(r[i]) for r in rows)) if rows else len(str(c)) for i, c in enumerate(columns)]
        print(f"\n{title}")
        print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
        return
    from rich.markup import escape

    table = Table(title=escape(title), title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(escape(str(column)), justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(escape(v) for v in row))
    if console is None:  # wide enough for every column when stdout is a file or a pipe
        console = Console() if sys.stdout.isatty() else Console(width=int(os.environ.get("COLUMNS", 200)))
    console.print(table)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def load_note(start: dict) -> str:
    """A line on how busy the machine was (other processes skew every timing here)."""
    try:
        now = os.getloadavg()[0]
    except OSError:
        return ""
    before = (start.get("load_average_1_5_15") or [None])[0]
    cpus = os.cpu_count() or 1
    busy = max(now, before or 0) > 0.5 * cpus + 1
    return (f"load average (1 min) at start {before}, at end {now:.2f} on {cpus} CPUs"
            + ("  -- WARNING: other processes were busy; figures are skewed" if busy else ""))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def write_json(path: str | Path | None, figures: dict) -> None:
    if not path:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"figures written to {path}")


def log(message: str) -> None:
    """Progress lines go to stderr so stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


def finish_run(figures: dict, report, summary: str, json_path) -> int:
    """The common end of a benchmark run: tables, a summary line, the load warning, the JSON file."""
    figures["load_note"] = load_note(figures["environment"])
    report(figures)
    print(summary)
    print(figures["load_note"])
    write_json(json_path, figures)
    return 0


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux: VmHWM via /proc/self/clear_refs), so that
    `peak_rss_mb` afterwards is the peak of what follows. False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured markdown table (cells formatted like print_table's)."""
    lines = ["| " + " | ".join(str(c) for c in columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def peak_rss_since_reset_mb() -> float:
    """This process's peak RSS since `reset_peak_rss` (Linux VmHWM); `peak_rss_mb` elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return peak_rss_mb()
