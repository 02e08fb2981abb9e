"""The service's front door, one ASGI middleware (`Guard`) in front of every route:

* **Host header** checked against an allow-list (127.0.0.1, localhost, [::1] and
  YUQING_ALLOWED_HOSTS; '*' accepts any) — DNS-rebinding pages get 400;
* **Origin**: a browser request from another origin (not the service's own hosts nor
  YUQING_ALLOWED_ORIGINS) gets 403; no CORS headers are ever sent;
* **POST bodies must be `application/json`** (415 otherwise, so a cross-origin `text/plain`
  "simple request" is never executed) and at most YUQING_MAX_BODY_BYTES (413);
* **API keys**: writes (`/ingest`, `/analyze`, `/admin/…`, `/incident/step_done`, `/incident/resolve`,
  `/subjects/put`, `/subjects/delete`, `/webhooks`) always need `Authorization: Bearer <key>`; reads need one when YUQING_READ_REQUIRES_KEY is set. Keys come from YUQING_API_KEYS
  (comma-separated) and YUQING_API_KEYS_FILE, are compared with `hmac.compare_digest` and are
  never logged. With no key configured, writes are refused (403);
* **error bodies** follow the OpenAPI error schema (`error` and `detail` strings) and name the
  field: BentoML's validation answers are rewritten to `{"error": "texts.0: String should have at
  most 5000 characters", "detail": …, "field": "texts.0"}`; every 4xx/5xx is counted per endpoint.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger("yuqing.security")

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# Every route that changes something: mentions, the model, incidents, subjects, webhook subscriptions
# (/webhooks lists too: it is where secrets are handed out). Prefixes, so a sub-path is a write too.
WRITE_PREFIXES = ("/ingest", "/analyze", "/admin/", "/incident/", "/subjects/", "/webhooks")
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/", "/docs.json", "/schema.json", "/console"})
OPEN_PREFIXES = ("/static_content/", "/assets/", "/console/")  # the console checks keys, roles and CSRF itself


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def host_name(host: str) -> str:
    """'example.com:3000' -> 'example.com', '[::1]:3000' -> '::1' (lower case)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


class Policy:
    """What the guard enforces, read once from the settings."""

    def __init__(self, keys: Iterable[str] = (), read_requires_key: bool = False, allowed_hosts: Iterable[str] = (),
                 allowed_origins: Iterable[str] = (), max_body_bytes: int = 32 * 1024 * 1024):
        self.keys = [k.encode("utf-8") for k in keys if k]
        self.read_requires_key = read_requires_key
        hosts = [host_name(h) for h in allowed_hosts]
        self.any_host = "*" in hosts
        self.hosts = frozenset(LOOPBACK_HOSTS) | frozenset(h for h in hosts if h != "*")
        self.origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        self.max_body_bytes = max_body_bytes

    @classmethod
    def from_settings(cls, settings) -> Policy:
        return cls(keys=settings.keys(), read_requires_key=settings.read_requires_key,
                   allowed_hosts=_split(settings.allowed_hosts), allowed_origins=_split(settings.allowed_origins),
                   max_body_bytes=settings.max_body_bytes)

    def host_allowed(self, host: str | None) -> bool:
        return bool(host) and (self.any_host or host_name(host) in self.hosts)

    def origin_allowed(self, origin: str) -> bool:
        from urllib.parse import urlsplit

        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        try:
            hostname = urlsplit(origin).hostname
        except ValueError:
            return False
        return hostname is not None and (hostname in self.hosts)

    def key_valid(self, presented: str) -> bool:
        candidate = presented.encode("utf-8")
        ok = False
        for key in self.keys:  # every key is compared, so timing tells nothing about which matched
            ok |= hmac.compare_digest(candidate, key)
        return ok


def needs_key(policy: Policy, path: str) -> str | None:
    """'write' or 'read' when the path needs a key, else None."""
    path = "/" + path.lstrip("/")  # '//subjects/put' is the same route to some routers: the same rule
    if path.startswith(WRITE_PREFIXES):
        return "write"
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    return "read" if policy.read_requires_key else None


