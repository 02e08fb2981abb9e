"""Champion reload without restart: when the registry alias (`champion`) moves, load the new
version beside the old one, re-embed the case library with it (`Runtime.sync_cases()`), then
switch. Requests already admitted finish on the model they started with; nothing fails.

Triggered by `POST /admin/reload` and by a periodic alias check (YUQING_RELOAD_INTERVAL_S,
default 60 s; 0 turns the check off). Each switch is logged as one line."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("yuqing.reload")


def registry_champion() -> str | None:
    """The version the champion alias names in the MLflow registry now, or None."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from yuqing.config import configure_environment

    settings = configure_environment()
    try:
        return str(MlflowClient().get_model_version_by_alias(settings.model_name, settings.champion_alias).version)
    except MlflowException:
        return None


def load_runtime(version: str, backend=None):
    """A Runtime serving registry version `version` (its predictor loaded now)."""
    from serving.runtime import Runtime
    from yuqing.config import get_settings

    runtime = Runtime(model_uri=f"models:/{get_settings().model_name}/{version}", backend=backend, model_version=version)
    runtime.predictor  # noqa: B018 - load before anyone is switched to it
    return runtime


class Reloader:
    def __init__(self, get: Callable[[], Any], switch: Callable[[Any], None], interval_s: float = 60.0,
                 writer: Callable[[Callable[[], Any]], asyncio.Future] | None = None,
                 champion: Callable[[], str | None] = registry_champion,
                 load: Callable[..., Any] = load_runtime):
        self.get, self.switch = get, switch
        self.interval_s = interval_s
        self.writer = writer  # runs index writes on the service's one writer thread
        self.champion, self.load = champion, load
        self.enabled = True
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.last_check: float | None = None

    async def reload(self, force: bool = False, reason: str = "admin") -> dict:
        """Switch to the registry's champion if it is not the version being served."""
        if not self.enabled:
            current = self.get()
            return {"reloaded": False, "model_version": current.model_version,
                    "reason": "this service serves a pinned model (YUQING_MODEL_URI or a packed bento model)"}
        async with self._lock:
            self.last_check = time.time()
            current = self.get()
            version = await asyncio.to_thread(self.champion)
            if version is None:
                return {"reloaded": False, "model_version": current.model_version, "reason": "no champion is registered"}
            if version == current.model_version and not force:
                return {"reloaded": False, "model_version": version, "reason": "the champion is already served"}
            started = time.perf_counter()
            new = await asyncio.to_thread(self.load, version, current.backend)
            sync = new.sync_cases
            cases = await (self.writer(sync) if self.writer else asyncio.to_thread(sync))
            self.switch(new)
            seconds = time.perf_counter() - started
            logger.warning("champion switched (%s): v%s -> v%s; %d of %d cases re-embedded; %.1f s",
                           reason, current.model_version, version, cases["indexed"], cases["total"], seconds)
            return {"reloaded": True, "previous_version": current.model_version, "model_version": version,
                    "cases": cases, "seconds": round(seconds, 2)}

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.reload(reason="alias check")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a registry hiccup: keep serving the current model, retry later
                logger.error("champion check failed (still serving v%s): %s: %s",
                             self.get().model_version, type(error).__name__, error)

    def start(self) -> None:
        if self.enabled and self.interval_s > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="yuqing-champion-check")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
