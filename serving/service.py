"""HTTP service (BentoML): ingest and classify mentions with adaptive batching, search, dashboard,
similar cases and response recommendations; champion reload without restart.

    yuqing serve                                      # = serving.server.serve(): 127.0.0.1:3000
    bentoml serve serving.service:Yuqing              # binds 127.0.0.1 too (YUQING_HOST to change)
    yuqing bento && bentoml serve yuqing:latest       # the packed champion

Which model: YUQING_MODEL_URI (any MLflow URI, pinned) when set; otherwise the BentoML store's
`yuqing-classifier` (packed into a built bento by `yuqing bento`; YUQING_BENTO_MODEL names
another tag; pinned); otherwise the MLflow registry's champion, followed when the alias moves.

Endpoints (all POST bodies are JSON; see README "For applications" and "Monitoring"):
  /classify  /search  /dashboard  /similar  /recommend        reads (keyed when YUQING_READ_REQUIRES_KEY)
  /alerts  /incidents  /incident  /subjects  /report  /deliveries
  /ingest (alias /analyze)  /admin/reload                    writes: Authorization: Bearer <key>
  /incident/step_done  /incident/resolve  /subjects/put  /subjects/delete  /webhooks
  /healthz /livez /readyz /metrics                           BentoML's, plus the project's counters

Monitoring (serving/monitoring_api.py): the service holds a `Monitor` over <data>/monitoring for the
subjects of YUQING_SUBJECTS (else <data>/subjects/, else the samples). /ingest, in the single
writer thread: (1) every mention is validated, (2) classified (given labels are kept), (3) upserted
into search — durable when it returns — and then (4) fed to the monitor with its labels (nothing
is classified twice), which matches subjects, raises alerts and publishes them to the durable
delivery queue. A failure in (4) is logged and answered in `monitoring` with the stored mentions;
sending the batch again is safe (search upserts by id; the monitor only took what it committed).
A ticker runs the time-based rules (silence, overdue steps) every YUQING_MONITOR_TICK_S seconds of
wall time in the writer thread; the delivery workers (huey) run in this process unless
YUQING_DELIVERY_CONSUMER=false.

Errors: every refusal is a 4xx whose JSON names the field and the limit ({"error", "detail",
"field"}); overload is 503 with Retry-After, logged as one line."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any, Literal

import bentoml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from starlette.responses import JSONResponse, Response

from playbooks.recommend import Incident
from search.collections import MENTIONS
from search.query import Filters, QueryError, SearchPage, SearchQuery
from serving.batcher import Batcher, Overloaded
from serving.limits import (
    MAX_K,
    MAX_MENTIONS,
    MAX_QUERY_CHARS,
    MAX_STEP_NO,
    MAX_TEXTS,
    MAX_URL_CHARS,
    MAX_WEBHOOK_EVENTS,
    By,
    Id,
    IngestMention,
    LimitError,
    ListLimit,
    Moment,
    ServedPrediction,
    SubjectId,
    Text,
    check_buckets,
    parse_interval,
)
from serving.runtime import Runtime
from serving.security import Guard
from yuqing.config import get_settings
from yuqing.errors import UserError

logger = logging.getLogger("yuqing.service")
SETTINGS = get_settings()
_SERVED_PREDICTIONS = TypeAdapter(list[ServedPrediction])
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
    """The analyst console (serving/console), reading the live runtime so it follows champion reloads."""
    from monitoring.delivery import publish
    from serving.console import create_console
    from yuqing.config import PROJECT_ROOT

    settings = get_settings()
    return create_console(lambda: bentoml.get_current_service().runtime, settings.data_dir / "monitoring",
                          data_dir=settings.data_dir,
                          subjects_path=settings.subjects or PROJECT_ROOT / "monitoring" / "samples" / "subjects",
                          cases_dir=PROJECT_ROOT / "playbooks" / "cases", publish=publish)


class IngestAnswer(BaseModel):
    model_config = ConfigDict(protected_namespaces=())
    ingested: int = Field(description="distinct ids stored (a repeated id keeps its last copy)")
    model_version: str
    mentions: list[dict[str, Any]] = Field(description="the mentions as stored: labels, scores, model_version")
    alerts: list[dict[str, Any]] = Field(default_factory=list, description="alerts this batch raised, each with "
                                         "id, subject, rule, fired_at, incident_id, severity, drivers, mention_ids")
    subjects: dict[str, list[str]] = Field(default_factory=dict, description="mention id -> the subjects it matched")
    monitoring: dict[str, Any] | None = Field(default=None, description="the monitor's outcome: ok, accepted, "
                                              "updated, unmatched, rejected; or ok false with the error (the mentions "
                                              "are stored in search all the same); null when monitoring is off")


class ReloadAnswer(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    reloaded: bool
    model_version: str
    previous_version: str = ""
    reason: str = ""
    cases: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0


def _source_uri(runtime: Runtime) -> str:
    """Where a model process loads this runtime's model from: one fixed version, never an alias."""
    return getattr(runtime, "source_uri", None) or runtime.model_uri or runtime.settings.champion_uri


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
            self.runtime.source_uri = str(self.bento_model.path_of("mlflow_model"))
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
        self.model_process = self._start_model_process() if settings.model_process else None
        self.batcher = Batcher(lambda: self.runtime, max_batch_size=settings.batch_max_size,
                               max_latency_ms=settings.batch_max_latency_ms, max_queue_texts=settings.queue_max_texts,
                               on_batch=lambda predictions, rt: count_predictions(predictions, rt.model_version),
                               run=self._run_in_model_process if self.model_process else None,
                               passes_in_flight=2 if self.model_process else 1)
        self._readers = ThreadPoolExecutor(4, thread_name_prefix="yuqing-read")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="yuqing-write")
        self._reads_in_flight = 0
        self.reloader = Reloader(lambda: self.runtime, self._switch, interval_s=settings.reload_interval_s,
                                 writer=self._write)
        self.reloader.enabled = not pinned
        self.monitoring = None
        self.ticker = None
        available = _monitoring_available()
        self._deliver = settings.delivery_consumer and available
        if settings.monitoring and available:
            from serving.monitoring_api import MonitoringHub, Ticker

            # Labels always come with the documents /ingest gives it; classify is the fallback contract.
            hub = self.monitoring = MonitoringHub(settings, classify=lambda texts: self.runtime.classify(texts))
            self.ticker = Ticker(lambda: self._writer.submit(hub.tick).result(), settings.monitor_tick_s)
        logger.warning("serving model %s (%s); writes %s; reads %s", self.runtime.model_version,
                       "pinned" if pinned else f"champion alias, checked every {settings.reload_interval_s:g} s",
                       "keyed" if settings.keys() else "disabled (no API key configured)",
                       "keyed" if settings.read_requires_key else "open")

    # ---- life cycle -----------------------------------------------------------------------------
    @bentoml.on_startup
    async def _start_background(self) -> None:
        self.reloader.start()
        if self.ticker is not None:
            self.ticker.start()
        if self._deliver:
            from monitoring.delivery import start_consumer

            await asyncio.get_running_loop().run_in_executor(None, start_consumer)

    @bentoml.on_shutdown
    async def _stop_background(self) -> None:
        self.reloader.stop()
        if self.ticker is not None:
            self.ticker.stop()
        if self._deliver:
            from monitoring.delivery import stop_consumer

            await asyncio.get_running_loop().run_in_executor(None, stop_consumer)  # attempts in progress finish
        self.batcher.close()
        if self.model_process is not None:
            self.model_process.close()

    def _start_model_process(self):
        """The child that runs forward passes, with the current model loaded before we are ready."""
        from serving.model_process import ModelProcess

        process = ModelProcess()
        process.predict(_source_uri(self.runtime), ["预热"], 1)
        return process

    def _run_in_model_process(self, runtime: Runtime, texts: list[str], batch_size: int) -> list:
        return self.model_process.predict(_source_uri(runtime), texts, batch_size)

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
        forward passes (of the model's own batch size, or YUQING_BATCH_MAX_SIZE); larger requests
        are split."""
        async def work():
            predictions, runtime = await self._predict(texts)
            version = runtime.model_version
            # The predictions were validated when the model made them; serialising them in one
            # pydantic-core call is 3x cheaper than BentoML's dump-then-serialise of the answer.
            served = [ServedPrediction.model_construct(**p.__dict__, model_version=version) for p in predictions]
            return Response(_SERVED_PREDICTIONS.dump_json(served), media_type="application/json",
                            headers={"X-Model-Version": version})

        return await self._answer("classify", work())

    async def _ingest(self, mentions: list[IngestMention], return_embeddings: bool, ctx: bentoml.Context):
        from yuqing.labels import TASKS
        from yuqing.text import add_words

        predictions, runtime = await self._predict([m.text for m in mentions])
        version = runtime.model_version
        given = [{task for task in TASKS if getattr(m, task) is not None} for m in mentions]
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

        hub = self.monitoring

        def store() -> tuple[int, dict]:
            add_words(subjects)
            written = runtime.backend.upsert("mentions", documents)  # durable (fsync'ed) on return
            # Then the monitor, in this same writer thread; it never raises (a failure is answered).
            return written, (hub.ingest(documents, given) if hub is not None else {})

        written, monitored = await self._write(store)
        self._metrics.ingested.labels(model_version=version).inc(len(documents))
        self._name_version(ctx, version)
        if not return_embeddings:
            documents = [{k: v for k, v in d.items() if k != "embedding"} for d in documents]
        return IngestAnswer(ingested=written, model_version=version, mentions=documents,
                            alerts=monitored.get("alerts", []), subjects=monitored.get("subjects", {}),
                            monitoring=monitored.get("monitoring"))

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
            if len(query.text) > MAX_QUERY_CHARS:
                raise LimitError("query.text", f"at most {MAX_QUERY_CHARS} characters (got {len(query.text)})",
                                 limit=MAX_QUERY_CHARS)
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

    # ---- monitoring: alerts, incidents, subjects, reports, deliveries ---------------------------
    def _hub(self):
        if self.monitoring is None:
            raise LimitError("monitoring", "monitoring is off in this service (YUQING_MONITORING=false)", status=404)
        return self.monitoring

    @bentoml.api
    async def alerts(self, subject: SubjectId | None = None,
                     rule: Literal["negative_share", "viral", "spike", "authority", "silence"] | None = None,
                     incident_id: Id | None = None, since: Moment | None = None, until: Moment | None = None,
                     limit: ListLimit = 100) -> dict:
        """Alerts (the replay contract: id, subject, rule, fired_at, incident_id, severity, drivers,
        mention_ids): the most recent `limit` (≤ 1,000) passing the filters, in event-time order,
        and `total`. since/until bound the event time an alert fired at ([since, until))."""
        async def work():
            return await self._read(self._hub().alerts, subject, rule, incident_id, since, until, limit)

        return await self._answer("alerts", work())

    @bentoml.api
    async def incidents(self, state: Literal["open", "responding", "resolved", "reopened", "active"] | None = None,
                        severity: Literal["minor", "general", "major"] | None = None,
                        subject: SubjectId | None = None, crisis_type: Annotated[str, StringConstraints(max_length=64)]
                        | None = None, limit: ListLimit = 100) -> dict:
        """Incidents, latest alert first (`active`: open, responding or reopened), with counts of
        alerts, mentions and steps done / overdue (against wall time), and `total`."""
        async def work():
            return await self._read(self._hub().incidents, state, severity, subject, crisis_type, limit)

        return await self._answer("incidents", work())

    @bentoml.api
    async def incident(self, incident_id: Id) -> dict:
        """One incident: state, severity with its reasons, the playbook's steps (due_at, done,
        done_by, overdue), the timeline, each done step's measured effect (volume and negative share
        6 h before and after), its alerts and mention ids (≤ 1,000; `mention_ids_total`). 404 if unknown."""
        async def work():
            return await self._read(self._hub().incident, incident_id)

        return await self._answer("incident", work())

    @bentoml.api(route="/incident/step_done")
    async def incident_step_done(self, incident_id: Id, step_no: Annotated[int, Field(ge=1, le=MAX_STEP_NO)], by: By,
                                 at: Moment | None = None) -> dict:
        """Mark a response step done (by whom; `at` defaults to now): the incident moves to
        responding and the step's effect is measured from then. Needs an API key."""
        async def work():
            hub = self._hub()
            return await self._write(lambda: hub.mark_step_done(incident_id, step_no, by, at))

        return await self._answer("incident_step_done", work())

    @bentoml.api(route="/incident/resolve")
    async def incident_resolve(self, incident_id: Id, by: By, at: Moment | None = None) -> dict:
        """Mark an incident resolved (409 if it already is); a new alert within the subject's
        incident window reopens it. Publishes `incident.resolved`. Needs an API key."""
        async def work():
            hub = self._hub()
            return await self._write(lambda: hub.resolve(incident_id, by, at))

        return await self._answer("incident_resolve", work())

    @bentoml.api(route="/subjects")
    async def subjects(self) -> dict:
        """The subjects (监测主题) being watched, each with every setting and its origin
        (api | YUQING_SUBJECTS | samples), and where the list comes from."""
        async def work():
            return await self._read(self._hub().list_subjects)

        return await self._answer("subjects", work())

    @bentoml.api(route="/subjects/put")
    async def subjects_put(self, subject: dict[str, Any]) -> dict:
        """Create or replace a subject, given as the YAML files' fields in JSON (`id`, `name`,
        `keywords`, optional rules, cooldown, notify …), validated as they are (400 naming
        `subject.<field>`), written to <data>/subjects/<id>.yaml; the monitor reloads its list at
        once. Needs an API key."""
        async def work():
            from serving.monitoring_api import validate_subject

            hub = self._hub()
            checked = validate_subject(subject)
            return await self._write(lambda: hub.put_subject(checked))

        return await self._answer("subjects_put", work())

    @bentoml.api(route="/subjects/delete")
    async def subjects_delete(self, id: SubjectId) -> dict:
        """Stop watching a subject written through the API (its incidents and alerts are kept;
        409 for one defined in YUQING_SUBJECTS, or the last one). Needs an API key."""
        async def work():
            hub = self._hub()
            return await self._write(lambda: hub.delete_subject(id))

        return await self._answer("subjects_delete", work())

    @bentoml.api(route="/report")
    async def report(self, kind: Literal["daily", "weekly", "incident"] = "daily", date: Date | None = None,
                     incident_id: Id | None = None, subject: SubjectId | None = None) -> dict:
        """舆情日报 (the `date`, default today), 周报 (the seven days ending with `date`) or an
        incident's 专报 (`incident_id`), as {"kind", "title", "markdown", "html"}: volume and
        sentiment trend, channels, topics, crisis types, top mentions, 情感净值, open incidents with
        playbook progress, what changed; every figure lists its mention ids."""
        async def work():
            if date is not None and not 2000 <= date.year <= 2100:
                raise LimitError("date", "must be between 2000-01-01 and 2100-12-31")
            return await self._read(self._hub().report, kind, date, incident_id, subject)

        return await self._answer("report", work())

    @bentoml.api(route="/webhooks")
    async def webhooks(self, action: Literal["list", "add", "remove", "rotate", "pause", "resume"] = "list",
                       url: Annotated[str, StringConstraints(max_length=MAX_URL_CHARS)] | None = None,
                       events: Annotated[list[Annotated[str, StringConstraints(max_length=64)]],
                                         Field(max_length=MAX_WEBHOOK_EVENTS)] | None = None,
                       description: Annotated[str, StringConstraints(max_length=500)] = "",
                       id: Annotated[str, StringConstraints(max_length=64)] | None = None) -> dict:
        """Signed webhook subscriptions of linked systems (CRM / ERP / PRM): list; add (url,
        events: alert.raised, incident.opened, incident.escalated, step.due, step.overdue,
        incident.resolved or '*'; the secret is answered once, here); remove, rotate (a new secret,
        answered once), pause, resume (id). Needs an API key, listing included."""
        async def work():
            from serving.monitoring_api import webhooks

            return await self._read(webhooks, action, url, events, description, id)

        return await self._answer("webhooks", work())

    @bentoml.api(route="/deliveries")
    async def deliveries(self, status: Literal["pending", "delivered", "dead"] | None = None,
                         limit: ListLimit = 100) -> dict:
        """Deliveries to webhooks and people's channels, most recent first (status, attempts, last
        error, next attempt; never the body), and counts per status."""
        async def work():
            from serving.monitoring_api import deliveries

            return await self._read(deliveries, status, limit)

        return await self._answer("deliveries", work())

    # ---- administration -------------------------------------------------------------------------
    @bentoml.api(route="/admin/reload")
    async def admin_reload(self, force: bool = False) -> ReloadAnswer:
        """Switch to the registry's champion now if the alias moved (force: reload even if not).
        Needs an API key."""
        async def work():
            return ReloadAnswer(**await self.reloader.reload(force=force, reason="admin"))

        return await self._answer("admin_reload", work())


def _monitoring_available() -> bool:
    """False (logged) in a bento built without the monitoring package, which then serves without it."""
    try:
        import monitoring.engine  # noqa: F401
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("monitoring"):
            raise
        logger.error("monitoring is off: %s — this build lacks monitoring/ (bentofile.yaml `include`)", error)
        return False
    return True


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
                       "/alerts", "/incidents", "/incident", "/incident/step_done", "/incident/resolve", "/subjects",
                       "/subjects/put", "/subjects/delete", "/report", "/webhooks", "/deliveries",
                       "/admin/reload", "/metrics", "/healthz", "/livez", "/readyz", "/docs.json", "/"})


def _error_counter(path: str, status: int) -> None:
    from serving.metrics import metrics

    endpoint = path if path in ENDPOINTS else "other"  # bounded label values, whatever clients send
    metrics().errors.labels(endpoint=endpoint, status=str(status)).inc()


Yuqing.add_asgi_middleware(Guard, on_error=_error_counter)


def _fix_media_types() -> None:
    """Decide each answer's media type once. BentoML re-derives it per response from the output
    model's full JSON schema, which was a third of the event loop's time under load."""
    for api in Yuqing.apis.values():
        api.output_spec.media_type = api.output_spec.mime_type()


_fix_media_types()
