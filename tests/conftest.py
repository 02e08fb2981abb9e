"""Fixtures shared by the test suite. Every server a test needs is started here, on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, seconds: float = 30) -> bool:
    import urllib.request

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def standin_es_url(tmp_path_factory):
    """noida-db's Elasticsearch-API stand-in, started for this test session (it is not Elasticsearch)."""
    spec = importlib.util.find_spec("noida_db")
    if spec is None:
        pytest.skip("ES-API stand-in unavailable: pip install noida-db")
    binary = Path(spec.submodule_search_locations[0]) / "noida-db"
    port = free_port()
    folder = tmp_path_factory.mktemp("noida")
    process = subprocess.Popen(
        [str(binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
         "--elasticsearch-port", str(port), "--data-dir", str(folder / "data")],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_http(url):
        process.kill()
        pytest.skip("ES-API stand-in (noida-db) did not start on this machine")
    yield url
    process.terminate()
    process.wait(timeout=10)
