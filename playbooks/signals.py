"""Severity signals read from an incident description, grouped into the signal families of
`playbooks/SEVERITY.md` §4 (A reach & media, C regulator attention, I formal orders, D harm,
E vulnerable people & sensitive data, F money & market, G collective action, H operational scale,
J loss of control).

Every signal is named ONCE, in `SIGNALS` below (name, family, Chinese label, kind). The
`TextSignals` model, the reason strings and the validation of `severity.yaml` are all derived
from that registry. Numbers are read with Chinese numerals, units (万, 亿) and loose magnitudes
(数十, 上百, 多名, 大量); a negation (没上热搜, 尚无央媒) or a hypothetical (逾期…将移送公安) in the
same clause before a fact cancels it; for rumors, the quoted rumor content is not read as fact."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from yuqing.text import to_simplified

# ---- the registry: every signal named once ----------------------------------------------------

FAMILIES: dict[str, tuple[str, str]] = {  # code -> (Chinese name, role)
    "A": ("传播与媒体", "attention"),
    "C": ("监管关注", "attention"),
    "I": ("违法性与正式处置", "formal"),
    "D": ("人身与健康", "harm"),
    "E": ("弱势群体与敏感信息", "harm"),
    "F": ("财产与市场", "harm"),
    "G": ("集体行动", "harm"),
    "H": ("运营规模与涉及人数", "harm"),
    "J": ("失控风险", "escalation"),
}
HARM_FAMILIES = frozenset(code for code, (_, role) in FAMILIES.items() if role == "harm")
ATTENTION_FAMILIES = frozenset(code for code, (_, role) in FAMILIES.items() if role == "attention")


@dataclass(frozen=True)
class Signal:
    name: str
    family: str
    label: str  # Chinese, used in every reason
    kind: Literal["count", "flag"]  # count: a number compared with thresholds; flag: present or not


SIGNALS: dict[str, Signal] = {s.name: s for s in [
    # A reach & media
    Signal("reposts", "A", "转发量", "count"),
    Signal("views", "A", "阅读/播放量", "count"),
    Signal("mentions", "A", "相关信息量", "count"),
    Signal("mentions_per_hour", "A", "近1小时信息量", "count"),
    Signal("platforms", "A", "扩散平台数", "count"),
    Signal("multi_platform", "A", "多平台/全网扩散", "flag"),
    Signal("multi_region", "A", "多地/跨省扩散", "flag"),
    Signal("hot_search", "A", "登上本地/行业热搜", "flag"),
    Signal("national_hot_search", "A", "全国热搜前列/全网刷屏", "flag"),
    Signal("local_media", "A", "地方/省级/行业/财经媒体报道", "flag"),
    Signal("central_media", "A", "央媒或全国性头部媒体报道", "flag"),
    # C regulator attention
    Signal("regulator_attention", "C", "监管或警方关注（约谈、问询、检查、介入、责令整改）", "flag"),
    Signal("fine_yuan", "C", "罚款金额(元)", "count"),
    # I formal orders
    Signal("regulator_formal", "I", "立案、刑拘、责令停产、挂牌督办、吊销、暂停业务等正式处置", "flag"),
    # D harm to people
    Signal("deaths", "D", "死亡人数", "count"),
    Signal("injured", "D", "受伤/就医/中毒人数", "count"),
    Signal("harm_reported", "D", "有人受伤或就医", "flag"),
    Signal("harm_severe", "D", "危重、不可逆伤害或群体性中毒", "flag"),
    Signal("vulnerable_harmed", "D", "弱势群体健康受损（2人以上或住院），加重", "flag"),
    # E vulnerable people & sensitive data
    Signal("vulnerable_targeted", "E", "弱势群体受侵害", "flag"),
    Signal("sensitive_data", "E", "敏感个人信息（身份证/银行卡、病历、儿童信息、精确住址）", "flag"),
    # F money & market
    Signal("amount_yuan", "F", "涉及金额(元)", "count"),
    Signal("stock_drop_pct", "F", "股价跌幅(%)", "count"),
    Signal("rating_downgrade", "F", "评级下调", "flag"),
    Signal("rating_watch", "F", "评级展望负面/列入观察", "flag"),
    Signal("bond_default", "F", "债券实质违约/展期失败", "flag"),
    Signal("grace_period", "F", "未按期付息/进入宽限期", "flag"),
    Signal("class_action", "F", "投资者集体诉讼", "flag"),
    Signal("investor_claims", "F", "律所征集投资者索赔", "flag"),
    Signal("money_loss", "F", "资金被盗刷/无法提现/兑付困难", "flag"),
    Signal("consumer_backlash", "F", "退订/退货潮、渠道下架", "flag"),
    # G collective action
    Signal("crowd_size", "G", "聚集/停工/维权人数", "count"),
    Signal("complaints", "G", "投诉条数", "count"),
    Signal("collective_action", "G", "聚集、停工、联名或集体投诉", "flag"),
    Signal("collective_major", "G", "挤兑、多网点排队、跨地区罢工或围堵冲突", "flag"),
    # H operational scale
    Signal("affected_people", "H", "涉及/受影响人数", "count"),
    Signal("flights_cancelled", "H", "取消航班数", "count"),
    Signal("parcels_stranded", "H", "滞留件数", "count"),
    Signal("outage_hours", "H", "服务中断时长(小时)", "count"),
    Signal("outlets_affected", "H", "受影响门店/学校/医院/网点数", "count"),
    Signal("partial_outage", "H", "局部停运或核心业务中断", "flag"),
    Signal("total_outage", "H", "全网瘫痪、全线停运或民生服务中断", "flag"),
    # J loss of control (escalations only)
    Signal("unanswered_hours", "J", "未回应时长(小时)", "count"),
    Signal("still_on_sale", "J", "问题产品仍在售/未下架", "flag"),
    Signal("old_event_resurfaced", "J", "旧闻翻炒（旧事件早已处置）", "flag"),
    Signal("negative_share_pct", "J", "负面占比(%)", "count"),
    Signal("spike_ratio", "J", "信息量为基线的倍数", "count"),
]}
LEVEL_NAMES = ("轻微", "一般", "重大")

# TextSignals is derived from the registry: a float (or None) per count, a bool per flag.
TextSignals: Any = create_model(  # type: ignore[call-overload]  # fields built from the registry
    "TextSignals",
    __doc__="What an incident description says, one field per registered signal; `evidence` keeps the words read.",
    **{s.name: ((float | None), None) if s.kind == "count" else (bool, False) for s in SIGNALS.values()},
    platform_names=(list[str], Field(default_factory=list)),
    evidence=(dict[str, str], Field(default_factory=dict)),
)


def present(signals: BaseModel) -> dict[str, float | bool]:
    """The signals a description carries (counts with a value, flags that are set)."""
    return {name: getattr(signals, name) for name in SIGNALS if getattr(signals, name) not in (None, False)}


# ---- numbers ------------------------------------------------------------------------------------

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
# Loose magnitudes (SEVERITY.md §5), longest first so 数十万 wins over 数十.
_VAGUE = {"数十万": 300_000, "几十万": 300_000, "上百万": 1_000_000, "数百万": 3_000_000, "上千万": 10_000_000,
          "数千万": 30_000_000, "上亿": 100_000_000, "过亿": 100_000_000, "数亿": 300_000_000, "几亿": 300_000_000,
          "数十": 30, "几十": 30, "数百": 300, "几百": 300, "上百": 100, "百余": 100, "数千": 3000, "几千": 3000,
          "上千": 1000, "千余": 1000, "数万": 30_000, "几万": 30_000, "上万": 10_000, "万余": 10_000, "近万": 9_000,
          "过万": 10_000, "好几万": 30_000, "好几千": 3000, "好几百": 300, "好几十": 30, "近百": 90, "十余": 10, "十多": 10, "十几": 10, "一二十": 15, "二三十": 25, "三四十": 35,
          "多名": 3, "数名": 3, "几名": 3, "多位": 3, "数位": 3, "几位": 3, "多人": 3, "数人": 3, "几个": 3,
          "大批": 1000, "大量": 1000}
_VAGUE_RE = "|".join(sorted(map(re.escape, _VAGUE), key=len, reverse=True))
NUMBER = (rf"(?:(?:{_VAGUE_RE})(?![0-9零一二两三四五六七八九])"
          r"|[0-9][0-9,]*(?:\.[0-9]+)?\s*(?:余|多|来)?\s*[十百千万亿]*(?:余|多|来)?"
          r"|[零〇一二两俩三四五六七八九十百千万亿]+(?:余|多|来|几)?[十百千万亿]*)")
_APPROX = r"(?P<approx>(?:差不多|差唔多|大概|接近|约|近|超过|超|逾|达到|达|已达|已超|已经|已|到|突破|累计|共|合计|将近|至少|大约|不足|不到|少于|低于|未满|未超过|仅|只有|才|最高)*)\s*"
_BELOW = ("不足", "不到", "少于", "低于", "未满", "未超过")


def _chinese_integer(text: str) -> float:
    """一千二百 → 1200, 三万五千 → 35000, 两亿 → 2e8, 十五 → 15."""
    total, section, digit = 0.0, 0.0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _SMALL_UNITS:
            section += (digit if digit is not None else 1) * _SMALL_UNITS[char]
            digit = None
        elif char in _BIG_UNITS:
            section += digit or 0
            total = (total + section) * _BIG_UNITS[char] if total < _BIG_UNITS[char] else total + section * _BIG_UNITS[char]
            section, digit = 0.0, None
    return total + section + (digit or 0)


def parse_number(token: str) -> float | None:
    """A number as written in Chinese text: 3.2万, 1.5亿, 两千余, 800万, 1,200, 十余, 上千, 数十, 多名."""
    token = token.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not token:
        return None
    if token in _VAGUE:
        return float(_VAGUE[token])
    for vague, vague_value in _VAGUE.items():  # 数十万 handled above; 上千万 etc. too
        if token.startswith(vague) and token[len(vague):] in ("名", "位", "人", "个"):
            return float(vague_value)
    token = re.sub("[余多来几]", "", token)
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([十百千万亿]*)", token)
    if match:
        value = float(match.group(1))
        for unit in match.group(2):
            value *= {**_SMALL_UNITS, **_BIG_UNITS}[unit]
        return value
    if re.fullmatch(r"[零〇一二两俩三四五六七八九十百千万亿]+", token):
        return _chinese_integer(token)
    return None


# ---- negation, hypotheticals, rumor content -----------------------------------------------------

_CLAUSE_END = re.compile(r"[，。；！？,;!?\n：:]")
# A negation before a fact in the same clause cancels it (尚无央媒报道, 没上热搜, 没有抖音、微博搬运, 冇人受伤).
_NEGATION = re.compile(
    r"(?:没有|没(?!多久|过多久|几天|一会|过几天|收)|冇|唔|未(?!成年|按|能|及时|经|获|足额|如期|兑付|付|支付|结清|到账|披露|公开|缴|发放|回应|回复|说明|表态|作|作出|消|使用|用完|兑现|退)"
    r"|(?<![法口])无(?!法|锡|证|故|序|良|照|资质|人机)|尚无|暂无|并无|不是|并非|(?<!是)非(?!法|常|正常)|否认|排除|谈不上|不存在|不涉及|不属于|不会|不用|无需|不需要|不必"
    r"|\b(?:[Nn]o(?!\.)|[Nn]ot|[Nn]ever|[Ww]ithout|[Nn]one|[Nn]obody|[Nn]o one|[Nn]either)\b)")  # not No.2 (a number)
# 逾期 is a condition as 逾期未改正的 / 逾期不 / 逾期仍未, not as 逾期本金 or 逾期未兑付 (overdue).
_OVERDUE_CONDITION = r"逾期(?=(?:未|不|仍)(?!兑付|付|还|支付|偿|归还|交付))"
# A condition or a possibility is not a fact (逾期未改正的将移送公安, 可能导致, 如出现立案即重评, 担心被).
_HYPOTHETICAL = re.compile(
    r"(?:如果|如若|假如|倘若|(?<![0-9一二两三四五六七八九十百千])万一(?![千百十万亿0-9])|一旦|如未|如不|如出现|如有|若|" + _OVERDUE_CONDITION + r"|否则|或将|或面临|将面临|可能|恐将|恐怕|担心|担忧|害怕|是否|会不会|"
    r"防止|避免|以免|不排除|拟|推测|猜测|扬言|喊着要|喊要|嚷着要|打算|准备去|警惕|谨防|预计|以防|若再|建议|盯住|盯紧|盯着|留意|防范|提防|关注是否|看是否|如发现|要求.{0,8}(?:否则|逾期)|(?<![即已])将(?:依法|会|被|予以)?$)")
_CONDITION = re.compile(r"(?:如果|如若|假如|倘若|一旦|" + _OVERDUE_CONDITION + r"|如未|如不|如发现|若|否则)[^。；]*[的，]$")
_RUMOR_MARKERS = re.compile(r"(?:造谣|说|网传|谣传|传言|传闻|谣言|声称|号称|所谓|编造|虚假|不实|捏造|散布|称)")
_QUOTED = re.compile(r"“[^”]{0,80}”|「[^」]{0,80}」|\"[^\"]{0,80}\"|『[^』]{0,80}』")
# A quoted claim named as a claim ("学习机全面瘫痪"一说) is what people say, for every crisis type.
_QUOTED_CLAIM = re.compile(rf"(?:{_QUOTED.pattern})(?=\s*(?:一说|的说法|之说|的传言|的传闻|的谣言|的消息不实|[，,]\s*(?:没有的事|纯属谣言|纯属虚构|不实|是假的|假的)))"
                           rf"|(?<=titled )(?:{_QUOTED.pattern}|'[^']{{2,60}}')|(?<=标题为)(?:{_QUOTED.pattern})|(?<=题为)(?:{_QUOTED.pattern})")


def _clause_prefix(text: str, start: int, width: int = 16) -> str:
    """What the current clause says before position `start` (at most `width` characters)."""
    cut = max((m.end() for m in _CLAUSE_END.finditer(text, max(0, start - 60), start)), default=max(0, start - 60))
    return text[max(cut, start - width):start]


def _denied(text: str, start: int, rumor: bool = False) -> bool:
    prefix = _clause_prefix(text, start)
    sentence_start = max((m.end() for m in re.finditer(r"[。；！？\n]", text[:start])), default=0)
    clause_start = start - len(prefix)
    if re.match(r"(?:则|就|将|会|再)", text[clause_start:start]) and _CONDITION.search(text[sentence_start:clause_start]):
        return True
    return bool(_NEGATION.search(prefix) or _HYPOTHETICAL.search(prefix) or (rumor and _RUMOR_MARKERS.search(prefix)))


def _hits(pattern: str | re.Pattern, text: str, rumor: bool = False):
    """Matches of a pattern that are stated as fact (not negated, not hypothetical)."""
    for match in re.finditer(pattern, text):
        if not _denied(text, match.start(), rumor):
            yield match


def _stated(pattern: str | re.Pattern, text: str, rumor: bool = False) -> bool:
    """The pattern occurs at least once as a fact (for a rumour: not as what the rumour claims)."""
    return next(_hits(pattern, text, rumor), None) is not None


# Reach denied after its name, in the same clause: 微博、小红书未见转载, 财经媒体暂未跟进.
_REACH_DENIED_AFTER = re.compile(r"[^，。；,;!?！？\n]{0,12}?(?:暂未|未见|尚未|均未|都未|并未|没有|都没|暂无|没)(?:有)?(?:看到|见到|发现)?"
                                 r"[^，。；,;]{0,3}?(?:转载|转发|扩散|跟进|报道|传播|发酵|讨论|搬运)")


def _reach_stated(text: str, match: re.Match) -> bool:
    """A platform or an outlet named as reached, not one named only to say it has not picked the story up."""
    return not _REACH_DENIED_AFTER.match(text, match.end())


def mentioned(pattern: str, text: str, unless_before: re.Pattern | None = None) -> bool:
    """True when the pattern occurs as a fact (尚无央媒报道 is not central media)."""
    for match in _hits(pattern, text):
        if unless_before and unless_before.search(text[max(0, match.start() - 12):match.start()]):
            continue
        return True
    return False


def _largest(patterns: list[str], text: str, rumor: bool = False) -> tuple[float, str] | None:
    """The largest number any pattern finds (as fact), with the words it came from; "不足1000" is just under."""
    best = None
    for pattern in patterns:
        for match in _hits(pattern, text, rumor):
            value = parse_number(match.group("n"))
            if value is None:
                continue
            approx = match.groupdict().get("approx") or ""
            if any(b in approx for b in _BELOW):
                value *= 0.99
            if best is None or value > best[0]:
                best = (value, match.group(0))
    return best


# ---- lexicons and patterns ----------------------------------------------------------------------

N = rf"(?P<n>{NUMBER})(?![0-9.,]*\s*(?:(?:到|至|-|~)\s*[0-9一二两三四五六七八九十]+)?\s*(?:年(?!薪)|岁|月(?!薪)|日|号|天|周|小时|个小时|分钟))"  # 2020年, 3岁, 5号线, 三天: not counts
_SPAN = rf"(?P<n>{NUMBER})"  # a duration's number (三天, 40分钟), which N refuses as a count
_PEOPLE = (r"(?:\b(?:users|customers|passengers|residents|patients|employees|workers|staff|pickers|packers|sorters|couriers|learners|investors|depositors|parents|children|kids|students|pupils|villagers|diners|members|clients|buyers|riders|drivers|people|consumers|households|policyholders|records|toddlers|infants|adults|crew|crew members|account holders|homebuyers|tenants|owners|players|gamers)\b|用户|玩家|客户|员工|业主|户主|投资者|储户|消费者|乘客|旅客|家庭|居民|学员|会员|骑手|工人|农民工|出借人|购房者|车主|村民|"
           r"借款人|账户|帐户|账号|商户|球迷|住户|考生|家长|游客|应聘者|租客|司机|患者|学生|市民|网友|粉丝|持有人|股民|散户|老人|儿童|孩子|客人|顾客|病患|存户|球员|员工|师生|病人|投保人|被保险人|保户|求职者|食客)")
_PERSON_CL = r"(?:名|位|个|人|户|例)"


def _number_then_words(most: int) -> str:
    """A number, a space and at most `most` English words before the noun that follows: "300 Zhixing
    Car Rental customers", "40 of the plant's workers"."""
    return rf"{N}\s+(?:[A-Za-z'-]+\s+){{0,{most}}}?"
