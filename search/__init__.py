"""Search over mentions and the crisis-case library: one interface, two backends
(embedded tantivy + exact vectors by default; Elasticsearch in production)."""

from search.backend import SearchBackend
from search.query import Filters, Hit, SearchPage, SearchQuery

__all__ = ["Filters", "Hit", "SearchBackend", "SearchPage", "SearchQuery", "open_backend"]


def open_backend(kind: str | None = None, **options) -> SearchBackend:
    """The backend named by `kind` or YUQING_SEARCH (embedded | elasticsearch)."""
    from yuqing.config import get_settings

    settings = get_settings()
    kind = kind or settings.search
    if kind == "embedded":
        from search.embedded import EmbeddedBackend

        return EmbeddedBackend(options.get("path", settings.search_dir))
    if kind == "elasticsearch":
        from search.elastic import ElasticBackend

        return ElasticBackend.from_settings(settings, **options)
    raise ValueError(f"unknown search backend {kind!r}; use embedded or elasticsearch")
