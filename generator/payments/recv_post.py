"""KSNET's recv_post, from the merchant's side: action 1 completes a payment and returns
its result line, action 3 confirms that the merchant has stored it.

The request carries the merchant's own store id and amount (from its file, never from
the customer's page), as KSNET's web-host samples do, so that KSNET refuses a payment
whose amount the customer changed in the page.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlencode

from .. import kspay, results

MAX_REPLY_BYTES = 64 * 1024  # a result line is a few hundred bytes
DEFAULT_TIMEOUT = 10.0  # seconds; KSNET's samples use 10 to 15


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
    request = urllib.request.Request(
        url, data=request_body(action, conn_id, store_id, amount),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise RecvPostError(f"recv_post answered HTTP {exc.code}") from None
    except (TimeoutError, socket.timeout):
        raise RecvPostError(f"recv_post did not answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RecvPostError(f"recv_post unreachable: {reason}") from None
    if len(raw) > MAX_REPLY_BYTES:
        raise RecvPostError(f"recv_post answered more than {MAX_REPLY_BYTES:,} bytes", raw[:4096])
    return raw


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