VULNERABLE = (r"(?:(?<![0-9])(?:[6-9][0-9]|[六七八九]十多?)(?:岁|-year-old)|\b(?:aged|over|above) [6-9][0-9]\b|\bretired\b|[六七八九]旬|听障|视障|聋哑|\b(?:toddlers?|infants?|elderly|seniors|pensioners|retirees|pregnant|pupils|students|patients|disabled)\b|儿童|BB|[Bb]ab(?:y|ies)|[Kk]ids|[Cc]hildren|个月大|婴幼儿|婴儿|幼儿|宝宝|孩子|小孩|学生|小学生|中学生|未成年|幼儿园|女童|男童|女婴|男婴|女孩|男孩|老人|老年|"
              r"长者|长辈|高龄|失能|孕妇|孕期|孕[早中晚]期|怀孕|产妇|孕产妇|月子|哺乳期|患者|病人|透析|洗肾|新生儿|女婴|男婴|糖尿病|残障|残疾|盲人|养老院|敬老院|留守)")
HARM_WORDS = (r"(?<!未)(?<!没)(?<!无)(?<!冇)(?<!没有)(?:开了?点?药|中暑|输液|挂水|打点滴|打了?吊瓶|吸入浓烟|吸入烟雾|\bwent to [^，。；]{0,4}(?:卫生院|医院|诊所|门诊)|\b(?:heat ?stroke|heat exhaustion|collapsed from (?:the )?heat|on (?:IV )?drips?)\b|在[^，。；0-9]{0,6}(?:医院|卫生院|诊所|门诊)看(?:过|了)|(?:带至|带到|带去)[^，。；0-9]{0,6}医院|淤青|(?:(?<=seriously )|(?<=badly )|(?<=slightly ))hurt\b|\b(?:injur(?:ed|ies|y)|burns|burned|scalded|fractured?|poisoned|food poisoning|fell ill|sickened|vomiting|treated at (?:a |the )?(?:hospital|clinic)|went to (?:a |the )?(?:community |local )?(?:clinic|hospital|doctor)|(?:sent|taken|rushed) to (?:a |the )?hospital|sought (?:medical )?treatment)\b|(?:去|到|送|进|往)[^，。；0-9]{0,8}医院|(?:去|到|看)了?[^，。；0-9]{0,4}(?:皮肤科|门诊|诊所|急诊|卫生院|卫生所|医务室)|(?:诊所|卫生所|卫生院|医务室|门诊)(?:处理|包扎|看诊)|看诊|缝了?[0-9一两二三四五六七八九十几]*针|受伤|轻伤|重伤|烧伤|烫伤|擦伤|割伤|夹伤|砸伤|摔伤|骨折|中毒|送医|就医|送院|入院|留院|住院|住了[^，。；]{0,4}院|就诊|急诊|"
              r"送往医院|送到医院|送进医院|看医生|睇医生|急症室|admitted|hospitali[sz]ed|睇皮肤科|抢救|呕吐|腹泻|过敏|红肿|感染|晕厥|晕倒|昏倒|昏迷|头晕|胸闷|心悸|发热|"
              r"血铅超标|不适|(?:叫了?|拨打|打了?)120|120(?:急救|救护车))")
