"""Service load benchmark: the champion in-process (batch 32 and batch 1, the limits) against the
BentoML service at concurrency 1, 8 and 32, and /ingest against in-process classify + index.

    .venv/bin/python benchmarks/load_benchmark.py                       # the registry's champion
    .venv/bin/python benchmarks/load_benchmark.py --seconds 8 --texts-per-request 1

Each client sends --texts-per-request texts (default 32, the in-process batch the throughput bar
compares with); concurrency 1 is also run with one text per request for the latency bar.

Bounded: each level runs --seconds (default 8) and at most --max-requests; the service is
started by this script on a free 127.0.0.1 port with a temporary search index (the registry is
only read) and stopped at the end. Prints a markdown table with the ratios and the bars:
  * service throughput at concurrency 8 and 32 >= 0.8 x in-process batch-32 throughput;
  * p50 at concurrency 1 within 15 ms of in-process batch-1 latency;
  * zero errors;
  * /ingest >= 0.7 x in-process classify + index."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO_ROOT, corpus_texts

KEY = "load-benchmark-key"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# ---- in-process ----------------------------------------------------------------------------------

def in_process(uri: str | None, texts: list[str], seconds: float) -> dict:
    from yuqing.predictor import load_predictor

    predictor = load_predictor(uri)
    predictor.predict(texts[:64], batch_size=32)  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        chunk = texts[done % len(texts):done % len(texts) + 32] or texts[:32]
        predictor.predict(chunk, batch_size=32)
        done += len(chunk)
    batch32 = done / (time.perf_counter() - started)
    from yuqing.predictor import serving_batch_size

    best_size = serving_batch_size(predictor)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        chunk = texts[done % len(texts):done % len(texts) + best_size] or texts[:best_size]
        predictor.predict(chunk, batch_size=best_size)
        done += len(chunk)
    best = done / (time.perf_counter() - started)
    latencies, started = [], time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds / 2 and i < 5000:
        t0 = time.perf_counter()
        predictor.predict([texts[i % len(texts)]], batch_size=1)
        latencies.append(time.perf_counter() - t0)
        i += 1
    batch1_throughput = len(latencies) / (time.perf_counter() - started)

    from search.embedded import EmbeddedBackend
    from serving.runtime import Runtime

    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime(model_uri=uri, backend=EmbeddedBackend(folder), predictor=predictor)
        mentions = [{"id": f"ip-{i}", "text": t} for i, t in enumerate(texts[:1000])]
        started = time.perf_counter()
        for i in range(0, len(mentions), 100):
            runtime.index_mentions(mentions[i:i + 100])
        ingest = len(mentions) / (time.perf_counter() - started)
    return {"batch32": batch32, "best": best, "best_size": best_size, "batch1_p50_ms": 1000 * statistics.median(latencies),
            "batch1_throughput": batch1_throughput, "classify_index": ingest}


# ---- the service ---------------------------------------------------------------------------------

def start_service(port: int, data_dir: Path, log: Path):
    import subprocess

    from serving.server import command

    env = {**os.environ, "YUQING_DATA_DIR": str(data_dir), "YUQING_API_KEYS": KEY, "YUQING_RELOAD_INTERVAL_S": "0"}
    env.setdefault("MLFLOW_TRACKING_URI", os.environ.get("MLFLOW_TRACKING_URI") or _registry_uri())
    env.setdefault("BENTOML_HOME", str(data_dir / "bentoml"))
    handle = open(log, "wb")  # noqa: SIM115 - the server writes to it after we return
    process = subprocess.Popen(command(host="127.0.0.1", port=port), env=env, cwd=REPO_ROOT, stdout=handle,
                               stderr=subprocess.STDOUT)
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the service did not start; see {log}")


def _registry_uri() -> str:
    from yuqing.config import get_settings

    return get_settings().mlflow_tracking_uri


def load(port: int, path: str, bodies: list[bytes], concurrency: int, seconds: float, max_requests: int,
         headers: dict | None = None, count=lambda body: 1) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    items = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = n
        while time.perf_counter() < stop_at:
            with lock:
                if len(latencies) + len(errors) >= max_requests:
                    return
            body = bodies[i % len(bodies)]
            i += concurrency
            t0 = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError as error:
                status, connection = f"{type(error).__name__}", http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = time.perf_counter() - t0
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    items[0] += count(body)
                else:
                    errors.append(str(status))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"requests": len(latencies) + len(errors), "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
            "throughput": items[0] / wall, "p50_ms": 1000 * percentile(latencies, 0.5),
            "p95_ms": 1000 * percentile(latencies, 0.95)}


def _ingest_bodies(texts: list[str], size: int, requests: int) -> list[bytes]:
    """Request bodies whose mention ids never repeat, so every request stores new mentions."""
    return [json.dumps({"mentions": [{"id": f"lb-{r}-{j}", "text": texts[(r * size + j) % len(texts)]}
                                     for j in range(size)]}, ensure_ascii=False).encode() for r in range(requests)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-uri", default=None, help="default: the registry's champion")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--max-requests", type=int, default=20000, help="per service level")
    parser.add_argument("--texts-per-request", type=int, default=32,
                        help="texts in each /classify request of the throughput levels (32: the in-process batch "
                             "they are compared with); concurrency 1 is also measured with 1 text for the latency bar")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    from tests.conftest import free_port
    from yuqing.config import configure_environment

    configure_environment()
    texts = [t for t in corpus_texts() if 4 <= len(t) <= 5000]
    print(f"in-process champion ({args.seconds:g} s per measurement) …", flush=True)
    local = in_process(args.model_uri, texts, args.seconds)

    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        if args.model_uri:
            os.environ["YUQING_MODEL_URI"] = args.model_uri
        process = start_service(port, Path(folder) / "data", Path(folder) / "serve.log")
        try:
            k = args.texts_per_request
            bodies = {n: [json.dumps({"texts": texts[i:i + n]}, ensure_ascii=False).encode() for i in range(0, 4000, n)]
                      for n in sorted({1, k})}
            load(port, "/classify", bodies[k][:50], 4, 2.0, 200, count=lambda b: k)  # warm up
            single = load(port, "/classify", bodies[1], 1, args.seconds, args.max_requests)
            levels = {}
            for c in [int(x) for x in args.concurrency.split(",")]:
                print(f"service, concurrency {c} …", flush=True)
                levels[c] = load(port, "/classify", bodies[k], c, args.seconds, args.max_requests, count=lambda b: k)
            print("service, /ingest (batches of 100, 2 clients) …", flush=True)
            ingest = load(port, "/ingest", _ingest_bodies(texts, 100, 600), 2, args.seconds, 600,
                          headers={"Authorization": f"Bearer {KEY}"}, count=lambda b: 100)
        finally:
            from serving.server import stop

            stop(process)

    bar_tp = 0.8 * local["batch32"]
    verdicts: list[bool] = []
    rows = [("in-process batch 32", f"{local['batch32']:.0f} texts/s", "", "1.00", ""),
            ("in-process batch 1", f"{local['batch1_throughput']:.0f} texts/s", f"{local['batch1_p50_ms']:.1f}", "", ""),
            (f"in-process batch {local['best_size']} (the model's serving batch)", f"{local['best']:.0f} texts/s", "",
             f"{local['best'] / local['batch32']:.2f}", "")]
    ok = "✔" if single["p50_ms"] <= local["batch1_p50_ms"] + 15 else "✘"
    verdicts += [ok == "✔", single["errors"] == 0]
    rows.append(("service concurrency 1 (1 text/request)", f"{single['throughput']:.0f} texts/s",
                 f"{single['p50_ms']:.1f} / {single['p95_ms']:.1f}", f"{single['throughput'] / local['batch32']:.2f}",
                 f"{ok} p50 ≤ batch-1 + 15 ms; errors {single['errors']}/{single['requests']}"))
    for c, r in levels.items():
        ratio = r["throughput"] / local["batch32"]
        ok = ""
        if c in (8, 32):
            ok = "✔" if r["throughput"] >= bar_tp else "✘"
            verdicts.append(ok == "✔")
        rows.append((f"service concurrency {c} ({args.texts_per_request} text/request)", f"{r['throughput']:.0f} texts/s",
                     f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f}", f"{ratio:.2f}", f"{ok} errors {r['errors']}/{r['requests']}"))
        verdicts.append(r["errors"] == 0)
    ingest_ratio = ingest["throughput"] / local["classify_index"]
    verdicts += [ingest_ratio >= 0.7, ingest["errors"] == 0]
    rows.append(("in-process classify + index (batches of 100)", f"{local['classify_index']:.0f} docs/s", "", "", ""))
    rows.append(("service /ingest (batches of 100)", f"{ingest['throughput']:.0f} docs/s",
                 f"{ingest['p50_ms']:.1f} / {ingest['p95_ms']:.1f}", f"{ingest_ratio:.2f} of in-process",
                 f"{'✔' if ingest_ratio >= 0.7 else '✘'} errors {ingest['errors']}/{ingest['requests']}"))
    print("\n| measure | throughput | p50 / p95 ms | ratio to in-process batch 32 | bar |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nbars: service ≥ {bar_tp:.0f} texts/s at 8 and 32; p50 at 1 (1 text) ≤ {local['batch1_p50_ms'] + 15:.1f} ms; "
          f"zero errors; /ingest ≥ {0.7 * local['classify_index']:.0f} docs/s → {'all met' if all(verdicts) else 'NOT all met'}")
    if args.json:
        args.json.write_text(json.dumps({"in_process": local, "service_single": single, "service": levels,
                                         "ingest": ingest}, indent=2))


if __name__ == "__main__":
    main()
