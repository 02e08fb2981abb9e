"""The example receivers (examples/receivers): signature and replay checks, de-duplication, and
the action each takes, fed by a real Dispatcher."""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from monitoring.delivery import signed_headers
from tests.monitoring.delivery.conftest import sample_payload, start, wait_until

RECEIVERS = Path(__file__).resolve().parents[3] / "examples" / "receivers"
SECRET = "whsec_test"


@pytest.fixture
def serve(monkeypatch):
    """serve('crm_care') → (url, journal) of that receiver, running on a free port."""
    monkeypatch.syspath_prepend(str(RECEIVERS))
    servers = []

    def run(name: str):
        module = importlib.import_module(name)
        base = importlib.import_module("webhook_receiver")
        journal = base.Journal()
        server = base.make_server([SECRET], module.build(journal))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", journal

    yield run
    for server in servers:
        server.shutdown()
        server.server_close()
    for name in ("crm_care", "erp_hold", "pr_statement", "webhook_receiver"):
        sys.modules.pop(name, None)


def post(url, event_type, data, *, delivery_id="dlv_1", secret=SECRET, at=None, tamper=False):
    body = json.dumps({"id": "evt_1", "type": event_type, "created_at": "2025-06-01T06:00:00Z", "data": data},
                      ensure_ascii=False).encode()
    headers = signed_headers(secret, body, delivery_id=delivery_id, event_type=event_type, now=at)
    request = urllib.request.Request(url, data=body + (b" " if tamper else b""), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def data(**changes):
    payload = sample_payload(**changes)
    payload.pop("routing")
    return payload


def test_receivers_reject_forgeries_and_replays(serve):
    url, journal = serve("crm_care")
    assert post(url, "incident.opened", data(), secret="wrong")[0] == 401
    assert post(url, "incident.opened", data(), tamper=True)[0] == 401
    status, reply = post(url, "incident.opened", data(), at=time.time() - 301)
    assert status == 401 and "replay" in reply["error"]
    assert journal.records == []


def test_crm_opens_one_ticket_per_customer_and_ignores_duplicates(serve):
    url, journal = serve("crm_care")
    customers = data(affected_customers=[{"id": "C001"}, {"id": "C002"}])
    assert post(url, "alert.raised", customers, delivery_id="d1")[1]["tickets"] == ["CARE-00001", "CARE-00002"]
    assert post(url, "alert.raised", customers, delivery_id="d1")[1]["duplicate"] is True
    post(url, "incident.escalated", customers, delivery_id="d2")
    assert [r["action"] for r in journal.records] == ["open_care_ticket"] * 2 + ["update_care_ticket"] * 2
    assert post(url, "incident.resolved", customers, delivery_id="d3")[1]["closed"] == ["CARE-00001", "CARE-00002"]


def test_erp_holds_only_for_product_quality(serve):
    url, journal = serve("erp_hold")
    assert "skipped" in post(url, "incident.opened", data(crisis_type="data_breach"), delivery_id="d1")[1]
    assert post(url, "incident.opened", data(batches=["B20250601"]), delivery_id="d2")[1]["hold_id"] == "HOLD-0001"
    assert journal.records[0]["batches"] == ["B20250601"]


def test_end_to_end_from_publish_to_all_three_receivers(serve, make_dispatcher):
    dispatcher = make_dispatcher()
    journals = {}
    for name in ("crm_care", "erp_hold", "pr_statement"):
        url, journals[name] = serve(name)
        dispatcher.create_subscription(url, ["incident.opened"], secret=SECRET)
    ids = dispatcher.publish("incident.opened", sample_payload())
    start(dispatcher)
    wait_until(lambda: all(dispatcher.delivery(i).status == "delivered" for i in ids))
    assert journals["crm_care"].records[0]["action"] == "open_care_ticket"
    assert journals["erp_hold"].records[0]["action"] == "hold_shipment"
    draft = journals["pr_statement"].records[0]
    assert draft["status"] == "draft" and "澜山乳业高度重视" in draft["text"] and "06月02日16时" in draft["text"]