HOSPITAL = r"(?:住院|住了[^，。；]{0,4}院|留院|入院|admitted|hospitali[sz]ed|ICU|重症|抢救|危重|病危)"
REPOSTS = [rf"(?:转发|转载|转帖|分享|share|reposts?\s*)(?:咗|了)?(?:量|数|次数)?(?:合计|累计|最高|总计)?{_APPROX}{N}",
           rf"{N}\s*(?:次|条|个)?(?:转发|转载|share|reposts?|retweets?)",
           rf"\b(?:reposted|shared|forwarded)\s+(?:about|around|some|over|more than|nearly|almost)?\s*{N}\s*times", rf"转(?:了|咗)\s*{_APPROX}{N}\s*(?:次|(?=[，。；,;\s]|$))"]
VIEWS = [rf"(?:阅读量|阅读|播放量|播放|浏览量|浏览|曝光量|曝光|观看|围观|话题量|热度|views?)(?:已|次数|合计|累计|加起来|总共|一共|总计)?{_APPROX}{N}",
         rf"{N}\s*(?:次|人次)?(?:阅读|播放|浏览|观看|围观|views|plays|reads|impressions)"]
MENTIONS = [rf"(?:相关信息|相关帖文|相关内容|相关微博|相关视频|相关讨论|信息量|声量|帖文|讨论量)(?:量|数)?(?:合计|累计|共|新增|已)?{_APPROX}{N}\s*(?:条|篇|个)(?!赞|like)",
            rf"{N}\s*(?:条|篇)(?:相关)?(?:帖文|信息|帖子|微博|视频|笔记|讨论)"]
COMPLAINTS = [rf"(?:投诉|差评|举报|求助)(?:量|数|件)?(?:新增|累计|合计|共|已)?{_APPROX}{N}\s*(?:条|起|件|宗|单|个)?",
              rf"{N}\s*(?:条|起|件|宗|单)(?:相关)?(?:投诉|差评|举报|求助)",
              rf"(?:投诉|差评)[^，。；0-9]{{0,6}}新增(?:了)?{_APPROX}{N}\s*(?:条|起|件)", rf"新增{_APPROX}{N}\s*(?:条|起|件)[^，。；]{{0,24}}(?:投诉|差评)"]
PLATFORMS = ("微博", "抖音", "快手", "小红书", "知乎", "B站", "哔哩哔哩", "公众号", "头条", "贴吧", "黑猫投诉", "视频号", "豆瓣",
             "虎扑", "股吧", "雪球", "脉脉", "懂车帝", "车质网", "Dcard", "PTT", "连登", "Threads", "Instagram", "Facebook",
             "YouTube", "IG", "Douyin", "Kuaishou", "WeChat", "Xiaohongshu", "Bilibili", "Zhihu", "Toutiao", "Reddit", "LIHKG", "Twitter", "WhatsApp群", "Weibo", "TikTok", "大众点评", "点评网", "百度", "论坛", "X平台")
# 行业论坛 / 高峰论坛 is a conference, not a web forum
_PLATFORM_PATTERNS = {"论坛": r"(?<!行业)(?<!高峰)(?<!经济)(?<!金融)(?<!技术)(?<!发展)(?<!博鳌)(?<!峰会)论坛(?!上发言|上称|上表示|致辞)"}
MULTI_PLATFORM = r"(?:multiple platforms|across (?:social media|platforms|the internet)|多平台|多个平台|各大平台|跨平台|多个社交平台|全网(?!瘫痪|崩|宕|停|相关|信息|声量|共|累计|监测|合计)|多个网络平台)"
MULTI_REGION = r"(?:\bnationwide\b|across the country|(?:[Mm]ultiple|[Ss]everal) (?:cities|provinces)|多个省份|多省|跨省|跨地区|全国各地|全国多地|全国范围|多地|多个城市|多座城市|[0-9两三四五六七八九十]+个(?:城市|省|地市)|十余个(?:城市|省))"
HOT = r"(?:hot[- ]?(?:search|list)|热搜|热榜|热门话题|同城榜|热点榜|trending)"
NATIONAL_HOT = (r"(?:No\.\s*[1-3]\b(?:(?![Ll]ocal|city|provincial)[^，。；]){0,30}(?:hot[- ]?(?:search|list)|trending)|national hot[- ]?search|top of (?:Weibo|Douyin)|热搜(?:榜)?(?:第[一二三四五六七八九十1-9](?![0-9])|榜首|前[三五十]|TOP\s*\d+)|全国热搜|热搜第一|全网热议|全网刷屏|刷屏全网|"
                r"微博热搜第[一二三1-3])")
_LOCAL = re.compile(r"(?:本地|同城|地方|省内|市内|当地|区域|城市)[^，。；,;]{0,3}$")
CENTRAL_MEDIA = (r"(?:state media|state broadcaster|national media|People's Daily|Xinhua|央视|中央电视台|CCTV(?:\s*-?\s*\d|\s*(?:新闻|财经|报道|记者|焦点)|(?:'s)?\s+(?:consumer|news|report|programme|program|gala|aired|broadcast))|人民日报|新华社|新华网|人民网|央广|中央广播|光明日报|"
                 r"经济日报|中国新闻网|中新社|央媒|中央媒体|焦点访谈|新闻联播|每周质量报告|3·15晚会|315晚会|中国青年报|法治日报|工人日报)")
LOCAL_MEDIA = (r"(?:(?<![Ss]ocial )\bmedia\b|\b(?:newspapers?|dailies|press(?! release| conference| statement)|reporters?|journalists?|broadcasters?|RTHK|TVB|news (?:site|outlet|portal)s?)\b|outlets?\s+(?:reported|picked|ran|covered|wrote|have written)|(?:financial|local|state|news|media|business) outlets?|\bTV\b(?!\s*(?:set|screen))|aired a (?:report|segment)|(?:[Ll]ocal|[Nn]ational|[Ss]tate) news|(?:picked (?:it|the story) up|ran the story|wrote it up|written it up)|港媒|台媒|外媒|省级媒体|省台|省电视台|卫视|都市报|晚报|日报|商报|时报|法治报|周刊|(?<!自)媒体(?:报道|跟进|曝光|转载|发文|评论|采访|关注)|"
               r"多家媒体|网媒|(?:多|几|好几|数)家[^，。；]{0,4}媒|(?:地方|本地|当地|市级|省内|行业|财经|科技|汽车|数码|体育|海外|主流|官方)(?:媒体|传媒)|电视台|广播电台|电台|快报|早报|本报(?!告)|市台|县台|城市台|(?:交通|新闻|经济|城市|民生|人民)广播|报章|报纸|新闻台|新闻号|"
               r"新闻客户端|民生栏目|记者|本报讯|跟进报道|报道了|已报道|发文梳理|专题报道)")
AGENCY = (r"(?:(?i:\b(?:regulators?|regulatory|authorit(?:y|ies)|commission(?:er)?|bureau|administration|ministry|police|watchdog|inspectors?|fire (?:brigade|department|service)|consumer council|environmental protection department)\b)|\b(?:SAMR|CSRC|NFRA|CBIRC|PBOC|HKMA|SFC|PCPD|EPD|FEHD|CHP)\b|(?:本|我|该|省|市|区|县|分)(?:局|厅|署|委)|管理局|监督管理|公署|环保署|环境保护署|卫生署|专员|食安|食环|监管局|监管部门|市场监管|监管|银保监|金融监管|证监|网信办|网信部门|网信|生态环境|环保局|环保部门|环保所|人社|劳动监察|"
          r"卫健委|卫生健康委|卫生监督|药监|交通运输|消协|消保委|消委会|消费者协会|应急管理|应急局|住建|警方|公安|派出所|民警|警察|"
          r"教育局|民政局|纪委|监委|国资委|国资监管|足协|主管部门|政府|街道|文旅|城管|质监|疾控|劳工处|屋宇署|食环署|海关|税务|运管|工信|发改|"
          r"人民银行|人行|央行|卫生健康局|卫健局|维稳办|外汇管理|商务局|执法|监察|督察|安监|检察|法院|"
          r"(?:体育|文化|交通|教育|卫生|水务|水利|农业|农业农村|林业|自然资源|医保|民航|铁路|邮政|海事|能源|粮食|烟草|气象)(?:管理)?(?:局|厅|委))")
ATTENTION_ACTION = (r"(?:取了?[^，。；]{0,4}样|\b(?:letter of (?:inquiry|enquiry)|looking into|summoned|inspect(?:ed|ion|ing)|took samples|sampl(?:ed|ing)|investigat(?:ing|ion|ed|e)|probe|compliance check|opened an? (?:inquiry|enquiry|case|check|investigation)|taking samples|on site|at the scene|questioned|ordered|warned|warning letter|fined|raided|stepped in|intervened)\b|约谈|问询|询问|关注函|问询函|介入|到(?:咗|了)?场|到(?:咗|了)?现场|现场检查|检查|取样|抽检|抽查|调查|督促|责令|限期整改|整改|通报|点名|"
                    r"调材料|调取|调阅|封存|查扣|扣押|抽样|抽(?:了|走)?[^，。；]{0,6}(?:样|样品)|送检|要求[^，。；]{0,4}(?:提交|交|报送)[^，。；]{0,4}报告|主动联络|训诫|排查|设置[^，。；]{0,4}监测点|(?:打电话|打来电话|来电|致电)[^，。；]{0,4}(?:问|了解|询问|核实)|问情况|约(?:我们|公司|企业|我司|负责人)[^，。；]{0,6}谈|上门|来厂|到厂|进厂|消费提示|消费警示|使用警示|发出警示|提醒|核查|了解情况|来函|约见|叫停|下发|通知|立案)")
