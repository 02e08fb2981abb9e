"""Who is asking, and may they: API keys (the service's), roles, a signed session cookie, CSRF.

* **Keys**: `YUQING_API_KEYS` (comma-separated; and `YUQING_API_KEYS_FILE`, as the service reads
  them) give the *analyst* role; `YUQING_READONLY_KEYS` gives *readonly*. A key is presented as
  `Authorization: Bearer <key>` (scripts; no CSRF token needed, a browser never sends it by
  itself) or once on the login form, which sets the session cookie.
* **Session cookie**: `<payload>.<HMAC-SHA256>` with the server secret; HttpOnly, SameSite=Strict,
  Path=<mount>/, Secure on https; 12 hours. It holds the role, a display name, the CSRF token and a
  fingerprint of the key (never the key): removing a key from the configuration ends its sessions.
* **Open mode**: with no key configured at all, requests from the loopback address are analysts
  (the page says so); anything else is refused.
* **CSRF**: every POST authenticated by the cookie must carry the session's token (form field
  `csrf` or header `X-CSRF-Token`), and a cross-origin `Origin` is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

ANALYST, READONLY = "analyst", "readonly"
ROLE_NAMES = {ANALYST: "分析员", READONLY: "只读"}
SESSION_SECONDS = 12 * 3600
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def keys_from_env(env=None) -> tuple[list[str], list[str]]:
    """(analyst keys, read-only keys) as the service reads them."""
    env = os.environ if env is None else env
    analyst = _split(env.get("YUQING_API_KEYS"))
    key_file = env.get("YUQING_API_KEYS_FILE")
    if key_file and Path(key_file).exists():
        analyst += [line.split("#", 1)[0].strip() for line in Path(key_file).read_text(encoding="utf-8").splitlines()]
    return [k for k in analyst if k], _split(env.get("YUQING_READONLY_KEYS"))


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def load_secret(explicit: str | bytes | None, folder: Path | None) -> bytes:
    """The signing secret: given, or YUQING_CONSOLE_SECRET, or one kept in <folder>/secret (0600)
    so that sessions survive a restart, or a fresh random one."""
    if explicit:
        return explicit.encode("utf-8") if isinstance(explicit, str) else explicit
    if os.environ.get("YUQING_CONSOLE_SECRET"):
        return os.environ["YUQING_CONSOLE_SECRET"].encode("utf-8")
    if folder is not None:
        path = folder / "secret"
        try:
            if path.exists():
                return bytes.fromhex(path.read_text(encoding="ascii").strip())
            folder.mkdir(parents=True, exist_ok=True)
            value = secrets.token_bytes(32)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(value.hex())
            return value
        except (OSError, ValueError):
            pass
    return secrets.token_bytes(32)


@dataclass
class Identity:
    role: str | None          # analyst | readonly | None (not logged in)
    who: str = ""             # what feedback and step records name
    via: str = "none"         # cookie | bearer | open | none
    csrf: str = ""
    key_fp: str = ""

    @property
    def analyst(self) -> bool:
        return self.role == ANALYST

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role or "", "未登录")


class Auth:
    def __init__(self, analyst_keys: list[str], readonly_keys: list[str], secret: bytes, cookie_name: str = "yuqing_console"):
        self.roles: dict[str, str] = {}
        for key in readonly_keys:
            self.roles[key] = READONLY
        for key in analyst_keys:  # a key listed twice is an analyst key
            self.roles[key] = ANALYST
        self.fingerprints = {fingerprint(k): role for k, role in self.roles.items()}
        self.secret = secret
        self.cookie_name = cookie_name

    @property
    def open_mode(self) -> bool:
        return not self.roles

    def role_of(self, presented: str) -> str | None:
        """The role of a presented key; every key is compared, in constant time."""
        found = None
        candidate = presented.encode("utf-8")
        for key, role in self.roles.items():
            if hmac.compare_digest(candidate, key.encode("utf-8")):
                found = role
        return found

    # ---- the cookie -------------------------------------------------------------------------------
    def sign(self, payload: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8")).decode("ascii").rstrip("=")
        mac = hmac.new(self.secret, body.encode("ascii"), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def unsign(self, value: str | None) -> dict | None:
        if not value or "." not in value:
            return None
        body, mac = value.rsplit(".", 1)
        expected = hmac.new(self.secret, body.encode("ascii", "replace"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        if not isinstance(payload, dict) or time.time() - float(payload.get("t", 0)) > SESSION_SECONDS:
            return None
        return payload

    def new_session(self, role: str | None, who: str = "", key_fp: str = "") -> dict:
        return {"r": role, "w": who, "k": key_fp, "c": secrets.token_urlsafe(24), "t": int(time.time())}

    def identify(self, headers, cookies, client_host: str | None) -> tuple[Identity, dict | None]:
        """The identity of a request, and the session payload it carried (None: none valid)."""
        authorization = headers.get("authorization", "")
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() == "bearer" and presented.strip():
            role = self.role_of(presented.strip())
            if role:
                fp = fingerprint(presented.strip())
                return Identity(role, who=f"key-{fp[:8]}", via="bearer", key_fp=fp), None
            return Identity(None, via="bad-bearer"), None
        session = self.unsign(cookies.get(self.cookie_name))
        if session is not None and session.get("r"):
            if self.open_mode:
                if session.get("k") == "open" and client_host in LOOPBACK:
                    return Identity(ANALYST, who=session.get("w") or "本机分析员", via="cookie", csrf=session["c"],
                                    key_fp="open"), session
            elif self.fingerprints.get(session.get("k", "")) == session["r"]:
                return Identity(session["r"], who=session.get("w") or f"key-{session['k'][:8]}", via="cookie",
                                csrf=session["c"], key_fp=session["k"]), session
            session = None  # its key was removed or changed role: log in again
        if self.open_mode and client_host in LOOPBACK:
            return Identity(ANALYST, who="本机分析员", via="open", csrf=(session or {}).get("c", "")), session
        return Identity(None, via="none", csrf=(session or {}).get("c", "")), session
