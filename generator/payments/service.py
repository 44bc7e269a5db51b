"""The payments service as a WSGI application: KSPay's result post in, the customer's
result page out.

    POST /kspay/result?site=<slug>&product=<slug>&ordno=<order number>
         reCommConId, reCommType, reHash, reCnclType, ECH*     (what KSPay posts)
    GET  /kspay/static/<hashed file>                              (the theme's styles)
    GET  /kspay/health                                            (for load balancers)

Run it with `kspay-pages payments serve`, or under your own gunicorn:

    gunicorn 'generator.payments.service:create_app(sites="sites", db="sqlite:///payments.sqlite3")'
"""

from __future__ import annotations

import collections
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl

from .. import kspay
from ..theme import THEMES_DIR
from .catalog import Catalog, Offer
from .flow import Payments
from .notify import Notifier, notify_secret
from .pages import CSP, STATIC_PREFIX, ResultPages
from .recv_post import DEFAULT_TIMEOUT
from .states import DEFAULT_DB
from .store import PaymentStore, StoreError

RESULT_PATH = "/kspay/result"
HEALTH_PATH = "/kspay/health"

StartResponse = Callable[..., object]
_CONN_ID = re.compile(kspay.CONN_ID_PATTERN)
# The order pages send the echo fields the merchant's file names and the order's own
# (quantity, shipping fee, address): all named by the one echo-name rule.
_ECHO = re.compile(kspay.ECHO_NAME_PATTERN)


class BadRequest(Exception):
    def __init__(self, status: str, english: str, korean: str) -> None:
        super().__init__(english)
        self.status, self.english, self.korean = status, english, korean


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length < 0:  # read(-1) would read to the end, past the limit
            raise ValueError(length)
    except ValueError:
        raise BadRequest("400 Bad Request", "Content-Length is not a number",
                         "요청 형식이 잘못되었습니다.") from None
    limit = kspay.RESULT_POST_MAX_BYTES
    if length > limit:
        raise BadRequest("413 Content Too Large",
                         f"the body has {length:,} bytes, the limit is {limit:,}",
                         "요청이 너무 큽니다.")
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if not length and not chunked:
        return b""  # no body: reading would wait for bytes that never come
    body = environ["wsgi.input"].read(limit + 1 if chunked else min(length, limit + 1))
    if len(body) > limit:
        raise BadRequest("413 Content Too Large", f"the body is over {limit:,} bytes",
                         "요청이 너무 큽니다.")
    return body


def parse_post(body: bytes) -> tuple[str, bool, dict[str, str]]:
    """reCommConId, whether the customer cancelled, and the ECH* values.

    KSPay posts ECH* values in EUC-KR, whatever charset the order page used.
    """
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text),
                          encoding=kspay.ENCODING, errors="replace")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("400 Bad Request", "the body is not a URL-encoded form",
                         "요청 형식이 잘못되었습니다.") from None
    names = [name for name, _ in pairs]
    unknown = sorted({n for n in names if n not in kspay.RESULT_POST_FIELDS
                      and _ECHO.fullmatch(n) is None})
    if unknown:
        raise BadRequest("400 Bad Request", f"unknown fields: {', '.join(unknown)}",
                         "알 수 없는 항목이 있습니다.")
    twice = sorted(n for n, times in collections.Counter(names).items() if times > 1)
    if twice:
        raise BadRequest("400 Bad Request", f"fields posted twice: {', '.join(twice)}",
                         "같은 항목이 두 번 있습니다.")
    fields = dict(pairs)
    cancel = fields.get("reCnclType", "")
    if cancel not in ("", "0", kspay.RESULT_CANCELLED):
        raise BadRequest("400 Bad Request", f"reCnclType must be 0 or 1, got {cancel[:20]!r}",
                         "요청 형식이 잘못되었습니다.")
    cancelled = cancel == kspay.RESULT_CANCELLED
    conn_id = fields.get("reCommConId", "")
    if conn_id and _CONN_ID.fullmatch(conn_id) is None:
        raise BadRequest("400 Bad Request",
                         f"reCommConId must match {kspay.CONN_ID_PATTERN}, got {conn_id[:80]!r}",
                         "결제 정보가 잘못되었습니다.")
    if not conn_id and not cancelled:
        raise BadRequest("400 Bad Request", "reCommConId is missing",
                         "결제 정보가 없습니다.")
    echo = {k: v for k, v in fields.items() if _ECHO.fullmatch(k)}
    return conn_id, cancelled, echo


def parse_query(query: str) -> tuple[str, str, str]:
    """site, product and ordno, each exactly once, from sndReply's query."""
    values = parse_qs(query, keep_blank_values=True)
    found = []
    for name in (kspay.REPLY_SITE, kspay.REPLY_PRODUCT, kspay.REPLY_ORDER):
        given = values.get(name, [])
        if len(given) != 1 or not given[0]:
            raise BadRequest("400 Bad Request",
                             f"the query must name {name}= exactly once (the order page sets it)",
                             "주문 정보가 없습니다.")
        found.append(given[0])
    return found[0], found[1], found[2]