WARNING_ONLY = (r"(?:(?:采取)?(?:出具|发出|下发|收到)?(?:一份)?(?:警示函|书面提醒|提醒函|监管提示函|风险提示函)(?:的监督管理措施)?|"
                r"warning letter|(?:并)?责令(?:其|当事人)?[^，。；]{0,10}(?:自查|停止发布|改正|立即改正)|要求(?:其)?退运)")
FOUND_COMPLIANT = (r"(?:未超过[^，。；]{0,6}(?:限值|标准)|均符合[^，。；]{0,10}(?:标准|限值|要求)|均未超标|"
                   r"未发现[^，。；]{0,8}(?:违法|违规|超标|异常排放)|均达标)")
FORMAL_ALONE = (r"(?:\bliuzhi\b|placed in [^，。；]{0,12}detention|licen[cs]e[^，。；]{0,40}\b(?:is|was|has been|been) revoked\b|\brevoked (?:its|the|their) [^，。；]{0,20}licen[cs]e|must cease (?:all )?operations|(?:[Ff]ollowing|[Uu]nder|[Aa]fter) an? order from[^。；]{0,40}(?:regulator|authorit|bureau|administration)|\b(?:[Rr]egulators?|[Aa]uthorit(?:y|ies)|CSRC|NFRA|SAMR|PBOC|CBIRC)\b[^。；]{0,30}\b(?:suspended|halted|banned|revoked)\b|\b(?:arrested|detained by police|criminal (?:case|investigation|charges?)|charged with|shut down by|banned from the market)\b|ordered[^，。；]{0,40}\b(?:recall|to (?:halt|suspend|stop|shut|close))|立案(?:调查|侦查|审查)?|刑事拘留|刑拘|羁押|侦办|逮捕|(?:许可证?|牌照|执照|资质)(?:被|已被|遭|直接)?(?:吊销|撤销|废止)|拘捕|批捕|落案起诉|留置|吊销|挂牌督办|市场禁入|移送公安|移送司法|联合调查组|成立(?:专项|联合)?调查组|"
                r"中央(?:第[^，。；组]{1,3})?(?:生态)?(?:环保|环境保护|环境)?督察|开除党籍|(?:撤销|吊销|注销|收回|废止)[^，。；]{0,12}(?:牌照|许可证?|执照|资质)|licen[cs]e[^，。；]{0,12}(?:revoked|suspended|cancell?ed|withdrawn)|开除公职|双开|移送(?:检察|司法|公安)|纪律审查|审查调查|监察调查|查封|取缔|刑事强制措施|被控制|控制了(?:相关|涉事)?(?:责任人|嫌疑人)|国务院)")
FORMAL_ORDERED = (r"(?:暂停[^，。；]{0,8}(?:牌照|许可证?|执照|资质|新用户注册|注册)|(?:许可|许可证|牌照|执照|资质)(?:被|直接)?(?:暂停|吊销|注销|撤销|废止)|(?:应用商店|应用市场|App Store)下架|下架(?:该|涉事)?(?:App|APP|应用|小程序)|suspend(?:ed)?[^，。；]{0,12}licen[cs]e|recall|停产|停业|(?:全面|紧急)?回收|(?:暂停|停止)出货|暂停(?:生产|营业|业务|经营|销售|新增[^，。；]{0,8}业务|[^，。；]{0,8}新增业务|[^，。；]{0,18}业务)|叫停|召回|关停|停工整顿|整顿|停止(?:办园|办学|招生))")
_ORDER_BEFORE = re.compile(r"(?:责令|勒令|要求|决定|指示|依法|下令|被|监管|政府|部门|局|厅|委|办)")
DEATH_WORDS = r"(?:\b(?:died|killed|deaths?|fatalit(?:y|ies)|passed away)\b|猝死|过劳死|抢救无效|没抢救过来|自杀|轻生|跳楼|死亡|遇难|身亡|罹难|丧生|殉职|不治|没救过来|去世|过世|离世|丧命|遇害)"
DEATHS = [rf"{_number_then_words(2)}(?:people|workers|staff|passengers|residents|patients|children|employees)?\s*(?:were\s+|have\s+)?(?:died|killed|dead)",
          rf"{N}\s*{_PERSON_CL}?[^，。；、0-9]{{0,6}}?{DEATH_WORDS}", rf"(?:死亡|遇难|身亡|罹难)(?:人数)?{_APPROX}{N}\s*{_PERSON_CL}",
          rf"致\s*{N}\s*(?:人)?(?:死|亡)"]
INJURED = [rf"{_number_then_words(2)}{_PEOPLE}[^，。；]{{0,60}}?{HARM_WORDS}",
           rf"{N}\s*{_PERSON_CL}[^，。；0-9]{{0,16}}?{HARM_WORDS}",
           rf"{N}\s*{_PERSON_CL}[^，。；0-9]{{0,16}}[，,]\s*(?:都|均|全都|全部)(?:(?!未|没|无|不)[^，。；0-9]){{0,10}}?{HARM_WORDS}",  # 十几个上吐下泻，都去卫生院
           rf"{N}\s*{_PERSON_CL}[^，。；0-9]{{0,24}}?出现[^，。；0-9]{{0,8}}?{HARM_WORDS}",  # 十余名村民在食用…后出现呕吐
           rf"{N}\s*(?:名|位|个)?{_PEOPLE}[^，。；0-9]{{0,14}}?{HARM_WORDS}",
           rf"(?:受伤|伤者|中毒|送医|住院|就医|就诊|不适|伤员)(?:人数|者)?{_APPROX}{N}\s*{_PERSON_CL}"]
HARM_SEVERE = (r"(?:\b(?:critical condition|life-threatening|intensive care|blood lead)\b|危重|病危|(?<!脱离)(?<!脱离了)生命危险|ICU|重症监护|抢救(?![^，。；]{0,6}(?:无生命危险|无大碍|脱离(?:生命)?危险|已脱险|脱险|已无大碍))|致残|截肢|失明|血铅超标|铅中毒|群体性中毒|集体中毒|多人中毒|重度烧伤|脑损伤|"
               r"器官衰竭|终身|不可逆)")
TARGETING = (r"(?:调岗|降了?[^，。；]{0,3}(?:薪|工资)|工资[^，。；]{0,4}降|辱骂|骂|呵斥|训斥|怒斥|吼|养老钱|全部积蓄|毕生积蓄|救命钱|棺材本|拍打|殴打|掌掴|打人|打骂|扇|踢|调侃|嘲笑|取笑|戏弄|模仿|体罚|虐待|推搡|欺凌|霸凌|猥亵|性侵|嘲讽|羞辱|歧视|辞退|解雇|开除|劝退|降薪|误导|诱导|"
             r"哄骗|欺骗|诈骗|骗|推销|引导|忽悠|\b(?:steer(?:ed|ing)|misled|mis-sold|pressured|tricked|defrauded)\b|挪用|克扣|截留|侵占|收割|套路|侵害|滞留|被困|冒用|泄露|停水|停电|延误|无法|针对)")
SENSITIVE = (r"(?:(?:HKID|ID|identity card|passport)\s*(?:card\s*)?numbers?[^。；]{0,40}(?:bank|card number|diagnos|medical|address)|\b(?:medical|patient|health) records\b|diagnos(?:is|es|tic) (?:notes|records)|身[份分]证(?:号|号码|影本|复印件)?[^。；]{0,15}(?:银行卡|卡号|住址|地址|资金账号|资金账户|证券账户|银行账户|银行账号)|银行卡(?:号)?[^。；]{0,15}身份证|病历|健康记录|体检(?:报告|记录|数据)|"
             r"就诊记录|问诊记录|产检(?:报告|记录|单)|B超单|诊断结论|诊断(?:记录|纪录|信息|结果)|用药(?:情况|记录)|处方|病史|诊疗记录|疗程|医疗记录|(?:儿童|学生|孩子|未成年|幼儿|小孩|小朋友|婴儿)[^，。；]{0,4}(?:信息|姓名|照片|住址|生日|接送)|精确[^，。；]{0,6}(?:住址|地址)|详细(?:住址|地址)|门牌号|家庭住址|"
             r"行踪|实时定位|人脸(?:信息|数据)|护照号)")
LEAK = r"(?:能直接(?:打开|访问|看到|查到)|能搜到|搜得到|(?:没|未|不)设(?:置)?密码|无密码|\bno password\b|\b(?:dump|dark[- ]web|Telegram|black[- ]market)\b|被卖|(?:也|都)能(?:打开|访问|看到|下载)|所有人可读|公开可读|可被[^，。；]{0,6}(?:打开|访问|下载|查看|遍历)|批量访问|遍历|\b(?:exposed|leaked|leak|breach|for sale|dumped|misconfigured|scraped|stolen|hacked)\b|卖家|挂出|讲得出|讲出|捞出|被爆|挂(?:在|到|上)(?=[^，。；]{0,8}(?:网|吧|论坛|群|平台|微博|贴))|挂牌出售|样本|交易论坛|暗网|外流|报出|说出|掌握|诈骗|泄露|外泄|出售|售卖|贩卖|兜售|爬取|暴露|拖库|流出|倒卖|打包|网盘|下载|可查|检索|盗取|窃取|被查询|黑产|流传|黑客|hacker|入侵|盗走|攞到)"
AMOUNT = [rf"{_APPROX}{N}\s*(?:元|块钱|块|人民币|yuan|RMB|CNY)", rf"(?:RMB|CNY|¥|￥)\s*{_APPROX}{N}",
          rf"(?:金额|欠款|款项|货款|返利|欠薪|工资|资金|损失|本金|装修款|购房款|预付款|首付款|定金|学费|会员费|保费)[^，。；0-9]{{0,8}}?{_APPROX}{N}(?<=[万亿])(?![余多]?\s*(?:人|名|户|个|条|份|次|家|件|单|位))"]
