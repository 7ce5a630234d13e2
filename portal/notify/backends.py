"""Delivery backends: a real SMTP server, or ``.eml`` files for development."""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, Protocol

from portal.models import OutboxEmail
from portal.timeutil import utcnow


class MailBackend(Protocol):
    """Something that delivers one email or raises."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise an exception."""


def build_message(email: OutboxEmail, sender: str) -> EmailMessage:
    """Build the MIME message for an outbox row (text with an HTML alternative)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((email.to_name, email.to_address)) if email.to_name else email.to_address
    message["Subject"] = email.subject
    message["Date"] = format_datetime(utcnow())
    digest = hashlib.sha256(email.idempotency_key.encode()).hexdigest()[:32]
    # A stable Message-ID: if a crash makes us send twice, mail clients merge the copies.
    message["Message-ID"] = f"<{digest}@rapport.outbox>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body)
    if email.html_body:
        message.add_alternative(email.html_body, subtype="html")
    message["Content-Language"] = email.language  # after the body: set_content clears Content-* headers
    return message


class SMTPBackend:
    """Send through an SMTP server, with STARTTLS or implicit TLS when configured."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.username: str | None = config.get("SMTP_USERNAME")
        self.password: str | None = config.get("SMTP_PASSWORD")
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.use_ssl = bool(config.get("SMTP_SSL"))
        self.timeout = float(config.get("SMTP_TIMEOUT", 20))

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` over SMTP."""
        context = ssl.create_default_context()
        if self.use_ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with conn:
            conn.ehlo()
            if self.starttls and not self.use_ssl and conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
            conn.send_message(message)


class FileBackend:
    """Write each email as an ``.eml`` file, atomically, into a folder."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` to ``<directory>/<time>-<id>.eml``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{message['Message-ID'].strip('<>').split('@')[0][:12]}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.directory / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def backend_for(config: dict[str, Any]) -> MailBackend:
    """Choose SMTP when ``PORTAL_SMTP_HOST`` is set, else ``.eml`` files."""
    if config.get("SMTP_HOST"):
        return SMTPBackend(config)
    return FileBackend(config["MAIL_DIR"])
