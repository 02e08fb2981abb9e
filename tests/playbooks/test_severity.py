"""Severity: Chinese numerals, signal families read from varied phrasings, negation and hypothetical
scope, the guide's decision procedure (SEVERITY.md), the guide's examples, the rule file's
validation and the learned grader's save/load."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
import yaml

from playbooks.severity import RULE_FILE, IncidentMetrics, RuleError, assess, grade, rule_grade, validate_rule
from playbooks.signals import SIGNALS, TextSignals, parse_number, present, read_signals

GUIDE = Path(__file__).parents[2] / "playbooks" / "severity_guide_examples.jsonl"


def assert_reads(text: str, name: str, crisis_type: str | None = None) -> None:
    """The signal `name` is read from `text`; the message lists what was read instead."""
    found = present(read_signals(text, crisis_type))
    assert name in found, (text, found)


def assert_does_not_read(text: str, name: str, crisis_type: str | None = None) -> None:
    found = present(read_signals(text, crisis_type))
    assert name not in found, (text, found)


@pytest.mark.parametrize("text, value", [
    ("3.2万", 32_000), ("1.5亿", 150_000_000), ("两千余", 2000), ("800万", 8_000_000), ("1,200", 1200),
    ("十余", 10), ("上千", 1000), ("一千二百", 1200), ("三万五千", 35_000), ("两亿", 200_000_000), ("十五", 15),
    ("数百", 300), ("近万", 9000), ("１２００", 1200), ("数十", 30), ("近百", 90), ("百余", 100), ("多名", 3),
    ("三百来", 300), ("数十万", 300_000),
])
def test_chinese_numbers(text, value):
    assert parse_number(unicodedata.normalize("NFKC", text)) == value


def test_signal_registry_is_the_one_place_names_live():
    fields = set(TextSignals.model_fields) - {"platform_names", "evidence"}
    assert fields == set(SIGNALS)
    rule = yaml.safe_load(RULE_FILE.read_text(encoding="utf-8"))
    assert set(rule["thresholds"]) | set(rule["levels"]) == set(SIGNALS)


def test_signals_read_from_text():
    s = read_signals("视频播放量达1.2亿，转发3.2万次，已致2人死亡、15人受伤，涉及用户约两千余人，金额约800万元，"
                     "央视报道后登上微博热搜第一，警方已立案调查，企业超过30小时未回应")
    assert (s.views, s.reposts, s.deaths, s.injured, s.amount_yuan) == (1.2e8, 32_000, 2, 15, 8e6)
    assert s.affected_people == 2000 and s.unanswered_hours == 30
    assert s.central_media and s.national_hot_search and s.regulator_formal


# ---- each family from phrasings written here (not taken from the incident sets) ----------------

@pytest.mark.parametrize("text, name", [
    # F market reaction
    ("受此消息影响，云帆科技股价午后封死跌停", "stock_drop_pct"),
    ("公司股票今日暴跌，市值一天蒸发逾40亿", "stock_drop_pct"),
    ("标普将该集团主体信用评级由BBB下调至BB+", "rating_downgrade"),
    ("某评级机构把公司展望调为负面", "rating_watch"),
    ("其发行的一只公司债已构成实质违约", "bond_default"),
    ("该笔中票未按期付息，目前处于宽限期", "grace_period"),
    ("上百名投资者已向法院提起集体诉讼", "class_action"),
    ("两家律所发布公告征集受损投资者索赔", "investor_claims"),
    ("多名用户称账户余额被盗刷", "money_loss"),
    ("金融监管局决定暂停该小贷公司全部新增放贷业务", "regulator_formal"),
    ("区市场监管局已封存涉事批次并抽样送检", "regulator_attention"),
    # D / E health and vulnerable people
    ("两名学生食用午餐后呕吐，其中一人住院治疗", "vulnerable_harmed"),
    ("附近村庄三十余名孩子体检发现血铅超标", "harm_severe"),
    ("一名住户吸入烟雾后被送往区医院", "harm_reported"),
    ("有护工被拍到辱骂卧床老人", "vulnerable_targeted"),
    ("泄露字段包括身份证号码及绑定的银行卡号", "sensitive_data"),
    # G collective action
    ("约两百名业主拉起横幅在售楼处聚集", "collective_action"),
    ("储户在多家网点门口排起长队取款", "collective_major"),
    ("五个城市的快递站点同日集体停工", "collective_major"),
    ("受影响商户已自发组建维权群", "collective_action"),
    # H operational scale
    ("暴雨导致机场取消航班三百余班", "flights_cancelled"),
    ("转运中心瘫痪，数万件快件滞留", "parcels_stranded"),
    ("故障导致地铁二号线全线停运", "total_outage"),
    ("爆管造成片区停水，约三千户受影响", "total_outage"),
    # C / I regulator
    ("县应急管理局责令该厂停产整顿", "regulator_formal"),
    ("省生态环境厅对该问题挂牌督办", "regulator_formal"),
    ("市市场监管局已约谈平台负责人", "regulator_attention"),
    # A reach and media
    ("相关话题在微博、抖音、快手、知乎均有讨论", "platforms"),
    ("此事被人民日报客户端转载", "central_media"),
    # J loss of control
    ("被消协点名后，这款电暖器仍在多个直播间销售", "still_on_sale"),
    # other wordings of the same families (December)
    ("暗网有卖家挂出该医院患者的问诊记录和诊断结论", "sensitive_data"),
    ("据省纪委监委消息，该集团原副总经理被开除党籍，涉嫌犯罪问题移送检察机关", "regulator_formal"),
    ("中央第二生态环境保护督察组点名该化工园区", "regulator_formal"),
    ("劳动监察大队今天到厂里调取了考勤材料", "regulator_attention"),
    ("市体育局当晚约谈了俱乐部负责人", "regulator_attention"),
    ("怀孕七个月的店员被强行调岗到仓库", "vulnerable_targeted"),
    ("分行门口一早排起长队，不少储户要求取出存款", "collective_action"),
    ("二十多位家长堵在校区前台要求退费", "collective_action"),
])
def test_family_signals_from_varied_phrasings(text, name):
    assert_reads(text, name)


# ---- Traditional script, Cantonese, English and other currencies (the same families) -----------

@pytest.mark.parametrize("text, name", [
    ("據報有三名長者食用後要入院留醫", "vulnerable_harmed"),
    ("一個 BB 飲完之後被 admitted to hospital 觀察", "vulnerable_harmed"),
    ("暴雨下機場全日 cancel 咗二百幾班", "flights_cancelled"),
    ("全港 fibre 用戶今朝 data 全斷", "total_outage"),
    ("六個城市嘅轉運站同步罷工", "collective_major"),
    ("多家门店出现会员排队退费，人数上千", "collective_major"),
    ("網信辦要求應用商店下架該App", "regulator_formal"),
    ("監管機構宣布暫停該券商牌照三個月", "regulator_formal"),
    ("受影響的帳戶有好幾萬個", "affected_people"),
    ("该平台近五百名小学生的姓名与家长电话被打包售卖", "sensitive_data"),
    ("有 hacker 喺網上放出診所病人資料，包括身份證號碼同診斷紀錄", "sensitive_data"),
    ("荃灣同旺角幾間分行門口都有人排長龍攞錢", "collective_major"),
    ("人太多，要警察到場維持秩序", "collective_major"),
    ("派出所嘅警員都到咗場了解情況", "regulator_attention"),
    ("網站今日 crashed 咗成個下晝", "partial_outage"),
    ("兩份英文報章都有跟進", "local_media"),
])
def test_families_read_in_other_scripts_and_registers(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name, value", [
    ("那条爆料视频两天转了2.3万", "reposts", 23000),  # 转了 without 次
    ("呢個 post 轉咗差唔多 5,000 次", "reposts", 5000),
    ("外泄的会员资料约1.2万条", "affected_people", 12000),
    ("估计涉及6万份保单", "affected_people", 60000),
    ("工厂约800名工人昨日开始 strike，要求补发加班费", "crowd_size", 800),
    ("约14万名投保人的保单信息被挂出", "affected_people", 140000),
    ("共有17名食客吃完同一批次凉拌菜后出现腹泻就诊", "injured", 17),
    ("两天来公司一直没有发过任何说明", "unanswered_hours", 48),
    ("泄露的是约3.1万户已实名认证用户的资料", "affected_people", 31000),
    ("卖家在帖子里号称总量120万条", "affected_people", 1_200_000),
    ("这家平台因违规收集信息被罚80万", "fine_yuan", 800_000),
    ("12315平台上的投诉本月新增了九十多条", "complaints", 90),
])
def test_counts_read_from_other_verb_forms(text, name, value):
    assert getattr(read_signals(text), name) == pytest.approx(value), present(read_signals(text))


def test_years_ages_and_line_numbers_are_not_counts():
    signals = read_signals("网上又翻出2019年那段工人堵门讨薪的视频")
    assert (signals.crowd_size or 0) < 10, present(signals)
    assert read_signals("5号线停运") .affected_people is None
    assert read_signals("3岁儿童误食后送医").injured in (None, 1.0)
    assert read_signals("包裹普遍延误三到五天").flights_cancelled is None  # days, not flights


def test_english_negation_cancels_a_fact():
    assert "collective_action" not in present(read_signals("Engineers complained online. No walkout, no media."))
    assert read_signals("No.2 厂房昨夜爆炸，致3人死亡").deaths == 3  # No.2 is a name, not a negation


def test_stuck_in_traffic_is_not_a_protest():
    assert "collective_action" not in present(read_signals("台风天不少乘客堵在路上两个多小时"))


@pytest.mark.parametrize("text, field, yuan", [
    ("詐騙集團共騙走新台幣五千萬元", "amount_yuan", 5e7 * 0.22),
    ("證監會罰款 HK$2,000 萬", "fine_yuan", 2e7 * 0.92),
    ("該行在紐約被監管機構罰款 300 萬美元", "fine_yuan", 3e6 * 7.2),
    ("涉案资金3000万元，另被罚款 HK$1.2 亿", "amount_yuan", 3e7),
    ("英國監管機構對該行罰款 £80 萬", "fine_yuan", 8e5 * 9.1),
    ("資料保護專員公署對其罰款 S$30 萬", "fine_yuan", 3e5 * 5.4),
])
def test_other_currencies_are_converted_to_yuan(text, field, yuan):
    assert getattr(read_signals(text), field) == pytest.approx(yuan, rel=0.01), present(read_signals(text))


def test_loose_magnitudes():
    assert read_signals("数十名居民头晕就医").injured == 30
    assert read_signals("一百多名家长联名投诉").crowd_size >= 100
    assert read_signals("数百个航班被取消").flights_cancelled == 300
    assert read_signals("事故造成十余人受伤").injured == 10


# ---- negation, hypotheticals, rumors, look-alikes ---------------------------------------------

@pytest.mark.parametrize("text, name", [
    ("这件事没上热搜，讨论很少", "hot_search"),
    ("目前没有抖音、微博搬运", "platforms"),
    ("尚无央媒关注此事", "central_media"),
    ("事故未造成人员伤亡", "deaths"),
    ("现场无人受伤", "harm_reported"),
    ("逾期未整改的，将移送公安机关处理", "regulator_formal"),
    ("如发现问题将责令停产整顿", "regulator_formal"),
    ("极端情况下可能导致起火", "harm_reported"),
    ("酒楼暂停营业配合检查", "regulator_formal"),  # the company's own closure
    ("公司约谈了涉事供应商", "regulator_attention"),  # the company's own meeting
    ("有街坊将CCTV片段放上网", "central_media"),  # a surveillance camera
    ("视频播放2万次", "reposts"),  # a play is not a repost
    ("这款车冬天续航几乎腰斩", "stock_drop_pct"),  # not a share price
    ("建议盯住央媒和全国热搜，出现即重评", "central_media"),  # a watch instruction, not a fact
    ("网银系统升级维护暂停服务约30分钟，现已恢复", "partial_outage"),  # a short outage already over
    ("涉事店长已暂停工作，配合调查", "collective_action"),  # one person suspended, not a stoppage
    ("伤者经全力抢救已脱离生命危险", "harm_severe"),  # the rescue worked
    ("井下探头报警后系统自动断电，人员撤离", "total_outage"),  # a safety cut-off, not a utility cut
    ("广告宣称“三天祛斑”却无法提供检测报告", "outage_hours"),  # a slogan, not three days down
    ("“全市地铁全线停运”一说在群里流传，实际只是一个站口临时封闭", "total_outage"),  # a quoted claim
    ("车主群五百多人，目前只有他一个人遇到", "crowd_size"),  # a fan group's size is not a crowd
    ("截至中午全网相关信息共45条", "multi_platform"),  # a monitoring count, not web-wide spread
    ("伤者说小伤不用去医院，自己回家了", "harm_reported"),  # declined care
])
def test_negated_hypothetical_and_lookalike_facts_do_not_count(text, name):
    assert_does_not_read(text, name)


@pytest.mark.parametrize("text, name", [
    ("区国资委通报了集团下属公司负责人违规收受礼金问题", "regulator_attention"),
    ("县卫健委下午打来电话了解情况", "regulator_attention"),
    ("有人把几百名患者的病历挂到了论坛上", "sensitive_data"),
    ("专项资金被挪用，本该发给留守儿童的营养餐补助迟迟未到", "vulnerable_targeted"),
    ("市交通广播早高峰连线报道了此事", "local_media"),
    ("几家网媒都做了转载", "local_media"),
    ("嘉兴、湖州、舟山三地的配送站今天同时停工", "collective_major"),
    ("省通信管理局上午来电，约公司负责人明天面谈", "regulator_attention"),
    ("公司的增值电信业务许可被暂停", "regulator_formal"),
    ("警方已拘捕涉事保安", "regulator_formal"),
    ("骗子打来电话能讲得出客户的身份证号码和银行卡号", "sensitive_data"),
    ("约3万名股民的身份证号、证券账户被打包出售", "sensitive_data"),
    ("托育中心系统漏洞，幼儿的照片和接送时间可以被人直接捞出", "sensitive_data"),
    ("一名孕晚期的护士连续值班后在病房晕倒", "harm_reported"),
    ("营业厅经理当众呵斥一位来交话费的老人", "vulnerable_targeted"),
    ("不少客户是退休老人，投进去的是养老钱", "vulnerable_targeted"),
    ("上百名储户的工资卡被系统误冻结", "money_loss"),
])
def test_new_agencies_leaks_and_media_phrasings(text, name):
    assert_reads(text, name)


def test_store_closures_are_the_event_itself_for_a_financial_risk():
    # SEVERITY.md ruling w1-066: closing stores is what the cash trouble looks like, so it does not combine
    text = ("连锁瑜伽馆“轻岚”本市6家门店昨起闭店，约1500名会员的储值卡无法使用，今天五十多名会员到总部维权，"
            "本地论坛有讨论。")
    assert rule_grade(text, crisis_type="financial_risk").severity == "general"
    aged = text.replace("五十多名会员", "五十多名以老人为主、投进去的是养老钱的会员")
    assert rule_grade(aged, crisis_type="financial_risk").severity == "major"  # vulnerable people still combine


# ---- English briefs (mixed_lang): the same families, read in English ----------------------------

@pytest.mark.parametrize("text, name", [
    ("The clip has drawn about 3.4 million views on Douyin.", "views"),
    ("Roughly 2,700 reposts within a day.", "reposts"),
    ("Three local newspapers ran the story on Tuesday.", "local_media"),
    ("Xinhua and state media have since weighed in.", "central_media"),
    ("The topic sits at No. 3 on Weibo's national hot-search list.", "national_hot_search"),
    ("The city market regulator fined the chain RMB 2.4 million.", "fine_yuan"),
    ("The provincial environment bureau took samples from the outfall.", "regulator_attention"),
    ("Police have arrested the site manager.", "regulator_formal"),
    ("Four workers were taken to hospital with burns.", "injured"),
    ("A misconfigured server exposed 30,000 customers' ID numbers and bank card numbers.", "sensitive_data"),
    ("Two national supermarket chains have pulled the product.", "consumer_backlash"),
    ("The ferry operator suspended all sailings for the day.", "total_outage"),
    ("Dozens of depositors protested outside the head office.", "collective_action"),
    ("The company has not responded for four days.", "unanswered_hours"),
    ("Fitch revised the outlook to negative.", "rating_watch"),
])
def test_english_phrasings_of_the_families(text, name):
    assert_reads(text, name)


def test_english_numbers_and_negations():
    assert read_signals("The post got 1.2 million views.").views == 1_200_000
    assert read_signals("Tens of thousands of users were affected.").affected_people == 30_000
    assert "harm_reported" not in present(read_signals("A battery smoked briefly; nobody hurt."))
    assert "deaths" not in present(read_signals("No one died and no one was injured."))


@pytest.mark.parametrize("text, name", [
    ("【舆情日报】来源：微博｜内容：网友吐槽门店排队久", "local_media"),  # the memo's own header
    ("商场一家店铺电线短路，保安随即断电处置，十分钟后恢复营业", "total_outage"),  # a shop's power, not a utility
    ("帖子约50个赞", "mentions"),  # likes are not posts
    ("骑手摔倒擦伤膝盖，自行贴了创可贴，没有就医", "harm_reported"),  # a scrape self-treated
    ("一辆大巴空调冒烟，司机停驶检查", "partial_outage"),  # one vehicle, not a line
    ("The rumour spread on social media overnight.", "local_media"),  # social media is not the press
    ("Dead fish were seen along the river bank.", "deaths"),  # fish, not people
    ("The company's shares rallied after the statement.", "collective_action"),
    ("Sales were hurt by the recall.", "harm_reported"),
    ("董事长在金融论坛上的发言被剪辑成短视频", "platforms"),  # a conference, not a web forum
    ("The app is still available but slow.", "still_on_sale"),
])
def test_more_lookalikes_do_not_count(text, name):
    assert_does_not_read(text, name)


@pytest.mark.parametrize("text, name", [
    ("受线路故障影响，城东片区约8000户居民家中停电", "total_outage"),
    ("锅炉故障致辖区9个小区供暖中断", "total_outage"),
    ("受罢工影响，全市公交基本停摆", "total_outage"),
    ("人民银行分行决定暂停其支付业务三个月", "regulator_formal"),
    ("金管局宣布撤销该公司的储值支付牌照", "regulator_formal"),
    ("中央第三生态环境保护督察组通报典型案例", "regulator_formal"),
    ("有8个人说用完去了皮肤科", "injured"),
    ("县市场监管局上午到仓库抽了两批次的样", "regulator_attention"),
    ("电商店铺的链接都还挂着", "still_on_sale"),
    ("已经连续五天没有任何官方回应", "unanswered_hours"),
    ("两个网点门口连续两天排起长队取钱", "collective_major"),
    ("五条公交线路的司机集体停驶", "partial_outage"),
    ("市台新闻栏目今晚播出", "local_media"),
])
def test_utilities_orders_and_phrasings_from_new_writers(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name", [
    ("人行市中心支行下午来电，约公司负责人明早面谈", "regulator_attention"),
    ("区卫生健康局已介入调查", "regulator_attention"),
    ("约8000名用户被重复扣款", "money_loss"),
    ("监管部门对其罚没款合计2.1亿元", "fine_yuan"),
    ("约300名孕妇的产检报告可被他人直接下载", "sensitive_data"),
    ("主播在直播中模仿一名听障粉丝说话", "vulnerable_targeted"),
    ("一名78岁的老人受惊吓后住院", "vulnerable_harmed"),
    ("理财经理引导多位七旬老人把存款转投高风险产品", "vulnerable_targeted"),
    ("近千名职工今天一早就在集团总部大楼门口聚集", "crowd_size"),
    ("因改革争议，司机集体未出车，全市公交停运", "total_outage"),
    ("Moody's downgraded the group's issuer rating to Ba2.", "rating_downgrade"),
    ("The agency placed the bonds on its watch list.", "rating_watch"),
    ("The outage led to the cancellation of 280 flights.", "flights_cancelled"),
    ("More than a dozen passengers were injured and taken to hospital.", "injured"),
    ("Four residents went to a community clinic with headaches.", "injured"),
    ("The story was on local news this morning.", "local_media"),
    ("两天来话题持续发酵，我们到现在一个字都没发", "unanswered_hours"),
])
def test_phrasings_from_writers_w12_and_w13(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name, crisis_type", [
    ("12345热线转来一张工单，市民反映楼道灯不亮", "affected_people", None),  # a hotline number
    ("公司宣布欠费停水期限顺延5天", "outage_hours", None),  # a policy, not a cut
    ("公司宣布欠费停水期限顺延5天", "total_outage", None),
    ("据本地晚报报道，多名家长反映某款儿童滑板车刹车失灵，一名5岁男孩摔倒擦伤，到诊所处理后当天回家", "vulnerable_harmed", None),
    ("证监局向公司出具警示函，责令其对信息披露进行自查", "regulator_attention", "regulatory_penalty"),
    ("集团内部通报了这起违规事件", "regulator_attention", None),
    ("门店贴出SGS检验报告后，群里转发的人少了", "sensitive_data", None),
])
def test_lookalikes_from_writers_w12_and_w13(text, name, crisis_type):
    assert_does_not_read(text, name, crisis_type)


@pytest.mark.parametrize("text, name", [
    ("派出所已对造谣者予以训诫", "regulator_attention"),
    ("The regulator has suspended the broker's margin-lending business for six months.", "regulator_formal"),
    ("About 80 residents signed a joint letter to the district office.", "collective_action"),
    ("Queues formed at three branches as depositors rushed to withdraw.", "collective_major"),
    ("An 81-year-old man was admitted to hospital with a fracture.", "vulnerable_harmed"),
    ("The agent steered retired teachers into a high-risk fund.", "vulnerable_targeted"),
    ("约5万条订单的收件人姓名、电话和详细住址在黑产群被卖", "sensitive_data"),
    ("The dump on a dark-web forum holds ID numbers and bank card numbers.", "sensitive_data"),
    ("About RMB 40m of principal is now frozen.", "money_loss"),
    ("Shares of the group closed down 8.3% on Friday.", "stock_drop_pct"),
    ("评级公司将其主体信用等级由AA+下调至AA", "rating_downgrade"),
    ("两家连锁超市和一家母婴店已将该系列下架", "consumer_backlash"),
    ("约30个家庭取消预订", "consumer_backlash"),
    ("The hashtag reached No. 2 on Weibo's hot search list.", "national_hot_search"),
    ("Several financial outlets questioned the figures.", "local_media"),
    ("The hotel has said nothing publicly in the three days since.", "unanswered_hours"),
    ("The same model is still listed and selling on two platforms.", "still_on_sale"),
    ("The airline reported 38 cancellations on Monday.", "flights_cancelled"),
    ("分拣中心爆仓，积咗大概3万件", "parcels_stranded"),
    ("负面占比已经七成", "negative_share_pct"),
    ("讨论量系平时嘅四倍", "spike_ratio"),
    ("同事今早说大概 reposts 已经五千多", "reposts"),
    ("【都市快报】多名读者向本报反映", "local_media"),
])
def test_phrasings_from_writers_w15_and_w16(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name, crisis_type", [
    ("【值班快报】今日一台闸机故障约10分钟", "local_media", None),  # the memo's own header
    ("我自己决定今天门店暂停营业消毒", "regulator_formal", None),  # the company's own decision
    ("监管部门责令超市将不合格的一批芹菜下架封存", "regulator_formal", None),  # routine removal of a batch
    ("经调取在线监测数据，排放浓度均符合标准限值。——区生态环境分局", "regulator_attention", None),
    ("视频播放合计约180万", "amount_yuan", None),  # plays, not money
])
def test_lookalikes_from_writers_w15_and_w16(text, name, crisis_type):
    assert_does_not_read(text, name, crisis_type)


def test_soon_after_is_not_a_denial():
    assert read_signals("开盘没多久就跌停了").stock_drop_pct == 10  # 没多久 is "soon", not a denial


@pytest.mark.parametrize("text, name", [
    ("孩子起了疹子，在村卫生室旁边的诊所看过，开了点药", "harm_reported"),
    ("3名幼儿手臂有淤青，已由家长带至医院检查", "vulnerable_harmed"),
    ("二十多名工人在食堂吃过午饭后出现呕吐、腹泻", "injured"),
    ("Tests found blood lead above the limit in four children.", "harm_severe"),
    ("全市140多条公交线路停运约三个小时", "total_outage"),
    ("水管爆咗，成个村都冇水", "total_outage"),
    ("约8000件包裹未能按时发出", "parcels_stranded"),
    ("该型号仍在县城多家超市和乡镇商店货架上销售", "still_on_sale"),
    ("Following an order from the city market regulator, the firm is recalling 5,000 kettles.", "regulator_formal"),
    ("省药监局责令县里一家饮片有限公司暂停生产销售", "regulator_formal"),
    ("一百几个工人坐喺厂门口唔肯开工", "collective_action"),
])
def test_phrasings_from_writer_w14(text, name):
    assert_reads(text, name)


def test_an_elevator_paused_for_repair_is_not_a_stoppage():
    assert "partial_outage" not in present(read_signals("景区当晚致歉，电梯暂停运行检修"))
    refunded = ("健身房一家分店关门，有人说老板跑路。会员卡可以转到别的店，不想转的按剩余次数退钱，"
                "目前退了二十来个人、三万多块。")
    assert rule_grade(refunded, crisis_type="financial_risk").severity == "minor"  # ruling w8-076


def test_a_quoted_title_is_a_claim_and_money_is_not_a_crowd():
    titled = read_signals("A post titled '某某物流大批员工被裁' is in fact about nine contract workers.", "labor_dispute")
    assert titled.affected_people == 9  # not the title's 大批 (≈ 1,000)
    assert (read_signals("40余名工人因拖欠工资约60万元停工").crowd_size or 0) < 100  # not 600,000 people


def test_a_notice_signed_by_an_agency_is_the_agency_acting():
    text = "经查，网民王某编造某银行将倒闭的信息。公安机关已依法对其予以训诫。——某市公安局某某分局"
    assert "regulator_attention" in present(read_signals(text, "rumor"))
    small = "当事人在海报中使用绝对化用语。本局决定责令当事人停止发布上述广告，并处罚款人民币3,000元。——某区市场监督管理局"
    assert rule_grade(small, crisis_type="regulatory_penalty").severity == "minor"  # a small penalty (§3.1)


def test_amount_of_unused_prepaid_classes_is_an_amount():
    assert read_signals("预收学费中未消课部分约1.3亿元").amount_yuan == pytest.approx(1.3e8)
    assert read_signals("受影响的客户约1.2w").affected_people == pytest.approx(12_000)
    assert read_signals("一周内退费涉及约70万元").affected_people is None  # money, not people


def test_an_outage_duration_in_the_next_clause_counts():
    assert read_signals("结算系统自昨日起瘫痪，持续约28小时").outage_hours == 28


def test_money_already_being_refunded_at_one_shop_is_minor():
    # SEVERITY.md ruling w8-076: the feared loss did not happen
    text = ("有网友发帖称“青柠瑜伽卷款跑路”。实际是青柠瑜伽湖西店租约到期关门，约60名会员可以到其余门店继续上课，"
            "也可以申请退款，已有二十多人办完退款。")
    assert rule_grade(text, crisis_type="financial_risk").severity == "minor"
    stalled = text.replace("已有二十多人办完退款", "但退款申请两周来无人处理")
    assert rule_grade(stalled, crisis_type="financial_risk").severity == "general"
    stolen = "约30个账户余额被盗刷，合计约2万元，平台已先行垫付。"
    assert rule_grade(stolen, crisis_type="financial_risk").severity == "general"  # a real loss, even if repaid


def test_rumored_harm_is_not_counted_for_a_rumor():
    text = "网传“某乳企奶粉致多名婴儿住院”的帖子在微博流传，转发约200次，经核实为谣言"
    assert rule_grade(text, crisis_type="rumor").severity == "minor"


def test_local_hot_search_is_not_national():
    s = read_signals("登上本地热搜第3")
    assert s.hot_search and not s.national_hot_search


# ---- the decision procedure ------------------------------------------------------------------

@pytest.mark.parametrize("reposts, expected", [(999, "minor"), (1000, "general"), (9999, "general"), (10000, "major")])
def test_repost_boundaries(reposts, expected):
    assert rule_grade(f"相关微博转发{reposts}次", crisis_type="misconduct").severity == expected


def test_below_a_round_number_stays_below():
    assert rule_grade("微博转发不足1000次", crisis_type="misconduct").severity == "minor"


def test_crisis_type_weight_scales_reach():
    assert rule_grade("转发900次", crisis_type="safety_accident").severity == "general"  # 900 × 1.5
    assert rule_grade("转发1200次", crisis_type="rumor").severity == "minor"  # 1200 × 0.8


def test_any_death_is_major_and_reasons_are_chinese():
    result = grade("工地发生坍塌，1名工人死亡", crisis_type="safety_accident")
    assert result.severity == "major" and any("死亡" in r for r in result.reasons)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r) for r in result.reasons)


def test_two_general_harm_families_combine_into_major():
    text = "某理财平台多名客户资金被盗刷，合计约300万元；另有孕期员工被违规辞退"
    a = assess(text, crisis_type="misconduct")
    assert a.base_level == 1 and a.combination == "a" and a.level == 2
    assert any("组合(a)" in r for r in a.reasons)


def test_attention_families_alone_do_not_combine():
    text = "一段高管失言视频转发约8000次，阅读约9000万，七家地方媒体评论，区市场监管局已约谈公司"
    assert rule_grade(text, crisis_type="misconduct").severity == "general"


def test_the_event_itself_is_not_the_second_family():
    text = "约300名工人停工讨薪，本地电视台报道，劳动监察大队已到场"
    assert rule_grade(text, crisis_type="labor_dispute").severity == "general"
    assert rule_grade(text + "，冲突中2人受伤送医", crisis_type="labor_dispute").severity == "major"


def test_near_threshold_reach_with_harm_is_major():
    assert rule_grade("话题阅读7000万，一名顾客烫伤就医", crisis_type="misconduct").severity == "major"
    assert rule_grade("话题阅读7000万", crisis_type="misconduct").severity == "general"


def test_metric_escalations():
    calm = IncidentMetrics(mentions=10, negative_share=0.5, max_reposts=1000)
    assert rule_grade("", calm).severity == "minor"  # thresholds are "above"
    assert rule_grade("", IncidentMetrics(mentions=10, negative_share=0.51)).severity == "general"
    both = rule_grade("", IncidentMetrics(mentions=10, negative_share=0.8, max_reposts=1500))
    assert both.severity == "major" and len(both.reasons) == 2
    spike = IncidentMetrics(mentions=40, mentions_last_hour=15, baseline_per_hour=4)  # 3.75× the baseline
    assert rule_grade("", spike).severity == "general"


def test_a_small_fine_is_the_event_for_a_penalty():
    text = "区市场监管局公示处罚：某药店因违规被罚款2万元，阅读约1200"
    assert rule_grade(text, crisis_type="regulatory_penalty").severity == "minor"
    assert rule_grade("某银行被罚款380万元", crisis_type="regulatory_penalty").severity == "general"
    assert rule_grade("某公司被罚款2.3亿元", crisis_type="regulatory_penalty").severity == "major"


def test_long_silence_while_spreading_escalates():
    result = rule_grade("话题在微博、抖音、小红书多平台扩散，企业已超过30小时未回应", crisis_type="service_failure")
    assert result.severity == "major"
    early = rule_grade("话题在微博、抖音、小红书多平台扩散，企业尚未回应", crisis_type="service_failure")
    assert early.severity == "general"


# ---- the guide's examples ----------------------------------------------------------------------

GUIDE_ROWS = [json.loads(line) for line in GUIDE.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("row", GUIDE_ROWS, ids=[r["id"] for r in GUIDE_ROWS])
def test_guide_examples_grade_as_the_guide_says(row):
    result = rule_grade(row["text"], crisis_type=row["crisis_type"])
    assert result.severity == row["severity"], result.reasons
    assert grade(row["text"], crisis_type=row["crisis_type"]).severity == row["severity"]


# ---- the rule file -----------------------------------------------------------------------------

def test_misspelt_key_in_the_rule_file_fails_with_its_name():
    rule = yaml.safe_load(RULE_FILE.read_text(encoding="utf-8"))
    rule["thresholds"]["repost"] = rule["thresholds"].pop("reposts")
    with pytest.raises(RuleError, match=r"thresholds: unknown key 'repost' \(did you mean 'reposts'\?\)"):
        validate_rule(rule)
    rule = yaml.safe_load(RULE_FILE.read_text(encoding="utf-8"))
    rule["levels"]["central_media"] = 3
    with pytest.raises(RuleError, match=r"levels.central_media"):
        validate_rule(rule)
    rule = yaml.safe_load(RULE_FILE.read_text(encoding="utf-8"))
    del rule["levels"]["hot_search"]
    with pytest.raises(RuleError, match=r"no entry for signal.*hot_search"):
        validate_rule(rule)


def test_an_old_settled_event_reposted_is_graded_by_its_new_spread():
    old = ("有营销号又翻出三年前那起幼儿园食物中毒、12名孩子住院的旧闻，配上耸动标题。当年涉事企业已于事后全部赔付、"
           "负责人已被追责。本次转发约300次。")
    result = rule_grade(old, crisis_type="product_quality")
    assert result.severity == "minor" and any("旧闻翻炒" in r for r in result.reasons), result.reasons
    wide = old.replace("本次转发约300次。", "本次转发约2.3万次。")
    assert rule_grade(wide, crisis_type="product_quality").severity == "major"  # the new spread still counts
    consequence = old.replace("本次转发约300次。", "翻炒引发数十名家长再次聚集到园门口。")
    assert rule_grade(consequence, crisis_type="product_quality").severity != "minor"  # new facts count


def test_an_old_event_with_a_death_is_not_capped():
    text = "旧帖又被翻出：当年那起厂房坍塌造成2名工人死亡，企业早已赔付。本次转发约50次。"
    assert rule_grade(text, crisis_type="safety_accident").severity == "major"


@pytest.mark.parametrize("text, name", [
    ("南方三个城市的外卖骑手同一天集体不接单", "collective_major"),
    ("Couriers in 4 cities went offline together this morning over the new fee rules.", "collective_major"),
    ("A walkout by van drivers has now spread to depots in several cities.", "collective_major"),
    ("两个分拨中心的货车司机今早同时停车", "collective_major"),
    ("燃气公司四个营业厅门口一早排起长队，市民要求退卡", "collective_major"),
    ("港媒报道了回收场连日焚烧电线外皮的事", "local_media"),
    ("環保署人員今日到場調查", "regulator_attention"),
    ("该平台被监管部门叫停新增放贷", "regulator_formal"),
    ("Regulators ordered the Shenzhen-based online lender to suspend all new loans.", "regulator_formal"),
    ("市金融办下发通知：即日起暂停该公司与外部渠道合作的全部新增业务", "regulator_formal"),
    ("省网信办通报，“某某”App因违规收集信息，即日起各应用商店下架整改", "regulator_formal"),
    ("早高峰地铁全线网停运两个多小时", "total_outage"),
    ("客户充了钱一直没到账", "money_loss"),
    ("到期的理财本金付不出来了", "money_loss"),
    ("A file with staff ID numbers, bank card numbers and home addresses was posted in a Telegram group.", "sensitive_data"),
    ("仓库十几名分拣工中暑，送到医院输液", "injured"),
    ("Eleven pickers collapsed from the heat and are on drips at the district hospital.", "injured"),
    ("Two villagers got rashes and went to 镇卫生院 for treatment.", "harm_reported"),
])
def test_phrasings_from_writers_w17_to_w20(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name, value", [
    ("初步估计损失三百多万", "amount_yuan", 3_000_000),  # the filler before a number does not eat it
    ("兑付不了的本金有1.6个亿", "amount_yuan", 160_000_000),
    ("数据库被拖，卖家挂出约8万条，含姓名、身份证号和手机号", "affected_people", 80_000),
    ("话题阅读已到 3,200 万", "views", 32_000_000),
])
def test_magnitudes_from_writers_w17_to_w20(text, name, value):
    assert getattr(read_signals(text), name) == value, read_signals(text).evidence


def test_a_quoted_claim_followed_by_a_denial_is_a_claim():
    text = "有人在群里说这家店“被查封了”，没有的事，只是一张八千元的罚单"
    assert "regulator_formal" not in present(read_signals(text, "regulatory_penalty"))


def test_money_paid_late_and_already_reissued_is_minor():
    text = "两位会员说余额提现一周还没到账，财务查明是系统切换漏了批次，已经补发，合计一千多块"
    assert rule_grade(text, crisis_type="financial_risk").severity == "minor"


@pytest.mark.parametrize("text, name", [
    ("The vice-chairman has been placed in liuzhi by the provincial supervisory commission.", "regulator_formal"),
    ("The clinic's practising licence has been revoked by the city health commission.", "regulator_formal"),
    ("The Regulatory Bureau sent a letter of inquiry to the lender.", "regulator_attention"),
    ("EPD officers inspected the landfill twice this week.", "regulator_attention"),
    ("Police said they were looking into the video.", "regulator_attention"),
    ("Shares went limit-down within an hour of the open.", "stock_drop_pct"),
    ("The clip was aired by CCTV's consumer-rights programme on Friday.", "central_media"),
    ("The post was reposted about 4,500 times overnight.", "reposts"),
    ("Tap water to the whole district has been cut off since dawn.", "total_outage"),
    ("Two estates went without heating on the coldest night of the year.", "total_outage"),
    ("Long lines of pensioners formed outside several branches of the credit union.", "collective_major"),
    ("Riders staged stoppages in at least a dozen cities.", "collective_major"),
    ("Protesters blocked the highway for an hour.", "collective_major"),
    ("Some 40 depositors queued at the main branch to withdraw their savings.", "collective_action"),
    ("Staff were steering pensioners into high-fee products.", "vulnerable_targeted"),
    ("Two residents aged 81 and 86 were admitted to hospital after missing their insulin doses.", "vulnerable_harmed"),
])
def test_english_phrasings_from_writer_w21(text, name):
    assert_reads(text, name)


def test_english_counts_several_words_from_their_nouns():
    crowd = read_signals("More than 1,200 workers from the company's eastern plant gathered outside the offices.")
    assert crowd.crowd_size == 1200
    leak = read_signals("A dark-web listing claims records of ~70,000 Acme Car Hire customers, with ID card numbers, "
                        "licence numbers and the bank card numbers used for deposits.", "data_breach")
    assert leak.affected_people == 70_000 and leak.sensitive_data
    hurt = read_signals("Dozens of residents living near the plant on the river's east bank were taken to hospital.")
    assert hurt.injured == 30


def test_a_repackaged_old_leak_is_an_old_event():
    text = ("A forum is selling '400k customer records', but it is a repackaged copy of the 2020 leak the company "
            "disclosed at the time. A blogger's post has about 200 reposts.")
    assert rule_grade(text, crisis_type="data_breach").severity == "minor"


@pytest.mark.parametrize("text, name", [
    ("邻近两个县的网点今天快递员一块儿不干了", "collective_major"),
    ("早上公交公司十几个司机没出车", "collective_action"),
    ("四十多个工人围在项目部门口要工钱", "collective_action"),
    ("储蓄所门口排了三四十号人要把钱取出来", "collective_action"),
    ("后台地址能直接打开，里面是会员的身份证号和银行卡号", "sensitive_data"),
    ("二十多名住户吸入浓烟，送医院检查", "injured"),
    ("吃过饭的人里有十几个拉肚子，都去卫生院打了吊瓶", "injured"),
    ("有客户被骗子冒充客服骗着转账", "money_loss"),
    ("环保所的人来取了水样", "regulator_attention"),
    ("县教育局责令该幼儿园停止办园", "regulator_formal"),
    ("出了事，加工坊今天还在照常出货", "still_on_sale"),
])
def test_grassroots_phrasings_from_writer_w22(text, name):
    assert_reads(text, name)


def test_colloquial_ranges_read_their_lower_bound():
    assert read_signals("能查到大概十五六万户的户主姓名和电话", "data_breach").affected_people == 150_000
    assert read_signals("门口来了五六十个业主拉横幅").crowd_size == 50


@pytest.mark.parametrize("text, name", [
    ("两名顾客踉跄一下，均未受伤", "injured"),  # "all were unhurt" is not an injury
    ("平台已把那条造谣视频下架", "consumer_backlash"),  # moderation, not a product pulled
])
def test_lookalikes_from_writer_w22(text, name):
    assert_does_not_read(text, name)


@pytest.mark.parametrize("text, name", [
    ("监管部门没收违法所得并处罚款合计约2.4亿元", "fine_yuan"),  # 没收 is confiscation, not a negation
    ("投资者统计的逾期本金约8亿元", "amount_yuan"),  # 逾期 here is overdue, not 逾期未改正的
    ("业主们交的装修款加起来九千多万", "amount_yuan"),
    ("代表律师说多扣的钱合计约500万令吉", "amount_yuan"),
    ("地检署已分案侦办，负责人被声请羁押", "regulator_formal"),
    ("食药署公告：该公司的医疗器材许可证直接废止", "regulator_formal"),
    ("停电导致约一万二千户供暖中断", "total_outage"),  # 一万二千 holds 万一 ("in case"), not a hypothetical
    ("about 30,000 households had tap-water supply cut overnight", "total_outage"),
    ("3号线全线列车停运近两小时", "total_outage"),
    ("系统故障，受影响在线玩家约4万人", "affected_people"),
    ("通过漏洞可以下载的报告超过九万份", "affected_people"),
    ("数据库没设密码，里面有客户的身份证号和银行卡号", "sensitive_data"),
    ("至少五个城市的骑手今天集体“下线”", "collective_major"),
    ("荃湾、元朗同屯门幾間分行門口都排滿人", "collective_major"),
    ("around 1,500 workers walk out at the plant", "crowd_size"),
    ("早上厂门口聚了三百多人", "crowd_size"),
    ("两位做洗肾的老人等了五个小时，被送去急诊", "vulnerable_harmed"),
    ("新生儿在会所洗澡时烫伤，在医院住了十天院", "vulnerable_harmed"),
    ("抖音上播放加起来两百多万了", "views"),
    ("分局的人在下游各取了一组水样", "regulator_attention"),
    ("交易平台本周起暂停提领", "money_loss"),
    ("一名店员手背烫起泡，在社区诊所处理过", "harm_reported"),
    ("到今天第三天了，厂家一个字的说明都没有", "unanswered_hours"),
])
def test_phrasings_from_writers_w23_to_w25(text, name):
    assert_reads(text, name)


@pytest.mark.parametrize("text, name", [
    ("5名乘客被困电梯约半小时，5人均无不适", "injured"),
    ("两名工人被落物擦到，2人未受伤", "injured"),
    ("宽限期内支付不构成违约", "bond_default"),
    ("截至本报告出具日，未收到付息资金", "local_media"),  # 本报告 is the report itself, not 本报
    ("视频播放量累计约500万", "affected_people"),  # plays, not people
    ("有网友推测“全部80万用户都中招了”，官方只确认约2万个账号", "affected_people"),  # a guess is not a count… of 80万
    ("快递站关门两天，业主的包裹取不出来", "money_loss"),  # parcels, not money
    ("该电梯已停运检修", "partial_outage"),  # one lift taken out for repair
    ("群里有人喊要去售楼处拉横幅，喊了两天也没人去", "collective_action"),
    ("帖子阅读三千，行业媒体目前暂未跟进", "local_media"),  # an outlet named to say it has not reported
])
def test_lookalikes_from_writers_w23_to_w25(text, name):
    if name == "affected_people" and "推测" in text:
        assert (read_signals(text, "data_breach").affected_people or 0) < 800_000
        return
    assert_does_not_read(text, name)


def test_refunds_confirmed_received_resolve_a_money_complaint():
    text = "几个团长说佣金拖了两周没结，说平台要跑路；周五回访，三个团长都确认到账了。"
    assert rule_grade(text, crisis_type="financial_risk").severity == "minor"


def test_platforms_named_only_to_say_the_story_has_not_reached_them_do_not_count():
    signals = read_signals("黑猫投诉上新增2条，抖音、快手暂未见扩散，B站没有相关讨论")
    assert signals.platform_names == ["黑猫投诉"], signals.platform_names
    assert read_signals("微博、抖音、小红书都有人转发").platforms == 3
