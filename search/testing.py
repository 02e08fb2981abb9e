"""One behaviour suite that every search backend must pass (the pattern of haystack's
`haystack/testing/document_store.py`). A backend's test module subclasses
`SearchBackendBehaviour` and provides a `backend` fixture that yields an empty backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from search.backend import SearchBackend
from search.query import Filters, QueryError, SearchQuery

CST = timezone(timedelta(hours=8))


def _mention(id, text, day, hour, channel, sentiment, topic, crisis, reposts, embedding, subject="华岳银行"):
    return {"id": id, "text": text, "channel": channel, "subject": subject, "sentiment": sentiment, "topic": topic,
            "crisis_type": crisis, "reposts": reposts, "published_at": datetime(2026, 11, day, hour, tzinfo=CST).isoformat(),
            "embedding": embedding}


MENTIONS = [
    _mention("m1", "华岳银行手机银行App崩了，发工资当天转不了账，客服电话一直占线", 1, 9, "weibo", "negative", "customer_service", "service_failure", 1500, [1, 0, 0, 0]),
    _mention("m2", "华岳银行回应系统故障：已于11时恢复，正在排查原因", 1, 12, "news", "neutral", "customer_service", "service_failure", 300, [0.9, 0.1, 0, 0]),
    _mention("m3", "网传华岳银行客户数据泄露，十万条身份证号在暗网出售", 2, 8, "weibo", "negative", "data_security", "data_breach", 2300, [0, 1, 0, 0]),
    _mention("m4", "华岳银行获评年度最佳零售银行，感谢客户信赖", 2, 15, "wechat", "positive", "brand_marketing", "none", 20, [0, 0, 1, 0]),
    _mention("m5", "鼎昇消费金融催收员打电话辱骂借款人家属，录音已曝光", 3, 10, "douyin", "negative", "customer_service", "misconduct", 800, [0, 0, 0, 1], "鼎昇消费金融"),
    _mention("m6", "鼎昇消费金融被监管部门罚款二百万元，涉及违规催收", 3, 18, "news", "neutral", "legal_regulatory", "regulatory_penalty", 120, [0.1, 0, 0, 0.9], "鼎昇消费金融"),
    _mention("m7", "华岳银行乡村振兴助学金今年资助了三百名学生", 4, 9, "wechat", "positive", "social_responsibility", "none", 5, [0, 0, 0.9, 0.1]),
    _mention("m8", "求扩散！华岳银行App再次崩溃，理财赎回失败", 4, 21, "weibo", "negative", "customer_service", "service_failure", 4200, [0.95, 0, 0.05, 0]),
]


class SearchBackendBehaviour:
    """Every test starts from an empty backend given by the subclass's `backend` fixture."""

    @pytest.fixture
    def filled(self, backend: SearchBackend) -> SearchBackend:
        backend.upsert("mentions", MENTIONS)
        return backend

    # ---- writing ----------------------------------------------------------------------------
    def test_upsert_is_idempotent(self, filled):
        before = {m["id"]: filled.get("mentions", m["id"]) for m in MENTIONS}
        assert filled.upsert("mentions", MENTIONS) == len(MENTIONS)
        assert filled.count("mentions") == len(MENTIONS)
        assert {m["id"]: filled.get("mentions", m["id"]) for m in MENTIONS} == before

    def test_upsert_replaces_by_id(self, filled):
        changed = dict(MENTIONS[0], text="华岳银行App已修复，转账恢复正常", sentiment="neutral")
        filled.upsert("mentions", [changed])
        assert filled.count("mentions") == len(MENTIONS)
        assert filled.get("mentions", "m1")["sentiment"] == "neutral"
        assert filled.search("mentions", "修复").hits[0].id == "m1"

    def test_get_returns_document_and_embedding(self, filled):
        document = filled.get("mentions", "m3")
        assert document["text"] == MENTIONS[2]["text"]
        assert document["embedding"] == pytest.approx([0, 1, 0, 0], abs=1e-6)
        assert filled.get("mentions", "missing") is None

    def test_delete(self, filled):
        assert filled.delete("mentions", ["m1", "m2", "nope"]) == 2
        assert filled.count("mentions") == len(MENTIONS) - 2
        assert filled.get("mentions", "m1") is None

    def test_bad_batch_writes_nothing(self, backend):
        with pytest.raises(ValueError):
            backend.upsert("mentions", [MENTIONS[0], {"text": "没有 id 的文档"}])
        assert backend.count("mentions") == 0

    # ---- full text --------------------------------------------------------------------------
    def test_bm25_ranks_the_matching_document_first(self, filled):
        page = filled.search("mentions", "数据泄露 身份证")
        assert page.hits[0].id == "m3"
        assert "泄露" in page.hits[0].why

    def test_query_and_index_share_segmentation(self, filled):
        # 手机银行 is one jieba word in the text; searching its parts must still find it.
        assert "m1" in {h.id for h in filled.search("mentions", "手机银行").hits}
        assert "m1" in {h.id for h in filled.search("mentions", "银行").hits}

    def test_highlight_marks_matched_terms(self, filled):
        hit = filled.search("mentions", "催收").hits[0]
        assert hit.id == "m5" and "<em>催收</em>" in hit.highlight

    def test_filters(self, filled):
        def ids(**filters):
            return {h.id for h in filled.search("mentions", SearchQuery(text="华岳银行", filters=Filters(**filters), size=50)).hits}

        assert ids(equals={"crisis_type": "service_failure"}) == {"m1", "m2", "m8"}
        assert ids(equals={"channel": ["news", "wechat"]}) == {"m2", "m4", "m7"}
        assert ids(at_least={"reposts": 1500}) == {"m1", "m3", "m8"}
        assert ids(since=datetime(2026, 11, 2, tzinfo=CST), until=datetime(2026, 11, 3, tzinfo=CST)) == {"m3", "m4"}

    def test_filter_only_query_sorts_newest_first(self, filled):
        page = filled.search("mentions", SearchQuery(filters=Filters(equals={"sentiment": "negative"}), size=10))
        assert page.total == 4 and [h.id for h in page.hits] == ["m8", "m5", "m3", "m1"]

    def test_sort_and_pagination(self, filled):
        first = filled.search("mentions", SearchQuery(sort_by="reposts", size=3, page=1))
        second = filled.search("mentions", SearchQuery(sort_by="reposts", size=3, page=2))
        assert [h.id for h in first.hits] == ["m8", "m3", "m1"]
        assert [h.id for h in second.hits] == ["m5", "m2", "m6"]
        assert first.total == second.total == len(MENTIONS)

    @pytest.mark.parametrize("text", ['AND OR NOT "( [ ] { } ^ ~ * ? : \\ / && ||', "华岳银行" * 2500, "！！！。。。"])
    def test_hostile_queries_get_a_clean_answer(self, filled, text):
        page = filled.search("mentions", text)
        assert page.total >= 0 and len(page.hits) <= 10

    def test_bad_requests_raise_clear_errors(self, filled):
        with pytest.raises(QueryError, match="cannot filter"):
            filled.search("mentions", SearchQuery(text="银行", filters=Filters(equals={"password": "x"})))
        with pytest.raises(QueryError, match="cannot sort"):
            filled.search("mentions", SearchQuery(text="银行", sort_by="text"))
        with pytest.raises(ValueError, match="unknown collection"):
            filled.search("posts", "银行")

    # ---- aggregations -----------------------------------------------------------------------
    def test_dashboard_aggregations(self, filled):
        board = filled.dashboard(interval="1d")
        assert dict(board["sentiment"]) == {"negative": 4, "neutral": 2, "positive": 2}
        assert dict(board["crisis_types"])["service_failure"] == 3
        assert board["channels"][0] == ("weibo", 3)
        assert sum(day["total"] for day in board["volume"]) == len(MENTIONS)
        assert board["reposts"] == sum(m["reposts"] for m in MENTIONS)

    def test_aggregations_respect_filters(self, filled):
        board = filled.dashboard(Filters(equals={"subject": "鼎昇消费金融"}))
        assert dict(board["sentiment"]) == {"negative": 1, "neutral": 1}

    # ---- vectors ----------------------------------------------------------------------------
    def test_knn_orders_by_cosine(self, filled):
        hits = filled.knn("mentions", [1, 0, 0, 0], k=3)
        assert [h.id for h in hits] == ["m1", "m8", "m2"]
        assert hits[0].score == pytest.approx(1.0, abs=1e-3)

    def test_filtered_knn(self, filled):
        hits = filled.knn("mentions", [1, 0, 0, 0], k=2, filters=Filters(equals={"channel": "news"}))
        assert [h.id for h in hits] == ["m2", "m6"]

    def test_hybrid_fuses_lexical_and_semantic(self, filled):
        hits = filled.hybrid("mentions", "App 崩溃 转账", [1, 0, 0, 0], k=3)
        assert hits[0].id in {"m1", "m8"}
        assert "关键词" in hits[0].why and "语义" in hits[0].why
        assert filled.hybrid("mentions", "", [0, 0, 0, 1], k=1)[0].id == "m5"
