"""One signed POST to a webhook's address, refusing private addresses in production, within a deadline.

The address is resolved once and the connection made to the address that was checked, so a
name that resolves to a public address for the check and a private one for the connection
(DNS rebinding) cannot slip through. Redirects are not followed: a 3xx is a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

RESPONSE_LIMIT = 64 * 1024  # read no more of a receiver's answer than this
USER_AGENT = "Rapport-Webhooks/1"


class Refused(Exception):
    """The address may not be called (a private or loopback address in production, a malformed URL)."""


@dataclass(frozen=True)
class Answer:
    """What the receiver said: its status and the start of its body."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def sign(secret: str, timestamp: str, body: str) -> str:
    """Return ``sha256=<hex>``: the HMAC-SHA256 of ``"{timestamp}.{body}"`` with ``secret``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def is_forbidden_address(address: str) -> bool:
    """Tell whether ``address`` (an IP) is one a public webhook must not reach: private, loopback, link-local…"""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def resolve(host: str, port: int, *, guard: bool) -> list[tuple[socket.AddressFamily, Any]]:
    """Return the (family, address) pairs ``host`` resolves to; with ``guard``, refuse a host with any forbidden one."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses: list[tuple[socket.AddressFamily, Any]] = [(family, sockaddr) for family, _, _, _, sockaddr in found]
    if guard:
        bad = sorted({str(sockaddr[0]) for _, sockaddr in addresses if is_forbidden_address(str(sockaddr[0]))})
        if bad:
            raise Refused(f"{host} resolves to a private or local address ({', '.join(bad)}); webhooks only go to public addresses")
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    return addresses


def post(url: str, body: str, headers: Mapping[str, str], *, timeout: float, guard: bool) -> Answer:
    """POST ``body`` to ``url`` and return the answer; raise ``Refused``, ``TimeoutError`` or ``OSError``.

    ``timeout`` bounds the whole exchange (resolving aside): connecting, sending, and reading the answer.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("the address must be an http or https URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused(f"the address has an invalid port: {exc}") from exc
    host = parts.hostname
    addresses = resolve(host, port, guard=guard)
    deadline = time.monotonic() + timeout
    family, sockaddr = addresses[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(_left(deadline))
        sock.connect(sockaddr)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context()
            sock.settimeout(_left(deadline))
            sock = context.wrap_socket(sock, server_hostname=host)
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock  # already connected to the checked address: request() will not connect again
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sock.settimeout(_left(deadline))
        connection.request("POST", path, body=body.encode(), headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
        sock.settimeout(_left(deadline))
        response = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size < RESPONSE_LIMIT:
            sock.settimeout(_left(deadline))
            chunk = response.read1(min(4096, RESPONSE_LIMIT - size)) if hasattr(response, "read1") else response.read(4096)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return Answer(response.status, b"".join(chunks).decode(errors="replace"))
    except TimeoutError as exc:
        raise TimeoutError(f"no answer within {timeout:g} seconds") from exc
    finally:
        sock.close()


def _left(deadline: float) -> float:
    """Return the seconds left until ``deadline``; none left is a timeout."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline passed")
    return left
