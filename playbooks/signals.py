"""Severity signals read from an incident description: reach, media authority, harm, regulator
or police involvement, spread and silence — with Chinese numerals and units (万, 亿) understood."""

from __future__ import annotations

import re

from pydantic import BaseModel

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
# Vague quantities people write instead of a number.
_VAGUE = {"数十": 30, "几十": 30, "数百": 300, "几百": 300, "上百": 100, "数千": 3000, "几千": 3000, "上千": 1000,
          "数万": 30_000, "几万": 30_000, "上万": 10_000, "近万": 9_000, "过万": 10_000, "数十万": 300_000,
          "几十万": 300_000, "上百万": 1_000_000, "数百万": 3_000_000, "上千万": 10_000_000, "数千万": 30_000_000,
          "上亿": 100_000_000, "过亿": 100_000_000, "数亿": 300_000_000}

NUMBER = (r"(?:数十万|几十万|上百万|数百万|上千万|数千万|数十|几十|数百|几百|上百|数千|几千|上千|数万|几万|上万|近万|过万|上亿|过亿|数亿"
          r"|[0-9][0-9,，]*(?:\.[0-9]+)?\s*(?:余|多)?\s*[十百千万亿]*(?:余|多)?"
          r"|[零〇一二两俩三四五六七八九十百千万亿]+(?:余|多)?[十百千万亿]*)")
_APPROX = r"(?P<approx>(?:约|近|超过|超|逾|达到|达|已达|已超|已经|已|突破|累计|共|上|将近|至少|合计|不足|不到|少于|低于|未满|未超过)*)\s*"
_BELOW = ("不足", "不到", "少于", "低于", "未满", "未超过")
# A negation shortly before a term cancels it: 尚无央媒报道, 未见转发扩散和主流媒体报道.
_NEGATION = re.compile(r"(?:(?:尚无|暂无|并无|没有|尚未|暂未|并未|未见|未有|未造成|未被|无人|不是)[^，。；,;！？]{0,8}|[无未没])$")
_LOCAL = re.compile(r"(?:本地|同城|地方|省内|市内|当地|区域)[^，。；,;]{0,2}$")


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
    """A number as written in Chinese text: 3.2万, 1.5亿, 两千余, 800万, 1,200, 十余, 上千."""
    token = token.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not token:
        return None
    if token in _VAGUE:
        return float(_VAGUE[token])
    token = token.replace("余", "").replace("多", "")
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([十百千万亿]*)", token)
    if match:
        value = float(match.group(1))
        for unit in match.group(2):
            value *= {**_SMALL_UNITS, **_BIG_UNITS}[unit]
        return value
    if re.fullmatch(r"[零〇一二两俩三四五六七八九十百千万亿]+", token):
        return _chinese_integer(token)
    return None


def _largest(patterns: list[str], text: str) -> float | None:
    """The largest number any pattern finds; "不足1000" counts as just under 1000."""
    values = []
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            value = parse_number(match.group("n"))
            if value is None:
                continue
            approx = match.groupdict().get("approx") or ""
            values.append(value * 0.99 if any(b in approx for b in _BELOW) else value)
    return max(values) if values else None


def mentioned(pattern: str, text: str, unless_before: re.Pattern | None = None) -> bool:
    """True when the pattern occurs without a negation just before it (尚无央媒报道 is not central media)."""
    for match in re.finditer(pattern, text):
        before = text[max(0, match.start() - 12):match.start()]
        if _NEGATION.search(before) or (unless_before and unless_before.search(before)):
            continue
        return True
    return False


N = f"(?P<n>{NUMBER})"
REPOSTS = [rf"(?:转发|转载|分享)(?:量|数|次数)?{_APPROX}{N}", rf"{N}\s*(?:次|条)?(?:转发|转载)"]
VIEWS = [rf"(?:阅读量|阅读|播放量|播放|浏览量|浏览|曝光量|曝光|观看|围观|话题量|热度)(?:已|次数)?{_APPROX}{N}",
         rf"{N}\s*(?:次|人次)?(?:阅读|播放|浏览|观看|围观)"]
DEATHS = [rf"{N}\s*(?:人|名)(?:不幸)?(?:死亡|遇难|身亡|罹难|丧生)", rf"(?:死亡|遇难|身亡|罹难)\s*{N}\s*(?:人|名)", rf"致\s*{N}\s*(?:人)?(?:死|亡)"]
DEATH_WORDS = r"(?:死亡|遇难|身亡|罹难|丧生|殉职|不治)"
INJURED = [rf"{N}\s*(?:人|名|位)[^，。；、,0-9一二两三四五六七八九十百千万]{{0,8}}?(?:受伤|轻伤|重伤|烧伤|烫伤|中毒|不适|送医|就医|住院|被送往医院|呛咳|胸闷|腹泻|呕吐|过敏|感染)",
           rf"(?:受伤|伤者|中毒|送医|住院|就医|出现不适)(?:人数)?{_APPROX}{N}\s*(?:人|名)"]
AFFECTED = [rf"(?:涉及|影响|波及|涉事|受影响|牵涉|覆盖|泄露)(?:的)?(?:用户|客户|人数|员工|业主|投资者|储户|消费者|乘客|家庭|居民|学员|会员|骑手|工人)?{_APPROX}{N}\s*(?:名|位|人|户|个|条|家|余人|多人)",
            rf"{N}\s*(?:名|位|户|个|条)?(?:用户|客户|员工|业主|投资者|储户|消费者|乘客|家长|居民|学员|会员|骑手|工人|农民工|出借人|购房者|车主|村民|借款人)",
            rf"{N}\s*(?:条|份)(?:个人信息|用户信息|客户信息|数据|记录|公民信息)"]
