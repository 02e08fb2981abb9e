"""One small HTTP client for all channels (stdlib; honours the usual *_PROXY variables)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any


class DeliveryError(Exception):
    """An attempt failed; the queue retries it with backoff until it goes to the dead-letter list."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a bodiless GET that "succeeds": treat it as a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> bytes:
    """POST and return the response body; any non-2xx status or network error is a DeliveryError."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode(errors="replace")
        raise DeliveryError(f"HTTP {error.code} from {_host(url)}: {detail}", error.code) from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"cannot reach {_host(url)}: {getattr(error, 'reason', error)}") from None


def post_json(url: str, payload: Mapping[str, Any], timeout: float) -> dict:
    body = json.dumps(payload, ensure_ascii=False).encode()
    reply = post(url, body, {"Content-Type": "application/json; charset=utf-8"}, timeout)
    try:
        return json.loads(reply or b"{}")
    except ValueError:
        raise DeliveryError(f"{_host(url)} answered with non-JSON: {reply[:200]!r}") from None


def check_vendor_code(reply: Mapping[str, Any], *keys: str) -> None:
    """Chat bots answer HTTP 200 even on failure; the error is a non-zero code in the body."""
    for key in keys:
        if key in reply and reply[key] not in (0, "0"):
            message = reply.get("errmsg") or reply.get("msg") or reply.get("StatusMessage") or ""
            raise DeliveryError(f"bot rejected the message: {key}={reply[key]} {message}".strip())


def _host(url: str) -> str:
    """Only scheme and host in error messages: bot URLs carry their access key."""
    parsed = urllib.parse.urlsplit(url)
    return f"{parsed.scheme}://{parsed.netloc}"
