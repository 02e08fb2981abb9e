"""The main job's set-up, as one function the CLI (and anyone in Python) calls: train only what
is missing, promote, bring the case library into the search index and ingest the sample stream.

Serving composes training, search and playbooks; this is where their order is decided."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from training.train import TrainArguments

Echo = Callable[[str], None]


@dataclass
class BootstrapPlan:
    training: TrainArguments = field(default_factory=TrainArguments)
    transformer: bool = True  # False (`--fast`): stop at the baseline, a usable champion in about a minute
    retrain: bool = False  # train even when a champion is registered
    sample_stream: Path | None = None  # mentions to index and replay through monitoring (None: skip)
    sample_subjects: Path | None = None  # the subjects the sample stream is monitored for


def ensure_champion(plan: BootstrapPlan, echo: Echo = print) -> str:
    """The champion's version: the registered one, or a newly trained baseline → transformer →
    ensemble, each promoted only if it beats the champion on the same dev set."""
    from training.registry import champion_version, promote
    from training.train import build_ensemble, run_training

    champion = champion_version()
    if champion is not None and not plan.retrain:
        echo(f"champion v{champion.version} is registered: no training needed (--retrain to train anew)")
        return champion.version
    kinds = ["baseline"] + (["transformer"] if plan.transformer else [])
    versions = []
    for kind in kinds:
        echo(f"── train {kind}")
        versions.append(run_training(replace(plan.training, model=kind), echo=echo)["version"])
        _report(promote(versions[-1]), echo)
    if len(versions) > 1:
        echo("── ensemble of " + " + ".join(f"v{v}" for v in versions))
        _report(promote(build_ensemble(versions, echo=echo, data=plan.training)["version"]), echo)
    return champion_version().version


def bootstrap(plan: BootstrapPlan, echo: Echo = print) -> dict:
    """Everything `yuqing run` needs before serving. Re-running reuses what exists."""
    from serving.runtime import Runtime

    version = ensure_champion(plan, echo)
    runtime = Runtime()
    cases = runtime.sync_cases()
    echo(f"case library: {cases['total']} cases, {cases['indexed']} (re)indexed, {cases['removed']} removed")
    ingested, monitored = 0, {}
    if plan.sample_stream is not None and plan.sample_stream.exists():
        ingested = runtime.ingest_file(plan.sample_stream, echo=echo)
        echo(f"sample stream: {ingested} mentions indexed from {plan.sample_stream}")
        if plan.sample_subjects is not None:
            monitored = monitor_sample(runtime, plan.sample_stream, plan.sample_subjects, echo)
    return {"champion": version, "cases": cases, "ingested": ingested, "monitoring": monitored}


def monitor_sample(runtime, stream: Path, subjects: Path, echo: Echo = print) -> dict:
    """Replay the sample stream through the alert rules (once: a data folder that already holds
    it is kept) and write the crisis day's 日报 and each incident's 专报 under data/reports."""
    from monitoring import reports
    from monitoring.replay import replay
    from monitoring.store import Store
    from monitoring.subjects import load_subjects
    from monitoring.timeutil import zone

    folder = runtime.settings.data_dir / "monitoring"
    if (folder / "monitoring.db").exists():
        echo(f"monitoring: {folder} already holds the sample stream (delete it to replay)")
        return {}
    result = replay(stream, subjects, folder, runtime.classify, alerts_out=folder / "sample_alerts.jsonl")
    echo(f"monitoring: {len(result.alerts)} alerts in {len(result.incidents)} incident(s) from {result.accepted} mentions")
    store, known, tz = Store(folder), load_subjects(subjects), zone(runtime.settings.timezone)
    written = []
    if result.alerts:
        day = datetime.fromisoformat(result.alerts[0].fired_at).astimezone(tz).date()
        written.append(reports.write_report(reports.period_report(store, known, "daily", day, tz),
                                            runtime.settings.data_dir / "reports", f"daily-{day.isoformat()}")[0])
    for incident in result.incidents:
        written.append(reports.write_report(reports.incident_report(store, known, incident, tz),
                                            runtime.settings.data_dir / "reports", f"incident-{incident}")[0])
    for path in written:
        echo(f"report: {path}")
    return {"alerts": len(result.alerts), "incidents": result.incidents, "reports": [str(p) for p in written]}


def _report(decision: dict, echo: Echo) -> None:
    echo(f"v{decision['candidate']} dev mean macro-F1 {decision['candidate_dev_macro_f1_mean']:.4f}: "
         + ("promoted to champion" if decision["promoted"] else f"champion v{decision['champion']} stays"))


def ensure_api_key(echo: Echo = print) -> dict[str, str]:
    """Environment for the service so that writes work out of the box: the configured keys, or a
    key generated once into <data>/api_keys (mode 600) and shown to the user."""
    import os
    import secrets

    from yuqing.config import get_settings

    settings = get_settings()
    if settings.keys():
        return {}
    path = settings.data_dir / "api_keys"
    if not path.exists():
        path.write_text(f"# generated by `yuqing run`; one key per line\n{secrets.token_urlsafe(32)}\n", encoding="utf-8")
        os.chmod(path, 0o600)
        echo(f"generated an API key for writes in {path} (send it as `Authorization: Bearer <key>`)")
    else:
        echo(f"API keys for writes: {path}")
    return {"YUQING_API_KEYS_FILE": str(path)}
