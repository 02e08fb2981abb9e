"""E-mail through an SMTP relay (smtplib): a plain-text part and an HTML alternative.

The Message-ID is derived from the delivery id, so a duplicate sent after a crash is the same
message to mail clients and archives.

config: {type: email, host: smtp.example.com, port: 465, ssl: true | starttls: true,
         username: ..., password: ..., from: yuqing@example.com, to: [a@example.com], cc: [..]}"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from monitoring.delivery.channels._http import DeliveryError


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def message(config: Mapping[str, Any], outgoing) -> EmailMessage:
    notice = outgoing.notice
    sender = str(config.get("from") or config.get("username") or "")
    if not sender or not _addresses(config.get("to")):
        raise DeliveryError("email channel needs 'from' and 'to'")
    mail = EmailMessage()
    mail["Subject"] = notice.heading
    mail["From"] = sender
    mail["To"] = ", ".join(_addresses(config.get("to")))
    if config.get("cc"):
        mail["Cc"] = ", ".join(_addresses(config["cc"]))
    mail["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2] or "yuqing.local"
    mail["Message-ID"] = f"<{outgoing.delivery_id}@{domain}>"
    mail["X-Yuqing-Delivery"] = outgoing.delivery_id
    mail["X-Yuqing-Event"] = outgoing.event_type
    mail.set_content(notice.text())
    mail.add_alternative(notice.html(), subtype="html")
    return mail


def _connect(config: Mapping[str, Any], timeout: float) -> smtplib.SMTP:
    host = str(config.get("host") or "localhost")
    if config.get("ssl"):
        return smtplib.SMTP_SSL(host, int(config.get("port") or 465), timeout=timeout,
                                context=ssl.create_default_context())
    client = smtplib.SMTP(host, int(config.get("port") or 25), timeout=timeout)
    if config.get("starttls"):
        client.starttls(context=ssl.create_default_context())
    return client


def send(config: Mapping[str, Any], outgoing) -> None:
    mail = message(config, outgoing)
    try:
        with _connect(config, outgoing.timeout) as client:
            if config.get("username"):
                client.login(str(config["username"]), str(config.get("password") or ""))
            client.send_message(mail)
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP {config.get('host')}: {error}") from None
