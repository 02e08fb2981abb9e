"""The Elasticsearch index templates agree with the collection specs the code uses."""

from __future__ import annotations

import json

import pytest

from search.collections import COLLECTIONS
from search.elastic import MAPPINGS


@pytest.mark.parametrize("name", sorted(COLLECTIONS))
def test_template_matches_collection_spec(name):
    spec = COLLECTIONS[name]
    template = json.loads((MAPPINGS / f"{name}.json").read_text(encoding="utf-8"))
    assert template["index_patterns"] == [f"yuqing-{name}-v*"]
    properties = template["template"]["mappings"]["properties"]
    assert template["template"]["mappings"]["dynamic"] is False
    for field in spec.keyword_fields:
        assert properties[field]["type"] == "keyword", field
    for field in spec.integer_fields:
        assert properties[field]["type"] == "long", field
    for field in spec.float_fields:
        assert properties[field]["type"] == "float", field
    assert properties[spec.time_field]["type"] == "date"
    vector = properties["embedding"]
    assert vector["type"] == "dense_vector" and vector["similarity"] == "cosine" and vector["index"] is True
    text = properties["search_seg"]
    assert text["analyzer"] == "jieba_ws" and text["fields"]["cjk"]["analyzer"] == "cjk"
    analyzer = template["template"]["settings"]["analysis"]["analyzer"]["jieba_ws"]
    assert analyzer["tokenizer"] == "whitespace" and "lowercase" in analyzer["filter"]


def test_reindex_swaps_aliases_without_losing_documents(standin_es_url):
    """Against the ES-API stand-in (noida-db), not Elasticsearch."""
    import uuid

    from elasticsearch import Elasticsearch

    from search.elastic import ElasticBackend
    from search.testing import MENTIONS

    client = Elasticsearch(standin_es_url)
    backend = ElasticBackend(client, prefix=f"reindex-{uuid.uuid4().hex[:6]}")
    try:
        backend.upsert("mentions", MENTIONS)
        old, new = backend.reindex("mentions")
        assert old.endswith("-v1") and new.endswith("-v2")
        assert backend.current_index("mentions") == new
        assert backend.count("mentions") == len(MENTIONS)
        assert backend.search("mentions", "数据泄露").hits[0].id == "m3"
        backend.upsert("mentions", [dict(MENTIONS[0], id="new")])
        assert client.count(index=new)["count"] == len(MENTIONS) + 1
        assert not client.indices.exists(index=old)
    finally:
        for index in client.indices.get(index=f"{backend.prefix}-*"):
            client.indices.delete(index=index)
