"""Serving fixtures: a project with a tiny baseline champion (trained once per session), copies
of it for services that must not share an index, and `bentoml serve` subprocesses on free
127.0.0.1 ports, stopped (or SIGKILLed with all their workers) by the tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port, sample_rows, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-key-0123456789"
OTHER_KEY = "second-key-abcdef"


def project_env(folder: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "YUQING_DATA_DIR": str(folder / "data"), "BENTOML_HOME": str(folder / "bentoml"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'data' / 'mlflow.db'}", "YUQING_SEARCH": "embedded",
           "YUQING_API_KEYS": f"{KEY},{OTHER_KEY}", "BENTOML_DO_NOT_TRACK": "True"}
    for name in ("YUQING_MODEL_URI", "YUQING_BENTO_MODEL", "YUQING_READ_REQUIRES_KEY", "YUQING_ALLOWED_HOSTS",
                 "YUQING_HOST", "YUQING_PORT", "BENTOML_HOST", "BENTOML_PORT"):
        env.pop(name, None)
    env.update(extra)
    return env


def yuqing(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "serving.cli", *args], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=timeout)


def train_and_promote(env: dict, data: Path, force: bool = False) -> None:
    yuqing(env, "train", "--model", "baseline", "--no-corpus", "--data", str(data))
    yuqing(env, "promote", *(["--force"] if force else []))


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory):
    """A folder with a data dir whose registry has a baseline champion (v1); copy before serving."""
    folder = tmp_path_factory.mktemp("trained")
    data = folder / "labelled.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in sample_rows(repeat=6)), encoding="utf-8")
    train_and_promote(project_env(folder), data)
    return folder


def copy_project(trained: Path, target: Path) -> Path:
    """A project of its own (own search index and BentoML home) sharing the trained registry's contents."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(trained / "data", target / "data")
    shutil.copy(trained / "labelled.jsonl", target / "labelled.jsonl")
    return target


class Server:
    def __init__(self, process: subprocess.Popen, url: str, log: Path):
        self.process, self.url, self.log = process, url, log

    def children(self) -> list[int]:
        import psutil

        try:
            return [c.pid for c in psutil.Process(self.process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill9(self) -> None:
        """SIGKILL the arbiter and every worker at once (BentoML workers have their own process group)."""
        for pid in [self.process.pid, *self.children()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        workers = self.children()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()
        for pid in workers:  # never leave a worker behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def start_server(env: dict, log: Path, target: str = "serving.service:Yuqing", cwd: Path = ROOT,
                 seconds: float = 180) -> Server:
    port = free_port()
    handle = open(log, "ab")  # noqa: SIM115 - the server writes to it after we return
    process = subprocess.Popen([sys.executable, "-m", "bentoml", "serve", target, "--host", "127.0.0.1",
                                "--port", str(port)], env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    server = Server(process, f"http://127.0.0.1:{port}", log)
    if not wait_for_http(f"{server.url}/readyz", seconds=seconds):
        server.stop()
        pytest.fail(f"the service did not become ready:\n{server.tail()}")
    return server


# ---- monitoring: a webhook receiver on 127.0.0.1 --------------------------------------------------

class WebhookReceiver:
    """Records every POST it gets (headers, body) and answers 200; runs in a thread of the test."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/yuqing"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()