AMOUNT = [rf"{_APPROX}{N}\s*(?:元|块钱)"]
UNANSWERED = [rf"(?:已|已经)?(?:超过|近|逾)?{N}\s*(?:个)?(?:小时|钟头)(?:仍|依然|依旧|都|还)?(?:未|没有|没|无)(?:回应|回复|表态|发声|处理|说明|声明)",
              rf"(?:未|没有|没|无)(?:回应|回复|表态|发声)(?:已|已经)?(?:超过|近|逾)?{N}\s*(?:个)?小时"]
UNANSWERED_DAYS = [rf"{N}\s*(?:天|日)(?:仍|依然|依旧|都|还)?(?:未|没有|没|无)(?:回应|回复|表态|发声|处理|说明)",
                   rf"(?:未|没有|没)(?:回应|回复|表态)(?:已|已经)?(?:超过|近|逾)?{N}\s*(?:天|日)"]

CENTRAL_MEDIA = r"(?:央视|中央电视台|CCTV|人民日报|新华社|新华网|人民网|央广|中央广播|光明日报|经济日报|中国新闻网|中新社|央媒|中央媒体|焦点访谈|新闻联播|澎湃新闻|财新|第一财经)"
PROVINCIAL_MEDIA = r"(?:省级媒体|省台|省电视台|卫视|都市报|晚报|日报|商报|法治报|地方媒体|本地媒体|当地媒体|市级媒体|电视台|广播电台|民生栏目|行业媒体|财经媒体|媒体报道|媒体跟进|媒体曝光|记者)"
NATIONAL_HOT = r"(?:热搜(?:榜)?(?:第[一二三四五六七八九十1-9]|榜首|前[三五十]|TOP\s*\d+)|全国热搜|微博热搜第|热搜第|冲上热搜榜首|全网热议|全网刷屏|刷屏全网)"
HOT = r"(?:热搜|热榜|热门话题|同城榜|热点榜)"
REGULATOR_FORMAL = r"(?:立案(?:调查|侦查|审查)?|刑事拘留|刑拘|逮捕|吊销|暂停(?:营业|业务|经营)|停业整顿|责令停产|停产整顿|重大行政处罚|没收违法所得|罚款(?:[0-9一二三四五六七八九十百千万亿\.]+)?亿|移送公安|控制(?:了)?(?:相关|涉事)?(?:责任人|嫌疑人)|成立(?:联合)?调查组|国务院|应急管理部)"
REGULATOR_SOFT = r"(?:约谈|问询|询问函|关注函|介入调查|已介入|介入|督促|责令整改|责令改正|监管局|监管部门|市场监管|银保监|金融监管|证监|网信办|生态环境局|环保部门|人社局|劳动监察|卫健委|药监|交通运输局|消协|消保委|消费者协会|应急管理局|住建|警方|公安|派出所|罚款|处罚|警告)"
MULTI_REGION = r"(?:多个省份|多省|跨省|全国各地|全国多地|全国范围|多地|多个城市|十余个省|[0-9一二三四五六七八九十]+个省)"
# Public platforms only: group chats and local forums are not "spread".
PLATFORMS = ("微博", "抖音", "快手", "小红书", "知乎", "B站", "哔哩哔哩", "公众号", "今日头条", "头条", "贴吧",
             "黑猫投诉", "视频号", "百度", "豆瓣", "虎扑", "股吧")
MULTI_PLATFORM = r"(?:多平台|多个平台|全网|各大平台|跨平台)"
SELF_MEDIA = r"(?:自媒体|博主|大V|网红|up主|UP主|个人账号|网友)"


class TextSignals(BaseModel):
    """What an incident description says about its reach and harm; None where it says nothing."""

    reposts: float | None = None
    views: float | None = None
    deaths: float | None = None
    injured: float | None = None
    affected_people: float | None = None
    amount_yuan: float | None = None
    unanswered_hours: float | None = None
    central_media: bool = False
    provincial_media: bool = False
    self_media_only: bool = False
    national_hot_search: bool = False
    hot_search: bool = False
    regulator_formal: bool = False
    regulator_involved: bool = False
    multi_region: bool = False
    platforms: list[str] = []
    multi_platform: bool = False


def read_signals(text: str) -> TextSignals:
    """Extract severity signals from Chinese text (full-width digits and commas are normalised)."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text)
    deaths = _largest(DEATHS, text)
    if deaths is None and mentioned(DEATH_WORDS, text):
        deaths = 1.0
    unanswered = _largest(UNANSWERED, text)
    days = _largest(UNANSWERED_DAYS, text)
    if days is not None:
        unanswered = max(unanswered or 0, days * 24)
    platforms = sorted({p for p in PLATFORMS if p in text})
    central = mentioned(CENTRAL_MEDIA, text)
    provincial = mentioned(PROVINCIAL_MEDIA, text)
    return TextSignals(
        reposts=_largest(REPOSTS, text), views=_largest(VIEWS, text), deaths=deaths,
        injured=_largest(INJURED, text), affected_people=_largest(AFFECTED, text), amount_yuan=_largest(AMOUNT, text),
        unanswered_hours=unanswered, central_media=central, provincial_media=provincial,
        self_media_only=mentioned(SELF_MEDIA, text) and not (central or provincial),
        national_hot_search=mentioned(NATIONAL_HOT, text, unless_before=_LOCAL), hot_search=mentioned(HOT, text),
        regulator_formal=mentioned(REGULATOR_FORMAL, text), regulator_involved=mentioned(REGULATOR_SOFT, text),
        multi_region=mentioned(MULTI_REGION, text), platforms=platforms,
        multi_platform=mentioned(MULTI_PLATFORM, text),
    )