async def _send_json(send, status: int, body: dict, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": payload})


def _field(loc: Iterable[Any]) -> str:
    return ".".join(str(x) for x in loc)


def rewrite_validation_body(body: bytes) -> bytes | None:
    """BentoML's pydantic refusal (`detail` a list) as our error schema (`detail` a string), or None."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict) and "error" in data[0]:
        return json.dumps(data[0], ensure_ascii=False).encode("utf-8")  # BentoML wraps 4xx errors in a 1-tuple
    if not isinstance(data, dict) or not isinstance(data.get("detail"), list):
        return None
    problems = [d for d in data["detail"] if isinstance(d, dict)]
    described = []
    for problem in problems[:10]:
        message = str(problem.get("msg", "invalid"))
        limit = (problem.get("ctx") or {})
        described.append(f"{_field(problem.get('loc', ())) or 'body'}: {message}" + (f" ({limit})" if limit else ""))
    first = problems[0] if problems else {}
    out = {"error": described[0] if described else str(data.get("error", "invalid request")),
           "detail": "; ".join(described) + (f"; … {len(problems) - 10} more" if len(problems) > 10 else ""),
           "field": _field(first.get("loc", ())),
           "errors": [{"field": _field(p.get("loc", ())), "message": str(p.get("msg", "")), "type": p.get("type")}
                      for p in problems[:50]]}
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


class Guard:
    """ASGI middleware enforcing `Policy` on every HTTP request (see the module docstring)."""

    def __init__(self, app, policy: Policy | None = None, on_error=None):
        self.app = app
        if policy is None:
            from yuqing.config import get_settings

            policy = Policy.from_settings(get_settings())
        self.policy = policy
        self.on_error = on_error  # (endpoint, status) -> None, for the error counter

    def _count(self, path: str, status: int) -> None:
        if status >= 400 and self.on_error is not None:
            try:
                self.on_error(path, status)
            except Exception:  # metrics never fail a request
                logger.exception("error counter failed")

    async def _refuse(self, send, path: str, status: int, message: str, field: str | None = None,
                      headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self._count(path, status)
        body = {"error": message, "detail": message}
        if field:
            body["field"] = field
        await _send_json(send, status, body, headers)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = self.policy
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        if not policy.host_allowed(headers.get("host")):
            return await self._refuse(send, path, 400, "Host header not allowed (set YUQING_ALLOWED_HOSTS)", "Host")
        origin = headers.get("origin")
        if origin and not policy.origin_allowed(origin):
            return await self._refuse(send, path, 403, "cross-origin requests are not accepted (YUQING_ALLOWED_ORIGINS)",
                                      "Origin")
        if method == "OPTIONS":  # no CORS: preflights are answered without allow headers
            return await self._refuse(send, path, 405, "CORS is not enabled on this service")
        kind = needs_key(policy, path)
        if kind is not None:
            if kind == "write" and not policy.keys:
                return await self._refuse(send, path, 403, "writes are disabled: no API key is configured "
                                          "(set YUQING_API_KEYS or YUQING_API_KEYS_FILE)", "Authorization")
            authorization = headers.get("authorization", "")
            scheme, _, presented = authorization.partition(" ")
            if scheme.lower() != "bearer" or not presented.strip():
                return await self._refuse(send, path, 401, f"this {kind} needs an API key: Authorization: Bearer <key>",
                                          "Authorization", [(b"www-authenticate", b'Bearer realm="yuqing"')])
            if not policy.key_valid(presented.strip()):
                return await self._refuse(send, path, 401, "invalid API key", "Authorization",
                                          [(b"www-authenticate", b'Bearer realm="yuqing", error="invalid_token"')])
        if method == "POST":
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            # The console's forms post form data; it checks a CSRF token, the Origin and a SameSite cookie.
            if media != "application/json" and not path.startswith("/console/"):
                return await self._refuse(send, path, 415, f"Content-Type must be application/json (got {media or 'none'})",
                                          "Content-Type")
            length = headers.get("content-length")
            if length is not None:
                if not length.isdigit():
                    return await self._refuse(send, path, 400, "bad Content-Length", "Content-Length")
                if int(length) > policy.max_body_bytes:
                    return await self._refuse(send, path, 413, f"request body over {policy.max_body_bytes} bytes",
                                              "body")
            body, complete = await self._read_body(receive, policy.max_body_bytes)
            if not complete:
                return await self._refuse(send, path, 413, f"request body over {policy.max_body_bytes} bytes", "body")
            receive = self._replay(body, receive)

        state = {"status": 0, "rewrite": False, "start": None, "chunks": []}

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if 400 <= message["status"] < 500 and content_type.startswith(b"application/json"):
                    state["rewrite"], state["start"] = True, message
                    return
                self._count(path, message["status"])
                return await send(message)
            if message["type"] == "http.response.body" and state["rewrite"]:
                state["chunks"].append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(state["chunks"])
                body = rewrite_validation_body(body) or body
                start = state["start"]
                start_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                start_headers.append((b"content-length", str(len(body)).encode()))
                self._count(path, start["status"])
                await send({**start, "headers": start_headers})
                return await send({"type": "http.response.body", "body": body})
            return await send(message)

        await self.app(scope, receive, guarded_send)

    @staticmethod
    async def _read_body(receive, limit: int) -> tuple[bytes, bool]:
        """The whole request body, read before the app sees it; (partial, False) past `limit`."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", True  # disconnected: the app sees an empty body and the client is gone anyway
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks), True

    @staticmethod
    def _replay(body: bytes, receive):
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect, when it comes

        return replay
