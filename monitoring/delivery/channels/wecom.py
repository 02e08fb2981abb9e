"""企业微信 group robot (群机器人): POST JSON to the webhook URL that carries the robot's key.

    POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY
    {"msgtype": "markdown", "markdown": {"content": "..."}}
    → {"errcode": 0, "errmsg": "ok"}

The key is the only credential (no signing). Markdown content is limited to 4096 bytes; a member is
mentioned in markdown with <@userid>.

config: {type: wecom, url: <full webhook URL> | key: <KEY>, mention_userids: [..]}"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitoring.delivery.channels._http import DeliveryError, check_vendor_code, post_json
from monitoring.delivery.message import truncate_utf8

API = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_BYTES = 4096


def webhook_url(config: Mapping[str, Any]) -> str:
    if config.get("url"):
        return str(config["url"])
    if config.get("key"):
        return f"{API}?key={config['key']}"
    raise DeliveryError("wecom channel needs 'url' or 'key'")


def message(config: Mapping[str, Any], outgoing) -> dict:
    content = outgoing.notice.markdown()
    mentions = "".join(f"<@{uid}>" for uid in config.get("mention_userids") or [])
    if mentions:
        content += "\n" + mentions
    return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(content, MAX_BYTES)}}


def send(config: Mapping[str, Any], outgoing) -> None:
    reply = post_json(webhook_url(config), message(config, outgoing), outgoing.timeout)
    check_vendor_code(reply, "errcode")
