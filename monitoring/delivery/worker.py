"""Entry point for a separate consumer process:

    huey_consumer monitoring.delivery.worker.huey -w 4 -k thread

Settings come from the same YUQING_* variables as the service (YUQING_DATA_DIR, YUQING_REDIS_URL …),
so producer and consumer share the queue and the deliveries table."""

from monitoring.delivery import get_dispatcher

dispatcher = get_dispatcher()
huey = dispatcher.huey
