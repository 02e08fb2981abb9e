"""Adaptive batching that batches: concurrent requests are merged into one forward pass, never
cancelled for waiting, and a request larger than a batch is split with every part answered.

Why not BentoML's `batchable=True` dispatcher: its CorkDispatcher cancels queued work whenever
its latency estimate exceeds `max_latency_ms` (with 30 ms, below one forward pass, that was 98 %
503s under 8 clients), has no bound on its queue and answers refusals with a traceback. Here:

* one model thread (two when passes run in a model process: one pass computes while the other's
  answer travels back); while a pass runs, new requests queue; when a thread is free it takes every
  queued text up to the batch size (configured, or the model's own `serving_batch_size`):
  continuous batching, no artificial wait, so a lone request costs one forward pass and a busy
  service runs full batches;
* a request's texts are split into parts of at most the batch size; all parts are answered;
* a request is admitted only if the queue holds fewer than `max_queue_texts` texts and the
  expected wait (queued texts × measured seconds per text) is under `max_latency_ms`; otherwise
  `Overloaded` (HTTP 503 with Retry-After), before any work is queued;
* each request is answered by the model that was current when it was admitted (a champion
  switch never mixes versions inside one answer, and never fails a request in flight)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("yuqing.batcher")


class Overloaded(Exception):
    """The queue is full: answered 503 with Retry-After."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Part:
    texts: list[str]
    model: Any  # the runtime current at admission: .predictor, .model_version
    future: asyncio.Future
    enqueued: float = field(default_factory=time.monotonic)


class Batcher:
    def __init__(self, current: Callable[[], Any], max_batch_size: int | None = None, max_latency_ms: int = 2000,
                 max_queue_texts: int = 4096, on_batch: Callable[[list, Any], None] | None = None,
                 run: Callable[[Any, list[str], int], list] | None = None, passes_in_flight: int = 1):
        self.current = current  # () -> the runtime to use for newly admitted requests
        # (runtime, texts, batch size) -> predictions: in this process by default, or in a model process
        self.run = run or (lambda model, texts, size: model.predictor.predict(texts, batch_size=size))
        self.fixed_batch_size = max(1, int(max_batch_size)) if max_batch_size else None
        self.max_latency = max_latency_ms / 1000.0
        self.max_queue_texts = max(self.fixed_batch_size or 1, int(max_queue_texts))
        self.on_batch = on_batch
        self.seconds_per_text = 0.0  # EWMA of measured forward-pass cost
        self.queued_texts = 0
        self.running_texts = 0
        self.batches = 0
        self._queue: deque[_Part] = deque()
        # One pass at a time in this process (two would only take turns on the GIL); two when `run`
        # hands passes to a model process, so it starts the next while this one's answer travels back.
        self.passes_in_flight = max(1, passes_in_flight)
        self._executor = ThreadPoolExecutor(self.passes_in_flight, thread_name_prefix="yuqing-model")
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._passes: set[asyncio.Task] = set()

    def batch_size(self, model: Any) -> int:
        """Texts per forward pass for this runtime's model: the configured size, else the model's own."""
        from yuqing.predictor import serving_batch_size

        return self.fixed_batch_size or serving_batch_size(model.predictor)

    # ---- admission ----------------------------------------------------------------------------
    def expected_wait(self) -> float:
        return (self.queued_texts + self.running_texts) * self.seconds_per_text

    def admit(self, count: int) -> None:
        """Raise Overloaded when `count` more texts would overfill the queue."""
        wait = self.expected_wait()
        if self.queued_texts + count > self.max_queue_texts or (self.queued_texts and wait > self.max_latency):
            retry = max(1, math.ceil(wait + count * self.seconds_per_text))
            raise Overloaded(f"{self.queued_texts} texts queued (limit {self.max_queue_texts}), expected wait "
                             f"{wait:.1f} s (limit {self.max_latency:.1f} s)", retry_after=retry)

    async def predict(self, texts: list[str]) -> tuple[list, Any]:
        """(predictions in order, the runtime that made them)."""
        if not texts:
            return [], self.current()
        self.admit(len(texts))
        loop = asyncio.get_running_loop()
        self._ensure_worker(loop)
        model = self.current()
        size = self.batch_size(model)
        parts = [_Part(texts[i:i + size], model, loop.create_future()) for i in range(0, len(texts), size)]
        self._queue.extend(parts)
        self.queued_texts += len(texts)
        self._wake.set()
        try:
            results = await asyncio.gather(*(p.future for p in parts))
        except BaseException:
            for part in parts:  # a disconnected client: its queued parts are skipped, not computed
                if not part.future.done():
                    part.future.cancel()
            raise
        return [p for chunk in results for p in chunk], model

    # ---- the model thread ---------------------------------------------------------------------
    def _ensure_worker(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._worker = loop.create_task(self._run(), name="yuqing-batcher")

    def _take(self) -> list[_Part]:
        """Queued parts for one forward pass: same model as the first, at most max_batch_size texts."""
        batch: list[_Part] = []
        size = 0
        model = None
        limit = 0
        skipped: list[_Part] = []
        while self._queue:
            part = self._queue[0]
            if part.future.done():  # cancelled by its client
                self._queue.popleft()
                self.queued_texts -= len(part.texts)
                continue
            if model is None:
                model, limit = part.model, self.batch_size(part.model)
            if part.model is not model:
                skipped.append(self._queue.popleft())  # a newer model's part waits for the next pass
                continue
            if size + len(part.texts) > limit:
                break
            batch.append(self._queue.popleft())
            size += len(part.texts)
        self._queue.extendleft(reversed(skipped))
        self.queued_texts -= size
        return batch

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.passes_in_flight)
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            await slots.acquire()  # taken after the wait, so the pass takes everything queued meanwhile
            batch = self._take()
            if not batch:
                slots.release()
                continue
            task = asyncio.get_running_loop().create_task(self._pass(batch))
            self._passes.add(task)  # a reference, so the running pass is not garbage-collected
            task.add_done_callback(lambda done: (self._passes.discard(done), slots.release()))

    async def _pass(self, batch: list[_Part]) -> None:
        """One forward pass: answer every part of `batch`, or fail them all with the pass's error."""
        texts = [t for part in batch for t in part.texts]
        model = batch[0].model
        self.running_texts += len(texts)
        started = time.perf_counter()
        try:
            predictions = await asyncio.get_running_loop().run_in_executor(
                self._executor, lambda: self.run(model, texts, self.batch_size(model)))
        except Exception as error:  # a bug or a broken model: these requests fail, others go on
            logger.error("forward pass of %d texts failed: %s: %s", len(texts), type(error).__name__, error)
            for part in batch:
                if not part.future.done():
                    part.future.set_exception(error)
            return
        finally:
            self.running_texts -= len(texts)
        per_text = (time.perf_counter() - started) / len(texts)
        self.seconds_per_text = per_text if not self.batches else 0.8 * self.seconds_per_text + 0.2 * per_text
        self.batches += 1
        offset = 0
        for part in batch:
            chunk = predictions[offset:offset + len(part.texts)]
            offset += len(part.texts)
            if not part.future.done():
                part.future.set_result(chunk)
        if self.on_batch is not None:
            try:
                self.on_batch(predictions, model)
            except Exception:  # metrics must never fail a request
                logger.exception("batch callback failed")

    def run_sync(self, function: Callable[[], Any]) -> asyncio.Future:
        """Run other model work (a champion's warm-up) on the model thread, between batches."""
        return asyncio.get_running_loop().run_in_executor(self._executor, function)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        for task in list(self._passes):
            task.cancel()
        for part in self._queue:
            if not part.future.done():
                part.future.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
