"""The notify outbox: a signed JSON POST to the merchant's notify_url for each final
state, queued with the state in one transaction, retried with back-off until 2xx and
then never again, kept in the store across restarts. The receiver is a real HTTP
server on 127.0.0.1; each test runs on SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.devserver import sandbox
from generator.payments import notify
from generator.payments.catalog import Catalog
from generator.payments.flow import Payments
from generator.payments.service import build_app
from generator.payments.store import PaymentStore
from payments_support import (
    BIN,
    MERCHANT,
    STORE_ID,
    Payment,
    Stack,
    running,
    serve,
    serve_command,
    write_merchant,
)

SECRET = b"notify-test-secret"
EVENTS_NOTIFY = ("notify queued", "notify failed", "notify delivered")


@dataclass
class Notice:
    method: str
    path: str
    content_type: str
    signature: str
    body: bytes

    @property
    def data(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


class Receiver:
    """The merchant's fulfilment system: records every request, answers `statuses` in
    turn (then 200 OK)."""

    def __init__(self, statuses: list[str] | None = None,
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.headers = headers or []
        self.notices: list[Notice] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.notices.append(Notice(environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                       environ.get("CONTENT_TYPE", ""),
                                       environ.get("HTTP_X_KSPAY_SIGNATURE", ""), body))
            status = self.statuses.pop(0) if self.statuses else "200 OK"
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", "2"),
                                *(self.headers if not status.startswith("200") else [])])
        return [b"ok"]

    def received(self) -> list[Notice]:
        with self._lock:
            return list(self.notices)


def merchant_with(notify_url: str) -> str:
    line = "reply_url: http://127.0.0.1/kspay/result\n"
    assert line in MERCHANT
    return MERCHANT.replace(line, f"{line}notify_url: {notify_url}\n")


@contextmanager
def notify_stack(tmp_path: Path, db_url: str, hook: str, notify_on: bool = True,
                 secret: bytes | None = SECRET) -> Iterator[Stack]:
    """payment_stack's service with notify_url in the merchant file, and its Notifier
    thread running (`notify_on`) with `secret`."""
    sites = tmp_path / "sites"
    write_merchant(sites, merchant_with(hook))
    box = sandbox.Sandbox(fault_delay=4.0)
    with serve(box) as sandbox_base:
        store = PaymentStore(db_url)
        app = build_app(sites, store, sandbox.recv_post_url(sandbox_base), 2.0,
                        pages_url="http://127.0.0.1/pages/", notify=notify_on, secret=secret)
        try:
            with serve(app) as base:
                yield Stack(sites, db_url, box, sandbox_base, base, app)
        finally:
            if app.notifier is not None:
                app.notifier.stop()
            store.engine.dispose()


def wait_until(check, timeout: float = 15, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


def notify_events(store: PaymentStore, payment_id: int) -> list[tuple[str, str]]:
    return [(e.kind, e.detail) for e in store.events(payment_id) if e.kind in EVENTS_NOTIFY]


def mismatched(stack: Stack) -> Payment:
    """recv_post approves another order number than the one sndReply names."""
    order, other = "TEST20260301120000000111", "TEST20260301120000000999"
    fields = {"sndStoreid": STORE_ID, "sndOrdernumber": other, "sndGoodname": "당근10kg",
              "sndAmount": "1003", "sndInstallmenttype": "0", "sndPaymethod": "1100010000",
              "sndReply": stack.reply_url("carrot-10kg", order), "ECHA": "지점-01"}
    conn_id = stack.sandbox.decide(sandbox.Transaction(fields, euc_kr=False), "isp",
                                   {"isp_issuer": "01", "halbu": "0"})
    return Payment("carrot-10kg", order, conn_id, sandbox.Sandbox.posted_back(conn_id, fields, False))


# --- delivery ------------------------------------------------------------------------


def test_each_final_state_is_posted_once_signed(tmp_path: Path, db_url: str) -> None:
    receiver = Receiver()
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook") as stack:
        made = {
            "approved": stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "3"}),
            "refused": stack.pay("carrot-10kg", "refuse", {"refusal_code": "7001"}),
            "issued": stack.pay("carrot-10kg", "virtual_account", {"bank": "04"}),
            "cancelled": stack.pay("carrot-10kg", "cancel"),
            "mismatch": mismatched(stack),
        }
        for state, paid in made.items():
            assert stack.post(paid).state == state
        wait_until(lambda: len(receiver.received()) >= 5, what="five notices")
        assert stack.post(made["approved"]).state == "approved"  # a repeated post
        time.sleep(2.5 * notify.POLL)  # two more passes of the notifier: nothing new
        assert notify.deliver_due(stack.store, SECRET) == (0, 0)
        notices = receiver.received()
        assert len(notices) == 5

        by_order = {n.data["order_number"]: n for n in notices}
        assert sorted(by_order) == sorted(p.order_number for p in made.values())
        for state, paid in made.items():
            notice = by_order[paid.order_number]
            assert (notice.method, notice.path, notice.content_type) == (
                "POST", "/hook", "application/json; charset=utf-8")
            assert (notice.data["event"], notice.data["state"]) == (f"payment.{state}", state)
            assert notify.verify(SECRET, notice.body, notice.signature)
            assert notify.verify(SECRET, notice.body.decode("utf-8"), notice.signature)
            assert not notify.verify(b"another key", notice.body, notice.signature)
            assert not notify.verify(SECRET, notice.body.replace(b'"paid"', b'"paid" '),
                                     notice.signature)
            at = int(notice.signature.split(",")[0].removeprefix("t="))
            assert abs(time.time() - at) < 60

        approved = stack.store.find(made["approved"].order_number)
        assert by_order[approved.order_number].data == {
            "event": "payment.approved", "order_number": approved.order_number,
            "state": "approved", "paid": True, "site": "shop", "product": "gift-set",
            "product_name": "한라봉 선물세트", "store_id": STORE_ID, "expected_amount": 55000,
            "amount": 55000, "method": "card", "transaction_number": approved.transaction_number,
            "approval_number": approved.approval_number, "refusal_code": "",
            "message": "정상승인 BC카드", "bank_code": "", "virtual_account": "",
            "installment_months": 3, "echo": {"ECHA": "지점-01"},
            "created_at": approved.created_at}
        cancelled = by_order[made["cancelled"].order_number].data
        assert (cancelled["paid"], cancelled["amount"], cancelled["transaction_number"]) == (
            False, None, "")
        assert by_order[made["mismatch"].order_number].data["paid"] is False

        rows = stack.store.outbox_rows()
        assert sorted(r["state"] for r in rows) == sorted(made)
        assert {(r["attempts"], r["last_error"], r["url"]) for r in rows} == {
            (1, "", hook_base + "/hook")}
        assert all(r["delivered_at"] for r in rows)
        assert notify_events(stack.store, approved.id) == [
            ("notify queued", hook_base + "/hook"), ("notify delivered", hook_base + "/hook")]


def test_a_failing_receiver_is_retried_with_backoff_until_2xx_then_never_again(
        tmp_path: Path, db_url: str) -> None:
    receiver = Receiver(["500 Internal Server Error", "503 Service Unavailable"])
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook", notify_on=False) as stack:
        paid = stack.pay()
        assert stack.post(paid).state == "approved"
        store = stack.store
        [row] = store.outbox_rows()
        assert (row["state"], row["attempts"], row["delivered_at"], row["last_error"]) == (
            "approved", 0, None, "")
        assert row["next_at"] <= time.time()  # due at once

        now = [time.time() + 1]
        clock = lambda: now[0]  # noqa: E731
        start = now[0]

        def attempt(at: float) -> tuple[int, int]:
            now[0] = at
            return notify.deliver_due(store, SECRET, clock)

        assert attempt(start) == (0, 1)
        [row] = store.outbox_rows()
        assert (row["attempts"], row["last_error"], row["next_at"], row["delivered_at"]) == (
            1, "HTTP 500", start + 5.0, None)
        assert attempt(start + 4.999) == (0, 0)  # backoff(1) = 5 s: not yet
        assert attempt(start + 5.0) == (0, 1)
        [row] = store.outbox_rows()
        assert (row["attempts"], row["last_error"], row["next_at"]) == (
            2, "HTTP 503", start + 5.0 + 10.0)
        assert attempt(start + 14.999) == (0, 0)  # backoff(2) = 10 s
        assert len(receiver.received()) == 2
        assert attempt(start + 15.0) == (1, 0)
        [row] = store.outbox_rows()
        assert (row["attempts"], row["last_error"]) == (3, "")
        assert row["delivered_at"] is not None
        delivered_at = row["delivered_at"]
        for later in (start + 15.0, start + 3600, start + 10**7):
            assert attempt(later) == (0, 0)  # delivered: never again
        assert store.outbox_rows()[0]["delivered_at"] == delivered_at

        notices = receiver.received()
        assert len(notices) == 3
        assert len({n.body for n in notices}) == 1  # the same notice each time
        assert all(notify.verify(SECRET, n.body, n.signature) for n in notices)
        hook = hook_base + "/hook"
        assert notify_events(store, store.find(paid.order_number).id) == [
            ("notify queued", hook), ("notify failed", "attempt 1: HTTP 500"),
            ("notify failed", "attempt 2: HTTP 503"), ("notify delivered", hook)]


def test_backoff_doubles_from_five_seconds_to_an_hour() -> None:
    assert [notify.backoff(n) for n in range(1, 13)] == [
        5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 1280.0, 2560.0, 3600.0, 3600.0]
    assert notify.backoff(100) == 3600.0


def test_the_service_notifier_retries_a_500_by_itself(tmp_path: Path, db_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "backoff", lambda attempts: 0.5)  # not 5 s: a short test
    receiver = Receiver(["500 Internal Server Error"])
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook") as stack:
        paid = stack.pay()
        assert stack.post(paid).state == "approved"
        wait_until(lambda: len(receiver.received()) == 2, what="the retry")
        wait_until(lambda: stack.store.outbox_rows()[0]["delivered_at"] is not None)
        time.sleep(2.5 * notify.POLL)
        assert len(receiver.received()) == 2
        [row] = stack.store.outbox_rows()
        assert (row["attempts"], row["last_error"]) == (2, "")


def test_a_redirect_is_a_failed_attempt_not_a_delivery(tmp_path: Path, db_url: str) -> None:
    receiver = Receiver(["302 Found"], headers=[("Location", "/elsewhere")])
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook", notify_on=False) as stack:
        assert stack.post(stack.pay()).state == "approved"
        assert notify.deliver_due(stack.store, SECRET) == (0, 1)
        [row] = stack.store.outbox_rows()
        assert (row["attempts"], row["delivered_at"], row["last_error"]) == (
            1, None, "HTTP 302 (a redirect to /elsewhere, not followed)")
        assert [(n.method, n.path) for n in receiver.received()] == [("POST", "/hook")]


@contextmanager
def not_http() -> Iterator[int]:
    """A port that answers every connection with a line that is not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HELLO THERE\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_a_receiver_that_is_not_http_is_a_failed_attempt(tmp_path: Path, db_url: str) -> None:
    with not_http() as port, \
            notify_stack(tmp_path, db_url, f"http://127.0.0.1:{port}/hook", notify_on=False) as stack:
        assert stack.post(stack.pay()).state == "approved"
        assert notify.deliver_due(stack.store, SECRET) == (0, 1)
        [row] = stack.store.outbox_rows()
        assert (row["attempts"], row["delivered_at"]) == (1, None)
        assert row["last_error"].startswith("BadStatusLine: "), row["last_error"]


