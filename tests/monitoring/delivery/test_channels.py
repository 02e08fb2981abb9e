"""People channels against local stand-ins that check each vendor's format and signature the way
the vendor documents it (the checks are written here independently of the senders)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from email import message_from_bytes, policy

import pytest

from tests.conftest import free_port
from tests.monitoring.delivery.conftest import sample_payload, start, wait_until

MAJOR_ONLY = {"minor": [], "major": ["duty"]}


def publish_major(dispatcher) -> str:
    [delivery_id] = dispatcher.publish("incident.opened", sample_payload(routing=MAJOR_ONLY))
    start(dispatcher)
    wait_until(lambda: dispatcher.delivery(delivery_id).status != "pending")
    return delivery_id


def assert_message_content(text: str) -> None:
    assert "【重大】事件立案：网传澜山乳业奶粉检出异物" in text
    assert "澜山乳业" in text and "负面占比 81%" in text and "近1小时声量 342" in text
    assert "成立应急小组，封存涉事批次留样（质量部，06-01 15:00前完成）" in text  # 07:00Z in Asia/Shanghai
    assert "https://yuqing.example.com/incidents/inc-20250601-001" in text


def test_wecom_group_robot_markdown(make_dispatcher, receiver):
    def wecom(request, n):
        if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != "robot-key":
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        body = request.json()
        if body.get("msgtype") != "markdown" or len(body["markdown"]["content"].encode()) > 4096:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        return (200, {"errcode": 45009, "errmsg": "api freq out of limit"}) if n == 1 else (200, {"errcode": 0, "errmsg": "ok"})

    bot = receiver(wecom)
    url = f"{bot.url}/cgi-bin/webhook/send?key=robot-key"
    dispatcher = make_dispatcher(channels={"duty": {"type": "wecom", "url": url}})
    delivery_id = publish_major(dispatcher)

    assert dispatcher.delivery(delivery_id).status == "delivered"
    assert len(bot.requests) == 2  # the rate-limited first answer (HTTP 200, errcode≠0) was retried
    assert "45009" in dispatcher.attempts(delivery_id)[0]["error"]
    content = bot.requests[-1].json()["markdown"]["content"]
    assert content.startswith("### 【重大】")
    assert_message_content(content)
    assert "[查看事件详情](https://yuqing.example.com/incidents/inc-20250601-001)" in content


def feishu_sign(timestamp: str, secret: str) -> str:
    # Feishu's documented recipe: HMAC-SHA256 keyed with "timestamp\nsecret" over an empty message.
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(mac).decode("utf-8")


def test_feishu_custom_bot_signed_post(make_dispatcher, receiver):
    def feishu(request, n):
        body = request.json()
        timestamp = body.get("timestamp", "")
        if abs(time.time() - int(timestamp or 0)) > 3600 or body.get("sign") != feishu_sign(timestamp, "fs-secret"):
            return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
        return 200, {"code": 0, "msg": "success", "data": {}}

    bot = receiver(feishu)
    channels = {"duty": {"type": "feishu", "url": f"{bot.url}/open-apis/bot/v2/hook/tok", "secret": "fs-secret"}}
    dispatcher = make_dispatcher(channels=channels)
    delivery_id = publish_major(dispatcher)

    assert dispatcher.delivery(delivery_id).status == "delivered" and len(bot.requests) == 1
    body = bot.requests[0].json()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    items = [item for paragraph in post["content"] for item in paragraph]
    assert {item["tag"] for item in items} == {"text", "a"}
    assert_message_content("\n".join([post["title"], *(i.get("text", "") + i.get("href", "") for i in items)]))


def test_feishu_wrong_secret_is_retried_then_dead(make_dispatcher, receiver):
    bot = receiver(lambda request, n: (200, {"code": 19021, "msg": "sign match fail"}))
    channels = {"duty": {"type": "feishu", "url": bot.url, "secret": "wrong", "msg_type": "text"}}
    dispatcher = make_dispatcher(channels=channels, max_attempts=2)
    delivery_id = publish_major(dispatcher)
    record = dispatcher.delivery(delivery_id)
    assert record.status == "dead" and "19021" in record.last_error
    assert bot.requests[0].json()["content"]["text"].startswith("【重大】")


def dingtalk_sign(timestamp: str, secret: str) -> str:
    # DingTalk's documented recipe: HMAC-SHA256 keyed with the secret over "timestamp\nsecret",
    # base64; the receiver compares after URL-decoding the query string.
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(mac).decode("utf-8")


def test_dingtalk_robot_signed_markdown(make_dispatcher, receiver):
    def dingtalk(request, n):
        timestamp, sign = request.query.get("timestamp", "0"), request.query.get("sign")
        fresh = abs(time.time() * 1000 - int(timestamp)) < 3600 * 1000
        if request.query.get("access_token") != "ding-token" or not fresh or sign != dingtalk_sign(timestamp, "SEC123"):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.json()
        if body.get("msgtype") != "markdown" or not body["markdown"].get("title"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    bot = receiver(dingtalk)
    channels = {"duty": {"type": "dingtalk", "url": f"{bot.url}/robot/send?access_token=ding-token",
                         "secret": "SEC123", "at_mobiles": ["13800000000"]}}
    dispatcher = make_dispatcher(channels=channels)
    delivery_id = publish_major(dispatcher)

    assert dispatcher.delivery(delivery_id).status == "delivered", dispatcher.delivery(delivery_id).last_error
    request = bot.requests[0]
    raw_query = urllib.parse.urlsplit(request.path + "?" + urllib.parse.urlencode(request.query)).query
    assert "sign=" in raw_query
    body = request.json()
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert body["markdown"]["title"].startswith("【重大】")
    assert "@13800000000" in body["markdown"]["text"]
    assert_message_content(body["markdown"]["text"])


@pytest.fixture
def smtp_server():
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
            return "250 Message accepted for delivery"

    inbox = Inbox()
    port = free_port()  # aiosmtpd's readiness check connects to the given port, so not 0
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_email_plain_and_html(make_dispatcher, smtp_server):
    inbox, port = smtp_server
    channels = {"duty": {"type": "email", "host": "127.0.0.1", "port": port, "from": "yuqing@example.com",
                         "to": ["pr-lead@example.com", "ceo-office@example.com"]}}
    dispatcher = make_dispatcher(channels=channels)
    delivery_id = publish_major(dispatcher)

    assert dispatcher.delivery(delivery_id).status == "delivered", dispatcher.delivery(delivery_id).last_error
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "yuqing@example.com" and recipients == ["pr-lead@example.com", "ceo-office@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"].startswith("【重大】事件立案")
    assert mail["Message-ID"] == f"<{delivery_id}@example.com>"
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert_message_content(plain)
    assert 'href="https://yuqing.example.com/incidents/inc-20250601-001"' in html and "负面占比 81%" in html


def test_routing_picks_channels_by_severity(make_dispatcher, receiver):
    bot = receiver(lambda request, n: (200, {"errcode": 0}))
    channels = {"analysts": {"type": "wecom", "url": bot.url + "/analysts"},
                "leadership": {"type": "wecom", "url": bot.url + "/leadership"}}
    routing = {"一般": ["analysts"], "major": ["analysts", "leadership"]}
    dispatcher = make_dispatcher(channels=channels)
    general = dispatcher.publish("alert.raised", sample_payload(severity="general", routing=routing))
    major = dispatcher.publish("alert.raised", sample_payload(severity="重大", routing=routing))
    minor = dispatcher.publish("alert.raised", sample_payload(severity="minor", routing=routing))
    assert (len(general), len(major), len(minor)) == (1, 2, 0)
    start(dispatcher)
    wait_until(lambda: len(bot.requests) == 3)
    assert sorted(r.path for r in bot.requests) == ["/analysts", "/analysts", "/leadership"]
