"""The analyst console: a Starlette app of server-rendered pages (Jinja2 + htmx, no external
request), built by `create_console(...)` and mounted into the BentoML service at /console.

Pages: overview (per subject volume and sentiment, negative share, open incidents, latest alerts),
mentions (search with filters and facets, label correction), incidents (timeline, severity, the
playbook's steps with due times, mark done, response effect, similar cases, deliveries, 专报),
the case library (search, read, add from a resolved incident), the new-incident box
(recommendation), and the models (MLflow registry). Who may do what: `serving.console.auth`."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from serving.console import charts
from serving.console import data as views
from serving.console.auth import ANALYST, Auth, Identity, keys_from_env, load_secret
from serving.console.feedback import FeedbackError, FeedbackStore
from yuqing.labels import CRISIS_TYPE, SENTIMENT, SEVERITY, TASKS, TOPIC

HERE = Path(__file__).resolve().parent
LABEL_NAMES = {"sentiment": SENTIMENT, "topic": TOPIC, "crisis_type": CRISIS_TYPE, "severity": SEVERITY}
TASK_NAMES = {"sentiment": "情感", "topic": "话题", "crisis_type": "危机类型"}
FACETS = ("channel", "sentiment", "topic", "crisis_type", "subject")
FACET_NAMES = {"channel": "渠道", "sentiment": "情感", "topic": "话题", "crisis_type": "危机类型", "subject": "主体"}
CHANNEL_NAMES = {"weibo": "微博", "wechat": "微信", "douyin": "抖音", "kuaishou": "快手", "xiaohongshu": "小红书",
                 "tieba": "贴吧", "zhihu": "知乎", "bilibili": "哔哩哔哩", "news": "新闻", "forum": "论坛",
                 "complaint_platform": "投诉平台", "regulator": "监管", "police": "警方", "court": "法院", "video": "视频"}
PAGE_SIZE = 20
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"


class Refusal(Exception):
    """An answer other than the page: status, Chinese message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Console:
    def __init__(self, runtime_factory: Callable[[], Any], monitoring_dir: str | Path, *, data_dir: str | Path | None = None,
                 subjects_path: str | Path | None = None, cases_dir: str | Path | None = None,
                 analyst_keys: list[str] | None = None, readonly_keys: list[str] | None = None,
                 secret: str | bytes | None = None, timezone: str | None = None, deliveries: Any = "auto",
                 registry_client: Callable[[], Any] | None = None, publish: Callable[[str, dict], None] | None = None,
                 monitor_factory: Callable[[], Any] | None = None, clock: Callable[[], float] = time.time,
                 model_name: str | None = None, champion_alias: str | None = None):
        from yuqing.config import get_settings

        settings = get_settings()
        self.runtime_factory = runtime_factory
        self.monitoring_dir = Path(monitoring_dir)
        self.data_dir = Path(data_dir) if data_dir is not None else settings.data_dir
        self.subjects_path = Path(subjects_path) if subjects_path else None
        self.cases_dir = Path(cases_dir) if cases_dir else None
        env_analyst, env_readonly = keys_from_env()
        self.auth = Auth(env_analyst if analyst_keys is None else analyst_keys,
                         env_readonly if readonly_keys is None else readonly_keys,
                         load_secret(secret, self.data_dir / "console"))
        self.tz = ZoneInfo(timezone or settings.timezone)
        self.clock = clock
        self.publish = publish
        self.monitor_factory = monitor_factory
        self.registry_client = registry_client
        self.model_name = model_name or settings.model_name
        self.champion_alias = champion_alias or settings.champion_alias
        self._deliveries = deliveries
        self._monitor = None
        self._monitor_lock = threading.Lock()
        self._models_cache: tuple[float, dict] | None = None
        self._models_lock = threading.Lock()
        self._subject_names: dict[str, str] | None = None
        self._models_thread: threading.Thread | None = None
        self.feedback = FeedbackStore(self.data_dir)
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(pct=_pct, dt=self._dt, num=_num, label=_label, facet=self._facet_name)
        self.env.globals.update(LABELS=LABEL_NAMES, TASKS=TASKS, TASK_NAMES=TASK_NAMES, FACET_NAMES=FACET_NAMES)
        self._static_version = str(int(max(p.stat().st_mtime for p in (HERE / "static").iterdir())))

    # ---- shared resources --------------------------------------------------------------------------
    def subjects(self) -> list:
        if self.subjects_path is None:
            return []
        from monitoring.subjects import load_subjects

        return load_subjects(self.subjects_path)

    def store(self):
        from monitoring.store import Store

        if not (self.monitoring_dir / "monitoring.db").exists():
            return None
        return Store(self.monitoring_dir)

    def runtime(self):
        return self.runtime_factory()

    def delivery_source(self):
        if self._deliveries != "auto":
            return self._deliveries
        path = self.data_dir / "delivery" / "delivery.db"
        if not path.exists():
            return None
        from monitoring.delivery.store import DeliveryStore

        return DeliveryStore(path)

    def monitor(self):
        """The monitoring engine the step and resolve actions go through (built once)."""
        if self.monitor_factory is not None:
            return self.monitor_factory()
        if self._monitor is None:
            from monitoring.engine import Monitor, noop
            from monitoring.store import Store

            self._monitor = Monitor(Store(self.monitoring_dir), self.subjects(),
                                    lambda texts: self.runtime().classify(texts), publish=self.publish or noop,
                                    timezone=str(self.tz))
        return self._monitor

    def load_models(self, force: bool = False) -> None:
        """Read the registry in a background thread (one at a time); the result is cached 30 s."""
        with self._models_lock:
            fresh = self._models_cache is not None and time.monotonic() - self._models_cache[0] < 30
            if (fresh and not force) or (self._models_thread is not None and self._models_thread.is_alive()):
                return

            def load():
                factory = self.registry_client
                if factory is None:
                    def factory():
                        from training.registry import client

                        return client()
                result = views.models_page(factory, self.model_name, self.champion_alias)
                self._models_cache = (time.monotonic(), result)

            self._models_thread = threading.Thread(target=load, name="console-models", daemon=True)
            self._models_thread.start()

    def models_data(self, wait: float = 0.0) -> dict | None:
        self.load_models()
        thread = self._models_thread
        if wait and thread is not None:
            thread.join(wait)
        return self._models_cache[1] if self._models_cache is not None else None

    # ---- helpers -----------------------------------------------------------------------------------
    def _facet_name(self, value, field: str) -> str:
        if field in LABEL_NAMES:
            return _label(value, field)
        if field == "channel":
            return CHANNEL_NAMES.get(value, value)
        if field == "subject":
            if self._subject_names is None:
                try:
                    self._subject_names = {s.id: s.name for s in self.subjects()}
                except Exception:
                    self._subject_names = {}
            return self._subject_names.get(value, value)
        return value

    def _dt(self, value, fmt: str = "%m-%d %H:%M") -> str:
        if value in (None, ""):
            return "—"
        if isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(value, self.tz)
        else:
            try:
                moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                return str(value)
            moment = moment.astimezone(self.tz) if moment.tzinfo else moment
        return moment.strftime(fmt)

    def render(self, request: Request, ident: Identity, template: str, status: int = 200, **context) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = self.env.get_template(template).render(
            u=lambda path, **query: root + quote(path, safe="/:@-._~") + (("?" + urlencode(query)) if query else ""),
            static=lambda name: f"{root}/static/{name}?v={self._static_version}",
            ident=ident, csrf=ident.csrf, open_mode=self.auth.open_mode, path=request.url.path[len(root):] or "/",
            hx=request.headers.get("hx-request") == "true", **context)
        return HTMLResponse(page, status_code=status)


