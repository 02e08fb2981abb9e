from search.query import query_terms
from yuqing.text import add_words, normalize, segment, tokenize


def test_normalize_full_width_and_case():
    assert normalize("ＡＰＰ　崩了！！") == "app 崩了!!"


def test_segmentation_is_shared_and_drops_punctuation():
    assert "，" not in tokenize("银行，崩了")
    assert segment("手机银行崩了") == " ".join(tokenize("手机银行崩了"))


def test_user_words_stay_whole():
    add_words(["鼎昇消费金融"])
    assert normalize("鼎昇消费金融") in tokenize("鼎昇消费金融暴雷了")
    assert normalize("鼎昇消費金融") in tokenize("鼎昇消費金融暴雷了")  # either script, one word


def test_query_terms_are_distinct_capped_and_without_stopwords():
    terms = query_terms("银行 的 银行 了 2024 " + " ".join(f"term{i}x" for i in range(200)))
    assert terms[0] == "银行" and "的" not in terms and "2024" not in terms and len(terms) == 64


def test_parallel_segmentation_matches_sequential():
    from yuqing.text import PARALLEL_FROM, segment_all

    texts = [f"华岳银行第{i}号网点排队两小时，手机银行又崩了" for i in range(PARALLEL_FROM + 100)]
    assert segment_all(texts) == [segment(t) for t in texts]


def test_parallel_segmentation_never_hangs_when_the_main_script_has_no_file():
    import subprocess
    import sys
    from pathlib import Path

    script = ("from yuqing.text import segment_all, segment\n"
              "texts = ['华岳银行App崩了%d' % i for i in range(1200)]\n"
              "assert segment_all(texts) == [segment(t) for t in texts]\nprint('ok')\n")
    result = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "ok", result.stderr[-500:]


def test_traditional_and_simplified_normalise_to_one_form():
    assert normalize("兒童住院，證監會立案") == normalize("儿童住院，证监会立案") == "儿童住院,证监会立案"
    assert tokenize("華岳銀行擠兌") == tokenize("华岳银行挤兑")
