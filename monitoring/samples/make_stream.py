"""Build the sample stream: a week (2026-11-02 … 11-08, Asia/Shanghai) of mentions of two subjects.

* 青禾乳业 (`qinghe`): ordinary chatter for three days, then on Thursday a parent finds black
  particles in a tin of 启护 3段 infant formula; a parenting influencer spreads it, parents pile in,
  the city's market regulator steps in that evening, central media report on Friday morning, the
  test result and a recall come on Friday afternoon, and it calms over the weekend.
* 澄湖农商银行 (`chenghu`): a quiet local bank, a few posts a day — it must never alert.
* A few posts about 青禾路 / 青禾小区 (a street and an estate, excluded by `none` keywords) and
  another dairy brand, which match no subject.

The texts are hand-written; this script only places them in time (seeded, so the file is stable)
and sets repost counts. It also writes the intended labels to a test-only file, which the tests'
fake classifier reads. Run: .venv/bin/python monitoring/samples/make_stream.py"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
STREAM = HERE / "stream.jsonl"
LABELS = HERE.parent.parent / "tests" / "monitoring" / "data" / "stream_labels.jsonl"
TZ = ZoneInfo("Asia/Shanghai")

SENTIMENT = {"n": "negative", "u": "neutral", "p": "positive"}
TOPIC = {"pq": "product_quality", "cs": "customer_service", "pf": "pricing_finance", "co": "corporate_operations",
         "le": "labor_employment", "es": "environment_safety", "ds": "data_security", "lr": "legal_regulatory",
         "bm": "brand_marketing", "sr": "social_responsibility"}
CRISIS = {"-": "none", "pq": "product_quality", "sf": "service_failure", "rp": "regulatory_penalty", "ru": "rumor"}

# channel | author | sentiment topic crisis | reach (r=reposts, v=views, c=copies) | text
NORMAL_DAYS = """
weibo|甜甜圈不甜|p pq -||青禾的原味酸奶真的是我心中的白月光，不甜不腻，早上配燕麦刚好🥣
xiaohongshu|宝妈Lily|p pq -||给大宝换了青禾启护3段快两个月了，不上火，便便也正常，记录一下
weibo|跑步的老周|u bm -||青禾乳业今年又赞助了江州马拉松，补给站发的是青禾纯牛奶
news|江州日报|u co -||青禾乳业第三季度营收同比增长8.6%，低温奶业务增速领先
ecommerce_review|j***8|p pq -||日期很新，包装完好，青禾纯牛奶一直回购，孩子爱喝
tieba|奶粉吧吧友|u pq -||有人对比过青禾启护和澜山金装吗？配料表差别在哪
weibo|下班就躺平|n cs -||青禾的会员积分兑换页面又打不开了，每次都这样
douyin|农场探访小王|p bm -|v85000|带大家看看青禾的牧场，奶牛居然在听音乐🐄
zhihu|营养师阿宁|u pq -||从配料表看，青禾启护3段的乳清蛋白比例在国产品牌里算中上
weibo|南方的风|n pf -||青禾鲜奶又涨价了，一瓶贵了五毛，超市阿姨说上个月就调了
wechat|乳业观察|u co -|r120|青禾乳业新工厂二期投产，年产能提升至40万吨
xiaohongshu|芒果布丁|p pq -||青禾新出的桂花酸奶绝了！秋天限定，冲冲冲
weibo|理性消费者|u pq -||青禾和另外两家的纯牛奶盲测了一下，说实话区别不大
app_review|用户7731|n cs -||青禾商城App下单后一直显示待发货，三天了没动静
toutiao|财经每日谈|u co -||青禾乳业董事长在乳业峰会上表示，明年将加大婴配粉研发投入
weibo|二胎妈妈日记|p pq -||老二也在喝青禾启护，奶粉冲调很好溶解，没有结块
forum|江州妈妈网|u pq -||请问青禾奶粉在哪个超市买比较便宜？有团购的吗
weibo|打工人小李|p bm -||公司下午茶发了青禾的酸奶，心情变好了
complaint_platform|匿名用户|n cs -||青禾官方旗舰店少发一箱牛奶，客服说要核实，已经等了两天
xiaohongshu|小雨点|p pq -||青禾低温鲜奶煮奶茶真的香，分享一下配方
news|消费日报|u bm -||青禾乳业发布“草原计划”，三年内帮扶200户牧民
weibo|爱喝奶的猫|p pq -||青禾的高钙奶我家老人喝了好几年了，一直挺放心
zhihu|乳品工程师|u pq -||说下青禾低温奶的巴氏杀菌工艺，其实和进口品牌差不多
weibo|阿珍爱吃|n pq -||青禾的草莓酸奶这批好像比以前稀，不知道是不是改配方了
wechat|江州生活圈|u bm -||周末青禾工厂开放日，可以带孩子去参观，报名链接在文末
douyin|测评君|u pq -|v42000|十款纯牛奶测评，青禾蛋白质含量排第四
weibo|早起困难户|p pq -||青禾酸奶冻一下当冰淇淋吃，好吃到哭
ecommerce_review|t***2|n cs -||青禾京东自营物流太慢了，牛奶到手都快过期一半
news|新京报|u co -||青禾乳业与两所高校共建乳品安全联合实验室
tieba|育儿吧|u pq -||青禾启护3段和4段有什么区别，宝宝两岁半换哪个
weibo|面包超人|p bm -||青禾的新广告拍得好温暖，看哭了
xiaohongshu|减脂日记|p pq -||低脂的选青禾脱脂奶，一盒才70大卡
weibo|江州吃货|u bm -||青禾牛奶在江州的便利店几乎都有，本地人从小喝到大
complaint_platform|用户Z|n cs -||青禾客服电话一直占线，想退一箱临期的酸奶都退不了
zhihu|数码不如喝奶|u co -||青禾这两年转型做高端奶，你们觉得能成功吗
weibo|小熊奶爸|p pq -||儿子体检身高长了不少，医生说继续喝奶，青禾一直没换过
wechat|乳业资讯|u co -||青禾乳业拟发行10亿元公司债，用于牧场升级
douyin|牧场的一天|p sr -|v60000|青禾给山区小学送牛奶，孩子们笑得好开心
weibo|追剧少女|u bm -||综艺里那个青禾酸奶的植入好生硬哈哈哈
xiaohongshu|早餐研究所|p pq -||青禾燕麦奶做拿铁居然不分层，咖啡党可以试试
news|江州晚报|u sr -||青禾乳业向江州儿童福利院捐赠奶粉和牛奶
weibo|不吃香菜|n pf -||青禾会员日的满减也太少了吧，感觉被套路
forum|宝宝树网友|u pq -||青禾启护有没有羊奶粉版本？宝宝有点牛奶蛋白过敏
weibo|隔壁王阿姨|p pq -||超市搞活动买了两箱青禾，日期都挺新的
toutiao|快消观察|u co -||婴配粉新国标下，青禾等国产品牌配方注册全部通过
weibo|夜猫子|u pq -||深夜喝一杯青禾热牛奶，睡得香
xiaohongshu|二宝妈妈|p pq -||青禾启护3段试用装领到啦，宝宝不挑，喝得很香
weibo|球迷阿杰|p bm -||青禾冠名的城市足球联赛今晚决赛，冲
app_review|用户2210|n cs -||青禾App每次更新完都要重新登录，体验很差
news|证券时报|u co -||青禾乳业股价本周上涨3.2%，机构看好低温奶赛道
weibo|小鹿乱撞|p pq -||青禾酸奶加坚果碎，减脂期的快乐
zhihu|育儿科普|u pq -||奶粉怎么选：以青禾、澜山为例讲讲看配料表的三个要点
wechat|妈妈帮|u pq -||本周母婴店特价：青禾启护3段满两罐减40
weibo|上班摸鱼中|u bm -||楼下新开了一家青禾鲜奶吧，去试了试
douyin|吃播大胃王|p pq -|v120000|一口气喝完十盒青禾酸奶是什么体验
complaint_platform|用户K|n pq -||青禾纯牛奶有一盒胀包了，不知道是不是运输的问题，客服已经给补发了
weibo|温柔的刀|p cs -||青禾客服态度挺好的，漏发的酸奶第二天就补上了
xiaohongshu|奶茶续命|p pq -||青禾厚乳做生椰拿铁yyds
news|江州电视台|u co -||青禾乳业江州工厂通过食品安全体系认证复审
weibo|双胞胎奶爸|u pq -||双胞胎一个月要喝六罐奶粉，青禾启护性价比还行
"""

RECOVERY_DAYS = """
weibo|宝妈Lily|u pq pq||刚查了，家里的启护是别的批次，不在召回范围，但还是先换了别的牌子观望
xiaohongshu|芒果布丁|n pq pq||以前很爱青禾的酸奶，这次奶粉的事让我有点动摇了
news|江州日报|u co pq||青禾乳业召回进展：涉事批次已回收八成，退款陆续到账
weibo|理性消费者|u pq pq||结块焦粒不是毒物，但出厂检验漏掉了就是管理问题，青禾整改要拿出具体措施
complaint_platform|用户M|u cs pq||青禾退款今天到账了，客服还打电话回访，这点还行
weibo|小熊奶爸|n pq pq||说不担心是假的，娃喝了半罐青禾启护，虽然检测说无毒，还是去医院查了一下
zhihu|乳品工程师|u pq pq||复盘一下青禾这次：喷雾干燥塔焦粒混入，说明在线检测和筛网都出了问题
weibo|二胎妈妈日记|u pq pq||青禾的召回流程还算快，门店直接退现金，没有为难人
wechat|乳业观察|u co pq|r300|青禾事件一周复盘：回应速度与信息透明度的得失
toutiao|快消观察|u co pq||奶粉异物事件后，青禾乳业线上销量下滑约三成
weibo|南方的风|n pq pq||青禾的道歉来得有点晚，第一天一直说在核实，家长都急死了
douyin|育儿医生说|u pq pq|v300000|奶粉里发现黑色颗粒怎么办？医生教你三步处理
weibo|跑步的老周|p sr -||青禾补偿的牛奶券收到了，其实不用，愿意给他们一次机会
xiaohongshu|二宝妈妈|u pq pq||青禾客服加了我微信，说检测报告可以发给我看，等等看
news|新京报|u lr pq||江州市场监管部门：青禾乳业涉事批次产品已全部下架，调查仍在进行
weibo|小雨点|p pq -||青禾低温鲜奶还是好喝的，鲜奶和奶粉不是一条线
forum|江州妈妈网|u pq pq||汇总一下青禾召回的退款方式，没收到的可以按这个流程走
weibo|追剧少女|u bm -||青禾原定的综艺广告好像撤了
zhihu|营养师阿宁|u pq pq||这次青禾事件给家长提个醒：冲奶粉前先看看粉的颜色和状态
weibo|爱喝奶的猫|p pq -||老人说青禾高钙奶照喝，没事
wechat|江州生活圈|u co pq||青禾工厂开放日暂停，官方称将在整改完成后重新开放并邀请家长监督
weibo|面包超人|n bm pq||青禾的广告现在看着有点讽刺
news|消费日报|u pq pq||婴配粉企业如何防范异物？以青禾事件为例访谈三位专家
weibo|江州吃货|p pq -||便利店的青禾酸奶又补货了，照买不误
ecommerce_review|h***5|u pq -||买的青禾纯牛奶，日期新鲜，正常
weibo|下班就躺平|u pq pq||青禾这事算是告一段落了吧，希望真能整改到位
xiaohongshu|早餐研究所|p pq -||周末早餐：青禾酸奶碗
toutiao|财经每日谈|u co pq||青禾乳业称事件对全年业绩影响有限，婴配粉业务将全面升级检测
weibo|温柔的刀|p cs pq||青禾客服主动上门收回了奶粉，还送了检测报告复印件，态度是真的好
tieba|奶粉吧吧友|u pq pq||青禾这次事件之后大家还敢买国产奶粉吗，讨论下
weibo|阿珍爱吃|u pq -||青禾草莓酸奶恢复原来的浓稠了
news|江州晚报|u pq pq||青禾乳业公布整改方案：新增两道金属和异物在线检测，邀请第三方飞行检查
weibo|双胞胎奶爸|u pq pq||换回青禾了，召回批次以外的没问题，性价比还是香
douyin|牧场的一天|p bm -|v30000|青禾牧场的小牛犊出生啦
zhihu|数码不如喝奶|u co pq||青禾这次危机处理打几分？我给六十分，第一天太慢
weibo|夜猫子|u pq -||热牛奶，晚安
wechat|妈妈帮|u pq pq||青禾召回登记截止到下周五，还没登记的抓紧
weibo|打工人小李|p bm -||公司下午茶继续青禾酸奶
"""

# Thursday 11-05, before the influencer: the first parents.
CRISIS_EARLY = """
xiaohongshu|小鱼妈妈育儿记|n pq pq||宝宝喝了青禾启护3段之后吐了两次，今天冲奶的时候在罐底发现好多黑色颗粒，拍照了，已经停喝，有没有同批次的妈妈？
weibo|小鱼妈妈育儿记|n pq pq||青禾启护3段罐底的黑色颗粒，放大看是硬的，宝宝昨天吐了两次，青禾客服只说登记一下
xiaohongshu|团子妈|n pq pq||看到小鱼妈妈的帖子赶紧翻了一下我家的青禾启护，罐底也有几颗黑点！！批号一样
weibo|暖暖的妈妈|n pq pq||我家的青禾启护3段也有黑色颗粒，孩子这两天拉肚子，我以为是着凉
complaint_platform|用户Q|n pq pq||投诉青禾乳业：启护3段奶粉发现黑色异物，孩子喝后腹泻，要求检测和说法
tieba|奶粉吧吧友|n pq pq||青禾启护3段出现黑色颗粒的楼，大家报一下批号，我统计一下
weibo|奶爸老陈|n pq pq||给娃冲青禾启护，勺子刮到一颗黑渣，咬不动，这是什么东西？
forum|江州妈妈网|n pq pq||青禾奶粉黑色颗粒事件，本地妈妈们看看家里的批号，已有五六家中招
"""

VIRAL = """
weibo|育儿博主米粒妈|n pq pq|r3200 c6|【求扩散】多位妈妈反映青禾启护3段罐底出现黑色颗粒，孩子喝后呕吐腹泻，批号集中在同一批次。青禾客服至今只说“登记核实”。奶粉是给孩子吃的，请企业给个说法！
"""

CRISIS_GROWING = """
weibo|朵朵妈|n pq pq||刚检查了家里三罐青禾启护，两罐都有黑色颗粒，气得手抖
weibo|星星的爸爸|n pq pq||青禾启护出事了？我家娃就喝这个，有没有人知道具体是哪个批号
xiaohongshu|糖糖麻麻|n pq pq||求问青禾启护3段批号开头是QH2409的是不是有问题，宝宝今天也吐奶了
weibo|路人甲乙丙|n pq pq||婴儿奶粉出现异物，这是底线问题，青禾必须马上回应
weibo|江州小林|n pq pq||青禾是江州的老牌子，我们从小喝到大，出这种事太失望了
douyin|宝妈实拍|n pq pq|v260000|实拍青禾启护3段罐底黑色颗粒，用磁铁吸不起来，到底是什么
weibo|不想起名字|n pq pq||青禾客服电话打了二十多遍打不进去，是真的心虚吗
weibo|冬天的柚子|n pq pq||刚给宝宝冲完一瓶青禾启护，看到热搜直接倒了，心慌
xiaohongshu|果果妈妈|n pq pq||青禾启护3段的妈妈们先别喝了，保留罐子和购买记录，方便以后维权
weibo|热心市民王先生|n pq pq||建议监管部门马上对青禾启护全批次抽检，孩子的东西不能等
zhihu|食品安全从业者|u pq pq||从照片看青禾奶粉里的黑色颗粒像是喷雾干燥的焦粒，一般无毒，但说明生产控制有漏洞
weibo|橙子汽水|n pq pq||怪不得我家孩子最近总拉肚子，喝的就是青禾启护，越想越后怕
complaint_platform|用户R|n pq pq||青禾启护3段奶粉异物，购买于青禾官方旗舰店，要求退款并提供检测报告
weibo|二宝爸爸|n pq pq||这次青禾要是敢说个例，我第一个不答应，群里已经十几家了
tieba|育儿吧|n pq pq||青禾奶粉异物事件汇总帖，截至中午已经有三十多位家长反映
weibo|小小的太阳|n pq pq||以后再也不买青禾了，拿孩子的健康开玩笑
xiaohongshu|阿布妈妈|n pq pq||紧急避雷青禾启护3段！罐底有黑色异物，我家宝宝喝完吐了
weibo|江州交通广播|u pq pq||有听众反映购买的青禾启护3段婴儿奶粉内发现黑色颗粒，本台已联系企业，等待回复
weibo|吃瓜不吐籽|n pq pq||青禾启护黑色颗粒上热搜了，一个个晒图的都是同一批号
wechat|江州妈妈圈|n pq pq|r260|紧急提醒：青禾启护3段部分批次疑有黑色异物，请家长暂停食用并保存好罐子
weibo|甜甜的小饼干|n pq pq||我就想知道青禾现在在干嘛，几个小时了一个声明都没有
weibo|猫咪不吃鱼|n pq pq||婴儿奶粉都能出问题，青禾的质检是摆设吗
douyin|江州本地事|n pq pq|v180000|青禾奶粉异物事件，家长们聚集到门店要求退货
weibo|云朵上的羊|n pq pq||给娃喝了半年青禾启护，现在突然不敢了，换奶粉又怕转奶不适应，好崩溃
xiaohongshu|西瓜妹|u pq pq||青禾启护3段我家批号不一样，检查了没有黑点，大家别太恐慌，先看批号
weibo|小米粥|n pq pq||青禾门店说没接到通知不能退，说好的消费者至上呢
"""

CRISIS_PEAK = """
weibo|北京的雨|n pq pq||青禾启护黑色颗粒事件都发酵半天了，官方还是一句话没有
weibo|我是小明妈妈|n pq pq||我们家的青禾启护3段也找到了黑色颗粒，已经送医院检查了，医生说先观察
weibo|冰糖葫芦|n pq pq||青禾别装死了，出来说句话
xiaohongshu|小橘子妈|n pq pq||整理了青禾启护3段涉事批号，大家对照一下，QH240915、QH240916都有人反映
weibo|清风徐来|n pq pq||婴配粉出现异物，监管部门应该立即介入青禾
zhihu|儿科医生刘|u pq pq||宝宝如果喝了有黑色颗粒的青禾奶粉，出现呕吐腹泻先补液观察，症状持续请就医，保留奶粉样品
weibo|柠檬不酸|n pq pq||青禾客服回复“正在核实”已经回复了一上午了
complaint_platform|用户S|n pq pq||青禾启护3段异物，孩子腹泻两天，要求赔偿医药费
weibo|周末去哪儿|n pq pq||看了那些照片真的难受，青禾这次真的过分了
weibo|大头儿子|n pq pq||我家也是青禾启护，罐子里黑点用纸巾一擦就碎，像烧焦的奶粉
douyin|奶爸日常|n pq pq|v95000|青禾启护3段开罐检查，结果我沉默了
weibo|路过的风|n pq pq||青禾官方微博评论区已经沦陷了，全是家长在问
tieba|江州吧|n pq pq||青禾是咱们江州的企业，这次真的丢人
weibo|蓝莓味的夏天|n pq pq||朋友在青禾工厂上班，说这批奶粉早就有人反映了，被压下来了？
weibo|晓晓妈|n pq pq||刚在门店退了两罐青禾启护，店员说今天退货的特别多
xiaohongshu|悠悠妈妈|n pq pq||青禾启护3段黑色颗粒，我家宝宝喝了也拉肚子，已就医
weibo|不吃早饭|n pq pq||青禾这个反应速度，还不如一个路边摊
news|江州新闻网|u pq pq|r420|多名家长反映青禾启护3段婴幼儿奶粉发现黑色颗粒，记者实地走访门店
weibo|我爱吃火锅|n pq pq||青禾门店贴了告示说暂停销售启护3段，但官方还是没声明
weibo|小白兔妈妈|n pq pq||青禾的危机公关是真的不行，一个下午了
zhihu|做奶粉的老张|u pq pq||干过奶粉厂的说两句，焦粒一般出现在喷干塔清洗不及时的时候，青禾这批大概率是这个原因
weibo|阳光灿烂的日子|n pq pq||青禾启护我家囤了六罐，现在怎么办
weibo|一只咸鱼|n pq pq||婴儿奶粉出问题第一时间不道歉不召回，青禾在等什么
xiaohongshu|晨晨麻麻|n pq pq||青禾启护3段也吐了，以为是宝宝肠胃不好，原来是奶粉问题
weibo|江州消费者协会|u pq pq||江州市消协已接到多起关于青禾启护3段奶粉异物的投诉，已转交相关部门并督促企业尽快处理
weibo|开心果|n pq pq||青禾启护事件，希望不是又一个“个例”
weibo|月亮船|n pq pq||奶粉罐底全是黑点，青禾你们自己的孩子敢喝吗
douyin|法律小课堂|u lr pq|v70000|买到有异物的奶粉能要求十倍赔偿吗？以青禾事件为例讲讲食品安全法
weibo|小胖墩|n pq pq||已经把青禾启护从购物车里删了
wechat|育儿频道|n pq pq|r180|青禾启护奶粉异物事件：家长该怎么做？保留证据、停止食用、及时就医
weibo|吃土少女|n pq pq||青禾的回应呢？热搜都挂半天了
weibo|二月春风|n pq pq||青禾启护3段黑色颗粒，今天我们小区群里都在说这个
xiaohongshu|桃子妈|n pq pq||别再说是个例了，我们群里二十多家都有青禾启护黑色颗粒
weibo|秋天的童话|u pq pq||等青禾官方的检测结果吧，先别乱传是什么有毒物质
weibo|老王不在家|n pq pq||青禾这么大的企业，连个声明都要憋一天？
weibo|下雨天|n pq pq||婴幼儿奶粉里出现黑色颗粒，青禾启护的家长们太惨了
"""

CRISIS_AFTERNOON = """
weibo|青禾乳业客服|u cs pq||关于部分消费者反映的启护3段奶粉问题，我们已成立专项小组核实，请您保留产品和购买凭证，客服热线已增加坐席
weibo|橘子汽水|n pq pq||青禾客服发了个“正在核实”就完了？
weibo|六月的雨|n pq pq||青禾这个回复等于没回复，到底是什么颗粒，要不要召回
news|江州晚报|u pq pq|r520|青禾乳业回应奶粉异物：已成立专项小组，相关批次已暂停销售
weibo|小丸子|n pq pq||暂停销售不是召回，青禾还在避重就轻
xiaohongshu|布丁妈妈|n pq pq||青禾启护我家也中了，已经在消协投诉
weibo|风吹麦浪|n pq pq||青禾的声明里一句道歉都没有
douyin|江州新闻|u pq pq|v410000|青禾乳业门店：涉事批次奶粉暂停销售，可凭小票退货
weibo|奶茶三分糖|n pq pq||想知道吃了青禾问题奶粉的孩子后续怎么处理，企业管不管
weibo|小鹿斑比|n pq pq||青禾启护3段的家长建群维权了，已经两百多人
complaint_platform|用户T|n pq pq||青禾门店拒绝退已开封的启护3段，要求按有异物产品处理
weibo|安静的美男子|u pq pq||理性看，等检测结果，但青禾的沟通确实太慢了
zhihu|危机公关观察|u co pq||青禾乳业奶粉事件的回应问题：第一次回应距离首帖已超过八小时
weibo|爆米花|n pq pq||我妈今天还买了两罐青禾启护，赶紧去退
weibo|晚风|n pq pq||青禾启护3段，孩子喝了一个月，今天体检肠胃有点问题，心态崩了
news|澎湃新闻|u pq pq|r860|江州一乳企婴幼儿奶粉被指含黑色颗粒，当地市场监管部门已关注
weibo|红豆沙|n pq pq||青禾这次是真的让江州人失望
xiaohongshu|小熊饼干|n pq pq||青禾启护黑色颗粒，我家的是9月生产的，也有
weibo|一颗柠檬|u pq pq||希望青禾尽快公开检测结果，家长们需要的是真相
weibo|不会游泳的鱼|n pq pq||以前觉得国产奶粉进步了，青禾这事一出又回到原点
tieba|奶粉吧吧友|n pq pq||青禾群里有人说退货要排两小时的队
weibo|张小姐|n pq pq||孩子喝了青禾启护吐了三次，医院说是肠胃炎，这笔账找谁算
"""

REGULATOR = """
regulator|江州市市场监督管理局|n pq pq|r2600 c5|【情况通报】针对网民反映青禾乳业启护3段婴幼儿配方奶粉内含黑色颗粒一事，我局已于今日下午进驻企业，对涉事批次产品依法抽样送检，责令企业暂停相关批次销售并排查原因。检测结果将及时向社会公布。
"""

CRISIS_EVENING = """
weibo|江州发布|u pq pq|r1500|市场监管部门已对青禾乳业涉事批次奶粉抽样送检，结果将向社会公布
weibo|点点妈|n pq pq||监管都出通报了，青禾自己还不出声明？
weibo|周五不加班|u pq pq||市场监管局出手了，等检测结果吧
xiaohongshu|芋圆妈妈|n pq pq||青禾启护，今晚宝宝只能喝米粉了，不敢再冲
weibo|大鱼海棠|n pq pq||青禾的事情说明什么，企业不出事不重视
weibo|青禾乳业|u pq pq|r4100 c4|【致歉声明】针对启护3段奶粉出现黑色颗粒一事，我们深表歉意。即日起主动召回QH240915、QH240916两个批次产品，已开封产品同样全额退款；涉事批次已送第三方检测，结果将第一时间公布。出现身体不适的宝宝，医疗费用由我们承担。
weibo|雪糕刺客|n pq pq||青禾的道歉声明来得太晚了，一整天家长都在等
weibo|四月的猫|u pq pq||至少青禾说召回了，已开封也退，先看执行吧
weibo|追风少年|n pq pq||召回就完了？孩子喝了这么久，青禾得给个检测结果
xiaohongshu|米饭妈妈|u pq pq||青禾召回登记入口在官方公众号，我刚登记完，大家可以去弄
weibo|江州小林|n pq pq||青禾晚上九点才道歉，黄金时间全浪费了
zhihu|危机公关观察|u co pq||青禾的致歉声明内容还算完整，召回加医疗费承担，但时机晚了至少半天
weibo|吃瓜群众|n pq pq||青禾这是监管出手了才道歉吧
weibo|小天使妈妈|n pq pq||退款登记了，青禾说三到五个工作日，希望别拖
complaint_platform|用户U|n pq pq||青禾召回登记后无人联系，要求尽快处理退款
weibo|夏天的风|u pq pq||青禾涉事的是两个批次，其他批次暂时没有反映，大家理性
weibo|柚子茶|n pq pq||我家的批号不在召回范围但也有黑点，青禾要不要扩大召回
tieba|江州吧|n pq pq||青禾这次声誉是真的崩了
"""

CRISIS_NIGHT = """
weibo|熬夜冠军|n pq pq||半夜哄娃睡觉，想到青禾奶粉的事还是睡不着
xiaohongshu|失眠的妈妈|n pq pq||凌晨三点，把家里剩的青禾启护全部收起来了
weibo|值夜班的护士|u pq pq||今晚急诊来了两个喝了青禾奶粉拉肚子的宝宝，都不严重，家长别太焦虑
weibo|一只猫头鹰|n pq pq||青禾启护事件的群里大家还在讨论怎么维权
weibo|早班地铁|n pq pq||早上地铁里都在聊青禾奶粉
"""

FRIDAY_MORNING = """
news|央视新闻|n pq pq|r12000 v5200000 c5|【关注婴幼儿奶粉安全】江州青禾乳业启护3段奶粉被指含黑色颗粒，当地市场监管部门已抽样送检，企业宣布召回两个批次。婴幼儿配方奶粉安全事关千家万户，检测结果和处置进展须及时公开。
weibo|人民日报|n pq pq|r8600|【人民日报评论：奶粉安全容不得半点马虎】婴幼儿奶粉关乎孩子健康，企业应主动公开检测进展，监管部门应一查到底，给家长一个明白。
weibo|上班路上|n pq pq||青禾上央视了，这下真的全国都知道了
weibo|早安江州|u pq pq||青禾奶粉事件后续：今天上午门店退货有序进行
xiaohongshu|可乐妈|n pq pq||青禾启护退款登记一晚上了没人联系
weibo|牛奶糖|n pq pq||人民日报都评论了，青禾这次跑不掉了
weibo|周一见|u pq pq||等检测结果，希望只是焦粒
weibo|橙色的海|n pq pq||青禾启护的罐子我都留着，等结果出来维权
zhihu|食品安全从业者|u pq pq||回答一下青禾焦粒的问题：焦粒是蛋白质和乳糖高温焦化形成，一般无毒，但代表工艺控制失效
weibo|小野猫|n pq pq||孩子喝青禾拉肚子两天了，青禾客服一直没回电话
douyin|新闻晨报|u pq pq|v320000|青禾乳业奶粉事件追踪：召回登记人数超过三千
weibo|阿狸|n pq pq||青禾的召回电话还是打不通
weibo|路人丙|u pq pq||央视报道了，估计监管会从严处理青禾
xiaohongshu|蛋挞妈妈|n pq pq||青禾启护，家里老人还在偷偷给宝宝冲，吵了一架
weibo|江州小吃货|n pq pq||青禾在江州开了这么多年，这次真的伤心
weibo|清晨的露|u pq pq||青禾门店退款我刚去了，现金直接退的，排了二十分钟
news|南方都市报|u pq pq|r650|青禾乳业奶粉异物事件：两批次召回，第三方检测结果预计今日公布
weibo|海绵宝宝|n pq pq||青禾这个事情说明了什么？国产奶粉质检还得加强
weibo|草莓大福|n pq pq||宝宝已经换奶粉了，不会再买青禾
complaint_platform|用户V|n pq pq||青禾召回后承诺的医疗费报销没人对接
weibo|水瓶座|u pq pq||青禾回应说正在逐一联系登记的家长
weibo|可可爱爱|n pq pq||青禾的事看得我好气，婴儿奶粉啊
xiaohongshu|小米妈妈|u pq pq||青禾客服终于打来电话了，说上门取罐送检，态度还可以
weibo|秋刀鱼|n pq pq||青禾启护黑点事件，家长群今天又多了一百人
"""

FRIDAY_AFTERNOON = """
weibo|青禾乳业|u pq pq|r5200 c3|【检测结果公布】经第三方机构检测，启护3段涉事批次中的黑色颗粒为生产过程中产生的焦粒（乳粉高温焦化物），重金属、微生物等指标均符合国家标准。我们对生产管理失误深表歉意，召回继续，已开封同样退款，相关宝宝的就医费用全部承担。
weibo|江州市市场监督管理局|u pq pq|r1800|青禾乳业涉事批次奶粉检测结果：黑色颗粒为焦粒，未检出有毒有害物质；我局已责令企业全面整改，并将依法作进一步调查处理。
weibo|理性吃瓜|u pq pq||检测结果出来了，青禾奶粉黑色颗粒是焦粒，无毒，但生产管理问题还是要问责
weibo|小鱼妈妈育儿记|u pq pq||青禾的检测结果出来了，是焦粒，松了一口气，但宝宝吐的那两次谁来负责
xiaohongshu|团子妈|u pq pq||青禾联系我上门退款了，还送了一份检测报告
weibo|冬天的柚子|n pq pq||焦粒也不能出现在婴儿奶粉里吧，青禾别想轻描淡写
weibo|火锅底料|u pq pq||青禾这次算是把结果说清楚了
zhihu|乳品工程师|u pq pq||青禾检测报告解读：焦粒无毒是真的，但说明喷干塔清洁和筛网检测都出了问题
weibo|二宝爸爸|n pq pq||无毒不代表没问题，青禾该罚还得罚
weibo|江州小林|u pq pq||青禾总算给了说法，后面看整改吧
news|江州日报|u pq pq|r380|青禾乳业公布奶粉检测结果：黑色颗粒为焦粒，企业继续召回
douyin|江州新闻|u pq pq|v260000|青禾乳业发布检测结果，市场监管局责令整改
weibo|四月的猫|p cs pq||说实话青禾今天的处理挺到位的，退款、报销、检测报告都给了
xiaohongshu|糖糖麻麻|u pq pq||青禾退款到账了，已开封的也退了
weibo|不想起名字|n pq pq||一开始青禾要是这么处理，事情也不会闹这么大
weibo|路过的风|u pq pq||青禾事件告一段落？还得看整改
tieba|奶粉吧吧友|u pq pq||青禾检测结果出来了，大家怎么看，还会继续喝吗
weibo|温柔的刀|p cs pq||青禾客服今天打电话问孩子情况，还说医疗费可以报销，挺好
weibo|柠檬不酸|n pq pq||一天半才给结果，青禾的效率还是太低
news|新京报|u pq pq|r520|青禾奶粉异物为焦粒，专家：无毒但暴露生产管控漏洞
weibo|猫咪不吃鱼|u pq pq||焦粒的话，青禾也算给了交代
weibo|点点妈|n pq pq||孩子腹泻的医疗费青禾说报销，材料交了还没消息
"""

FRIDAY_EVENING = """
weibo|晚安玛卡巴卡|u pq pq||青禾的事情应该差不多结束了吧
xiaohongshu|芋圆妈妈|u pq pq||青禾报销也到了，效率还行
weibo|夜跑的人|u pq pq||晚上路过青禾门店，退货的人少多了
weibo|追风少年|n pq pq||青禾以后还买不买，看整改结果
weibo|一只咸鱼|u pq pq||青禾奶粉这个事，至少最后说清楚了
zhihu|危机公关观察|u co pq||复盘青禾：首发回应慢了十三个小时，召回和检测公开做得不错
weibo|星星的爸爸|u pq pq||批号对过了，我们家的青禾不在范围，继续观察
weibo|大鱼海棠|n pq pq||青禾这事希望监管别就这么算了
wechat|江州妈妈圈|u pq pq|r90|青禾召回退款指南（持续更新）
weibo|熬夜冠军|u pq pq||今晚终于可以睡个好觉了，青禾的结果出来了
"""

QUIET = """
weibo|澄湖农商银行|u co -||澄湖农商银行11月网点营业时间调整通知：周六上午照常营业
news|江州日报|u pf -||澄湖农商银行发放首批“助农贷”，支持本地茶农扩大种植
weibo|茶园老李|p pf -||澄湖农商的助农贷批得挺快，一周就到账了
app_review|用户5512|n cs -||澄湖农商银行App登录老要短信验证，有点麻烦
weibo|江州阿姨|p cs -||澄湖农商银行柜员很耐心，教我用手机银行
wechat|澄湖乡情|u sr -||澄湖农商银行为村里老人开展防诈骗讲座
forum|江州论坛|u pf -||澄湖农商的三年定期利率现在是多少？
weibo|小陈做生意|u pf -||去澄湖农商办了个经营贷，材料有点多但还算顺利
news|江州晚报|u co -||澄湖农商银行召开年度工作会议，提出深耕县域金融
weibo|退休的王老师|n cs -||澄湖农商银行城南网点今天排队排了四十分钟
douyin|乡村日记|p sr -|v8000|澄湖农商银行的工作人员上门给行动不便的老人办社保卡
weibo|骑车上班|u co -||澄湖农商新开的自助银行在地铁口，挺方便
weibo|江州小林|u pf -||澄湖农商的信用卡有人办过吗？额度怎么样
app_review|用户8810|p cs -||澄湖农商银行App新版界面清爽了，转账也快
wechat|澄湖乡情|u pf -||澄湖农商银行茶农贷款专场下周举行
weibo|果园主|p pf -||感谢澄湖农商的贷款，今年果园扩了十亩
weibo|上班族阿美|n cs -||澄湖农商银行的客服电话有点难打通
news|江州新闻网|u sr -||澄湖农商银行向山区学校捐赠图书和文具
weibo|理财小白|u pf -||澄湖农商的理财产品收益一般，胜在稳
forum|江州论坛|u co -||澄湖农商银行什么时候在新区开网点？
weibo|街坊老赵|p cs -||澄湖农商银行的大堂经理帮我找回了忘在柜台的钱包，点赞
weibo|菜市场阿姐|u pf -||澄湖农商的收款码手续费比别家低一点
app_review|用户3321|n cs -||澄湖农商App的账单查询太慢了
wechat|江州金融|u co -||澄湖农商银行获评省级“普惠金融示范单位”
weibo|大学生小周|u pf -||用澄湖农商的卡交学费，有优惠吗
douyin|乡村日记|p sr -|v12000|澄湖农商银行的流动服务车开进了山里
weibo|开茶馆的|u pf -||澄湖农商银行给小商户的贷款利率还可以
news|江州日报|u co -||澄湖农商银行前三季度涉农贷款余额同比增长12%
weibo|宝妈小芳|u pf -||澄湖农商的儿童储蓄卡送了一个存钱罐，孩子很喜欢
weibo|江州阿姨|u cs -||澄湖农商网点的叫号机又坏了，工作人员手动叫号
"""

OTHERS = """
weibo|江州交警|u co -||青禾路与滨江大道交叉口今日施工，请绕行
weibo|住在青禾小区|n cs -||青禾小区的电梯又坏了，物业到底管不管
news|江州晚报|u co -||青禾路地铁站出入口将于下月开通
weibo|澜山乳业|u bm -||澜山乳业金装系列新包装上市
weibo|奶茶爱好者|p pq -||澜山的酸奶也挺好喝的
weibo|青禾小区业主|u co -||青禾小区停车位改造方案公示
"""

COPY_COMMENTS = ["扩散", "太可怕了", "关注后续", "家里有宝宝的看看", "转给群里的妈妈们", "已经不敢买了", "等一个说法",
                 "希望尽快查清楚", "转发周知"]
COPY_AUTHORS = ["热心网友", "江州小李", "宝妈联盟", "路人乙", "江州生活通", "随手转发", "二胎妈妈", "社区网格员小王"]

DAY = datetime(2026, 11, 2, tzinfo=TZ)


def at(day: int, hour: float) -> datetime:
    """Day 0 is Monday 2026-11-02."""
    return DAY + timedelta(days=day, hours=hour)


def parse(block: str) -> list[dict]:
    entries = []
    for line in block.strip().splitlines():
        channel, author, labels, reach, text = line.split("|", 4)
        sentiment, topic, crisis = labels.split()
        entry = {"channel": channel, "author": author, "text": text, "sentiment": SENTIMENT[sentiment],
                 "topic": TOPIC[topic], "crisis_type": CRISIS[crisis], "copies": 0}
        for part in reach.split():
            key, value = part[0], int(part[1:])
            entry[{"r": "reposts", "v": "views", "c": "copies"}[key]] = value
        entries.append(entry)
    return entries


def spread(entries: list[dict], start: datetime, end: datetime, rng: random.Random) -> list[dict]:
    """Place entries in order at sorted random moments between start and end."""
    seconds = (end - start).total_seconds()
    moments = sorted(rng.uniform(0, seconds) for _ in entries)
    return [{**e, "published_at": start + timedelta(seconds=round(s))} for e, s in zip(entries, moments)]


def daytime(entries: list[dict], days: list[int], rng: random.Random) -> list[dict]:
    """Everyday chatter: spread over the given days, between 07:00 and 23:30."""
    placed = []
    per_day = -(-len(entries) // len(days))
    for i, day in enumerate(days):
        placed += spread(entries[i * per_day:(i + 1) * per_day], at(day, 7), at(day, 23.5), rng)
    return placed


def copies(source: dict, rng: random.Random, within_hours: float) -> list[dict]:
    made = []
    for n in range(source["copies"]):
        comment = rng.choice(COPY_COMMENTS)
        text = f"{comment}//@{source['author']}：{source['text']}" if n % 2 == 0 else f"转发：{source['text']}"
        made.append({**source, "author": rng.choice(COPY_AUTHORS), "channel": rng.choice(["weibo", "weibo", "toutiao", "wechat"]),
                     "text": text, "copies": 0, "reposts": rng.randint(0, 60), "views": 0,
                     "published_at": source["published_at"] + timedelta(minutes=rng.uniform(3, within_hours * 60))})
    return made


def build() -> list[dict]:
    rng = random.Random(20261105)
    placed = daytime(parse(NORMAL_DAYS), [0, 1, 2], rng)
    placed += spread(parse(CRISIS_EARLY), at(3, 7.6), at(3, 10.3), rng)
    placed += spread(parse(VIRAL), at(3, 10.45), at(3, 10.5), rng)
    placed += spread(parse(CRISIS_GROWING), at(3, 10.6), at(3, 11.9), rng)
    placed += spread(parse(CRISIS_PEAK), at(3, 12.0), at(3, 15.0), rng)
    placed += spread(parse(CRISIS_AFTERNOON), at(3, 15.0), at(3, 19.0), rng)
    placed += spread(parse(REGULATOR), at(3, 19.1), at(3, 19.15), rng)
    placed += spread(parse(CRISIS_EVENING), at(3, 19.3), at(3, 23.9), rng)
    placed += spread(parse(CRISIS_NIGHT), at(4, 0.5), at(4, 7.5), rng)
    placed += spread(parse(FRIDAY_MORNING), at(4, 8.0), at(4, 12.0), rng)
    placed += spread(parse(FRIDAY_AFTERNOON), at(4, 15.0), at(4, 18.0), rng)
    placed += spread(parse(FRIDAY_EVENING), at(4, 18.5), at(4, 23.5), rng)
    placed += daytime(parse(RECOVERY_DAYS), [5, 6], rng)
    placed += daytime(parse(QUIET), list(range(7)), rng)
    placed += daytime(parse(OTHERS), [1, 3, 5], rng)
    placed += [c for e in placed for c in copies(e, rng, within_hours=3)]
    for entry in placed:  # everyday reach unless the text set it
        entry.setdefault("reposts", rng.randint(0, 40) if entry["crisis_type"] == "none" else rng.randint(0, 400))
        entry.setdefault("views", 0)
        entry["comments"] = entry["reposts"] // 3 + rng.randint(0, 20)
        entry["likes"] = entry["reposts"] * 2 + rng.randint(0, 50)
    placed.sort(key=lambda e: (e["published_at"], e["text"]))
    for number, entry in enumerate(placed, 1):
        entry["id"] = f"m{number:04d}"
    return placed


def main() -> None:
    entries = build()
    keys = ("id", "text", "channel", "author", "published_at", "reposts", "comments", "likes", "views")
    lines = [json.dumps({k: (e[k].isoformat() if k == "published_at" else e[k]) for k in keys}, ensure_ascii=False)
             for e in entries]
    STREAM.write_text("\n".join(lines) + "\n", encoding="utf-8")
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    LABELS.write_text("\n".join(json.dumps({k: e[k] for k in ("id", "text", "sentiment", "topic", "crisis_type")},
                                           ensure_ascii=False) for e in entries) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} mentions to {STREAM} and their labels to {LABELS}")


if __name__ == "__main__":
    main()
