"""The durable queue: huey on SQLite under the data dir, or on Redis when a URL is given; and a
huey consumer that runs inside the host process (threads, no signal handlers)."""

from __future__ import annotations

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer, Scheduler

from monitoring.delivery.settings import DeliverySettings


def make_huey(settings: DeliverySettings) -> Huey:
    # results=False: nothing reads task results; the deliveries table records outcomes.
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, results=False)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    # fsync=True: a delivery accepted by publish() survives a power cut, not only a crash.
    return SqliteHuey(settings.queue_name, filename=str(settings.queue_path), results=False, fsync=True)


class _Scheduler(Scheduler):
    """huey's scheduler only wakes every ≥1 s; short test backoffs want a finer tick."""

    tick: float = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval = self.tick


class EmbeddedConsumer(Consumer):
    """A huey consumer for a thread of the host process: the host keeps its signal handlers."""

    def __init__(self, huey: Huey, *, workers: int = 1, tick: float = 1.0, poll: float = 1.0, **options):
        self.scheduler_class = type("Scheduler", (_Scheduler,), {"tick": tick})
        # poll bounds how long an idle worker sleeps before looking at the queue again.
        super().__init__(huey, workers=workers, initial_delay=min(0.1, poll), max_delay=poll,
                         check_worker_health=True, **options)

    def _set_signal_handlers(self) -> None:
        pass
