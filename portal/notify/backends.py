"""Delivery backends: a real SMTP server, or ``.eml`` files for development."""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import smtplib
import socket
import ssl
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from portal.models import OutboxEmail
from portal.timeutil import utcnow

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


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


class BoundedSMTP(smtplib.SMTP):
    """An SMTP connection whose whole conversation ends by ``deadline`` (a ``time.monotonic()`` value).

    smtplib applies its timeout to each socket operation, so a server that answers every
    command just before the timeout could hold one email for minutes. Here the connect, each
    write and each reply waits at most ``timeout`` and never past the deadline.
    """

    deadline = math.inf

    def time_left(self) -> float:
        """Return how long the next operation may wait; raise TimeoutError once the deadline has passed."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.too_long()
        return min(self.timeout, left)

    def too_long(self) -> TimeoutError:
        """Return the error of a conversation cut off at its deadline."""
        return TimeoutError("the SMTP server took too long; the email is tried again later")

    # smtplib's own hook for opening the connection (SMTP_SSL wraps it in TLS), absent from typeshed.
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(host, port, self.time_left())  # type: ignore[misc]

    def send(self, s: ReadableBuffer | str) -> None:
        """Send ``s`` to the server, waiting no longer than the time left."""
        if self.sock:
            self.sock.settimeout(self.time_left())
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        """Read the server's reply, waiting no longer than the time left."""
        if self.sock:
            self.sock.settimeout(self.time_left())
        try:
            return super().getreply()
        except smtplib.SMTPServerDisconnected as error:
            # smtplib reports a read timeout as a disconnection: say when it was the deadline.
            if time.monotonic() >= self.deadline:
                raise self.too_long() from error
            raise


class BoundedSMTPSSL(BoundedSMTP, smtplib.SMTP_SSL):
    """:class:`BoundedSMTP` over implicit TLS (port 465); the TLS handshake is bounded too."""


class SMTPBackend:
    """Send through an SMTP server, with STARTTLS or implicit TLS when configured.

    One email's conversation (connect, TLS, login, the message, quit) takes at most
    ``max_seconds``: half the sender's lease, so a send always ends, and its outcome is
    committed, while the email is still the sender's.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.host: str = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.username: str | None = config.get("SMTP_USERNAME")
        self.password: str | None = config.get("SMTP_PASSWORD")
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.use_ssl = bool(config.get("SMTP_SSL"))
        self.timeout = float(config.get("SMTP_TIMEOUT", 10))
        self.max_seconds = float(config.get("MAIL_LEASE_SECONDS", 60)) / 2

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` over SMTP, or raise within ``max_seconds``."""
        context = ssl.create_default_context()
        # Not connected yet: the deadline must be set before the first byte.
        conn = BoundedSMTPSSL(timeout=self.timeout, context=context) if self.use_ssl else BoundedSMTP(timeout=self.timeout)
        conn.deadline = time.monotonic() + self.max_seconds
        try:
            conn.connect(self.host, self.port)
            conn.ehlo()
            if self.starttls and not self.use_ssl and conn.has_extn("starttls"):
                conn.starttls(context=context)
                conn.ehlo()
            if self.username:
                conn.login(self.username, self.password or "")
            conn.send_message(message)
        finally:
            # Once the server accepted the message it is sent: a failed QUIT must not make it a retry (a duplicate).
            with contextlib.suppress(smtplib.SMTPException, OSError):
                if conn.sock:
                    conn.quit()
            conn.close()


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
