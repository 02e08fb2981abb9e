"""The shared behaviour suite, run against each backend that is available here."""

from __future__ import annotations

import os
import uuid

import pytest

from search.testing import SearchBackendBehaviour


class TestEmbedded(SearchBackendBehaviour):
    @pytest.fixture
    def backend(self, tmp_path):
        from search.embedded import EmbeddedBackend

        yield EmbeddedBackend(tmp_path / "index")


class TestEsApiStandIn(SearchBackendBehaviour):
    """The Elasticsearch backend against noida-db, an ES-API stand-in (not Elasticsearch)."""

    @pytest.fixture
    def backend(self, standin_es_url):
        yield from _elastic(standin_es_url)


@pytest.mark.skipif(not os.environ.get("YUQING_ES_URL"), reason="set YUQING_ES_URL to run against a real Elasticsearch cluster")
class TestElasticsearch(SearchBackendBehaviour):
    @pytest.fixture
    def backend(self):
        yield from _elastic(os.environ["YUQING_ES_URL"])


def _elastic(url):
    from elasticsearch import Elasticsearch

    from search.elastic import ElasticBackend

    client = Elasticsearch(url, api_key=os.environ.get("YUQING_ES_API_KEY"), request_timeout=30)
    backend = ElasticBackend(client, prefix=f"test-{uuid.uuid4().hex[:8]}")
    yield backend
    for index in client.indices.get(index=f"{backend.prefix}-*"):  # wildcard deletes are refused
        client.indices.delete(index=index)
    for collection in ("mentions", "cases"):
        client.options(ignore_status=404).indices.delete_index_template(name=f"{backend.prefix}-{collection}")
    backend.close()
