"""KSNET's recv_post, from the merchant's side: action 1 completes a payment and returns
its result line, action 3 confirms that the merchant has stored it.

The request carries the merchant's own store id and amount (from its file, never from
the customer's page), as KSNET's web-host samples do, so that KSNET refuses a payment
whose amount the customer changed in the page.

Calls go through one urllib3 pool per process: connections to recv_post are kept open
between calls (action 3 and the next payment's action 1 skip the TCP and TLS handshakes),
certificates are verified, redirects are not followed (a POST must not become a GET) and
nothing is retried: a failed call leaves the payment pending for a refreshed page or
`reconcile`, which ask again (action 1 is repeatable until action 3).
"""

from __future__ import annotations

from urllib.parse import urlencode

import urllib3

from .. import kspay, results
from .states import RECV_POST_TIMEOUT

MAX_REPLY_BYTES = 64 * 1024  # a result line is a few hundred bytes
DEFAULT_TIMEOUT = RECV_POST_TIMEOUT
USER_AGENT = "kspay-pages"

# Thread-safe; up to `maxsize` kept connections per host, more are opened when needed.
_POOL = urllib3.PoolManager(maxsize=32, retries=False, headers={"User-Agent": USER_AGENT})


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
    try:
        response = _POOL.request(
            "POST", url, body=request_body(action, conn_id, store_id, amount),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=urllib3.Timeout(total=timeout), redirect=False, preload_content=False)
        try:
            raw = response.read(MAX_REPLY_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as exc:  # (a subclass of the timeout)
        raise RecvPostError(f"recv_post unreachable: {_reason(exc)}") from None
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        raise RecvPostError(f"recv_post did not answer within {timeout:g} s") from None
    except urllib3.exceptions.ProtocolError as exc:  # a status line or body that is not HTTP
        raise RecvPostError(f"recv_post's answer is not HTTP: {_reason(exc)}") from None
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        raise RecvPostError(f"recv_post unreachable: {_reason(exc)}") from None
    if not 200 <= response.status < 300:
        raise RecvPostError(f"recv_post answered HTTP {response.status}")
    if len(raw) > MAX_REPLY_BYTES:
        raise RecvPostError(f"recv_post answered more than {MAX_REPLY_BYTES:,} bytes", raw[:4096])
    return raw


def _reason(exc: Exception) -> str:
    """The innermost cause, on one line: urllib3 wraps the socket's error."""
    while getattr(exc, "reason", None) is not None and exc.reason is not exc:
        exc = exc.reason
    return " ".join(str(exc).split())[:120] or exc.__class__.__name__


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