# ---- formatting filters -----------------------------------------------------------------------------

def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def _num(value) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.3f}"


def _label(value, task: str) -> str:
    return LABEL_NAMES.get(task, {}).get(value, value or "—")


# ---- the app ------------------------------------------------------------------------------------------

def create_console(runtime_factory: Callable[[], Any], monitoring_dir: str | Path, **options) -> Starlette:
    """The console as an ASGI app. `runtime_factory()` gives a `serving.runtime.Runtime` (search
    backend, model, recommendations); `monitoring_dir` holds monitoring.db. Options: `data_dir`
    (feedback, session secret, deliveries; default YUQING_DATA_DIR), `subjects_path`, `cases_dir`
    (where cases from incidents are written), `analyst_keys` / `readonly_keys` (default: the
    environment), `secret`, `timezone`, `deliveries` (an object with `.deliveries(limit=)`, None,
    or "auto": <data_dir>/delivery/delivery.db), `registry_client` (an MlflowClient factory),
    `publish` (the delivery hook for resolve), `monitor_factory`, `clock`."""
    console = Console(runtime_factory, monitoring_dir, **options)
    handlers = Handlers(console)

    routes = [
        Route("/", handlers.wrap(handlers.overview), name="overview"),
        Route("/login", handlers.wrap(handlers.login_page, public=True), methods=["GET"]),
        Route("/login", handlers.wrap(handlers.login, public=True, post=True), methods=["POST"]),
        Route("/logout", handlers.wrap(handlers.logout, public=True, post=True), methods=["POST"]),
        Route("/mentions", handlers.wrap(handlers.mentions)),
        Route("/mentions/{mention_id}", handlers.wrap(handlers.mention)),
        Route("/mentions/{mention_id}/labels", handlers.wrap(handlers.correct, post=True, analyst=True), methods=["POST"]),
        Route("/feedback", handlers.wrap(handlers.feedback_page)),
        Route("/feedback/export.jsonl", handlers.wrap(handlers.feedback_export)),
        Route("/incidents", handlers.wrap(handlers.incident_list)),
        Route("/incidents/{incident_id}", handlers.wrap(handlers.incident)),
        Route("/incidents/{incident_id}/steps/{step_no:int}/done",
              handlers.wrap(handlers.step_done, post=True, analyst=True), methods=["POST"]),
        Route("/incidents/{incident_id}/resolve", handlers.wrap(handlers.resolve, post=True, analyst=True), methods=["POST"]),
        Route("/incidents/{incident_id}/report", handlers.wrap(handlers.report)),
        Route("/incidents/{incident_id}/case", handlers.wrap(handlers.add_case, post=True, analyst=True), methods=["POST"]),
        Route("/cases", handlers.wrap(handlers.cases)),
        Route("/cases/{case_id}", handlers.wrap(handlers.case)),
        Route("/recommend", handlers.wrap(handlers.recommend_page), methods=["GET"]),
        Route("/recommend", handlers.wrap(handlers.recommend, post=True), methods=["POST"]),
        Route("/models", handlers.wrap(handlers.models)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        console.load_models()  # warm the registry read (BentoML enters a mounted app's lifespan)
        yield

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    app.state.console = console
    return app


class SecurityHeaders:
    """Adds a strict CSP and the usual headers to every answer that did not set its own."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in ((b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                                    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin")):
                    if name not in present:
                        headers.append((name, value))
                if b"cache-control" not in present and "/static/" not in scope.get("path", ""):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Handlers:
    def __init__(self, console: Console):
        self.c = console

    # ---- the wrapper: identity, CSRF, roles, errors, the session cookie ----------------------------
    def wrap(self, handler, public: bool = False, post: bool = False, analyst: bool = False):
        c = self.c

        async def endpoint(request: Request) -> Response:
            root = request.scope.get("root_path", "")
            ident, session = c.auth.identify(request.headers, request.cookies, request.client.host if request.client else None)
            new_session = None
            if not ident.csrf and ident.via != "bearer":
                new_session = c.auth.new_session(ANALYST if ident.via == "open" else None,
                                                 key_fp="open" if ident.via == "open" else "")
                if ident.via == "open":
                    new_session["w"] = "本机分析员"
                ident.csrf = new_session["c"]
            try:
                form: dict = {}
                if post:
                    form = await _read_body(request)
                    self._check_post(request, ident, session, form, public)
                if not public and ident.role is None:
                    raise Refusal(401, "请先登录")
                if analyst and not ident.analyst:
                    raise Refusal(403, "只读账号不能执行此操作（需要分析员权限）")
                response = await run_in_threadpool(handler, request, ident, form)
            except Refusal as refusal:
                response = self._refusal(request, ident, refusal, root)
            if new_session is not None and "set-cookie" not in response.headers:
                self.set_cookie(request, response, new_session)
            return response

        return endpoint

    def _check_post(self, request: Request, ident: Identity, session: dict | None, form: dict, public: bool) -> None:
        if ident.via == "bearer":
            return  # a bearer key is never sent by a browser on its own: no CSRF possible
        if ident.via == "bad-bearer":
            raise Refusal(401, "API 密钥无效")
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = urlsplit(origin).netloc
            if host != request.headers.get("host"):
                raise Refusal(403, "拒绝跨站请求（Origin 不符）")
        elif origin == "null":
            raise Refusal(403, "拒绝跨站请求（Origin 为 null）")
        token = request.headers.get("x-csrf-token") or str(form.get("csrf", ""))
        expected = (session or {}).get("c", "")
        import hmac

        if not expected or not token or not hmac.compare_digest(token, expected):
            raise Refusal(403, "表单已过期或缺少 CSRF 令牌，请刷新页面后重试")

    def _refusal(self, request: Request, ident: Identity, refusal: Refusal, root: str) -> Response:
        hx = request.headers.get("hx-request") == "true"
        if refusal.status == 401 and request.method == "GET" and ident.via not in ("bearer", "bad-bearer"):
            target = (request.url.path[len(root):] or "/") + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{root}/login?{urlencode({'next': target})}", status_code=303)
        if "text/html" not in request.headers.get("accept", "text/html") and not hx:
            return PlainTextResponse(refusal.message, status_code=refusal.status)
        return self.c.render(request, ident, "error.html.j2", status=refusal.status, message=refusal.message,
                             status_code=refusal.status)

    def set_cookie(self, request: Request, response: Response, payload: dict) -> None:
        root = request.scope.get("root_path", "")
        response.set_cookie(self.c.auth.cookie_name, self.c.auth.sign(payload), max_age=12 * 3600, path=f"{root}/",
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")

    def _redirect(self, request: Request, target: str) -> Response:
        root = request.scope.get("root_path", "")
        url = root + target
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    # ---- login -------------------------------------------------------------------------------------
    def login_page(self, request: Request, ident: Identity, form: dict) -> Response:
        return self.c.render(request, ident, "login.html.j2", next=_safe_next(request.query_params.get("next")), error=None)

    def login(self, request: Request, ident: Identity, form: dict) -> Response:
        key = str(form.get("key", "")).strip()
        name = str(form.get("name", "")).strip()[:40]
        target = _safe_next(str(form.get("next", "")))
        role = self.c.auth.role_of(key) if key else None
        if role is None:
            return self.c.render(request, ident, "login.html.j2", status=401, next=target, error="API 密钥无效")
        from serving.console.auth import fingerprint

        fp = fingerprint(key)
        session = self.c.auth.new_session(role, who=name or f"key-{fp[:8]}", key_fp=fp)
        response = self._redirect(request, target)
        self.set_cookie(request, response, session)
        return response

    def logout(self, request: Request, ident: Identity, form: dict) -> Response:
        response = self._redirect(request, "/login")
        self.set_cookie(request, response, self.c.auth.new_session(None))
        return response

    # ---- overview ----------------------------------------------------------------------------------
    def overview(self, request: Request, ident: Identity, form: dict) -> Response:
        store = self.c.store()
        if store is None:
            return self.c.render(request, ident, "overview.html.j2", data=None, charts={})
        try:
            data = views.overview(store, self.c.subjects(), self.c.tz, request.query_params.get("interval"))
        finally:
            store.close()
        svg = {s["id"]: charts.volume_chart(s["buckets"], f"{s['name']}：声量与情感（每 {data['interval']}）")
               for s in data["subjects"]}
        return self.c.render(request, ident, "overview.html.j2", data=data, charts=svg)

    # ---- mentions ----------------------------------------------------------------------------------
    def _mention_query(self, params) -> tuple[Any, dict]:
        from search.query import Filters, SearchQuery

        chosen = {k: (params.get(k) or "").strip() for k in
                  ("q", "since", "until", "channel", "sentiment", "topic", "crisis_type", "subject", "min_reposts", "sort", "page")}
        equals = {k: chosen[k] for k in FACETS if chosen[k]}
        at_least = {}
        if chosen["min_reposts"]:
            try:
                at_least["reposts"] = float(int(chosen["min_reposts"]))
            except ValueError:
                raise Refusal(400, "最少转发数必须是整数") from None
        try:
            since = datetime.combine(date.fromisoformat(chosen["since"]), dtime(0)) if chosen["since"] else None
            until = datetime.combine(date.fromisoformat(chosen["until"]), dtime(23, 59, 59)) if chosen["until"] else None
        except ValueError:
            raise Refusal(400, "日期格式应为 YYYY-MM-DD") from None
        if len(chosen["q"]) > 500:
            raise Refusal(400, "关键词最多 500 个字符")
        page = int(chosen["page"]) if chosen["page"].isdigit() and int(chosen["page"]) > 0 else 1
        sort = {"new": ("published_at", True), "reposts": ("reposts", True)}.get(chosen["sort"], (None, True))
        try:
            filters = Filters(since=since, until=until, equals=equals, at_least=at_least)
            query = SearchQuery(text=chosen["q"], filters=filters, page=min(page, 500), size=PAGE_SIZE, sort_by=sort[0],
                                descending=sort[1])
        except ValueError as error:
            raise Refusal(400, f"查询条件无效：{str(error).splitlines()[0][:200]}") from None
        return query, chosen

    def _facets(self, backend, query) -> tuple[dict, bool]:
        """Facet counts over what the query matches: exact for up to 1,000 matches of a text
        query, otherwise over the filters alone (then said on the page)."""
        from search.query import SearchQuery

        if not query.text:
            raw = backend.aggregate("mentions", {f: {"terms": {"field": f, "size": 30}} for f in FACETS}, query.filters)
            return {f: [(b["key"], b["doc_count"]) for b in raw[f]["buckets"]] for f in FACETS}, True
        first = backend.search("mentions", SearchQuery(text=query.text, filters=query.filters, size=100, highlight=False))
        if first.total > 1000:
            raw = backend.aggregate("mentions", {f: {"terms": {"field": f, "size": 30}} for f in FACETS}, query.filters)
            return {f: [(b["key"], b["doc_count"]) for b in raw[f]["buckets"]] for f in FACETS}, False
        hits = list(first.hits)
        for page in range(2, (first.total + 99) // 100 + 1):
            hits += backend.search("mentions", SearchQuery(text=query.text, filters=query.filters, size=100, page=page,
                                                           highlight=False)).hits
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        for hit in hits:
            for f in FACETS:
                value = hit.source.get(f)
                if value:
                    counts[f][value] = counts[f].get(value, 0) + 1
        return {f: sorted(v.items(), key=lambda kv: (-kv[1], kv[0])) for f, v in counts.items()}, True

    def mentions(self, request: Request, ident: Identity, form: dict) -> Response:
        from search.query import QueryError

        query, chosen = self._mention_query(request.query_params)
        backend = self.c.runtime().backend
        try:
            page = backend.search("mentions", query)
            facets, exact = self._facets(backend, query)
        except (QueryError, ValueError) as error:
            raise Refusal(400, f"查询无法执行：{str(error)[:200]}") from None
        corrections = self.c.feedback.latest([h.id for h in page.hits])
        hits = [_hit_view(h.model_dump(), corrections.get(h.id, {})) for h in page.hits]
        pages = max(1, (page.total + PAGE_SIZE - 1) // PAGE_SIZE)
        base = {k: v for k, v in chosen.items() if v and k != "page"}
        template = "_mention_results.html.j2" if request.headers.get("hx-request") == "true" and \
            request.headers.get("hx-target") == "results" else "mentions.html.j2"
        return self.c.render(request, ident, template, chosen=chosen, hits=hits, total=page.total, facets=facets,
                             facets_exact=exact, page=query.page, pages=pages, base=base)

    def _mention_or_404(self, mention_id: str) -> dict:
        document = self.c.runtime().backend.get("mentions", mention_id)
        if document is None:
            raise Refusal(404, f"没有这条信息：{mention_id}")
        return document

    def mention(self, request: Request, ident: Identity, form: dict) -> Response:
        mention_id = request.path_params["mention_id"]
        document = self._mention_or_404(mention_id)
        corrections = self.c.feedback.latest([mention_id]).get(mention_id, {})
        hit = _hit_view({"id": mention_id, "score": 0.0, "source": document, "highlight": None, "why": ""}, corrections)
        return self.c.render(request, ident, "mention.html.j2", hit=hit)

    def correct(self, request: Request, ident: Identity, form: dict) -> Response:
        mention_id = request.path_params["mention_id"]
        document = self._mention_or_404(mention_id)
        task, new = str(form.get("task", "")), str(form.get("label", ""))
        current = self.c.feedback.latest([mention_id]).get(mention_id, {})
        old = current[task]["new"] if task in current else document.get(task)
        try:
            self.c.feedback.correct(mention_id, task, old, new, ident.who, document.get("text", ""))
        except FeedbackError as error:
            raise Refusal(400, str(error)) from None
        if request.headers.get("hx-request") == "true":
            corrections = self.c.feedback.latest([mention_id]).get(mention_id, {})
            hit = _hit_view({"id": mention_id, "score": 0.0, "source": document, "highlight": None, "why": ""}, corrections)
            message = f"已更正{TASK_NAMES.get(task, task)}：{_label(old, task)} → {_label(new, task)}"
            return self.c.render(request, ident, "_labels.html.j2", hit=hit, message=message)
        return self._redirect(request, _safe_next(str(form.get("next", "")), f"/mentions/{quote(mention_id)}"))

    def feedback_page(self, request: Request, ident: Identity, form: dict) -> Response:
        return self.c.render(request, ident, "feedback.html.j2", rows=self.c.feedback.recent(), total=self.c.feedback.count())

    def feedback_export(self, request: Request, ident: Identity, form: dict) -> Response:
        rows = self.c.feedback.training_rows()
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return Response(body, media_type="application/x-ndjson; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="feedback.jsonl"'})

    # ---- incidents ---------------------------------------------------------------------------------
    def _store_or_404(self):
        store = self.c.store()
        if store is None:
            raise Refusal(404, "尚无监测数据（monitoring.db 不存在）")
        return store

    def incident_list(self, request: Request, ident: Identity, form: dict) -> Response:
        store = self.c.store()
        rows = []
        if store is not None:
            try:
                rows = views.incidents(store, self.c.subjects())
            finally:
                store.close()
        return self.c.render(request, ident, "incidents.html.j2", rows=rows, states=views.STATE_NAMES)

    def _incident(self, incident_id: str) -> dict:
        from monitoring.incidents import IncidentError

        store = self._store_or_404()
        try:
            return views.incident_page(store, self.c.subjects(), incident_id, self.c.tz, self.c.clock())
        except IncidentError:
            raise Refusal(404, f"没有这个事件：{incident_id}") from None
        finally:
            store.close()

    def incident(self, request: Request, ident: Identity, form: dict) -> Response:
        incident_id = request.path_params["incident_id"]
        incident = self._incident(incident_id)
        similar, similar_error = [], None
        try:
            similar = views.similar_cases(self.c.runtime(), incident["description"] or incident["subject_name"],
                                          incident["crisis_type"])
        except Exception as error:  # the page stays useful without the model or the index
            similar_error = f"{type(error).__name__}: {str(error)[:160]}"
        deliveries, deliveries_error = None, None
        try:
            deliveries = views.incident_deliveries(self.c.delivery_source(), incident_id)
        except Exception as error:
            deliveries_error = f"{type(error).__name__}: {str(error)[:160]}"
        chart = charts.volume_chart(incident["chart"], "事件声量（每小时）与步骤完成时间", incident["markers"])
        return self.c.render(request, ident, "incident.html.j2", inc=incident, similar=similar, similar_error=similar_error,
                             deliveries=deliveries, deliveries_error=deliveries_error, chart=chart,
                             effect_chart=charts.effect_chart(incident["effects"]), cases_dir=self.c.cases_dir)

    def step_done(self, request: Request, ident: Identity, form: dict) -> Response:
        from monitoring.incidents import IncidentError

        incident_id, step_no = request.path_params["incident_id"], request.path_params["step_no"]
        incident = self._incident(incident_id)
        step = next((s for s in incident["steps"] if s["no"] == step_no), None)
        if step is None:
            raise Refusal(404, f"事件 {incident_id} 没有步骤 {step_no}")
        if step["done_ts"] is not None:
            raise Refusal(409, f"步骤 {step_no} 已由 {step['done_by']} 标记完成")
        with self.c._monitor_lock:
            try:
                self.c.monitor().mark_step_done(incident_id, step_no, by=ident.who, at=datetime.fromtimestamp(self.c.clock(), self.c.tz))
            except IncidentError as error:
                raise Refusal(404, str(error)) from None
        if request.headers.get("hx-request") == "true":
            incident = self._incident(incident_id)
            return self.c.render(request, ident, "_steps.html.j2", inc=incident, message=f"已标记步骤 {step_no} 完成")
        return self._redirect(request, f"/incidents/{quote(incident_id)}#steps")

    def resolve(self, request: Request, ident: Identity, form: dict) -> Response:
        incident_id = request.path_params["incident_id"]
        incident = self._incident(incident_id)
        if incident["state"] == "resolved":
            raise Refusal(409, "事件已处置完毕")
        with self.c._monitor_lock:
            self.c.monitor().resolve(incident_id, by=ident.who, at=datetime.fromtimestamp(self.c.clock(), self.c.tz))
        return self._redirect(request, f"/incidents/{quote(incident_id)}")

    def report(self, request: Request, ident: Identity, form: dict) -> Response:
        from monitoring import reports
        from monitoring.incidents import IncidentError

        incident_id = request.path_params["incident_id"]
        store = self._store_or_404()
        try:
            html = reports.render(reports.incident_report(store, self.c.subjects(), incident_id, self.c.tz), "html")
        except IncidentError:
            raise Refusal(404, f"没有这个事件：{incident_id}") from None
        finally:
            store.close()
        return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})

    def add_case(self, request: Request, ident: Identity, form: dict) -> Response:
        from monitoring import reports
        from monitoring.incidents import IncidentError

        if self.c.cases_dir is None:
            raise Refusal(400, "未配置案例库目录（cases_dir），无法添加案例")
        incident_id = request.path_params["incident_id"]
        store = self._store_or_404()
        try:
            case = reports.case_from_incident(store, self.c.subjects(), incident_id, self.c.tz)
        except IncidentError as error:
            raise Refusal(409, f"不能生成案例：{error}") from None
        finally:
            store.close()
        reports.write_case(case, self.c.cases_dir)
        try:
            self.c.runtime().index_cases([case])
        except Exception as error:  # written to the library; the index catches up at the next sync
            raise Refusal(500, f"案例已写入 {self.c.cases_dir}，但未能加入检索索引：{str(error)[:160]}") from None
        return self._redirect(request, f"/cases/{quote(case.id)}")

    # ---- cases ------------------------------------------------------------------------------------
    def cases(self, request: Request, ident: Identity, form: dict) -> Response:
        from search.query import Filters, SearchQuery

        params = request.query_params
        chosen = {k: (params.get(k) or "").strip() for k in ("q", "crisis_type", "severity", "industry", "page")}
        equals = {k: chosen[k] for k in ("crisis_type", "severity", "industry") if chosen[k]}
        if len(chosen["q"]) > 500:
            raise Refusal(400, "关键词最多 500 个字符")
        page = int(chosen["page"]) if chosen["page"].isdigit() and int(chosen["page"]) > 0 else 1
        backend = self.c.runtime().backend
        try:
            result = backend.search("cases", SearchQuery(text=chosen["q"], filters=Filters(equals=equals), size=PAGE_SIZE,
                                                         page=min(page, 500),
                                                         sort_by=None if chosen["q"] else "started_at"))
            industries = backend.aggregate("cases", {"industry": {"terms": {"field": "industry", "size": 50}}})
        except ValueError as error:
            raise Refusal(400, f"查询无法执行：{str(error)[:200]}") from None
        resolved = []
        store = self.c.store()
        if store is not None and ident.analyst and self.c.cases_dir is not None:
            try:
                resolved = [dict(r) for r in store.query("SELECT id, subject, crisis_type, severity FROM incidents "
                                                         "WHERE state='resolved' AND crisis_type!='none' ORDER BY resolved_ts DESC")]
            finally:
                store.close()
        elif store is not None:
            store.close()
        return self.c.render(request, ident, "cases.html.j2", chosen=chosen, hits=[h.model_dump() for h in result.hits],
                             total=result.total, page=page, pages=max(1, (result.total + PAGE_SIZE - 1) // PAGE_SIZE),
                             industries=[b["key"] for b in industries["industry"]["buckets"]], resolved=resolved,
                             base={k: v for k, v in chosen.items() if v and k != "page"})

    def case(self, request: Request, ident: Identity, form: dict) -> Response:
        case_id = request.path_params["case_id"]
        document = self.c.runtime().backend.get("cases", case_id)
        if document is None:
            raise Refusal(404, f"案例库中没有 {case_id}")
        return self.c.render(request, ident, "case.html.j2", case=document)

    # ---- the new-incident box -----------------------------------------------------------------------
    def recommend_page(self, request: Request, ident: Identity, form: dict) -> Response:
        return self.c.render(request, ident, "recommend.html.j2", text="", organisation="", plan=None, error=None)

    def recommend(self, request: Request, ident: Identity, form: dict) -> Response:
        from pydantic import ValidationError

        from playbooks.recommend import Incident

        text, organisation = str(form.get("text", "")).strip(), str(form.get("organisation", "")).strip()
        hx = request.headers.get("hx-request") == "true"
        template = "_plan.html.j2" if hx else "recommend.html.j2"
        try:
            incident = Incident(text=text, organisation=organisation or None)
        except ValidationError as error:
            first = error.errors()[0]
            problem = "描述至少 4 个字" if first.get("type") == "string_too_short" else \
                "描述最多 5000 字" if first.get("type") == "string_too_long" else first.get("msg", "输入无效")
            return self.c.render(request, ident, template, status=400, text=text, organisation=organisation, plan=None,
                                 error=problem)
        plan = self.c.runtime().recommend(incident).model_dump(mode="json")
        return self.c.render(request, ident, template, text=text, organisation=organisation, plan=plan, error=None)

    # ---- models ------------------------------------------------------------------------------------
    def models(self, request: Request, ident: Identity, form: dict) -> Response:
        """Never blocks the page on MLflow (its first import takes seconds): the registry is read
        in a background thread and cached 30 s; until it is read, the page asks again by htmx."""
        if request.query_params.get("refresh"):
            self.c.load_models(force=True)
        data = self.c.models_data(wait=20.0 if request.query_params.get("wait") else 0.0)
        if request.query_params.get("wait") and request.headers.get("hx-request") == "true":
            return self.c.render(request, ident, "_models.html.j2", m=data)
        return self.c.render(request, ident, "models.html.j2", m=data)


# ---- module helpers ---------------------------------------------------------------------------------

async def _read_body(request: Request) -> dict:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        raw = await request.body()
        if len(raw) > 256 * 1024:
            raise Refusal(413, "请求过大")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise Refusal(400, "请求体不是有效的 JSON") from None
        return body if isinstance(body, dict) else {}
    if media in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form(max_files=0, max_fields=50)
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if media == "":
        return {}
    raise Refusal(415, f"不支持的内容类型 {media}")


def _safe_next(value: str | None, default: str = "/") -> str:
    """A path inside the console (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "://" in value:
        return default
    return value


def _hit_view(hit: dict, corrections: dict) -> dict:
    source = hit["source"]
    labels = []
    scores = source.get("scores") or {}
    for task in TASKS:
        predicted = source.get(task)
        corrected = corrections.get(task)
        ranked = sorted((scores.get(task) or {}).items(), key=lambda kv: kv[1], reverse=True)
        labels.append({"task": task, "predicted": predicted, "score": (scores.get(task) or {}).get(predicted),
                       "current": corrected["new"] if corrected else predicted, "correction": corrected,
                       "top": ranked[:3]})
    return {"id": hit["id"], "score": hit.get("score"), "why": hit.get("why", ""), "highlight": hit.get("highlight"),
            "source": source, "labels": labels}