def test_without_a_key_nothing_is_sent_and_no_attempt_is_spent(tmp_path: Path, db_url: str) -> None:
    receiver = Receiver()
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook", notify_on=False) as stack:
        assert stack.post(stack.pay()).state == "approved"
        [before] = stack.store.outbox_rows()
        assert notify.deliver_due(stack.store, None) == (0, 0)
        assert stack.store.outbox_rows() == [before]  # not claimed, not delayed
        assert notify.waiting_for_key(stack.store) == 1
        assert receiver.received() == []
        assert notify.deliver_due(stack.store, SECRET) == (1, 0)
        assert len(receiver.received()) == 1


# --- the outbox: one transaction with the state; rows that outlive the process ----------


@pytest.mark.parametrize("outcome", ["isp", "cancel"])
def test_the_notice_is_queued_in_the_same_transaction_as_the_state(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, outcome: str) -> None:
    receiver = Receiver()
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook", notify_on=False) as stack:
        body = notify.notification_body

        def broken(payment):  # type: ignore[no-untyped-def]
            raise RuntimeError("the outbox insert fails")

        # Queuing the notice fails: the state it announces is not stored either.
        monkeypatch.setattr(notify, "notification_body", broken)
        paid = stack.pay(outcome=outcome)
        assert stack.post(paid).status == 500
        stored = stack.store.find(paid.order_number)
        assert stack.store.outbox_rows() == []
        if outcome == "cancel":
            assert stored is None  # the cancel and its notice: neither
        else:
            assert (stored.state, stored.amount, stored.reply, stored.confirmed_at) == (
                "pending", None, None, None)
            assert [e.kind for e in stack.store.events(stored.id)] == ["post received"]
            assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]  # no action 3

        monkeypatch.setattr(notify, "notification_body", body)
        if outcome == "cancel":
            assert stack.post(paid).state == "cancelled"  # KSPay's post again
        else:
            payments = Payments(stack.store, Catalog(stack.sites), None, 2.0)
            [(_, after)] = payments.reconcile(grace=0)
            assert (after.state, after.confirmed_at is not None) == ("approved", True)
        stored = stack.store.find(paid.order_number)
        [row] = stack.store.outbox_rows()
        assert (row["payment_id"], row["state"], row["attempts"]) == (stored.id, stored.state, 0)
        assert json.loads(row["body"])["state"] == stored.state
        kinds = [e.kind for e in stack.store.events(stored.id)]
        assert kinds == (["post received", "notify queued"] if outcome == "cancel" else
                         ["post received", "action 1 reply", "notify queued", "action 3 sent"])


