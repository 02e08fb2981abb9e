"""The main job's set-up, as one function the CLI (and anyone in Python) calls: train only what
is missing, promote, bring the case library into the search index and ingest the sample stream.

Serving composes training, search and playbooks; this is where their order is decided."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from training.train import TrainArguments

Echo = Callable[[str], None]


@dataclass
class BootstrapPlan:
    training: TrainArguments = field(default_factory=TrainArguments)
    transformer: bool = True  # False (`--fast`): stop at the baseline, a usable champion in about a minute
    retrain: bool = False  # train even when a champion is registered
    sample_stream: Path | None = None  # mentions to ingest into the search index (None: skip)


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
    ingested = 0
    if plan.sample_stream is not None and plan.sample_stream.exists():
        ingested = runtime.ingest_file(plan.sample_stream, echo=echo)
        echo(f"sample stream: {ingested} mentions indexed from {plan.sample_stream}")
    return {"champion": version, "cases": cases, "ingested": ingested}


def _report(decision: dict, echo: Echo) -> None:
    echo(f"v{decision['candidate']} dev mean macro-F1 {decision['candidate_dev_macro_f1_mean']:.4f}: "
         + ("promoted to champion" if decision["promoted"] else f"champion v{decision['champion']} stays"))
