"""KSNET's recv_post, from the merchant's side: action 1 completes a payment and returns
its result line, action 3 confirms that the merchant has stored it.

The request carries the merchant's own store id and amount (from its file, never from
the customer's page), as KSNET's web-host samples do, so that KSNET refuses a payment
whose amount the customer changed in the page.

Each thread keeps its connection to recv_post open between calls (HTTP keep-alive), so
that action 3 and the next payment's action 1 do not pay for a new TCP (and TLS)
connection. A kept connection is used again only while it is fresh (`KEEP_IDLE`) and not
closed by the server; when a kept connection turns out to be closed as the request is
sent, the request is sent once more on a new one. That repeat is harmless: action 1 is
repeatable until action 3 (and only returns the result), action 3 only says the result
is stored. A timeout is never repeated. With an HTTP proxy configured for recv_post's
address (`https_proxy` and the like), each call goes through urllib and the proxy.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import SplitResult, urlencode, urlsplit

from .. import kspay, results

MAX_REPLY_BYTES = 64 * 1024  # a result line is a few hundred bytes
DEFAULT_TIMEOUT = 10.0  # seconds; KSNET's samples use 10 to 15
# Seconds a kept connection may sit idle and still be used: below the keep-alive
# timeouts servers use (gunicorn 2 s, Apache 5 s, Tomcat 20 s, nginx 75 s).
KEEP_IDLE = 1.0
USER_AGENT = "kspay-pages"

# A kept connection the server had closed: the request never reached it.
_CLOSED_BY_SERVER = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                     ConnectionAbortedError)
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
_local = threading.local()  # .connections: {(scheme, host, port): (connection, last used)}
_tls: ssl.SSLContext | None = None


class RecvPostError(Exception):
    """recv_post could not be asked, or did not answer: the payment stays pending."""

    def __init__(self, message: str, raw: bytes | None = None) -> None:
        super().__init__(message)
        self.raw = raw


def request_body(action: str, conn_id: str, store_id: str, amount: int) -> bytes:
    params = results.recv_post_spec()["delimiter"].join(results.default_params())
    return urlencode({"sndCommConId": conn_id, "sndActionType": action,
                      "sndStoreid": store_id, "sndAmount": str(amount),
                      "sndRpyParams": params}).encode("ascii")


def call(url: str, action: str, conn_id: str, store_id: str, amount: int,
         timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """POST one action to recv_post; the raw reply bytes, or RecvPostError."""
    body = request_body(action, conn_id, store_id, amount)
    try:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname \
                and not _proxied(parts.scheme, parts.hostname):
            status, raw = _call_kept(parts, body, timeout)
        else:
            status, raw = _call_urllib(url, body, timeout)
    except urllib.error.HTTPError as exc:
        raise RecvPostError(f"recv_post answered HTTP {exc.code}") from None
    except (TimeoutError, socket.timeout):
        raise RecvPostError(f"recv_post did not answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RecvPostError(f"recv_post unreachable: {reason}") from None
    except http.client.HTTPException as exc:  # a status line or body that is not HTTP
        what = " ".join(str(exc).split())[:80]
        raise RecvPostError(f"recv_post's answer is not HTTP: {exc.__class__.__name__}"
                            f"{': ' + what if what else ''}") from None
    except ValueError as exc:  # a port that is not a number, and the like
        raise RecvPostError(f"recv_post unreachable: {url!r}: {exc}") from None
    if not 200 <= status < 300:
        raise RecvPostError(f"recv_post answered HTTP {status}")
    if len(raw) > MAX_REPLY_BYTES:
        raise RecvPostError(f"recv_post answered more than {MAX_REPLY_BYTES:,} bytes", raw[:4096])
    return raw


def _proxied(scheme: str, host: str) -> bool:
    """An HTTP proxy is configured for this address (urllib reads the environment)."""
    return scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host)


def _call_urllib(url: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read(MAX_REPLY_BYTES + 1)


def _call_kept(parts: SplitResult, body: bytes, timeout: float) -> tuple[int, bytes]:
    """One request on this thread's kept connection to recv_post, or on a new one: the
    status and up to MAX_REPLY_BYTES + 1 bytes of the body."""
    key = (parts.scheme, parts.hostname or "", parts.port)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    kept = connections.pop(key, None)
    connection = kept[0] if kept is not None and _usable(*kept) else None
    if kept is not None and connection is None:
        kept[0].close()
    while True:
        reused = connection is not None
        if connection is None:
            connection = _connect(*key, timeout)
        else:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
        try:
            try:
                connection.request("POST", target, body, {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": USER_AGENT})
                _quick_ack(connection)
                response = connection.getresponse()
            except _CLOSED_BY_SERVER:
                if not reused:
                    raise
                connection.close()  # closed before any answer: once more, on a new one
                connection = None
                continue
            raw = response.read(MAX_REPLY_BYTES + 1)
        except BaseException:
            connection.close()
            raise
        if response.isclosed() and not response.will_close and connection.sock is not None:
            connections[key] = (connection, time.monotonic())  # read whole: keep it
        else:
            connection.close()
        return response.status, raw


def _connect(scheme: str, host: str, port: int | None,
             timeout: float) -> http.client.HTTPConnection:
    """A new connection, connected. TCP_NODELAY: http.client writes a request's headers
    and body separately, and on a kept connection Nagle's algorithm would hold the body
    back until the server's delayed ACK of the headers (40 ms on Linux)."""
    connection: http.client.HTTPConnection
    if scheme == "https":
        global _tls
        if _tls is None:
            _tls = ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.connect()
    assert connection.sock is not None
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _quick_ack(connection: http.client.HTTPConnection) -> None:
    """ACK the answer's first segment at once (Linux). A server that writes its headers
    and body apart without TCP_NODELAY (Python's http.server does) would otherwise, on a
    kept connection, hold the body back until our delayed ACK: 40 ms a call."""
    if _QUICKACK is not None and connection.sock is not None:
        try:
            connection.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass


def _usable(connection: http.client.HTTPConnection, last_used: float) -> bool:
    """Fresh, and not closed by the server: a closed (or chattering) socket is readable."""
    sock = connection.sock
    if sock is None or time.monotonic() - last_used > KEEP_IDLE:
        return False
    try:
        poll = select.poll()
        poll.register(sock, select.POLLIN)
        return not poll.poll(0)
    except (OSError, ValueError):
        return False


def complete(url: str, conn_id: str, store_id: str, amount: int,
             timeout: float = DEFAULT_TIMEOUT) -> tuple[results.PaymentResult, bytes]:
    """Action 1: the payment's result, read; RecvPostError when it cannot be read."""
    raw = call(url, kspay.ACTION_COMPLETE, conn_id, store_id, amount, timeout)
    try:
        return results.read_result(raw), raw
    except (results.ResultError, ValueError) as exc:
        raise RecvPostError(f"recv_post's reply is not a result line: {exc}", raw) from None


def confirm(url: str, conn_id: str, store_id: str, amount: int,
            timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Action 3: tell KSNET the result is stored."""
    return call(url, kspay.ACTION_CONFIRM, conn_id, store_id, amount, timeout)
