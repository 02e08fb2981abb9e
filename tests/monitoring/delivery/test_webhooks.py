"""Signed webhooks to linked systems: retries, dead letters, replay, restart, idempotent publish."""

from __future__ import annotations

import json

from monitoring.delivery import verify_signature
from tests.monitoring.delivery.conftest import sample_payload, start, wait_until


def delivered(dispatcher, delivery_id):
    d = dispatcher.delivery(delivery_id)
    return d if d.status == "delivered" else None


def test_fails_twice_then_succeeds_with_the_same_delivery_id(make_dispatcher, receiver):
    crm = receiver(lambda request, n: (500, {}) if n <= 2 else (200, {"ok": True}))
    dispatcher = make_dispatcher()
    sub = dispatcher.create_subscription(crm.url + "/hooks", ["incident.opened"])
    [delivery_id] = dispatcher.publish("incident.opened", sample_payload())
    start(dispatcher)

    record = wait_until(lambda: delivered(dispatcher, delivery_id))
    assert record.attempts == 3
    assert [a["ok"] for a in dispatcher.attempts(delivery_id)] == [0, 0, 1]
    assert len(crm.requests) == 3
    assert {r.headers["X-Yuqing-Delivery"] for r in crm.requests} == {delivery_id}
    assert {r.body for r in crm.requests} == {crm.requests[0].body}
    for request in crm.requests:
        assert request.headers["X-Yuqing-Event"] == "incident.opened"
        assert verify_signature(sub.secret, request.headers, request.body)
    body = crm.requests[0].json()
    assert body["type"] == "incident.opened" and body["data"]["severity_zh"] == "重大"
    assert "routing" not in body["data"]


def test_always_failing_goes_dead_then_replays_once_fixed(make_dispatcher, receiver):
    state = {"fixed": False}
    erp = receiver(lambda request, n: (200, {}) if state["fixed"] else (503, {"error": "down"}))
    dispatcher = make_dispatcher(max_attempts=3)
    dispatcher.create_subscription(erp.url, ["*"])
    [delivery_id] = dispatcher.publish("incident.opened", sample_payload())
    start(dispatcher)

    wait_until(lambda: dispatcher.dead_letters())
    [dead] = dispatcher.dead_letters()
    assert dead.id == delivery_id and dead.attempts == 3 and "HTTP 503" in dead.last_error
    assert len(erp.requests) == 3

    state["fixed"] = True
    assert dispatcher.replay(delivery_id)
    wait_until(lambda: delivered(dispatcher, delivery_id))
    assert len(erp.requests) == 4
    assert erp.requests[-1].headers["X-Yuqing-Delivery"] == delivery_id
    assert dispatcher.dead_letters() == []
    assert not dispatcher.replay(delivery_id)  # only dead deliveries are replayed


def test_restart_loses_nothing_queued(make_dispatcher, receiver):
    crm = receiver()
    first = make_dispatcher()  # the producer: no consumer running
    first.create_subscription(crm.url, ["alert.raised", "incident.opened"])
    ids = first.publish("alert.raised", sample_payload()) + first.publish("incident.opened", sample_payload())
    assert first.counts()["pending"] == 2 and len(first.huey.pending()) == 2
    first.huey.dequeue()  # a consumer took one task and was killed before finishing it
    first.close()

    second = start(make_dispatcher())  # a fresh process on the same data dir
    wait_until(lambda: all(delivered(second, i) for i in ids))
    sent = [r.headers["X-Yuqing-Delivery"] for r in crm.requests]
    assert sorted(sent) == sorted(ids)  # each went out exactly once


def test_republishing_an_event_gives_the_same_ids_and_sends_once(make_dispatcher, receiver):
    crm = receiver()
    dispatcher = make_dispatcher()
    dispatcher.create_subscription(crm.url)
    first = dispatcher.publish("alert.raised", sample_payload())
    again = dispatcher.publish("alert.raised", sample_payload())  # the engine retried after a crash
    assert first == again and len(dispatcher.huey.pending()) == 1
    start(dispatcher)
    wait_until(lambda: delivered(dispatcher, first[0]))
    assert len(crm.requests) == 1


def test_only_active_subscriptions_to_the_event_get_it(make_dispatcher, receiver):
    crm = receiver()
    dispatcher = make_dispatcher()
    wanted = dispatcher.create_subscription(crm.url + "/a", ["incident.opened"])
    dispatcher.create_subscription(crm.url + "/b", ["incident.resolved"])
    paused = dispatcher.create_subscription(crm.url + "/c", ["*"], active=False)
    ids = dispatcher.publish("incident.opened", sample_payload())
    assert [d.target for d in map(dispatcher.delivery, ids)] == [f"subscription:{wanted.id}"]
    assert dispatcher.set_active(paused.id, True)
    assert len(dispatcher.publish("incident.resolved", sample_payload())) == 2


def test_rotated_secret_signs_the_next_attempt(make_dispatcher, receiver):
    crm = receiver()
    dispatcher = make_dispatcher()
    sub = dispatcher.create_subscription(crm.url)
    [delivery_id] = dispatcher.publish("step.overdue", sample_payload(step={"action": "发布声明", "owner": "公关部",
                                                                            "due_at": "2025-06-01T08:00:00Z"}))
    new_secret = dispatcher.rotate_secret(sub.id)
    start(dispatcher)
    wait_until(lambda: delivered(dispatcher, delivery_id))
    request = crm.requests[0]
    assert verify_signature(new_secret, request.headers, request.body)
    assert json.loads(request.body)["data"]["step"]["owner"] == "公关部"


def test_a_removed_subscription_is_dead_at_once(make_dispatcher, receiver):
    crm = receiver()
    dispatcher = make_dispatcher()
    sub = dispatcher.create_subscription(crm.url)
    [delivery_id] = dispatcher.publish("alert.raised", sample_payload())
    dispatcher.delete_subscription(sub.id)
    start(dispatcher)
    dead = wait_until(lambda: dispatcher.dead_letters())
    assert dead[0].id == delivery_id and dead[0].attempts == 1 and "removed" in dead[0].last_error
    assert crm.requests == []