# Amounts in other currencies, converted to yuan at round rates (the grade needs magnitude, not cents).
CURRENCY_RATES = {r"(?:新台币|台币|NT\$|NTD)": 0.22, r"(?:港元|港币|HK\$|HKD)": 0.92, r"(?:美元|美金|US\$|USD)": 7.2,
                  r"(?:新加坡元|新币|S\$|SGD)": 5.4, r"(?:欧元|€|EUR)": 7.8, r"(?:英镑|£|GBP)": 9.1, r"(?:日元|日圆|JPY)": 0.048,
                  r"(?:韩元|韩圜|KRW)": 0.0053, r"(?:澳元|澳币|A\$|AUD)": 4.7, r"(?:加元|加币|C\$|CAD)": 5.2, r"(?:澳门元|澳门币|MOP)": 0.89,
                  r"(?:令吉|马币|RM|MYR)": 1.55}


def _foreign(currency: str, before: str = "") -> list[str]:
    return [rf"{before}{currency}\s*{_APPROX}{N}", rf"{before}{_APPROX}{N}\s*(?:元)?\s*{currency}"]
FINE_WORDS = r"(?:罚款|罚没|处以|并处|罚金|裁罚|罚|fined?)"
FINE = [rf"(?:罚没款|罚款)(?:合计|共计|共)?{_APPROX}{N}\s*(?:元|块)",
        rf"fined?[^，。；0-9]{{0,40}}?(?:RMB|CNY|¥|￥)\s*{_APPROX}{N}",
        rf"{FINE_WORDS}(?:人民币)?(?:合计|共计|共)?{_APPROX}{N}\s*(?:元|块)",
        rf"(?:罚款|被罚|罚没)(?:了)?{_APPROX}(?P<n>[0-9]+(?:\.[0-9]+)?\s*[万亿]|[一二两三四五六七八九十百千]+[万亿])(?![元0-9]|\s*(?:人|名|次|条|户))",
        rf"{N}\s*元(?:的)?罚(?:款|单)"]
MARKET = r"(?:股价|股票|港股|A股|美股|盘中|收盘|收市|开盘|开市|早盘|午后|尾盘|市值|股|\b[Ss]hares?\b)"  # words that make a fall a share price's
STOCK = [r"\b(?:[Ss]hares?|[Ss]tock)\b[^，。；]{0,40}?(?:fell|dropped|closed down|slumped|tumbled|plunged|sank|down)\s*(?:by\s*)?(?:about\s*|over\s*|more than\s*)?(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%",
         rf"{MARKET}[^，。；]{{0,14}}?(?:下跌|跌|跌幅|收跌|大跌|挫|下挫|重挫|跳水|跌超|跌逾)"
         r"(?:超过|超|逾|近|约|达|了|咗)?\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%",
         r"(?:收跌|跌超|跌逾|大跌|重挫|下挫|跳水)\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%"]
STOCK_LIMIT = rf"(?:\blimit[- ]down\b|跌停|闪崩|股价崩|市值蒸发[^，。；]{{0,6}}亿|{MARKET}[^，。；]{{0,8}}(?:暴跌|腰斩|崩盘))"
RATING_DOWN = r"(?:信用等级[^，。；]{0,8}下调|downgrad(?:ed|es|ing|e)\b[^，。；]{0,60}rating|rating[^，。；]{0,20}(?:downgraded|cut|lowered)|(?:下调|调降|降低|下修)[^，。；目标价]{0,10}(?:主体|债项|信用)?(?:评级|信用等级)|评级[^，。；]{0,10}(?:下调|调降|下修|降至|降为)|信用等级(?:被)?下调|降级至)"
RATING_WATCH = r"(?:watch ?list|credit ?watch|rating watch|展望[^，。；]{0,12}(?:负面|negative)|outlook[^，。；]{0,16}negative|负面展望|列入(?:评级)?(?:负面)?观察|负面观察|观察名单)"
BOND_DEFAULT = r"(?:实质(?:性)?违约|债(?:券|务)?违约|(?<![不未])构成违约|展期失败|无法偿付|未能偿付)"
GRACE = r"(?:宽限期|未按期(?:付息|兑付|支付|偿付)|未能按期(?:付息|兑付)|延期(?:付息|兑付)|到期未兑付|逾期未兑付|兑付逾期|到期未(?:付|支付)|展期)"
CLASS_ACTION = r"(?:集体诉讼|共同诉讼|集体起诉|联合起诉|代表人诉讼|集团诉讼)"
CLAIMS = r"(?:征集(?:受损)?投资者|征集索赔|索赔征集|律所[^，。；]{0,12}征集|征集[^，。；]{0,6}(?:维权|索赔))"
MONEY_LOSS = (r"(?:暂停提(?:领|现|款)|领不出|(?<![裹件递货])取不出|提不出|付不出|没到账|没有到账|骗(?:着|了)?转(?:账|了)|盗刷|被转出|被转走|无法提现|不能提现|提现困难|无法取出|无法支取|不到账|未到账|资金被冻结|\b(?:frozen|unable to withdraw|cannot withdraw|can't withdraw)\b|withdrawals?[^，。；]{0,12}(?:capped|halted|suspended)|重复扣款|多扣款|被多扣|(?:卡|账户|帐户|资金)[^，。；]{0,6}被[^，。；]{0,4}冻结|无法兑付|兑付困难|爆仓|"
              r"血本无归|跑路|卷款|无法退款|退款无门|无法使用|损失惨重|被骗)")
BACKLASH = (r"(?:取消预订|退学退费|退费潮|集中退费|扎堆退费|\b(?:pulled (?:the )?(?:products?|items?|it)|taken off (?:the )?shelves|removed from (?:the )?shelves|delisted|mass returns|cancell?ed orders)\b|退订|退货潮|退货申请激增|退货激增|退保潮|集中退保|批量退货|解约潮|取消订单|销量(?:减半|骤降|暴跌|腰斩)|"
            r"(?:超市|商超|平台|渠道|经销商|电商|卖场|药店|便利店|商场|门店|连锁[^，。；]{0,6}店|母婴店|专卖店)(?:(?!视频|帖|文章|内容|账号|链接)[^，。；]){0,12}(?:下架|撤柜|停售)|停止合作|暂停合作|终止合作)")
# refunds actually being paid (an offer alone is not: it may stall)
MONEY_RESOLVED = (r"(?:已经?补发|已(?:全部)?(?:安排)?(?:打款|退款|退还|到账|兑付)|已经?退了|也在退|正在退款|目前退了[^，。；]{0,8}(?:个人|人|块|元|万)|(?:办完|办理完|完成)(?:了)?退款|晒(?:出)?(?:了)?到账|(?:都|均)(?:已)?(?:确认)?到账|"
                  r"已有[^。；]{0,8}(?:办完|办理完|领到|收到|拿到))")
COLLECTIVE = (r"(?:没出车|不出车|围在[^，。；]{0,8}(?:门口|门前|楼下)|排了[^，。；]{0,10}人[^，。；]{0,6}(?:取钱|取款|把钱取|提钱)|\bgathered (?:at|outside|in front of)\b|\bqueu(?:ed|ing)\b[^。；]{0,30}\bwithdraw|\b(?:protest(?:ed|ers|ing)?|sit-in|petition(?:ed)?|joint (?:letter|complaint)|signed a (?:joint )?letter|collective complaint)\b|\bstrike\b|walk(?:ed|ing)?[- ]?out|堵在[^，。；]{0,6}(?:门口|门前|前台|大门|大厅|办公室|楼下|总部|售楼处|门店|营业厅|厂门|校门|项目部)|排起(?:了)?(?:长)?(?:队|龙)[^。；]{0,12}(?:取|提|退|攞|withdraw)|排长龙[^。；]{0,8}(?:取|提|攞|拿)|聚集|聚了(?=[^，。；]{0,8}人)|把[^，。；]{0,8}路[^，。；]{0,2}堵(?:了|住|死)|围堵|罢工|(?<!暂)停工(?!作)|怠工|联名|联署|集体投诉|集体讨薪|集体维权|维权群|上访|拉横幅|拉起横幅|堵门|静坐|示威|抗议|排队取款|"
              r"集中提现|排队退(?:卡|款|费)|集体停运|集体停驶|集体没出车|集体未出车|唔肯开工|不肯开工|拒绝开工|同日停运|停跑|集体停工|集体辞职|讨说法|要说法|讨薪|跑到[^，。；]{0,6}(?:总部|售楼处|门店|公司)|"
              r"到[^，。；]{0,8}(?:总部|售楼处|门店|项目部|办公楼|政府)[^，。；]{0,6}(?:维权|讨|要求|聚集))")
CROWD = [rf"{_number_then_words(6)}{_PEOPLE}[^，。；]{{0,40}}?{COLLECTIVE}",
         rf"{N}(?![万亿]?\s*[元块])\s*(?:名|位|个|多|余)?(?:[^，。；0-9]{{0,18}}?){COLLECTIVE}",
         rf"(?:维权群|维权微信群|投诉群|讨薪群|索赔群)(?:人数)?(?:已|已经)?(?:超过|有|达|近)?{_APPROX}{N}\s*(?:人|名)",
         rf"{COLLECTIVE}[^，。；0-9]{{0,6}}?(?:人数)?{_APPROX}{N}\s*(?:名|位|人)"]
