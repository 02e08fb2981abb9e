"""Monitoring commands for the `yuqing` CLI: replay, report, case-from-incident.

The CLI owner wires them in with `register(app, get_classify)`, where `get_classify()` returns the
classifier callable (texts -> list[Prediction]), e.g. the champion's `predict`. It is only called by
commands that classify, so `report` never loads a model."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()

DATA_DIR_HELP = "monitoring data folder (holds monitoring.db); default <YUQING_DATA_DIR>/monitoring"


def _data_dir(value: Optional[Path]) -> Path:
    if value is not None:
        return value
    from yuqing.config import get_settings

    return get_settings().data_dir / "monitoring"


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(2)


def register(app: typer.Typer, get_classify: Callable[[], Callable]) -> None:
    """Add `replay`, `report` and `case-from-incident` to the given Typer app."""

    @app.command("replay")
    def replay_command(
        input: Path = typer.Option(..., help="JSONL mention stream (the `yuqing index` schema; labels optional)"),
        subjects: Path = typer.Option(..., help="subject YAML file or folder of them"),
        data_dir: Optional[Path] = typer.Option(None, help=DATA_DIR_HELP),
        speed: Optional[float] = typer.Option(None, help="play at SPEED × real time (60: an hour per minute)"),
        fast: bool = typer.Option(False, "--fast", help="as fast as possible (the default when --speed is not given)"),
        alerts_out: Optional[Path] = typer.Option(None, help="write one JSON line per alert"),
    ):
        """Replay a mention stream in event-time order through the alert rules."""
        from monitoring.replay import replay
        from monitoring.subjects import SubjectError
        from yuqing.jsonl import InputError

        if fast and speed:
            _fail("give either --speed or --fast, not both")
        if speed is not None and speed <= 0:
            _fail("--speed must be positive")
        try:
            result = replay(input, subjects, _data_dir(data_dir), _classify_texts(get_classify()),
                            speed=None if fast else speed, alerts_out=alerts_out)
        except (SubjectError, InputError) as error:
            _fail(str(error))
        console.print(f"{result.accepted} mentions monitored, {result.unmatched} of no subject, "
                      f"{len(result.rejected)} rejected; {len(result.alerts)} alerts in {len(result.incidents)} incident(s) "
                      f"({result.seconds:.1f} s)")
        for problem in result.rejected[:10]:
            console.print(f"  rejected {problem}")
        for alert in result.alerts:
            console.print(f"  {alert.fired_at}  {alert.subject:<12} {alert.rule:<15} {alert.severity:<8} {alert.incident_id}")

    @app.command("report")
    def report_command(
        daily: bool = typer.Option(False, "--daily", help="one calendar day (--date, default today)"),
        weekly: bool = typer.Option(False, "--weekly", help="the seven days ending with --date"),
        incident: Optional[str] = typer.Option(None, "--incident", help="the 专报 of one incident"),
        on: Optional[str] = typer.Option(None, "--date", help="YYYY-MM-DD in the configured time zone"),
        subjects: Path = typer.Option(..., help="subject YAML file or folder of them"),
        subject: Optional[str] = typer.Option(None, help="only this subject id (daily/weekly)"),
        data_dir: Optional[Path] = typer.Option(None, help=DATA_DIR_HELP),
        out: Path = typer.Option(Path("reports"), help="folder for the .html and .md files"),
    ):
        """Daily or weekly report, or an incident's 专报, as self-contained HTML and Markdown."""
        from monitoring import reports
        from monitoring.incidents import IncidentError
        from monitoring.store import Store
        from monitoring.subjects import SubjectError, load_subjects
        from monitoring.timeutil import zone

        if sum([daily, weekly, incident is not None]) != 1:
            _fail("choose exactly one of --daily, --weekly, --incident ID")
        tz = zone()
        try:
            known = load_subjects(subjects)
            chosen = [s for s in known if subject in (None, s.id)]
            if not chosen:
                _fail(f"no subject {subject!r} in {subjects}")
            store = Store(_data_dir(data_dir))
            if incident:
                report, stem = reports.incident_report(store, known, incident, tz), f"incident-{incident}"
            else:
                day = date.fromisoformat(on) if on else datetime.now(tz).date()
                kind = "daily" if daily else "weekly"
                report, stem = reports.period_report(store, chosen, kind, day, tz), f"{kind}-{day.isoformat()}"
        except (SubjectError, IncidentError, ValueError) as error:
            _fail(str(error))
        html, md = reports.write_report(report, out, stem)
        console.print(f"wrote {html} and {md}")

    @app.command("case-from-incident")
    def case_from_incident_command(
        incident_id: str = typer.Argument(..., help="a resolved incident"),
        subjects: Path = typer.Option(..., help="subject YAML file or folder of them"),
        data_dir: Optional[Path] = typer.Option(None, help=DATA_DIR_HELP),
        out: Path = typer.Option(..., help="folder to write the case YAML into (e.g. a case library folder)"),
    ):
        """Write a resolved incident as a case YAML (yuqing.schemas.Case) for the case library."""
        from monitoring import reports
        from monitoring.incidents import IncidentError
        from monitoring.store import Store
        from monitoring.subjects import SubjectError, load_subjects
        from monitoring.timeutil import zone

        try:
            case = reports.case_from_incident(Store(_data_dir(data_dir)), load_subjects(subjects), incident_id, zone())
        except (SubjectError, IncidentError, ValueError) as error:
            _fail(str(error))
        path = reports.write_case(case, out)
        console.print(f"wrote {path}")
        console.print(json.dumps({"id": case.id, "severity": case.severity, "crisis_type": case.crisis_type},
                                 ensure_ascii=False))


def _classify_texts(classifier: Callable) -> Callable:
    """Accept a Predictor (with .predict) or a plain callable."""
    return getattr(classifier, "predict", classifier)
