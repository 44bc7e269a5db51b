"""Notices to the merchant's fulfilment system: a signed JSON POST per final state.

A notice is queued in the outbox table in the same transaction as the state it
announces (`store._queue_notify`), then delivered by a background thread of each
service process and by `reconcile`, and retried with back-off until the merchant
answers 2xx (a redirect is not followed: it is a failed attempt). A process without
the signing key sends nothing and leaves the notices due. Each delivery is claimed
first, so several instances never send one notice at the same moment (a notice can
still arrive twice after a crash mid-send: receivers should treat the payment's order
number as the key).

Signature (in the style of Stripe's webhooks): the header
`X-KSPay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
key from `--notify-secret-file` or `$KSPAY_NOTIFY_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Delivery, Payment, PaymentStore

SECRET_ENV = "KSPAY_NOTIFY_SECRET"
SIGNATURE_HEADER = "X-KSPay-Signature"
TIMEOUT = 10.0
HOLD = 60.0  # seconds a claimed delivery is left to the process that claimed it
POLL = 1.0


def backoff(attempts: int) -> float:
    """Seconds until the next try after `attempts` failures: 5 s, 10 s, 20 s, ... 1 h."""
    return float(min(5 * 2 ** max(attempts - 1, 0), 3600))


def notification_body(payment: Payment) -> str:
    return json.dumps({
        "event": f"payment.{payment.state}",
        "order_number": payment.order_number, "state": payment.state,
        "paid": payment.paid, "site": payment.site, "product": payment.product,
        "product_name": payment.product_name, "store_id": payment.store_id,
        "expected_amount": payment.expected_amount, "amount": payment.amount,
        "method": payment.method, "transaction_number": payment.transaction_number,
        "approval_number": payment.approval_number, "refusal_code": payment.refusal_code,
        "message": payment.message, "bank_code": payment.bank_code,
        "virtual_account": payment.virtual_account,
        "installment_months": payment.installment_months,
        "echo": payment.echo_values, "created_at": payment.created_at,
    }, ensure_ascii=False, sort_keys=True)


def sign(secret: bytes, body: str, at: int) -> str:
    mac = hmac.new(secret, f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify(secret: bytes, body: str | bytes, header: str, tolerance: float = 300) -> bool:
    """For receivers (and tests): the header is this body's signature, made recently.

    `body` is the request body as received (bytes) or decoded from UTF-8. Any header,
    however malformed, gives True or False, never an exception.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not (stamp.isascii() and stamp.isdigit()) or "v1" not in parts:
        return False
    at = int(stamp)
    # Bytes: compare_digest refuses str with characters outside ASCII.
    return abs(time.time() - at) <= tolerance and hmac.compare_digest(
        sign(secret, body, at).encode(), header.encode("utf-8", "replace"))


class NotifySecretError(Exception):
    """The signing key cannot be used: a message for the person running the service."""


def notify_secret(path: str | None = None) -> bytes | None:
    """The signing key from `path` or $KSPAY_NOTIFY_SECRET; None when neither is set."""
    if path:
        with open(path, "rb") as f:
            value = f.read().strip()
        if not value:  # an empty key signs nothing: anyone could forge a notice
            raise NotifySecretError(f"{path}: the notify secret file is empty")
        return value
    value = os.environ.get(SECRET_ENV, "")
    return value.encode() if value else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of the POST with a GET without the body, and its
    2xx would count as delivered: a redirect is a failed attempt instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(delivery: Delivery, secret: bytes | None) -> str | None:
    """POST one notice; None when the merchant took it (2xx), else why not."""
    if secret is None:
        return f"no signing key: set {SECRET_ENV} or --notify-secret-file"
    request = urllib.request.Request(delivery.url, data=delivery.body.encode(), headers={
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(secret, delivery.body, int(time.time())),
        "User-Agent": "kspay-pages"})
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            response.read(4096)
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        return f"HTTP {exc.code}" + (f" (a redirect to {location}, not followed)"
                                     if location else "")
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc))
    except (http.client.HTTPException, ValueError) as exc:  # not HTTP; a malformed URL
        return f"{exc.__class__.__name__}: {exc}"


def deliver_due(store: PaymentStore, secret: bytes | None,
                clock: Callable[[], float] = time.time) -> tuple[int, int]:
    """One pass over the notices that are due: (delivered, failed).

    Without a signing key nothing is sent and no attempt is counted: the notices wait,
    undelayed, for a process that has the key. `clock` is the time in epoch seconds
    (tests pass their own).
    """
    delivered = failed = 0
    if secret is None:
        return delivered, failed
    for delivery in store.due_deliveries(clock()):
        # The claim's time is taken now, not at the start of the pass: slow receivers
        # earlier in the batch must not shorten this claim's hold.
        if not store.claim_delivery(delivery.id, clock(), HOLD):
            continue
        error = deliver(delivery, secret)
        if error is None:
            store.delivered(delivery, delivery.url)
            delivered += 1
        else:
            store.delivery_failed(delivery, error, clock() + backoff(delivery.attempts + 1))
            failed += 1
    return delivered, failed


def waiting_for_key(store: PaymentStore, clock: Callable[[], float] = time.time) -> int:
    """How many notices are due (up to 100): what a process without the key leaves."""
    return len(store.due_deliveries(clock(), limit=100))


class Notifier:
    """The background sender of one service process."""

    def __init__(self, store: PaymentStore, secret: bytes | None) -> None:
        self.store = store
        self.secret = secret
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="kspay-notify", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        warned = False
        while not self._stop.wait(POLL):
            try:
                if self.secret is None:
                    if not warned and waiting_for_key(self.store):
                        warned = True
                        print(f"kspay-pages payments: notices wait: no signing key (set "
                              f"{SECRET_ENV} or --notify-secret-file)", file=sys.stderr, flush=True)
                    continue
                deliver_due(self.store, self.secret)
            except Exception as exc:  # noqa: BLE001 - the store is down: try again later
                print(f"kspay-pages payments: notices not sent: {exc}", file=sys.stderr, flush=True)