class PaymentsApp:
    """The WSGI application."""

    def __init__(self, payments: Payments, pages: ResultPages,
                 notifier: Notifier | None = None) -> None:
        self.payments = payments
        self.pages = pages
        self.notifier = notifier

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        try:
            if path == RESULT_PATH:
                if method != "POST":
                    raise BadRequest("405 Method Not Allowed",
                                     "KSPay posts the result here; use POST",
                                     "KSPay 결제창이 POST로 호출하는 주소입니다.")
                return self._result(environ, start_response)
            if method not in ("GET", "HEAD"):
                raise BadRequest("405 Method Not Allowed", "use GET", "GET으로 요청하세요.")
            if path.startswith(STATIC_PREFIX):
                found = self.pages.static(path[len(STATIC_PREFIX):])
                if found is not None:
                    return _send(start_response, "200 OK", found[0], found[1],
                                 cache="public, max-age=31536000, immutable")
            if path == HEALTH_PATH:
                self.payments.store.schema_version()
                return _send(start_response, "200 OK", b"ok\n", "text/plain; charset=utf-8")
            raise BadRequest("404 Not Found", "no such page", "페이지가 없습니다.")
        except BadRequest as exc:
            body = f"{exc.korean}\n{exc.english}\n".encode()
            extra = [("Allow", "POST")] if exc.status.startswith("405") and path == RESULT_PATH else []
            return _send(start_response, exc.status, body, "text/plain; charset=utf-8", extra=extra)

    def _result(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        kind = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise BadRequest("415 Unsupported Media Type",
                             "KSPay posts application/x-www-form-urlencoded",
                             "요청 형식이 잘못되었습니다.")
        conn_id, cancelled, echo = parse_post(_read_body(environ))
        site, product, order_number = parse_query(environ.get("QUERY_STRING", ""))
        offer = self.payments.catalog.offer(site, product)
        if offer is None:
            raise BadRequest("404 Not Found", f"no product {site}/{product} in the merchant files",
                             "상품을 찾을 수 없습니다.")
        if not offer.order_number_ok(order_number):
            raise BadRequest("400 Bad Request",
                             f"ordno {order_number[:40]!r} is not an order number of {site}'s pages",
                             "주문번호가 잘못되었습니다.")
        ordered = offer.ordered(echo)
        if isinstance(ordered, str) and not cancelled:  # no page of the store posts it
            raise BadRequest("400 Bad Request", ordered, "주문 정보가 잘못되었습니다.")
        offer = ordered if isinstance(ordered, Offer) else offer
        try:
            payment = self.payments.receive(offer, order_number, conn_id, cancelled, echo)
        except StoreError as exc:
            print(f"kspay-pages payments: {exc}", file=sys.stderr, flush=True)
            raise BadRequest("503 Service Unavailable", "the payment store is unavailable",
                             "잠시 후 새로고침해 주세요.") from None
        return _send(start_response, "200 OK", self.pages.render(payment, offer.config),
                     "text/html; charset=utf-8")


def _send(start_response: StartResponse, status: str, body: bytes, content_type: str,
          cache: str = "no-store", extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))),
               ("Cache-Control", cache), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "no-referrer"),
               # The page's own policy, and frame-ancestors, which works only as a header.
               ("Content-Security-Policy", f"{CSP}; frame-ancestors 'none'"),
               *(extra or [])]
    start_response(status, headers)
    return [body]


def build_app(sites_dir: Path, store: PaymentStore, recv_post_url: str | None = None,
              timeout: float = DEFAULT_TIMEOUT, pages_url: str = "/",
              themes_dir: Path = THEMES_DIR, notify: bool = True,
              secret: bytes | None = None) -> PaymentsApp:
    """The application over an opened store; the schema is created when missing."""
    store.ensure_schema()
    catalog = Catalog(sites_dir)
    payments = Payments(store, catalog, recv_post_url, timeout)
    pages = ResultPages(pages_url, themes_dir)
    notifier = Notifier(store, secret if secret is not None else notify_secret()) if notify else None
    if notifier is not None:
        notifier.start()
    return PaymentsApp(payments, pages, notifier)


def create_app(sites: str = "sites", db: str = DEFAULT_DB, recv_post: str | None = None,
               timeout: float = DEFAULT_TIMEOUT, pages_url: str = "/") -> PaymentsApp:
    """The WSGI app for gunicorn: `gunicorn 'generator.payments.service:create_app(...)'`.

    `recv_post` is set here or on the command line only, never from a request.
    """
    return build_app(Path(sites), PaymentStore(db), recv_post, timeout, pages_url)

