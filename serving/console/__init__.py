"""The analyst console (分析台) at /console: an ASGI app mounted into the BentoML service.

    from serving.console import create_console, export_feedback
    app = create_console(lambda: runtime, "data/monitoring", subjects_path=..., cases_dir=...)
    export_feedback("data", "feedback.jsonl")      # analysts' label corrections as training rows
"""

from serving.console.feedback import export_feedback


def create_console(runtime_factory, monitoring_dir, **options):
    """See `serving.console.app.create_console` (imported lazily: starlette and jinja2 only when used)."""
    from serving.console.app import create_console as create

    return create(runtime_factory, monitoring_dir, **options)


__all__ = ["create_console", "export_feedback"]
