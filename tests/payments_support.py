"""What the payments tests share: a merchant file in a temporary folder, the sandbox's
recv_post and the payments service, each a real HTTP server on 127.0.0.1.

`Stack.pay()` plays the KSPay window: it settles a form post in the sandbox (as the
window's Confirm button does) and returns what KSPay would post to sndReply; `post()`
sends that to the service as the customer's browser does (EUC-KR, form-encoded).
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bs4 import BeautifulSoup

from generator import kspay
from generator.devserver import sandbox
from generator.payments.service import RESULT_PATH, PaymentsApp, build_app
from generator.payments.store import PaymentStore

MERCHANT = """\
store:
  id: "2999199999"
  name: 케이에스페이(주)
reply_url: http://127.0.0.1/kspay/result
paymethods: [card, virtual_account, mobile]
good_type: physical
installments: [0, 2, 3]
order_prefix: TEST
echo: {ECHA: 지점-01}
products:
  - slug: carrot-10kg
    name: 당근10kg
    amount: 1003
  - slug: gift-set
    name: 한라봉 선물세트
    amount: 55000
"""
SITE = "shop"
STORE_ID = "2999199999"
AMOUNTS = {"carrot-10kg": 1003, "gift-set": 55000}
NAMES = {"carrot-10kg": "당근10kg", "gift-set": "한라봉 선물세트"}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 64


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass


@contextmanager
def serve(app: Callable) -> Iterator[str]:
    """`app` on 127.0.0.1 (any free port) in a thread; its base URL."""
    httpd = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_merchant(folder: Path, text: str = MERCHANT, slug: str = SITE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def order_number(prefix: str = "TEST") -> str:
    return prefix + time.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def page(self) -> BeautifulSoup:
        return BeautifulSoup(self.body.decode("utf-8"), "html.parser")

    @property
    def state(self) -> str:
        return self.page.find(id="status")["data-status"]

    def shown(self) -> dict[str, str]:
        return {dd["id"]: dd.get_text() for dd in self.page.find_all("dd")}


def http(url: str, data: bytes | None = None, content_type: str | None = None,
         method: str | None = None, timeout: float = 30) -> Response:
    request = urllib.request.Request(url, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as rsp:
            return Response(rsp.status, dict(rsp.headers), rsp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers), exc.read())


@dataclass
class Payment:
    """A payment KSPay is about to post back: its order number and the post."""

    product: str
    order_number: str
    conn_id: str
    posted: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Stack:
    sites: Path
    db_url: str
    sandbox: sandbox.Sandbox
    sandbox_base: str
    base: str
    app: PaymentsApp

    @property
    def store(self) -> PaymentStore:
        return self.app.payments.store

    def pay(self, product: str = "carrot-10kg", outcome: str = "isp",
            choice: dict[str, str] | None = None, fault: str = "",
            amount: int | None = None, order: str | None = None) -> Payment:
        """The customer paid in the KSPay window; `amount` is what the page posted (a
        customer may have edited it), by default the product's price."""
        order = order or order_number()
        fields = {"sndStoreid": STORE_ID, "sndOrdernumber": order,
                  "sndGoodname": NAMES.get(product, product),
                  "sndAmount": str(AMOUNTS.get(product, 1003) if amount is None else amount),
                  "sndInstallmenttype": "0", "sndPaymethod": "1100010000",
                  "sndReply": self.reply_url(product, order), "ECHA": "지점-01"}
        txn = sandbox.Transaction(fields, euc_kr=False)
        conn_id = self.sandbox.decide(txn, outcome, choice or {"isp_issuer": "01", "halbu": "0"},
                                      fault)
        return Payment(product, order, conn_id,
                       sandbox.Sandbox.posted_back(conn_id, fields, outcome == "cancel"))

    def reply_url(self, product: str, order: str) -> str:
        return kspay.reply_with_order(
            kspay.reply_for_product(self.base + RESULT_PATH, SITE, product), order)

    def post(self, payment: Payment, posted: list[tuple[str, str]] | None = None,
             url: str | None = None) -> Response:
        """KSPay's post to sndReply, through the customer's browser: EUC-KR form data."""
        body = urlencode(payment.posted if posted is None else posted, encoding="cp949")
        return http(url or self.reply_url(payment.product, payment.order_number),
                    body.encode("ascii"), "application/x-www-form-urlencoded")


@contextmanager
def payment_stack(tmp_path: Path, db_url: str, timeout: float = 2.0,
                  fault_delay: float = 4.0, merchant: str = MERCHANT) -> Iterator[Stack]:
    """The sandbox's recv_post and the payments service, both on 127.0.0.1."""
    sites = tmp_path / "sites"
    write_merchant(sites, merchant)
    box = sandbox.Sandbox(fault_delay=fault_delay)
    with serve(box) as sandbox_base:
        store = PaymentStore(db_url)
        app = build_app(sites, store, sandbox.recv_post_url(sandbox_base), timeout,
                        pages_url="http://127.0.0.1/pages/", notify=False)
        try:
            with serve(app) as base:
                yield Stack(sites, db_url, box, sandbox_base, base, app)
        finally:
            store.engine.dispose()
