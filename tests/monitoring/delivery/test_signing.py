"""verify_signature: what receivers rely on to reject forgeries and replays."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from monitoring.delivery import SignatureError, signed_headers, verify_signature

BODY = '{"id":"evt_1","type":"alert.raised","data":{"title":"测试"}}'.encode()
NOW = 1_750_000_000


def headers(secret="s3cret", body=BODY, at=NOW):
    return signed_headers(secret, body, delivery_id="dlv_1", event_type="alert.raised", now=at)


def test_the_documented_recipe_verifies():
    h = headers()
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert h["X-Yuqing-Signature"] == f"sha256={expected}" and h["X-Yuqing-Timestamp"] == str(NOW)
    assert verify_signature("s3cret", h, BODY, now=NOW + 10)


@pytest.mark.parametrize("case", ["wrong secret", "altered body", "altered timestamp", "missing header"])
def test_forgeries_are_rejected(case):
    h, body, secret = headers(), BODY, "s3cret"
    if case == "wrong secret":
        secret = "other"
    elif case == "altered body":
        body = BODY.replace("测试".encode(), "篡改".encode())
    elif case == "altered timestamp":
        h["X-Yuqing-Timestamp"] = str(NOW + 1)
    else:
        del h["X-Yuqing-Signature"]
    with pytest.raises(SignatureError):
        verify_signature(secret, h, body, now=NOW)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_replays_older_than_five_minutes_are_rejected(age):
    with pytest.raises(SignatureError, match="replay"):
        verify_signature("s3cret", headers(at=NOW - age), BODY, now=NOW)


def test_header_names_are_case_insensitive_and_old_secrets_can_be_accepted():
    lowered = {k.lower(): v for k, v in headers(secret="old").items()}
    assert verify_signature(["new", "old"], lowered, BODY, now=NOW + 299)
