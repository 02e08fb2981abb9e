"""Starting the HTTP service: `serve()` runs `bentoml serve` as a subprocess bound to 127.0.0.1
unless told otherwise, prints where everything is, and stops cleanly on Ctrl-C.

    from serving.server import serve
    serve()                                  # http://127.0.0.1:3000
    serve(host="0.0.0.0", port=8080)         # reachable from other machines: put TLS and keys in front

The `yuqing serve` command calls this function."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from yuqing.config import PROJECT_ROOT, configure_environment

DEFAULT_TARGET = "serving.service:Yuqing"


def command(target: str = DEFAULT_TARGET, host: str = "127.0.0.1", port: int = 3000,
            extra: Sequence[str] = ()) -> list[str]:
    """The `bentoml serve` command line, run with this interpreter (bentoml need not be on PATH)."""
    return [sys.executable, "-m", "bentoml", "serve", target, "--host", host, "--port", str(port), *extra]


def urls(host: str, port: int) -> dict[str, str]:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    base = f"http://{shown}:{port}"
    return {"service": base, "docs": f"{base}/", "openapi": f"{base}/docs.json", "metrics": f"{base}/metrics",
            "console": f"{base}/console", "ready": f"{base}/readyz"}


def serve(host: str = "127.0.0.1", port: int = 3000, target: str = DEFAULT_TARGET, reload_interval_s: float | None = None,
          env: dict[str, str] | None = None, extra: Sequence[str] = (), echo: Callable[[str], None] = print,
          cwd: str | Path | None = None) -> int:
    """Run the BentoML service in a subprocess until it exits or Ctrl-C; returns its exit code.

    host: bind address, 127.0.0.1 by default (anything else is reachable from the network: set
    YUQING_API_KEYS, YUQING_ALLOWED_HOSTS and put a TLS proxy in front). target: a service
    (`serving.service:Yuqing`) or a built bento (`yuqing:latest`). reload_interval_s sets
    YUQING_RELOAD_INTERVAL_S for the child. extra: more `bentoml serve` options."""
    settings = configure_environment()
    child_env = {**os.environ, **(env or {})}
    if reload_interval_s is not None:
        child_env["YUQING_RELOAD_INTERVAL_S"] = str(reload_interval_s)
    if host not in ("127.0.0.1", "localhost", "::1"):
        allowed = child_env.get("YUQING_ALLOWED_HOSTS", "")
        echo(f"warning: binding {host}: the service is reachable from other machines; "
             f"Host names accepted: 127.0.0.1, localhost, ::1{', ' + allowed if allowed else ''} (YUQING_ALLOWED_HOSTS)")
    if not settings.keys() and not child_env.get("YUQING_API_KEYS") and not child_env.get("YUQING_API_KEYS_FILE"):
        echo("note: no API key configured (YUQING_API_KEYS): /ingest and /admin are refused until one is")
    shown = urls(host, port)
    echo(f"yuqing service {target} on {shown['service']}")
    echo(f"  API docs (OpenAPI UI)  {shown['docs']}   spec {shown['openapi']}")
    echo(f"  metrics (Prometheus)   {shown['metrics']}")
    echo(f"  console                {shown['console']}/")
    echo("  Ctrl-C to stop")
    process = subprocess.Popen(command(target, host, port, extra), env=child_env, cwd=str(cwd or PROJECT_ROOT))
    try:
        return process.wait()
    except KeyboardInterrupt:
        echo("stopping …")
        return stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> int:
    """Ask the server to shut down (SIGINT, as Ctrl-C would; BentoML stops its workers), then
    SIGTERM, then SIGKILL if it does not stop in time."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 10)):
        if process.poll() is not None:
            break
        try:
            process.send_signal(sig)
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop harder
            continue
    if process.poll() is None:
        process.kill()
    return process.wait()
