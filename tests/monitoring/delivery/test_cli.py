"""The `webhooks` typer commands, on a throw-away data dir."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from monitoring.delivery import DeliverySettings, Dispatcher
from monitoring.delivery.cli import register
from tests.monitoring.delivery.conftest import sample_payload


def test_webhooks_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command, so that `webhooks` stays a group name
    run = lambda *args: CliRunner().invoke(app, ["webhooks", *args], catch_exceptions=False)

    added = run("add", "http://127.0.0.1:9/crm", "-e", "incident.opened", "--description", "CRM 客户关怀")
    assert added.exit_code == 0
    sub = json.loads(added.output)
    assert sub["secret"].startswith("whsec_") and sub["events"] == ["incident.opened"]
    assert run("add", "ftp://nowhere").exit_code == 2
    assert sub["id"] in run("list").output and sub["secret"] not in run("list").output

    dispatcher = Dispatcher(DeliverySettings.from_env())
    [delivery_id] = dispatcher.publish("incident.opened", sample_payload())
    assert delivery_id in run("deliveries", "--status", "pending").output
    assert json.loads(run("deliveries", delivery_id).output)["attempt_log"] == []

    dispatcher.store.begin_attempt(delivery_id)  # pretend the attempts ran out
    dispatcher.store.finish_attempt(delivery_id, 1, error="HTTP 503", duration_ms=5, status="dead")
    assert delivery_id in run("dead").output
    assert run("replay", "--all").output.strip() == f"replayed 1: {delivery_id}"
    assert dispatcher.delivery(delivery_id).status == "pending"

    assert run("remove", sub["id"]).exit_code == 0
    assert run("remove", sub["id"]).exit_code == 1
    dispatcher.close()
