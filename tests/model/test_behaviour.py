"""Behavioural tests (in the manner of Made-With-ML's tests/model): invariance and directional
expectations, run against the registry's champion, or against a baseline trained on the corpus
here when no champion exists (as in CI)."""

from __future__ import annotations

import pytest

from yuqing.labels import TASKS

CLEAR_CASES = [
    "华岳银行手机银行App从早上开始一直登录不了，工资日转不了账，客服电话根本打不进去",
    "鼎昇消费金融的催收员天天打电话骂我爸妈，还威胁要去单位闹，这是人干的事？",
    "安禾化工厂晚上偷偷排黑烟，整个小区都是刺鼻的味道，孩子咳了一晚上",
    "澜山乳业这批奶粉被查出异物，宝妈群里已经炸了，求扩散",
    "星澜科技数据库被黑客攻破，几百万用户的手机号和身份证号在网上被公开售卖",
    "宏建集团在建工地今天下午塔吊倒塌，造成两名工人受伤",
    "汇通财富的理财产品全面暴雷，几千名投资人的钱都提不出来了",
    "速达物流已经拖欠我们快递员三个月工资了，今天几十个人去总部讨薪",
    "金桥证券因违规销售被证监局罚款500万元并责令整改",
    "网传华岳银行资金链断裂要倒闭，银行官方发布声明辟谣，称经营一切正常",
    "澜山乳业向山区小学捐赠了十万盒牛奶，点赞这样的企业",
    "星澜科技发布第三季度财报，营收同比增长12%",
]


@pytest.fixture(scope="module")
def predictor():
    """The registry's champion. A baseline trained here stands in only when no champion is
    registered (as in CI), and the test output says so; a champion that exists but fails to load
    fails these tests (ModelLoadError is not caught)."""
    from yuqing.errors import ModelNotFoundError
    from yuqing.predictor import load_predictor

    try:
        return load_predictor()
    except ModelNotFoundError:
        import warnings

        from training.baseline import BaselinePredictor
        from training.data import corpus_splits

        warnings.warn("no champion registered: behavioural tests run on a baseline trained on the corpus here",
                      stacklevel=1)
        print("\n[behaviour] no champion registered: testing a baseline trained on the corpus here")
        train, _ = corpus_splits()
        return BaselinePredictor.fit(train["text"], {t: train[t] for t in TASKS})


def labels(prediction):
    return {task: getattr(prediction, task) for task in TASKS}


def test_clear_cases_are_labelled_as_expected(predictor):
    expected = ["service_failure", "misconduct", "environmental_pollution", "product_quality", "data_breach",
                "safety_accident", "financial_risk", "labor_dispute", "regulatory_penalty", "rumor", "none", "none"]
    got = [p.crisis_type for p in predictor.predict(CLEAR_CASES)]
    assert sum(g == e for g, e in zip(got, expected)) >= 10, list(zip(expected, got))


@pytest.mark.parametrize("suffix", [" 😡", " 🙏🙏", pytest.param(" #热搜#", marks=pytest.mark.xfail(
    strict=False, reason="known weakness (2026-11-22): the ensemble champion moves one product-quality "
                         "post to rumor when #热搜# is appended; the baseline alone does not"))])
def test_invariant_to_an_appended_emoji_or_hashtag(predictor, suffix):
    before = [labels(p) for p in predictor.predict(CLEAR_CASES)]
    after = [labels(p) for p in predictor.predict([t + suffix for t in CLEAR_CASES])]
    changed = [(t, b, a) for t, b, a in zip(CLEAR_CASES, before, after) if a["crisis_type"] != b["crisis_type"]]
    assert not changed


@pytest.mark.parametrize("old, new", [("华岳银行", "青禾农商银行"), ("星澜科技", "云岫网络"), ("澜山乳业", "北禾乳品")])
def test_invariant_to_the_organisation_name(predictor, old, new):
    texts = [t for t in CLEAR_CASES if old in t]
    before = [labels(p) for p in predictor.predict(texts)]
    after = [labels(p) for p in predictor.predict([t.replace(old, new) for t in texts])]
    assert [b["crisis_type"] for b in before] == [a["crisis_type"] for a in after]
    assert [b["sentiment"] for b in before] == [a["sentiment"] for a in after]


BASE = "星澜科技今天发布了新款智能手机"


@pytest.mark.parametrize("addition, crisis, direction", [
    ("，已有上百名用户集体投诉手机发烫爆炸", "none", "down"),
    ("，但因电池缺陷宣布紧急召回全部首批产品", "product_quality", "up"),
    ("，随后被曝数百万用户个人信息泄露", "data_breach", "up"),
    ("，随后被曝数百万用户个人信息泄露", "none", "down"),
])
def test_crisis_words_move_the_crisis_type(predictor, addition, crisis, direction):
    before, after = predictor.predict([BASE, BASE + addition])
    delta = after.scores["crisis_type"][crisis] - before.scores["crisis_type"][crisis]
    assert delta > 0.05 if direction == "up" else delta < -0.05, delta


@pytest.mark.parametrize("text, sentiment", [
    # 舆情倾向性: orientation toward the organisation's reputation, whoever writes
    ("市场监管总局通报：澜山乳业一批次婴幼儿奶粉抽检不合格，企业已启动召回", "negative"),  # third-party report of a recall
    ("据新华社报道，宏建集团在建工地发生坍塌事故，造成三名工人受伤", "negative"),  # media report of an accident
    ("华岳银行致歉声明：今日上午因系统升级导致部分客户无法登录手机银行，目前已全部恢复，给您带来不便深表歉意", "neutral"),  # its own apology
    ("星澜科技荣获2026年度国家科学技术进步奖一等奖", "positive"),  # an award
    ("澜山乳业向山区小学捐赠十万盒牛奶，并设立乡村教育基金", "positive"),  # charity
    ("华岳银行App真是太棒了，每个月工资日准时崩溃，从不让人失望👍", "negative"),  # sarcasm stays negative
])
def test_sentiment_is_the_orientation_toward_the_organisation(predictor, text, sentiment):
    assert predictor.predict([text])[0].sentiment == sentiment


def test_complaint_word_turns_sentiment_negative(predictor):
    before, after = predictor.predict([BASE, BASE + "，买了三天就坏了，投诉也没人管"])
    assert after.scores["sentiment"]["negative"] > before.scores["sentiment"]["negative"] + 0.1
