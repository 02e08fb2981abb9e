"""HTTP service (BentoML): ingest and classify mentions with adaptive batching, search, dashboard,
similar cases and response recommendations; champion reload without restart.

    yuqing serve                                      # = serving.server.serve(): 127.0.0.1:3000
    bentoml serve serving.service:Yuqing              # binds 127.0.0.1 too (YUQING_HOST to change)
    yuqing bento && bentoml serve yuqing:latest       # the packed champion

Which model: YUQING_MODEL_URI (any MLflow URI, pinned) when set; otherwise the BentoML store's
`yuqing-classifier` (packed into a built bento by `yuqing bento`; YUQING_BENTO_MODEL names
another tag; pinned); otherwise the MLflow registry's champion, followed when the alias moves.

Endpoints (all POST bodies are JSON; see README "For applications"):
  /classify  /search  /dashboard  /similar  /recommend        reads (keyed when YUQING_READ_REQUIRES_KEY)
  /ingest (alias /analyze)  /admin/reload                    writes: Authorization: Bearer <key>
  /healthz /livez /readyz /metrics                           BentoML's, plus the project's counters

Errors: every refusal is a 4xx whose JSON names the field and the limit ({"error", "detail",
"field"}); overload is 503 with Retry-After, logged as one line."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any, Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import HTMLResponse, JSONResponse

from playbooks.recommend import Incident
from search.collections import MENTIONS
from search.query import Filters, QueryError, SearchPage, SearchQuery
from serving.batcher import Batcher, Overloaded
from serving.limits import (MAX_K, MAX_MENTIONS, MAX_TEXTS, IngestMention, LimitError, ServedPrediction, Text,
                            check_buckets, parse_interval)
from serving.runtime import Runtime
from serving.security import Guard
from yuqing.config import get_settings
from yuqing.errors import UserError

logger = logging.getLogger("yuqing.service")
SETTINGS = get_settings()
MAX_READS_IN_FLIGHT = 256  # search/dashboard/similar/recommend work queued beyond this -> 503


def _packed_model():
    """The BentoML-store model to serve, or None to load from the MLflow registry instead."""
    if os.environ.get("YUQING_MODEL_URI"):
        return None
    tag = os.environ.get("YUQING_BENTO_MODEL", "yuqing-classifier:latest")
    try:
        bentoml.models.get(tag)
    except bentoml.exceptions.NotFound:
        return None
    return bentoml.models.BentoModel(tag)


class _OneLineRefusals(logging.Filter):
    """BentoML logs every refused request with a traceback; a refusal is one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            code = getattr(getattr(error, "error_code", None), "value", 500)
            if isinstance(error, ValidationError) or (isinstance(code, int) and code < 500):
                record.msg = f"{record.getMessage()}: refused: {type(error).__name__}: {str(error).splitlines()[0]}"
                record.args, record.exc_info, record.exc_text = (), None, None
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True


logging.getLogger("bentoml._internal.server.http_app").addFilter(_OneLineRefusals())


def _console_app():
    from starlette.applications import Starlette
    from starlette.routing import Route

    async def page(_request):
        return HTMLResponse("<!doctype html><meta charset=utf-8><title>yuqing console</title>"
                            "<h1>舆情 console</h1><p>Not built yet: use the API docs at <a href='/'>/</a> "
                            "and the metrics at <a href='/metrics'>/metrics</a>.</p>")

    return Starlette(routes=[Route("/", page), Route("/{rest:path}", page)])


