"""Locust load test of the BentoML service (serving/service.py), in the manner of
bentoml/BentoSentenceTransformers' locustfile.

What it measures: request rate, latency percentiles and failures of the service under concurrent
clients. Each simulated user waits 0.01-2 s between requests and sends, by weight:
  * 10  POST /classify   {"texts": [1-3 corpus texts]}   (adaptive batching merges concurrent calls)
  *  2  POST /similar    {"text": <corpus text>, "k": 5}
  *  1  POST /recommend  {"incident": {"text": <corpus text>}}
  *  2  POST /ingest     {"mentions": [1-20 mentions with new ids]}   (only with --api-key: writes are keyed)
Texts are lines of training/data/corpus/*/*.jsonl. A response counts as a failure unless it is HTTP
200 with the expected JSON shape (one prediction per text; a list of cases; a plan with steps).

Bounded by design:
  * it only targets 127.0.0.1 (any other --host stops the run before a request is sent);
  * it always stops by itself: give the run time with -t (as below); without -t a headless run
    stops after --max-run-seconds (default 300), and any run (web UI too) is cut off at that cap.

Start the service, then run (from the repository root):

    .venv/bin/yuqing serve --port 3000                                      # in another terminal
    .venv/bin/locust -f benchmarks/locustfile.py --host http://127.0.0.1:3000 --headless -u 20 -r 5 -t 1m
    .venv/bin/locust -f benchmarks/locustfile.py --host http://127.0.0.1:3000 --headless -u 20 -r 5 -t 1m \
        --api-key "$(tail -1 data/api_keys)"                                  # also /ingest
    .venv/bin/locust -f benchmarks/locustfile.py --host http://127.0.0.1:3000 --headless -u 20 -r 5 -t 1m \\
        --csv /tmp/yuqing-locust --html /tmp/yuqing-locust.html      # keep the figures

Options added by this file: --max-run-seconds N (hard cap, default 300), --classify-max-texts N
(texts per /classify request, 1..N, default 3), --api-key KEY (enables the /ingest task). Ingested
mentions get ids `locust-<random>-<n>`, so a run adds mentions to the service's index."""

from __future__ import annotations

import itertools
import logging
import random
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import gevent
from locust import HttpUser, between, events, tag, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import corpus_texts

ALLOWED_HOSTS = {"127.0.0.1"}
DEFAULT_HOST = "http://127.0.0.1:3000"
DEFAULT_MAX_RUN_SECONDS = 300
MAX_TEXT_CHARS = 5000  # the service's limit per text (serving/service.py)

TEXTS = [t for t in corpus_texts() if 4 <= len(t) <= MAX_TEXT_CHARS]
logger = logging.getLogger("yuqing-locust")


def host_allowed(url: str | None) -> bool:
    if not url:
        return False
    parsed = urlparse(url)
    return parsed.scheme in {"http", "https"} and parsed.hostname in ALLOWED_HOSTS


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--max-run-seconds", type=int, default=DEFAULT_MAX_RUN_SECONDS,
                        help="hard cap on the run, in seconds, whatever -t says (default 300)")
    parser.add_argument("--classify-max-texts", type=int, default=3,
                        help="each /classify request carries 1..N corpus texts (default 3)")
    parser.add_argument("--api-key", default="", help="bearer key for /ingest (without it /ingest is not exercised)")


@events.init.add_listener
def _bound_the_run(environment, **_):
    options = environment.parsed_options
    if options is None or getattr(options, "worker", False):
        return
    if environment.host and not host_allowed(environment.host):
        logger.error("refusing to load-test %s: this locustfile only targets http://127.0.0.1:<port>", environment.host)
        sys.exit(2)
    cap = max(1, int(options.max_run_seconds))
    if not options.run_time or options.run_time > cap:
        logger.warning("run time %s: capped at %d s (give -t, e.g. -t 1m, or --max-run-seconds)",
                       f"{options.run_time} s" if options.run_time else "not set", cap)
        options.run_time = cap  # headless runs stop by themselves after this


@events.test_start.add_listener
def _check_and_arm_cap(environment, **_):
    runner = environment.runner
    host = environment.host or YuqingUser.host
    if not host_allowed(host):
        logger.error("refusing to load-test %s: only 127.0.0.1 is allowed", host)
        gevent.spawn(runner.quit)
        return
    options = environment.parsed_options
    cap = int(getattr(options, "max_run_seconds", DEFAULT_MAX_RUN_SECONDS) or DEFAULT_MAX_RUN_SECONDS)
    if getattr(options, "worker", False):
        return

    def stop():  # covers the web UI too, where -t may not be given
        logger.warning("--max-run-seconds (%d s) reached: stopping", cap)
        runner.quit()

    gevent.spawn_later(cap + 5, stop)


class YuqingUser(HttpUser):
    """One analyst's client: mostly classification, sometimes similar cases and a response plan."""

    host = DEFAULT_HOST
    wait_time = between(0.01, 2)

    def on_start(self):
        if not host_allowed(self.host):
            raise StopUser()
        options = self.environment.parsed_options
        self.max_texts = max(1, int(getattr(options, "classify_max_texts", 3) or 3))
        self.api_key = getattr(options, "api_key", "") or ""
        self.ids = (f"locust-{uuid.uuid4().hex[:8]}-{n}" for n in itertools.count())

    @tag("ingest")  # `--tags ingest` loads /ingest alone
    @task(2)
    def ingest(self):
        if not self.api_key:
            return  # writes are keyed: run with --api-key to load /ingest too
        mentions = [{"id": next(self.ids), "text": text} for text in random.sample(TEXTS, random.randint(1, 20))]
        with self.client.post("/ingest", json={"mentions": mentions}, name="/ingest", catch_response=True,
                              headers={"Authorization": f"Bearer {self.api_key}"}) as response:
            body = _json(response)
            if body is not None and (not isinstance(body, dict) or body.get("ingested") != len(mentions)):
                response.failure(f"expected {len(mentions)} ingested, got {str(body)[:200]}")

    @task(10)
    def classify(self):
        texts = random.sample(TEXTS, random.randint(1, self.max_texts))
        with self.client.post("/classify", json={"texts": texts}, name="/classify", catch_response=True) as response:
            body = _json(response)
            if body is None:
                return
            if not isinstance(body, list) or len(body) != len(texts) or "crisis_type" not in body[0]:
                response.failure(f"expected {len(texts)} predictions, got {str(body)[:200]}")

    @task(2)
    def similar(self):
        with self.client.post("/similar", json={"text": random.choice(TEXTS), "k": 5}, name="/similar",
                              catch_response=True) as response:
            body = _json(response)
            if body is not None and not isinstance(body, list):
                response.failure(f"expected a list of cases, got {str(body)[:200]}")

    @task(1)
    def recommend(self):
        with self.client.post("/recommend", json={"incident": {"text": random.choice(TEXTS)}}, name="/recommend",
                              catch_response=True) as response:
            body = _json(response)
            if body is not None and (not isinstance(body, dict) or "steps" not in body):
                response.failure(f"expected a plan with steps, got {str(body)[:200]}")


def _json(response):
    """The decoded body of a 200 answer; otherwise mark the request failed and return None."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
        return None
    try:
        return response.json()
    except ValueError:
        response.failure(f"not JSON: {response.text[:200]}")
        return None
