"""飞书 (Lark) custom bot (自定义机器人): POST JSON to the bot's webhook URL.

    POST https://open.feishu.cn/open-apis/bot/v2/hook/<token>
    {"timestamp": "1599360473", "sign": "...",             ← only when signing is enabled
     "msg_type": "post",
     "content": {"post": {"zh_cn": {"title": "...", "content": [[{"tag": "text", "text": "..."},
                                                                  {"tag": "a", "text": "...", "href": "..."}]]}}}}
    or {"msg_type": "text", "content": {"text": "..."}}
    → {"code": 0, "msg": "success", "data": {}}   (older bots: {"StatusCode": 0, ...})

Signing (签名校验): key = timestamp + "\\n" + secret; sign = base64(HMAC-SHA256(key, b"")), i.e. the
HMAC of an empty message; timestamp in seconds, accepted within an hour of Feishu's clock.

config: {type: feishu, url: ..., secret: <optional>, msg_type: post|text, at_all: false}"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from monitoring.delivery.channels._http import DeliveryError, check_vendor_code, post_json


def sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_content(notice, at_all: bool) -> dict:
    """A rich-text (post) message: one paragraph per line, the link as a real hyperlink."""
    paragraphs = [[{"tag": "text", "text": f"{label}：{value}"}] for label, value in notice.facts]
    if notice.steps:
        paragraphs.append([{"tag": "text", "text": "建议首要步骤："}])
        paragraphs += [[{"tag": "text", "text": f"{i}. {s}"}] for i, s in enumerate(notice.steps, 1)]
    if notice.link:
        paragraphs.append([{"tag": "a", "text": "查看事件详情", "href": notice.link}])
    if at_all:
        paragraphs.append([{"tag": "at", "user_id": "all"}])
    return {"post": {"zh_cn": {"title": notice.heading, "content": paragraphs}}}


def message(config: Mapping[str, Any], outgoing, now: float | None = None) -> dict:
    notice = outgoing.notice
    at_all = bool(config.get("at_all"))
    if config.get("msg_type", "post") == "text":
        text = notice.text() + ('\n<at user_id="all">所有人</at>' if at_all else "")
        body: dict = {"msg_type": "text", "content": {"text": text}}
    else:
        body = {"msg_type": "post", "content": post_content(notice, at_all)}
    if config.get("secret"):
        timestamp = str(int(time.time() if now is None else now))
        body = {"timestamp": timestamp, "sign": sign(timestamp, str(config["secret"])), **body}
    return body


def send(config: Mapping[str, Any], outgoing) -> None:
    if not config.get("url"):
        raise DeliveryError("feishu channel needs 'url'")
    reply = post_json(str(config["url"]), message(config, outgoing), outgoing.timeout)
    check_vendor_code(reply, "code", "StatusCode")