class IngestAnswer(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    ingested: int = Field(description="distinct ids stored (a repeated id keeps its last copy)")
    model_version: str
    mentions: list[dict[str, Any]] = Field(description="the mentions as stored: labels, scores, model_version")


class ReloadAnswer(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    reloaded: bool
    model_version: str
    previous_version: str = ""
    reason: str = ""
    cases: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


def _error(status: int, message: str, field: str | None = None, limit: Any = None, headers: dict | None = None):
    body: dict[str, Any] = {"error": message, "detail": message}
    if field:
        body["field"] = field
    if limit is not None:
        body["limit"] = limit
    return JSONResponse(body, status_code=status, headers=headers)


@bentoml.asgi_app(_console_app(), path="/console", name="console")
@bentoml.service(name="yuqing", workers=1, http={"host": SETTINGS.host, "port": SETTINGS.port},
                 traffic={"timeout": SETTINGS.request_timeout_s})
class Yuqing:
    bento_model = _packed_model()

    def __init__(self) -> None:
        from serving.metrics import count_predictions, metrics, serving_version
        from serving.reloader import Reloader, registry_champion

        settings = self.settings = get_settings()
        pinned = self.bento_model is not None or bool(os.environ.get("YUQING_MODEL_URI"))
        if self.bento_model is not None:
            import mlflow.pyfunc

            from yuqing.predictor import unwrap

            predictor = unwrap(mlflow.pyfunc.load_model(self.bento_model.path_of("mlflow_model")))
            self.runtime = Runtime(model_uri=f"bentoml:{self.bento_model.tag}", predictor=predictor,
                                   model_version=f"bento:{self.bento_model.tag}")
        elif os.environ.get("YUQING_MODEL_URI"):
            self.runtime = Runtime(model_uri=os.environ["YUQING_MODEL_URI"])
        else:
            from serving.reloader import load_runtime
            from yuqing.predictor import load_predictor

            version = registry_champion()
            if version is None:
                load_predictor()  # raises the clear "no model … train one" error
            self.runtime = load_runtime(version)
        self.runtime.predictor  # noqa: B018 - load now, not on the first request
        self.runtime.sync_cases()  # start-up work: no request ever re-indexes
        self._metrics = metrics()
        serving_version(self.runtime.model_version)
        self.batcher = Batcher(lambda: self.runtime, max_batch_size=settings.batch_max_size,
                               max_latency_ms=settings.batch_max_latency_ms, max_queue_texts=settings.queue_max_texts,
                               on_batch=lambda predictions, rt: count_predictions(predictions, rt.model_version))
        self._readers = ThreadPoolExecutor(4, thread_name_prefix="yuqing-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="yuqing-write")
        self._reads_in_flight = 0
        self.reloader = Reloader(lambda: self.runtime, self._switch, interval_s=settings.reload_interval_s,
                                 writer=self._write)
        self.reloader.enabled = not pinned
        logger.warning("serving model %s (%s); writes %s; reads %s", self.runtime.model_version,
                       "pinned" if pinned else f"champion alias, checked every {settings.reload_interval_s:g} s",
                       "keyed" if settings.keys() else "disabled (no API key configured)",
                       "keyed" if settings.read_requires_key else "open")

    # ---- life cycle -----------------------------------------------------------------------------
    @bentoml.on_startup
    async def _start_background(self) -> None:
        self.reloader.start()

    @bentoml.on_shutdown
    async def _stop_background(self) -> None:
        self.reloader.stop()
        self.batcher.close()

    def _switch(self, runtime: Runtime) -> None:
        from serving.metrics import metrics, serving_version

        previous = self.runtime.model_version
        self.runtime = runtime  # requests admitted from now on use it; those in flight keep theirs
        serving_version(runtime.model_version, previous)
        metrics().reloads.labels(model_version=runtime.model_version).inc()

    def _write(self, function):
        return asyncio.get_running_loop().run_in_executor(self._writer, function)

    async def _read(self, function, *args):
        if self._reads_in_flight >= MAX_READS_IN_FLIGHT:
            raise Overloaded(f"{self._reads_in_flight} reads in flight (limit {MAX_READS_IN_FLIGHT})", retry_after=1)
        self._reads_in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._readers, lambda: function(*args))
        finally:
            self._reads_in_flight -= 1

    async def _answer(self, endpoint: str, work):
        """Run an endpoint's work, turning every refusal into a 4xx naming the field (or 503)."""
        try:
            return await work
        except Overloaded as error:
            self._metrics.overloaded.labels(endpoint=endpoint).inc()
            logger.warning("503 /%s: overloaded: %s; Retry-After %d s", endpoint, error, error.retry_after)
            return _error(503, f"overloaded: {error}; retry later", headers={"Retry-After": str(error.retry_after)})
        except LimitError as error:
            logger.info("%d /%s: %s", error.status, endpoint, error)
            return _error(error.status, str(error), error.field, error.limit)
        except ValidationError as error:
            first = error.errors()[0] if error.errors() else {}
            field = ".".join(str(x) for x in first.get("loc", ()))
            logger.info("400 /%s: %s: %s", endpoint, field, first.get("msg"))
            return _error(400, f"{field}: {first.get('msg', 'invalid')}", field)
        except (QueryError, UserError) as error:
            logger.info("400 /%s: %s", endpoint, error)
            return _error(400, str(error))

    async def _predict(self, texts: list[str]):
        predictions, runtime = await self.batcher.predict(texts)
        return predictions, runtime

    @staticmethod
    def _name_version(ctx: bentoml.Context, version: str) -> None:
        ctx.response.headers["X-Model-Version"] = version

    # ---- classification -------------------------------------------------------------------------
    @bentoml.api
    async def classify(self, texts: Annotated[list[Text], Field(min_length=1, max_length=MAX_TEXTS)],
                       ctx: bentoml.Context) -> list[ServedPrediction]:
        """Sentiment, topic and crisis type with per-label scores, the embedding and the model
        version, for 1–1,000 texts of 1–5,000 characters. Concurrent requests are merged into
        forward passes of up to YUQING_BATCH_MAX_SIZE texts; larger requests are split."""
        async def work():
            predictions, runtime = await self._predict(texts)
            self._name_version(ctx, runtime.model_version)
            return [ServedPrediction(**p.model_dump(), model_version=runtime.model_version) for p in predictions]

        return await self._answer("classify", work())

    async def _ingest(self, mentions: list[IngestMention], return_embeddings: bool, ctx: bentoml.Context):
        from yuqing.labels import TASKS
        from yuqing.text import add_words

        predictions, runtime = await self._predict([m.text for m in mentions])
        version = runtime.model_version
        documents = []
        for mention, prediction in zip(mentions, predictions):
            document = mention.model_dump(mode="json", exclude_none=True)
            for task in TASKS:
                document.setdefault(task, getattr(prediction, task))  # given labels are kept, as `yuqing index` does
            document["scores"] = prediction.scores
            if prediction.embedding is not None:
                document["embedding"] = prediction.embedding
            document["model_version"] = version
            documents.append(document)
        subjects = [d["subject"] for d in documents if d.get("subject")]

        def store() -> int:
            add_words(subjects)
            return runtime.backend.upsert("mentions", documents)  # durable (fsync'ed) on return

        written = await self._write(store)
        self._metrics.ingested.labels(model_version=version).inc(len(documents))
        self._name_version(ctx, version)
        if not return_embeddings:
            documents = [{k: v for k, v in d.items() if k != "embedding"} for d in documents]
        return IngestAnswer(ingested=written, model_version=version, mentions=documents)

    @bentoml.api(route="/ingest")
    async def ingest(self, mentions: Annotated[list[IngestMention], Field(min_length=1, max_length=MAX_MENTIONS)],
                     ctx: bentoml.Context, return_embeddings: bool = False) -> IngestAnswer:
        """Classify up to 1,000 mentions with the champion and store them (upsert by id, durable
        on return). Every mention is validated first: one invalid mention refuses the whole request
        (400 naming `mentions.<index>.<field>`) and none is stored. Needs an API key."""
        return await self._answer("ingest", self._ingest(mentions, return_embeddings, ctx))

    @bentoml.api(route="/analyze")
    async def analyze(self, mentions: Annotated[list[IngestMention], Field(min_length=1, max_length=MAX_MENTIONS)],
                      ctx: bentoml.Context, return_embeddings: bool = False) -> IngestAnswer:
        """The same as /ingest (an alias)."""
        return await self._answer("analyze", self._ingest(mentions, return_embeddings, ctx))

    # ---- search ---------------------------------------------------------------------------------
    @bentoml.api
    async def search(self, query: SearchQuery = SearchQuery(),
                     collection: Literal["mentions", "cases"] = "mentions") -> SearchPage:
        """Full-text search (query text up to 500 characters) with filters, sorting and pages."""
        async def work():
            try:
                return await self._read(self.runtime.backend.search, collection, query)
            except ValueError as error:
                if isinstance(error, (QueryError, UserError, ValidationError)):
                    raise
                raise LimitError("query", str(error)) from None

        return await self._answer("search", work())

    @bentoml.api
    async def dashboard(self, filters: Filters = Filters(),
                        interval: Annotated[str, Field(max_length=16, description="<n>m, <n>h or <n>d, 1m…30d")] = "1d"
                        ) -> dict:
        """Volume per interval by sentiment, top topics, crisis types, channels and total reposts;
        at most 5,000 intervals."""
        async def work():
            step = parse_interval(interval)
            backend = self.runtime.backend

            def compute():
                filters.check(MENTIONS)
                start, end = filters.since, filters.until
                if start is None or end is None:
                    first, last = _time_range(backend, filters)
                    start, end = start or first, end or last
                check_buckets(interval, step, start, end)
                try:
                    return backend.dashboard(filters, interval)
                except ValueError as error:  # the engine refused the aggregation: an input problem
                    if isinstance(error, UserError):
                        raise
                    raise LimitError("interval", f"the aggregation was refused: {str(error)[:200]}") from None

            return await self._read(compute)

        return await self._answer("dashboard", work())

    # ---- similar cases and recommendations -------------------------------------------------------
    @bentoml.api
    async def similar(self, text: Text, ctx: bentoml.Context,
                      k: Annotated[int, Field(ge=1, le=MAX_K)] = 5) -> list[dict]:
        """The k (≤ 50) historical cases most similar to an incident description (≤ 5,000 characters)."""
        async def work():
            (prediction,), runtime = await self._predict([text])
            self._name_version(ctx, runtime.model_version)
            return await self._read(runtime.similar, text, k, prediction)

        return await self._answer("similar", work())

    @bentoml.api
    async def recommend(self, incident: Incident, ctx: bentoml.Context,
                        k: Annotated[int, Field(ge=1, le=MAX_K)] = 5) -> dict:
        """A response plan: crisis type, severity with reasons, dated playbook steps, similar cases
        and the model version. Naive `detected_at` / `published_at` are taken in YUQING_TIMEZONE."""
        async def work():
            (prediction,), runtime = await self._predict([incident.text])
            plan = await self._read(runtime.recommend, incident, k, prediction)
            self._name_version(ctx, runtime.model_version)
            return {**plan.model_dump(mode="json"), "model_version": runtime.model_version}

        return await self._answer("recommend", work())

    # ---- administration -------------------------------------------------------------------------
    @bentoml.api(route="/admin/reload")
    async def admin_reload(self, force: bool = False) -> ReloadAnswer:
        """Switch to the registry's champion now if the alias moved (force: reload even if not).
        Needs an API key."""
        async def work():
            return ReloadAnswer(**await self.reloader.reload(force=force, reason="admin"))

        return await self._answer("admin_reload", work())


def _time_range(backend, filters: Filters) -> tuple[datetime | None, datetime | None]:
    """The first and last published_at among mentions passing the filters (None when empty)."""
    from search.collections import parse_time

    ends = []
    for descending in (False, True):
        page = backend.search("mentions", SearchQuery(filters=filters, sort_by="published_at", descending=descending,
                                                      size=1, highlight=False))
        value = page.hits[0].source.get("published_at") if page.hits else None
        ends.append(parse_time(value) if value else None)
    return ends[0], ends[1]


ENDPOINTS = frozenset({"/classify", "/ingest", "/analyze", "/search", "/dashboard", "/similar", "/recommend",
                       "/admin/reload", "/metrics", "/healthz", "/livez", "/readyz", "/docs.json", "/"})


def _error_counter(path: str, status: int) -> None:
    from serving.metrics import metrics

    endpoint = path if path in ENDPOINTS else "other"  # bounded label values, whatever clients send
    metrics().errors.labels(endpoint=endpoint, status=str(status)).inc()


Yuqing.add_asgi_middleware(Guard, on_error=_error_counter)