def test_notices_survive_a_restart(tmp_path: Path, db_url: str) -> None:
    receiver = Receiver()
    with serve(receiver) as hook_base:
        hook = hook_base + "/hook"
        # A service stops before its notifier sent the notice (notify_on=False: never).
        with notify_stack(tmp_path / "first", db_url, hook, notify_on=False) as stack:
            paid = stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "0"})
            assert stack.post(paid).state == "approved"
            box, sandbox_base = stack.sandbox, stack.sandbox_base
        assert receiver.received() == []

        # The next one, two gunicorn workers each with a notifier, sends it once.
        sites = tmp_path / "sites"
        write_merchant(sites, merchant_with(hook))
        env = dict(os.environ, **{notify.SECRET_ENV: SECRET.decode()})
        with serve(sandbox.Sandbox()) as other_sandbox:
            command = serve_command(sites, db_url, sandbox.recv_post_url(other_sandbox), 2)
            with running(command, cwd=tmp_path, env=env, workers=2) as server:
                wait_until(lambda: len(receiver.received()) == 1, what="the notice")
                time.sleep(3 * notify.POLL)  # both workers' notifiers have looked again
                assert server.stop() == 0, server.log()
        [notice] = receiver.received()
        assert notify.verify(SECRET, notice.body, notice.signature)
        assert (notice.data["order_number"], notice.data["state"], notice.data["amount"]) == (
            paid.order_number, "approved", 55000)

    store = PaymentStore(db_url)
    try:
        [row] = store.outbox_rows()
        assert (row["attempts"], row["last_error"]) == (1, "")
        assert row["delivered_at"] is not None
        stored = store.find(paid.order_number)
        assert notify_events(store, stored.id) == [("notify queued", hook),
                                                   ("notify delivered", hook)]
        assert box.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]
    finally:
        store.engine.dispose()


