from search.query import query_terms
from yuqing.text import add_words, normalize, segment, tokenize


def test_normalize_full_width_and_case():
    assert normalize("ＡＰＰ　崩了！！") == "app 崩了!!"


def test_segmentation_is_shared_and_drops_punctuation():
    assert "，" not in tokenize("银行，崩了")
    assert segment("手机银行崩了") == " ".join(tokenize("手机银行崩了"))


def test_user_words_stay_whole():
    add_words(["鼎昇消费金融"])
    assert "鼎昇消费金融" in tokenize("鼎昇消费金融暴雷了")


def test_query_terms_are_distinct_capped_and_without_stopwords():
    terms = query_terms("银行 的 银行 了 2024 " + " ".join(f"term{i}x" for i in range(200)))
    assert terms[0] == "银行" and "的" not in terms and "2024" not in terms and len(terms) == 64
