"""钉钉 custom robot (自定义机器人): POST JSON to the robot's webhook URL.

    POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=<ms>&sign=<urlencoded>
    {"msgtype": "markdown", "markdown": {"title": "...", "text": "..."},
     "at": {"atMobiles": [...], "isAtAll": false}}
    → {"errcode": 0, "errmsg": "ok"}

Signing (加签): string_to_sign = timestamp + "\\n" + secret; sign = urlencode(base64(HMAC-SHA256(
key=secret, msg=string_to_sign))); timestamp in milliseconds, accepted within an hour. A mobile
in atMobiles is only highlighted when the text contains "@<mobile>".

config: {type: dingtalk, url: <webhook URL> | access_token: TOKEN, secret: <optional>,
         at_mobiles: [..], at_all: false}"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from monitoring.delivery.channels._http import DeliveryError, check_vendor_code, post_json
from monitoring.delivery.message import truncate_utf8

API = "https://oapi.dingtalk.com/robot/send"
MAX_BYTES = 20000


def sign(timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(config: Mapping[str, Any], now: float | None = None) -> str:
    if config.get("url"):
        url = str(config["url"])
    elif config.get("access_token"):
        url = f"{API}?access_token={config['access_token']}"
    else:
        raise DeliveryError("dingtalk channel needs 'url' or 'access_token'")
    if not config.get("secret"):
        return url
    timestamp = str(int((time.time() if now is None else now) * 1000))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign(timestamp, str(config['secret']))}"


def message(config: Mapping[str, Any], outgoing) -> dict:
    notice = outgoing.notice
    mobiles = [str(m) for m in config.get("at_mobiles") or []]
    text = notice.markdown(block_sep="\n\n")
    if mobiles:
        text += "\n\n" + " ".join(f"@{m}" for m in mobiles)
    return {
        "msgtype": "markdown",
        "markdown": {"title": notice.heading, "text": truncate_utf8(text, MAX_BYTES)},
        "at": {"atMobiles": mobiles, "isAtAll": bool(config.get("at_all"))},
    }


def send(config: Mapping[str, Any], outgoing) -> None:
    reply = post_json(signed_url(config), message(config, outgoing), outgoing.timeout)
    check_vendor_code(reply, "errcode")