def test_reconcile_delivers_due_notices_and_says_when_it_has_no_key(tmp_path: Path,
                                                                     db_url: str) -> None:
    receiver = Receiver()
    with serve(receiver) as hook_base, \
            notify_stack(tmp_path, db_url, hook_base + "/hook", notify_on=False) as stack:
        assert stack.post(stack.pay()).state == "approved"
        command = [str(BIN / "kspay-pages"), "payments", "reconcile", "--db", db_url,
                   "--sites", str(stack.sites), "--grace", "0"]
        env = {k: v for k, v in os.environ.items() if k != notify.SECRET_ENV}
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, timeout=60)
        assert done.returncode == 0
        assert done.stdout.decode().splitlines() == [
            "reconciled 0 payment(s), 0 finished, 0 still unfinished; "
            "notices: 0 delivered, 0 failed"]
        assert done.stderr.decode().splitlines() == [
            "kspay-pages payments: 1 notice(s) not sent: no signing key "
            "(set KSPAY_NOTIFY_SECRET or --notify-secret-file)"]
        assert stack.store.outbox_rows()[0]["attempts"] == 0

        empty = tmp_path / "empty.key"
        empty.write_bytes(b"\n")
        done = subprocess.run(command + ["--notify-secret-file", str(empty)], cwd=tmp_path,
                              env=env, capture_output=True, timeout=60)
        assert (done.returncode, done.stdout) == (2, b"")
        assert done.stderr.decode().splitlines() == [
            f"kspay-pages payments: {empty}: the notify secret file is empty"]

        key = tmp_path / "notify.key"
        key.write_bytes(SECRET + b"\n")
        done = subprocess.run(command + ["--notify-secret-file", str(key)], cwd=tmp_path,
                              env=env, capture_output=True, timeout=60)
        assert done.returncode == 0 and done.stderr == b""
        assert done.stdout.decode().splitlines()[-1].endswith("notices: 1 delivered, 0 failed")
        [notice] = receiver.received()
        assert notify.verify(SECRET, notice.body, notice.signature)


def test_verify_is_false_never_an_error_for_any_header() -> None:
    body = '{"state": "approved"}'
    now = int(time.time())
    good = notify.sign(SECRET, body, now)
    assert notify.verify(SECRET, body, good)
    assert notify.verify(SECRET, body.encode(), good)
    for header in ("", "t=", "v1=abc", f"t={now}", f"t={now},v1=", f"t={now},v1=é",
                   f"t=١٢٣,v1={'0' * 64}", good + ",v1=extra", good.upper(), "\udcff=1",
                   notify.sign(SECRET, body, now - 301)):
        assert notify.verify(SECRET, body, header) is False, header
    assert notify.verify(SECRET, b"\xff\xfe", good) is False