COLLECTIVE_MAJOR = (r"(?:\bbank run\b|\blines? of\b[^。；]{0,40}\b(?:several|multiple|[2-9]) (?:bank )?branches|[Qq]ueues?[^。；]{0,40}\b(?:[2-9]|[1-9][0-9]|several|multiple)\s+(?:bank\s+)?branches|挤兑|(?:多|几|数|各|[两三四五六七八九十]+)(?:个|家|间)?[^，。；]{0,4}(?:网点|分行|支行|分社|营业部|营业厅)[^。；]{0,20}(?:排满(?:了)?人|排队|排起(?:了)?长?队|排长队|取款|提现|提款|领钱|取钱|攞钱|人龙|长龙|人潮|聚集)|"
                    r"(?:[两三四五六七八九十0-9]+|多|十几|十余|几十)个[^，。；]{0,4}(?:仓|厂|基地|站点|转运站|分拣中心|分拨中心|网点|城市|门店|工地)[^。；]{0,12}(?:同时|同日|同步|集体|同一天)[^。；]{0,4}(?:停工|罢工|停运|停跑|不接单|停车(?!场)|罢送)|"
                    r"(?:多地|(?:多|[0-9两三四五六七八九十几余]+)(?:家|个)?(?:城市|门店|分店))[^。；]{0,16}(?:排队|挤)[^。；]{0,4}退(?:卡|款|费)|"
                    r"(?:排队|取款)[^。；]{0,10}多个网点|堵(?:塞)?(?:道路|路|交通)|\broad was blocked\b|\bblocked (?:the|a) (?:road|highway)\b|群体性事件|(?:警察|警方|民警|公安|派出所)[^，。；]{0,12}维持(?:现场)?秩序|"
                    r"(?:全国|多地|多个城市|跨省|跨地区|[0-9两三四五六七八九十]+(?:个城市|地|个地区|省|个省市|个县)|十余个城市)[^。；]{0,24}(?:同时|同日|同步|集体|一起|同一天|一块儿)?(?:停工|罢工|停运|停摆|停跑|停止接单|不接单|罢送|不干了|[“「]?下线)|\bin (?:[2-9]|[1-9][0-9]|several|multiple) cities\b[^。；]{0,60}\b(?:went offline|walked out|on strike|stopped work)\b|(?:\b(?:strikes?|walkouts?|stoppages?|went offline)\b|停工|罢工)[^。；]{0,50}\bin (?:at least |more than |over )?(?:[2-9]|[1-9][0-9]|several|multiple) cities\b)")
AFFECTED = [rf"(?:涉及|影响|波及|受影响|牵涉|覆盖|泄露|涉事|(?<!量)累计)(?:的)?(?:[^，。；0-9]{{0,4}}?{_PEOPLE})?(?:有|达)?{_APPROX}{N}\s*(?:名|位|人|户|个|家|条|份|(?<=[万亿])(?![余多]?\s*(?:元|块|美|港|人民币|欧|英镑|日元|台币)))",  # 约1.2万: the 万 is the number's (not 70万元)
            rf"(?:资料|信息|数据|记录|简历|病历|报告|档案)(?:约|共|达|有|超过|近)*\s*{N}\s*(?:条|份)",
            rf"{N}\s*(?:名|位|户|个|多|余)?[^，。；0-9]{{0,5}}?{_PEOPLE}",
            rf"{N}\s*(?:名|位|户)[^，。；0-9]{{0,12}}?{_PEOPLE}",
            rf"{_number_then_words(3)}{_PEOPLE}",  # 72000 policyholder records, 60000 Zhixing Car Rental customers
            rf"{N}\s*(?:条|份)(?:[^，。；0-9]{{0,10}}?)(?:信息|数据|记录|报告|档案|手机号|号码|资料|简历|订单)",
            rf"(?:数据|信息|记录)[^，。；]{{0,12}}?(?:总量|总计|共计|合计|规模)\s*{_APPROX}{N}\s*条",
            rf"(?:声称|号称|宣称|自称)(?:数据)?(?:总量|总数|共有)\s*{_APPROX}{N}\s*(?:条|份)",
            rf"{N}\s*(?:户|人)(?:停水|停电|停气|受影响|滞留|被困|无法)",
            rf"{_APPROX}{N}\s*条[，,]?\s*(?:含|包括|包含|字段(?:有|包括)?)[^。；]{{0,6}}(?:姓名|身份证|手机号|电话|住址|银行卡)"]  # 约12万条，含姓名
FLIGHTS = [rf"{N}\s*(?:flight\s*)?cancell?ations", rf"取消(?:了)?(?:进出港|进港|出港|国内|国际)航班{_APPROX}{N}\s*(?:个|班|架次)?",
           rf"cancell?ation of\s*{_APPROX}{N}\s*flights", rf"{N}\s*flights?\s*(?:were\s+|had to be\s+)?(?:cancell?ed|grounded|delayed)",
           rf"(?:取消|cancel(?:led|ed)?|延误|delay(?:ed)?|停飞|备降|返航)\s*(?:了|咗)?(?:航班|班次|车次|列车)?{_APPROX}{N}\s*(?:个|班|架次|趟|次)?",
           rf"{N}\s*(?:个|班|架次|趟)?(?:航班|班次|车次|趟列车)(?:被)?(?:取消|延误|停飞|停运)"]
PARCELS = [rf"{N}\s*(?:件|单|票)(?:包裹|快件|快递|订单|货物)?[^，。；]{{0,6}}(?:滞留|积压|延误|停滞|无法派送|未能(?:按时)?(?:发出|派送)|发不出)",
           rf"(?:滞留|积压|积(?:了|咗))(?:了|有)?(?:的)?(?:好)?(?:包裹|快件|快递|订单)?{_APPROX}{N}\s*(?:件|单|票)"]
OUTAGE_WORDS = r"(?:login 不到|登录不到|\bdown\b|outage|crash(?:ed)?|全断|断网|登不进|登录不了|用不了|不能用|打不开|中断|故障|瘫痪|停摆|宕机|(?<!欠费)(?:停水|停电|停气)(?!期限|日期|时间|通知)|停运|无法|异常|崩|报错|停服|进不去|停诊|挂不了|打不到|瘫|停止供)"
RESTORED = r"(?:恢复|修复|修好|复原|back online|restored)"
OUTLETS = [rf"{N}\s*(?:家|所|个|座|间)(?:[^，。；0-9]{{0,4}})?(?:门店|网点|学校|医院|营业厅|分店|药店|超市|站点|校区|幼儿园|社区|加油站|工厂)"]
PARTIAL_OUTAGE = r"(?:\bcrash(?:ed)?\b|(?:[0-9两三四五六七八九十多几]+条|多条)(?:公交|地铁)?线路[^，。；]{0,20}(?:停驶|停运|停摆)|(?<!暂)停运(?!行|检修)|停摆|停诊|停课|闭店|瘫痪|宕机|停服|服务中断|系统崩溃|全面崩溃)"
TOTAL_OUTAGE = (r"(?:(?i:tap water|water supply|heating|gas supply)[^，。；]{0,40}\b(?:has been|was|were|is) (?:cut off|suspended)\b|\bwent without (?:heating|water|gas)\b|(?:suspended|halted|cancell?ed)\s+(?:every|all)\s+(?:of its\s+)?(?:sailings?|flights?|services?|routes?|lines?|trains?|operations)|all (?:routes|services|lines|sailings|flights)[^，。；]{0,12}(?:suspended|halted|cancell?ed)|nationwide outage|total outage|暂停[^，。；]{0,6}供水|自来水厂[^，。；]{0,6}暂停取水|\b(?:had|have|has|with) (?:their |its )?(?:tap[- ]water|water|gas|heating)(?: supply)? (?:cut|cut off|suspended)\b|data\s*全断|全网断|全网瘫痪|全面瘫痪|全线停运|全线网停运|全线[^，。；0-9]{0,6}停运|全线停航|全部停航|全市停运|全城停运|全市[^，。；]{0,12}(?:停摆|瘫痪|停运)|(?:全镇|全村|全区|成个[^，。；]{0,4}(?:镇|村|区))[^，。；]{0,4}(?:都)?(?:冇水|没水|停水|无水|冇电|没电|停电)|全部停运|全线停摆|大面积(?:停电|停水|瘫痪|故障|停运)|(?<!欠费)停水(?!期限|日期|时间|通知)|(?<!欠费)停气(?!期限|日期|时间|通知)|停暖|"
                r"断水|自来水停供|停止供水|暂停(?:取水)?供水|供水中断|停止供暖|停止供气|供暖中断|供气中断|停供)")
# A power cut is a public-utility cut only where homes or an area lost it (not a mall's kitchen or a venue).
POWER_CUT = r"(?<!自动)(?<!保护性)(?:停电|断电(?!保护)|供电中断)"
UTILITY_AREA = r"(?:居民|小区|片区|全市|全城|全区|全县|全镇|[0-9一二两三四五六七八九十百千万余多]+户|村|街道|城区|市区|辖区|用户|家庭|住户)"
SILENCE = (r"一个字(?:的)?(?:说明|回应|解释)?都没(?:有)?|(?:未|没有|没|无|尚未|仍未|从未|始终未|一直未|冇)(?:作出|作|给出|发布|发出|发过|发|出过|出|做过|作过|给过|有过|对外|公开)?(?:任何)?(?:官方|正式|公开)?(?:回应|回复|表态|发声|说明|"
           r"声明|澄清|解释|通报)|一个字都没(?:发|回|说)|只字未提|一声不吭|no comment|has(?:n't| not) (?:responded|commented|issued)|said nothing|has been silent|remained silent|kept silent|no (?:official )?(?:response|statement)|declined to comment|has yet to (?:respond|comment)|不予回应|拒绝回应|避而不谈|保持沉默|沉默")
LONG_SILENCE = r"(?:for days|for (?:a|over a) week|several days|多日|连日|数日|几天|多天|一周|一星期|连续[^，。；]{0,3}天|至今[^，。；]{0,3}天)"
STILL_ON_SALE = (r"(?:(?:还在|仍在|依然)照常出货|still (?:listed|selling)|still on (?:the )?shelves|still on sale|仍在[^，。；]{0,20}(?:货架上)?(?:销售|售卖)|still (?:being )?sold|remains? on (?:sale|shelves)|still (?:available|listed) (?:for sale|to buy|on (?:the )?(?:shelves|platforms?|app|store))|仍在[^，。；]{0,12}(?:销售|售卖|上架|卖)|仍(?:在|可)?(?:正常)?(?:销售|售卖|在售)|照常(?:销售|售卖)|正常销售|"
                 r"依然照卖|照卖|继续(?:销售|售卖)|仍未下架|未下架|没有下架|未见下架|未召回|仍未召回|尚未召回|未见[^，。；]{0,4}召回|"
                 r"仍可(?:购买|下单)|还在卖|还挂着|仍挂着|仍在使用|仍未恢复|尚未恢复|至今未恢复)")
