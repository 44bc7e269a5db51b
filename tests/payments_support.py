"""What the payments tests share: a merchant file in a temporary folder, the sandbox's
recv_post and the payments service, each a real HTTP server on 127.0.0.1.

`Stack.pay()` plays the KSPay window: it settles a form post in the sandbox (as the
window's Confirm button does) and returns what KSPay would post to sndReply; `post()`
sends that to the service as the customer's browser does (EUC-KR, form-encoded).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
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
def serve(app: Callable, port: int = 0) -> Iterator[str]:
    """`app` on 127.0.0.1 (`port`, or any free port) in a thread; its base URL."""
    httpd = make_server("127.0.0.1", port, app, server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)  # a quick shutdown
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
        return {dd["id"]: dd.get_text() for dd in self.page.select(".receipt dd")}


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
                  fault_delay: float = 4.0, merchant: str = MERCHANT,
                  recv_post_url: str | None = None) -> Iterator[Stack]:
    """The sandbox's recv_post and the payments service, both on 127.0.0.1.

    `recv_post_url` replaces the sandbox's recv_post as the service's (a closed port:
    recv_post unreachable)."""
    sites = tmp_path / "sites"
    write_merchant(sites, merchant)
    box = sandbox.Sandbox(fault_delay=fault_delay)
    with serve(box) as sandbox_base:
        store = PaymentStore(db_url)
        app = build_app(sites, store, recv_post_url or sandbox.recv_post_url(sandbox_base), timeout,
                        pages_url="http://127.0.0.1/pages/", notify=False)
        try:
            with serve(app) as base:
                yield Stack(sites, db_url, box, sandbox_base, base, app)
        finally:
            store.engine.dispose()


# --- the service in other processes: `kspay-pages payments serve`, gunicorn ------------

BIN = Path(sys.executable).parent  # the virtualenv's bin/: kspay-pages, gunicorn
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


class Server:
    """A server process in its own process group (gunicorn's master and its workers),
    its stdout and stderr read line by line as they come."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.command = command
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.stdout),
                                               (self.process.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()
        self.port = 0

    def _read(self, stream: IO[bytes], lines: list[str]) -> None:
        for raw in stream:
            with self._changed:
                lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._changed.notify_all()
        stream.close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        with self._changed:
            return "\n".join(["-- stdout", *self.stdout, "-- stderr", *self.stderr])

    def wait_for(self, pattern: re.Pattern[str], count: int = 1, timeout: float = 30) -> list[re.Match[str]]:
        """The first `count` matches of `pattern` in stderr, waiting for them to be logged."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for line in self.stderr if (m := pattern.search(line))]
                if len(found) >= count:
                    return found[:count]
                if self.process.poll() is not None or time.monotonic() > deadline:
                    break
                self._changed.wait(0.1)
        raise AssertionError(f"{pattern.pattern!r} x{count} not logged by {self.command}:\n{self.log()}")

    def started(self, workers: int | None = None) -> Server:
        """Wait for gunicorn's 'Listening at' (its port) and, when given, that many workers
        booted; then for /kspay/health to answer."""
        self.port = int(self.wait_for(_LISTENING)[0].group(1))
        if workers is not None:
            self.wait_for(re.compile(r"Booting worker with pid: \d+"), workers)
        deadline = time.monotonic() + 30
        while http(self.base + "/kspay/health", timeout=5).status != 200:
            if time.monotonic() > deadline:
                raise AssertionError(f"not healthy:\n{self.log()}")
            time.sleep(0.1)
        return self

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to the group (gunicorn stops gracefully); its exit status."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the master is not reaped yet
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        for reader in self._readers:
            reader.join(10)
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL to the whole group at once, master and workers: nothing cleans up."""
        os.killpg(self.process.pid, signal.SIGKILL)  # the master is not reaped yet
        return self.process.wait(10)


@contextmanager
def running(command: list[str], cwd: Path, env: dict[str, str] | None = None,
            workers: int | None = None) -> Iterator[Server]:
    """A gunicorn server, started and healthy; stopped (or killed) on the way out."""
    server = Server(command, cwd, env)
    try:
        yield server.started(workers)
    finally:
        server.stop()


def serve_command(sites: Path, db_url: str, recv_post: str, workers: int = 2,
                  *options: str) -> list[str]:
    """`kspay-pages payments serve` on any free port of 127.0.0.1."""
    return [str(BIN / "kspay-pages"), "payments", "serve", "--sites", str(sites),
            "--db", db_url, "--host", "127.0.0.1", "--port", "0", "--recv-post", recv_post,
            "--workers", str(workers), "--threads", "4", *options]


def remote_stack(sites: Path, db_url: str, box: sandbox.Sandbox, sandbox_base: str,
                 base: str) -> Stack:
    """A Stack for a service running in another process: pay() and post() only (its
    `store` is that process's; open a PaymentStore of your own)."""
    return Stack(sites, db_url, box, sandbox_base, base, app=None)  # type: ignore[arg-type]
