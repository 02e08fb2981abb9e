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

    @property
    def mlflow_tracking_uri(self) -> str:
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.data_dir / 'mlflow.db'}"

    @property
    def search_dir(self) -> Path:
        return self.data_dir / "search"

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
