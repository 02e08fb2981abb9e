"""`webhooks` commands for the service's typer app:

    from monitoring.delivery.cli import register
    register(app)        # → yuqing webhooks add|list|remove|rotate-secret|deliveries|dead|replay

Settings come from the YUQING_* environment (YUQING_DATA_DIR, YUQING_REDIS_URL …)."""

from __future__ import annotations

import json
from typing import Optional

import typer

from monitoring.delivery.dispatcher import Dispatcher
from monitoring.delivery.events import EVENT_TYPES
from monitoring.delivery.settings import DeliverySettings


def _dispatcher() -> Dispatcher:
    return Dispatcher(DeliverySettings.from_env())


def _echo_json(value) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _delivery_line(d) -> str:
    error = f"  {d.last_error[:80]}" if d.last_error and d.status != "delivered" else ""
    return f"{d.id}  {d.status:<9} {d.attempts:>2}×  {d.event_type:<18} {d.target}  {d.created_at}{error}"


def add(url: str = typer.Argument(..., help="the receiver's https URL"),
        event: list[str] = typer.Option([], "--event", "-e", help=f"repeatable; default all: {', '.join(EVENT_TYPES)}"),
        description: str = typer.Option("", help="who owns the receiver, what it does"),
        secret: Optional[str] = typer.Option(None, help="use this secret instead of a generated one")) -> None:
    """Subscribe a linked system (CRM / ERP / PRM …); prints its secret once."""
    try:
        sub = _dispatcher().create_subscription(url, event or ["*"], secret=secret, description=description)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    _echo_json({**sub.public(), "secret": sub.secret})


def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Subscriptions (secrets shortened)."""
    subs = [s.public() for s in _dispatcher().list_subscriptions()]
    if as_json:
        return _echo_json(subs)
    for s in subs:
        state = "active" if s["active"] else "paused"
        typer.echo(f"{s['id']}  {state:<6}  {','.join(s['events']):<30} {s['url']}  {s['description']}")


def remove(subscription_id: str) -> None:
    """Delete a subscription; its queued deliveries go to the dead-letter list."""
    if not _dispatcher().delete_subscription(subscription_id):
        typer.echo(f"error: no subscription {subscription_id}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"removed {subscription_id}")


def rotate_secret(subscription_id: str) -> None:
    """A new secret for a subscription; prints it once."""
    try:
        typer.echo(_dispatcher().rotate_secret(subscription_id))
    except KeyError:
        typer.echo(f"error: no subscription {subscription_id}", err=True)
        raise typer.Exit(1) from None


def deliveries(delivery_id: Optional[str] = typer.Argument(None, help="show one delivery with its attempts"),
               status: Optional[str] = typer.Option(None, help="pending | delivered | dead"),
               limit: int = typer.Option(20), as_json: bool = typer.Option(False, "--json")) -> None:
    """Recent deliveries, newest first, or one delivery in detail."""
    dispatcher = _dispatcher()
    if delivery_id:
        record = dispatcher.delivery(delivery_id)
        if record is None:
            typer.echo(f"error: no delivery {delivery_id}", err=True)
            raise typer.Exit(1)
        return _echo_json({**record.summary(), "attempt_log": dispatcher.attempts(delivery_id)})
    records = dispatcher.deliveries(status, limit)
    if as_json:
        return _echo_json([d.summary() for d in records])
    for d in records:
        typer.echo(_delivery_line(d))


def dead(limit: int = typer.Option(50), as_json: bool = typer.Option(False, "--json")) -> None:
    """The dead-letter list: deliveries that failed every attempt."""
    records = _dispatcher().dead_letters(limit)
    if as_json:
        return _echo_json([d.summary() for d in records])
    for d in records:
        typer.echo(_delivery_line(d))


def replay(delivery_ids: list[str] = typer.Argument(None, help="dead delivery ids"),
           all_dead: bool = typer.Option(False, "--all", help="replay the whole dead-letter list")) -> None:
    """Queue dead deliveries again (same delivery ids, fresh attempt budget)."""
    dispatcher = _dispatcher()
    if all_dead:
        replayed = dispatcher.replay_dead()
    else:
        replayed = [d for d in delivery_ids or [] if dispatcher.replay(d)]
        for missing in set(delivery_ids or []) - set(replayed):
            typer.echo(f"skipped {missing}: not a dead delivery", err=True)
    typer.echo(f"replayed {len(replayed)}: {' '.join(replayed)}".rstrip(": "))


def register(app: typer.Typer) -> None:
    """Add the `webhooks` command group to the service's typer app."""
    webhooks = typer.Typer(help="Linked-system webhooks: subscriptions, deliveries, dead letters.",
                           no_args_is_help=True)
    webhooks.command("add")(add)
    webhooks.command("list")(list_)
    webhooks.command("remove")(remove)
    webhooks.command("rotate-secret")(rotate_secret)
    webhooks.command("deliveries")(deliveries)
    webhooks.command("dead")(dead)
    webhooks.command("replay")(replay)
    app.add_typer(webhooks, name="webhooks")