# An old, settled event reposted again (SEVERITY.md rulings): both a resurfacing and a past settlement.
RESURFACED = (r"(?:\b(?:re-?uploaded|resurfaced|recycled|repackaged|old (?:video|post|story|clip|leak|dataset))\b|旧闻|旧新闻|旧帖|旧视频|老视频|旧事重提|炒冷饭|翻炒|翻出|重新发布|重新发出|再次流传|重新流传|"
              r"又被[^，。；]{0,12}(?:搬运|翻出|转发|转载))")
SETTLED_BEFORE = (r"(?:\b(?:disclosed at the time|settled (?:that|in|back in|the same) (?:year|\d{4})|was settled|were settled|resolved in \d{4}|already (?:settled|resolved|refuted|debunked))\b|早已|当年[^。；]{0,24}(?:已|均已|全部)|已于[^。；]{0,16}(?:完成|结清|整改|处理|赔付)|"
                  r"(?:已被|已经被)[^。；]{0,16}辟谣|已经辟谣|当年的辟谣|此后未再|全部结清|已全部结清)")
NEW_CONSEQUENCE = (r"(?:引发|导致|造成|再次|又有|新增|重新)[^。；]{0,12}(?:聚集|投诉|围堵|罢工|停工|维权|受伤|中毒|就医|"
                   r"挤兑|排队|约谈|调查|退货|退款|下架)")  # the repost brought new facts: they count
NEGATIVE_SHARE = [r"负面(?:信息|情绪|评论|声量|内容)?(?:占比|比例|率|比重)(?:约|达|超过|已达|升至|为|高达|已)?\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%"]
NEGATIVE_SHARE_TENTHS = r"负面(?:信息|情绪|评论|声量|内容)?(?:占比|比例|率|比重)[^，。；0-9]{0,6}?(?P<n>[一二三四五六七八九])成"  # 七成 = 70 %
SPIKE = [r"(?:为|是|系|达|增至|增长|激增|暴增|涨了|翻了)[^，。；]{0,10}?(?P<n>[0-9]+(?:\.[0-9]+)?|[两三四五六七八九十]+)\s*倍"]


def _in_header(text: str, start: int) -> bool:
    """Inside a memo's own header (【舆情日报-条目4】, 舆情日报, 监测周报): the report's name, not a newspaper."""
    opened, closed = text.rfind("【", 0, start), text.rfind("】", 0, start)
    if opened > closed:
        end = text.find("】", start)
        label = text[opened + 1:end if end != -1 else len(text)]
        return bool(re.search(r"(?:舆情|监测|声量|风险|预警|内部|工作|简报|周报|条目|运营|值班|站务|安全|事件|信息|情况|生产|质量|客服|-|｜)", label)
                    or re.fullmatch(r"(?:日报|快报|周报|简报)(?:条目)?", label))
    return bool(re.search(r"(?:舆情|监测|声量|风险|工作|安全)$", text[max(0, start - 4):start]))


def _ordered_by_authority(sentence: str, match: re.Match) -> bool:
    """A stoppage, recall or suspension counts as a formal order when someone else imposed it: 被暂停,
    an order word just before, or done to the company (暂停其…业务: "its" business); a company's own
    closure (酒楼暂停营业配合检查) is not."""
    if "被" in match.group(0) or re.match(r"(?:暂停|停止|吊销|撤销)其", match.group(0)):
        return True
    before = sentence[max(0, match.start() - 40):match.start()]  # 省网信办通知“某APP”因…，即日起…下架
    if re.search(r"(?:自己|自行|主动|我们|公司|门店|本店|我)[^，。；]{0,4}决定", before):
        return False
    return bool(_ORDER_BEFORE.search(before))


def _harm_is_reported(text: str, match: re.Match) -> bool:
    """A symptom alone (不适, 呕吐) is the guide's minor case, and so is a scrape the person treated
    themselves (擦伤，自行贴胶布，没有求诊); an injury or a visit to a doctor is harm."""
    if re.fullmatch(r"(?:不适|呕吐|腹泻|过敏|红肿|头晕|胸闷|心悸|发热|感染)", match.group(0)):
        return False
    rest = re.split(r"[。；！？\n]", text[match.end():], maxsplit=1)[0]
    return not (re.fullmatch(r"(?:擦伤|擦破|蹭破|红肿|淤青)", match.group(0))
                and re.search(r"(?:没有?求诊|未就医|没有?就医|没去医院|不用去医院|自行(?:贴|处理|涂|包扎)|贴了?(?:创可贴|胶布))", rest))


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。；！？!?\n]", text) if s.strip()]


def _hours(sentence: str) -> float | None:
    """The longest duration a sentence states (小时, 天, 分钟, 7点至10点)."""
    values = []
    for match in re.finditer(rf"{_SPAN}\s*(?:个)?(?:多)?(?:小时|钟头|个钟|hours?|hrs?)", sentence):
        if (v := parse_number(match.group("n"))) is not None:
            values.append(v)
    for match in re.finditer(rf"(?<![月0-9]){_SPAN}\s*(?:天|日|days?\b)(?!前|后|内|起|\s+ago)", sentence):
        if (v := parse_number(match.group("n"))) is not None and v < 60:
            values.append(v * 24)
    for match in re.finditer(rf"{_SPAN}\s*(?:分钟|min(?:ute)?s?\b)", sentence):
        if (v := parse_number(match.group("n"))) is not None:
            values.append(v / 60)
    for match in re.finditer(r"(?<![0-9])(?P<a>[0-9]{1,2})(?:[:：][0-9]{2}|点|时)(?:[0-9]{1,2}分)?\s*(?:至|到|-|—|~|－)\s*(?P<b>[0-9]{1,2})(?:[:：][0-9]{2}|点|时)", sentence):
        a, b = int(match.group("a")), int(match.group("b"))
        values.append((b - a) % 24)
    if re.search(LONG_SILENCE, sentence):
        values.append(72.0)
    return max(values) if values else None


_FULL_WIDTH_PUNCTUATION = {ord(a): b for a, b in {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}.items()}


def normalise(text: str) -> str:
    """NFKC (full-width digits and commas), Traditional → Simplified (the lexicons are simplified)."""
    text = to_simplified(unicodedata.normalize("NFKC", text or ""))
    text = re.sub(r"(?<=[0-9]),(?=[0-9]{3})", "", text)
    text = _english_numbers(text)
    text = re.sub(r"(?<![0-9.])(\d+)万(\d)千", lambda m: str(int(m.group(1)) * 10000 + int(m.group(2)) * 1000), text)  # 1万2千
    text = re.sub(r"(?<=[0-9零一二两三四五六七八九十百千几])个(?=亿)", "", text)  # 1.6个亿, 两个亿
    text = re.sub(r"([一二三四五六七八])([二三四五六七八九])(?=[十百千万亿])",
                  lambda m: m.group(1) if _DIGITS[m.group(2)] == _DIGITS[m.group(1)] + 1 else m.group(0),
                  text)  # 五六十 → 五十, 十五六万 → 十五万
    text = re.sub(r"(?<![0-9])(?:12345|12315|12306|12358|12369|12366|12333|12320|12365)(?![0-9])", "热线", text)
    text = re.sub(r"(?<=[A-Za-z)'\"”])\.\s+(?=[A-Z“\"'(])", "。", text)
    return text.translate(_FULL_WIDTH_PUNCTUATION)


