"""Settings read from the environment (prefix YUQING_), with project-local defaults.

Everything the service writes (MLflow store, BentoML home, search indices) lives under
`data_dir` unless a variable points elsewhere, so a fresh clone runs with no server."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YUQING_")

    data_dir: Path = PROJECT_ROOT / "data"
    model_name: str = "yuqing-classifier"  # name in the MLflow model registry
    champion_alias: str = "champion"
    search: str = "embedded"  # embedded | elasticsearch
    es_url: str | None = None
    es_api_key: str | None = None
    es_username: str | None = None
    es_password: str | None = None
    es_verify_certs: bool = True
    es_index_prefix: str = "yuqing"
    timezone: str = "Asia/Shanghai"
    torch_threads: int | None = None  # YUQING_TORCH_THREADS: threads for the encoder (default: all cores)

    # ---- the HTTP service (serving/) ------------------------------------------------------------
    host: str = "127.0.0.1"  # YUQING_HOST: bind address; anything else must be chosen explicitly
    port: int = 3000  # YUQING_PORT
    api_keys: str = ""  # YUQING_API_KEYS: comma-separated bearer keys; never logged
    api_keys_file: Path | None = None  # YUQING_API_KEYS_FILE: one key per line, '#' comments
    read_requires_key: bool = False  # YUQING_READ_REQUIRES_KEY: reads need a key too
    allowed_hosts: str = ""  # YUQING_ALLOWED_HOSTS: Host names accepted besides 127.0.0.1, localhost, ::1 ('*': any)
    allowed_origins: str = ""  # YUQING_ALLOWED_ORIGINS: browser origins accepted besides the service's own hosts
    max_body_bytes: int = 32 * 1024 * 1024  # YUQING_MAX_BODY_BYTES: larger request bodies get 413
    # YUQING_BATCH_MAX_SIZE: texts per forward pass of the adaptive batcher (default: the model's own
    # `serving_batch_size`, 256 for the baseline, 64 for models with an encoder)
    batch_max_size: int | None = None
    model_process: bool = True  # YUQING_MODEL_PROCESS: forward passes in a child process (its own GIL and core)
    batch_max_latency_ms: int = 2000  # YUQING_BATCH_MAX_LATENCY_MS: expected queueing beyond this -> 503
    queue_max_texts: int = 4096  # YUQING_QUEUE_MAX_TEXTS: texts waiting for the model beyond this -> 503
    reload_interval_s: float = 60.0  # YUQING_RELOAD_INTERVAL_S: champion alias check period (0: off)
    request_timeout_s: float = 60.0  # YUQING_REQUEST_TIMEOUT_S

    # ---- monitoring inside the HTTP service (serving/monitoring_api.py) ------------------------
    monitoring: bool = True  # YUQING_MONITORING: /ingest feeds the monitor and the monitoring endpoints answer
    subjects: Path | None = None  # YUQING_SUBJECTS: a subject YAML file or folder (else <data>/subjects/, else the samples)
    monitor_tick_s: float = 60.0  # YUQING_MONITOR_TICK_S: period of the time-based rules (silence, overdue steps); 0: off
    delivery_consumer: bool = True  # YUQING_DELIVERY_CONSUMER: run the delivery workers in the service process

    def keys(self) -> list[str]:
        """The configured API keys (env and file), without blanks and comments."""
        keys = [k.strip() for k in self.api_keys.split(",")]
        if self.api_keys_file is not None:
            lines = Path(self.api_keys_file).read_text(encoding="utf-8").splitlines()
            keys += [line.split("#", 1)[0].strip() for line in lines]
        return [k for k in keys if k]

    @property
    def mlflow_tracking_uri(self) -> str:
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.data_dir / 'mlflow.db'}"

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

    @property
    def monitoring_dir(self) -> Path:
        return self.data_dir / "monitoring"

    @property
    def subjects_dir(self) -> Path:
        """Where the service writes subjects (POST /subjects/put): <data>/subjects/."""
        return self.data_dir / "subjects"

    @property
    def champion_uri(self) -> str:
        return f"models:/{self.model_name}@{self.champion_alias}"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def configure_environment(settings: Settings | None = None) -> Settings:
    """Point MLflow, BentoML and the HF hub at project folders; offline by default."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    os.environ.setdefault("BENTOML_HOME", str(settings.data_dir / "bentoml"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return settings