_EN_SMALL = {w: i for i, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_EN_VAGUE = {"hundreds of thousands of": "数十万", "tens of thousands of": "数万", "thousands of": "数千",
             "hundreds of": "数百", "dozens of": "数十", "scores of": "数十", "a dozen": "12"}


def _english_numbers(text: str) -> str:
    """1.3 million → 130万, 2 billion → 20亿, 12k → 12000, two staff → 2 staff, dozens of → 数十."""
    text = re.sub(r"((?:RMB|CNY|HK\$|US\$|S\$|NT\$|¥|￥|\$)\s*\d+(?:\.\d+)?)\s*m\b", r"\1 million", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*(?:million|mn)\b",
                  lambda m: f"{float(m.group(1)) * 100:g}万", text, flags=re.I)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*(?:billion|bn)\b", lambda m: f"{float(m.group(1)) * 10:g}亿", text, flags=re.I)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*[kK]\b", lambda m: f"{float(m.group(1)) * 1000:g}", text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*[wW](?![A-Za-z])", r"\1万", text)
    for phrase, chinese in _EN_VAGUE.items():
        text = re.sub(rf"\b{phrase}\b", chinese, text, flags=re.I)
    return re.sub(r"\b(" + "|".join(_EN_SMALL) + r")\b(?=\s+[A-Za-z])",
                  lambda m: str(_EN_SMALL[m.group(1).lower()]) if m.group(1).lower() != "one" or not re.search(
                      r"(?:[Nn]o|[Aa]ny|[Ee]very|[Ss]ome)\s*$", text[:m.start()]) else m.group(1), text, flags=re.I)


def _read_money(text: str, rumor: bool, values: dict, evidence: dict) -> None:
    """amount_yuan and fine_yuan: other currencies converted, then yuan in a text where those
    amounts are blanked out; an amount that is the fine is not also "money involved"."""
    amounts: list[tuple[float, str]] = []
    fines: list[tuple[float, str]] = []
    yuan_text = text
    for currency, rate in CURRENCY_RATES.items():
        for found_list, patterns in ((amounts, _foreign(currency)),
                                     (fines, _foreign(currency, rf"{FINE_WORDS}[^，。；0-9]{{0,12}}?"))):
            found = _largest(patterns, text, rumor)
            if found:
                found_list.append((found[0] * rate, found[1]))
        yuan_text = re.sub(rf"{currency}\s*{NUMBER}|{NUMBER}\s*(?:元)?\s*{currency}", "·", yuan_text)
    for found_list, patterns in ((amounts, AMOUNT), (fines, FINE)):
        found = _largest(patterns, yuan_text, rumor)
        if found:
            found_list.append(found)
    if fines:
        values["fine_yuan"], evidence["fine_yuan"] = max(fines)
        amounts = [a for a in amounts if a[0] != values["fine_yuan"]]
    if amounts:
        values["amount_yuan"], evidence["amount_yuan"] = max(amounts)


def read_signals(text: str, crisis_type: str | None = None) -> TextSignals:
    """Extract severity signals from Chinese text. For a rumor, the quoted rumor content and what the
    rumor is said to claim are not read as fact (only the rumor's real consequences count)."""
    text = normalise(text)
    rumor = crisis_type == "rumor"
    text = _QUOTED_CLAIM.sub("“…”", text)
    if rumor:
        text = _QUOTED.sub("“…”", text)
    values: dict[str, float | bool] = {}
    evidence: dict[str, str] = {}

    def count(name: str, patterns: list[str], source: str = text) -> None:
        found = _largest(patterns, source, rumor)
        if found and (name not in values or found[0] > values[name]):
            values[name], evidence[name] = found[0], found[1]

    def flag(name: str, pattern: str, source: str = text, check=None) -> None:
        for match in _hits(pattern, source, rumor):
            if check is None or check(source, match):
                values[name], evidence[name] = True, match.group(0)
                return

    _read_money(text, rumor, values, evidence)
    for name, patterns in (("reposts", REPOSTS), ("views", VIEWS), ("mentions", MENTIONS), ("complaints", COMPLAINTS),
                           ("deaths", DEATHS), ("injured", INJURED),
                           ("stock_drop_pct", STOCK), ("affected_people", AFFECTED), ("flights_cancelled", FLIGHTS),
                           ("parcels_stranded", PARCELS), ("outlets_affected", OUTLETS), ("crowd_size", CROWD),
                           ("negative_share_pct", NEGATIVE_SHARE), ("spike_ratio", SPIKE)):
        count(name, patterns)
    tenths = _largest([NEGATIVE_SHARE_TENTHS], text, rumor)
    if tenths and not values.get("negative_share_pct"):
        values["negative_share_pct"], evidence["negative_share_pct"] = tenths[0] * 10, tenths[1]
    if "deaths" not in values:
        flag("deaths", DEATH_WORDS)
        if values.get("deaths") is True:
            values["deaths"] = 1.0
    platforms = sorted({p for p in PLATFORMS
                        if any(_reach_stated(text, m) for m in _hits(_PLATFORM_PATTERNS.get(p, re.escape(p)), text, rumor))})
    if platforms:
        values["platforms"], evidence["platforms"] = float(len(platforms)), "、".join(platforms)
    count("platforms", [rf"{N}\s*个(?:社交|网络|公开)?平台"])
    flag("multi_platform", MULTI_PLATFORM)
    flag("multi_region", MULTI_REGION)
    flag("hot_search", HOT)
    flag("national_hot_search", NATIONAL_HOT, check=lambda s, m: not _LOCAL.search(_clause_prefix(s, m.start(), 8)))
    flag("central_media", CENTRAL_MEDIA, check=_reach_stated)
    flag("local_media", LOCAL_MEDIA, check=lambda s, m: not _in_header(s, m.start()) and _reach_stated(s, m))
    # regulator: an agency and an action in the same sentence (a company's own 约谈/停业 is not regulator action);
    # an internal notice is not a regulator's, and for a penalty a warning letter is the guide's minor case
    regulator_text = re.sub(r"内部通报|内部通知", "·", text)
    if crisis_type == "regulatory_penalty":
        regulator_text = re.sub(WARNING_ONLY, "·", regulator_text)
    signed = re.search(rf"——[^——\n]{{0,30}}(?:{AGENCY})[^——\n]{{0,12}}$", regulator_text.strip())
    for sentence in _sentences(regulator_text):
        if signed or _stated(AGENCY, sentence, rumor):
            flag("regulator_attention", ATTENTION_ACTION, sentence)
        flag("regulator_formal", FORMAL_ALONE, sentence)
        flag("regulator_formal", FORMAL_ORDERED, sentence, check=_ordered_by_authority)
        flag("regulator_formal", r"证监会[^，。；]{0,12}(?:处罚|立案|罚款)", sentence)
    if (values.get("fine_yuan") or 0) >= 1e8:
        values["regulator_formal"], evidence["regulator_formal"] = True, evidence["fine_yuan"]
    # a regulator's reply that found the company compliant (监测数据均符合标准) is not attention to a problem
    if values.get("regulator_attention") and not values.get("regulator_formal") and not values.get("fine_yuan") \
            and mentioned(FOUND_COMPLIANT, text):
        values.pop("regulator_attention"), evidence.pop("regulator_attention")
    # harm to people, and the vulnerable-group aggravation (SEVERITY.md §4.1-E)
    flag("harm_reported", HARM_WORDS, check=_harm_is_reported)
    flag("harm_severe", HARM_SEVERE)
    leak = _stated(LEAK, text, rumor)
    for sentence in _sentences(text):
        vulnerable = list(_hits(VULNERABLE, sentence, rumor))
        if not vulnerable:
            continue
        harmed = list(_hits(HARM_WORDS, sentence, rumor))
        if harmed:
            many = _largest(INJURED + [rf"{N}\s*(?:名|位|个)?[^，。；0-9]{{0,3}}?{VULNERABLE}"], sentence, rumor)
            # plural words count when they are about the vulnerable people (多名孩子, 老人们), not 多名家长
            plural = (many and many[0] >= 2) or re.search(
                rf"(?:多名|数名|几名|多位|十余名?|数十名?|一批|群体)[^，。；]{{0,4}}{VULNERABLE}|{VULNERABLE}们", sentence)
            if plural or re.search(HOSPITAL, sentence):
                values["vulnerable_harmed"], evidence["vulnerable_harmed"] = True, sentence.strip()[:40]
        flag("vulnerable_targeted", TARGETING, sentence)
    if leak:
        flag("sensitive_data", SENSITIVE)
    # money and market
    flag("stock_limit", STOCK_LIMIT)
    if values.pop("stock_limit", False):
        values["stock_drop_pct"], evidence["stock_drop_pct"] = max(values.get("stock_drop_pct") or 0, 10.0), evidence.pop("stock_limit")
    for name, pattern in (("rating_downgrade", RATING_DOWN), ("rating_watch", RATING_WATCH), ("bond_default", BOND_DEFAULT),
                          ("grace_period", GRACE), ("class_action", CLASS_ACTION), ("investor_claims", CLAIMS),
                          ("money_loss", MONEY_LOSS), ("consumer_backlash", BACKLASH), ("collective_action", COLLECTIVE),
                          ("collective_major", COLLECTIVE_MAJOR), ("partial_outage", PARTIAL_OUTAGE),
                          ("total_outage", TOTAL_OUTAGE), ("still_on_sale", STILL_ON_SALE)):
        flag(name, pattern)
    for sentence in _sentences(text):
        if _stated(UTILITY_AREA, sentence, rumor):
            flag("total_outage", POWER_CUT, sentence)
    flag("old_event_resurfaced", RESURFACED,
         check=lambda s, m: mentioned(SETTLED_BEFORE, s) and not mentioned(NEW_CONSEQUENCE, s))
    # outage length: a duration in a clause that names an outage, or right after one (…瘫痪，持续近30小时)
    for sentence in _sentences(text):
        clauses = re.split(r"[，,]", sentence)
        for i, clause in enumerate(clauses):
            continues = i > 0 and re.match(r"\s*(?:持续|长达|历时|前后|累计|至今已)", clause) and _stated(
                OUTAGE_WORDS, clauses[i - 1], rumor)
            if (continues or _stated(OUTAGE_WORDS, clause, rumor)) and not re.search(SILENCE, clause):
                hours = _hours(_QUOTED.sub("“…”", clause))  # "七天美白" is a slogan, not seven days down
                if hours and hours > (values.get("outage_hours") or 0):
                    values["outage_hours"], evidence["outage_hours"] = hours, clause.strip()[:40]
    # a short outage already over is the guide's minor case (中断数十分钟内恢复), not a partial stoppage
    if values.get("partial_outage") and (values.get("outage_hours") or 24) < 1 and mentioned(RESTORED, text):
        values.pop("partial_outage"), evidence.pop("partial_outage")
    # silence: how long, from the sentence that says nobody answered
    for match in re.finditer(SILENCE, text):
        sentence = next((s for s in _sentences(text) if match.group(0) in s), "")
        hours = _hours(sentence)
        if hours and hours > (values.get("unanswered_hours") or 0):
            values["unanswered_hours"], evidence["unanswered_hours"] = hours, sentence.strip()[:40]
    # a closing drop is the day's drop (盘中一度跌11%，收跌9.4% → 9.4)
    closing = _largest([r"(?:收盘|收市|收跌|收)[^，。；0-9]{0,6}?(?P<n>[0-9]+(?:\.[0-9]+)?)\s*%"], text, rumor)
    if closing and values.get("stock_drop_pct") and re.search(r"(?:盘中|一度)", evidence["stock_drop_pct"]):
        values["stock_drop_pct"], evidence["stock_drop_pct"] = closing
    # a spike is about the volume of information, not trading volume
    if values.get("spike_ratio") and not re.search(
            r"(?:信息量|声量|帖文|讨论|提及|舆情|发帖|相关内容|话题|帖子)[^。；]{0,24}" + re.escape(evidence["spike_ratio"]), text):
        values.pop("spike_ratio"), evidence.pop("spike_ratio")
    # stores/schools/branches count as operational scale only where the clause says they were hit
    if values.get("outlets_affected") and not re.search(
            r"(?:停|关|闭|故障|受影响|瘫痪|无法|排队|影响|波及|涉及|出错|异常|宕机|断|堵|聚集|围|退费|退款)",
            next((c for c in re.split(r"[，。；]", text) if evidence["outlets_affected"] in c), "")):
        values.pop("outlets_affected"), evidence.pop("outlets_affected")
    # money already being paid back, at one shop and under a million yuan, is the guide's minor case
    # (SEVERITY.md ruling w8-076): the loss the posts feared did not happen
    if (values.get("money_loss") or values.get("partial_outage")) and mentioned(MONEY_RESOLVED, text) \
            and (values.get("amount_yuan") or 0) < 1e6 and (values.get("outlets_affected") or 1) <= 1:
        for name in ("money_loss", "partial_outage"):
            if values.pop(name, None):
                evidence.pop(name, None)
    fields = {k: v for k, v in values.items() if k in SIGNALS}
    for name, value in fields.items():
        if SIGNALS[name].kind == "count":
            fields[name] = float(value)
    return TextSignals(**fields, platform_names=platforms, evidence={k: v for k, v in evidence.items() if k in fields})
