"""`kspay-pages payments serve | reconcile | list | export` as separate processes: gunicorn
really serving (its master and workers), killed with SIGKILL mid-payment, then
`reconcile` finishing the payment; the store's table, CSV and JSON; clean errors.

The sandbox's recv_post runs in this process, so `Sandbox.calls` shows what KSNET was
asked by every process. Tests of a store run on SQLite and on PostgreSQL (`db_url`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import update

from generator.devserver import sandbox
from generator.payments import recv_post
from generator.payments.commands import EXPORT_FIELDS, export_row
from generator.payments.store import PaymentStore, payments
from payments_support import (
    BIN,
    STORE_ID,
    Server,
    http,
    payment_stack,
    remote_stack,
    running,
    serve,
    serve_command,
    write_merchant,
)

KSPAY_PAGES = str(BIN / "kspay-pages")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([KSPAY_PAGES, *args], cwd=cwd, capture_output=True, timeout=120)


def lines(output: bytes) -> list[str]:
    return output.decode("utf-8").splitlines()


def wait_until(check, timeout: float = 20, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)


def refused(port: int) -> bool:
    """Nothing listens on the port any more (every process holding the socket is gone)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def in_background(call):  # type: ignore[no-untyped-def]
    """Run `call` in a thread: (thread, what it returned or raised)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["response"] = call()
        except Exception as exc:  # noqa: BLE001 - a killed server resets the connection
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# --- serve: gunicorn ----------------------------------------------------------------------


def test_serve_runs_gunicorn_with_two_workers_and_stores_the_payment(tmp_path: Path, db_url: str) -> None:
    sites = tmp_path / "sites"
    write_merchant(sites)
    box = sandbox.Sandbox()
    with serve(box) as sandbox_base:
        recv_url = sandbox.recv_post_url(sandbox_base)
        server = Server(serve_command(sites, db_url, recv_url, 2), cwd=tmp_path)
        try:
            server.started(workers=2)
            assert server.port > 0
            assert len(server.wait_for(re.compile(r"Booting worker with pid: (\d+)"), 2)) == 2
            assert server.wait_for(re.compile(r"Using worker: gthread"))
            started = server.wait_for(re.compile(r"^kspay-pages payments: .*"))[0].group(0)
            shown = re.sub(r"(//[^:/@]+):[^@]+@", r"\1:***@", db_url)  # the password masked
            assert started == (f"kspay-pages payments: {shown}, result posts at /kspay/result, "
                               f"recv_post {recv_url}")
            stack = remote_stack(sites, db_url, box, sandbox_base, server.base)
            paid = stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "3"})
            response = stack.post(paid)
            assert (response.status, response.state) == (200, "approved")
            assert response.shown()["amount"] == "55,000원"
            assert stack.post(paid).state == "approved"  # a repeated post: the stored row
        finally:
            status = server.stop()
        assert status == 0, server.log()
        assert any("Shutting down: Master" in line for line in server.stderr), server.log()
        assert refused(server.port)
        # gunicorn's access log is on stdout: both posts, answered 200.
        posts = [line for line in server.stdout if '"POST /kspay/result?' in line]
        assert len(posts) == 2 and all('" 200 ' in line for line in posts), server.stdout

    store = PaymentStore(db_url)
    try:
        stored = store.find(paid.order_number)
        assert (stored.state, stored.amount, stored.expected_amount, stored.store_id) == (
            "approved", 55000, 55000, STORE_ID)
        assert (stored.conn_id, stored.recv_post, stored.installment_months) == (
            paid.conn_id, recv_url, 3)
        assert stored.confirmed_at is not None
        assert [e.kind for e in store.events(stored.id)] == [
            "post received", "action 1 reply", "action 3 sent", "post repeated"]
        assert box.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]
        assert store.count() == 1
    finally:
        store.engine.dispose()


def test_gunicorn_runs_create_app_as_the_readme_shows(tmp_path: Path, db_url: str) -> None:
    sites = tmp_path / "sites"
    write_merchant(sites)
    box = sandbox.Sandbox()
    with serve(box) as sandbox_base:
        recv_url = sandbox.recv_post_url(sandbox_base)
        app = f'generator.payments.service:create_app(sites="{sites}", db="{db_url}", ' \
              f'recv_post="{recv_url}")'
        command = [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "--workers", "2", app]
        with running(command, cwd=tmp_path, workers=2) as server:
            stack = remote_stack(sites, db_url, box, sandbox_base, server.base)
            paid = stack.pay()
            response = stack.post(paid)
            assert (response.status, response.state) == (200, "approved")
            assert server.stop() == 0, server.log()
    store = PaymentStore(db_url)
    try:
        stored = store.find(paid.order_number)
        assert (stored.state, stored.amount, stored.recv_post) == ("approved", 1003, recv_url)
        assert stored.confirmed_at is not None
        assert box.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]
    finally:
        store.engine.dispose()


# --- SIGKILL mid-payment, then reconcile -----------------------------------------------


@pytest.mark.parametrize("fault, before_kill, state, after_kill_events, reconciled, calls", [
    pytest.param("confirm_timeout", [("1", "1003"), ("3", "1003")], "approved",
                 ["post received", "action 1 reply"], "approved, unconfirmed -> approved, confirmed",
                 [("1", "1003"), ("3", "1003"), ("3", "1003")], id="action-3-hangs"),
    pytest.param("timeout", [("1", "1003")], "pending",
                 ["post received"], "pending -> approved, confirmed",
                 [("1", "1003"), ("1", "1003"), ("3", "1003")], id="action-1-hangs"),
])
def test_sigkill_of_gunicorn_mid_payment_then_reconcile_finishes_it(
        tmp_path: Path, db_url: str, fault: str, before_kill: list[tuple[str, str]], state: str,
        after_kill_events: list[str], reconciled: str, calls: list[tuple[str, str]]) -> None:
    sites = tmp_path / "sites"
    write_merchant(sites)
    # recv_post hangs far longer than the test waits; the service would wait 60 s.
    box = sandbox.Sandbox(fault_delay=300)
    store = PaymentStore(db_url)
    try:
        with serve(box) as sandbox_base:
            recv_url = sandbox.recv_post_url(sandbox_base)
            with running(serve_command(sites, db_url, recv_url, 2, "--timeout", "60"),
                         cwd=tmp_path, workers=2) as server:
                stack = remote_stack(sites, db_url, box, sandbox_base, server.base)
                paid = stack.pay(fault=fault)
                thread, outcome = in_background(lambda: stack.post(paid))
                wait_until(lambda: box.calls(paid.conn_id) == before_kill, what="the hung call")
                # The hung call is the one the fault made (the last one so far).
                assert box.faulted(paid.conn_id) == [(len(before_kill) - 1, fault)]
                time.sleep(0.3)  # the worker is waiting for recv_post's answer
                assert thread.is_alive() and outcome == {}
                row = store.find(paid.order_number)
                assert (row.state, row.confirmed_at) == (state, None)

                assert server.kill() == -9  # SIGKILL: master and both workers at once
                thread.join(10)
                assert not thread.is_alive()
                assert "response" not in outcome, outcome  # the browser got no page
                # The listening socket closes once its last holder, master or worker, dies.
                wait_until(lambda: refused(server.port), 5, "every process of the group to die")
                assert box.calls(paid.conn_id) == before_kill

            row = store.find(paid.order_number)
            assert (row.state, row.confirmed_at, row.recv_post) == (state, None, recv_url)
            assert [e.kind for e in store.events(row.id)] == after_kill_events

            # Rows keep the recv_post they were made with: reconcile needs no --recv-post.
            done = cli("payments", "reconcile", "--db", db_url, "--sites", str(sites),
                       "--grace", "0", cwd=tmp_path)
            assert done.returncode == 0, done.stderr.decode()
            assert lines(done.stdout) == [
                f"{paid.order_number} (shop/carrot-10kg, 1,003 won): {reconciled}",
                "reconciled 1 payment(s), 1 finished, 0 still unfinished; "
                "notices: 0 delivered, 0 failed"]
            assert done.stderr == b""
            assert box.calls(paid.conn_id) == calls
            assert box.faulted(paid.conn_id) == [(len(before_kill) - 1, fault)]

        row = store.find(paid.order_number)
        assert (row.state, row.amount) == ("approved", 1003)
        assert row.confirmed_at is not None
        kinds = [e.kind for e in store.events(row.id)]
        assert kinds == after_kill_events + (["action 1 reply"] if state == "pending" else []) + [
            "action 3 sent"]

        # Nothing is left: a second reconcile finds nothing and calls no recv_post.
        again = cli("payments", "reconcile", "--db", db_url, "--sites", str(sites),
                    "--grace", "0", cwd=tmp_path)
        assert (again.returncode, lines(again.stdout)) == (0, [
            "reconciled 0 payment(s), 0 finished, 0 still unfinished; "
            "notices: 0 delivered, 0 failed"])
        assert box.calls(paid.conn_id) == calls
    finally:
        store.engine.dispose()


def test_the_sandbox_window_offers_the_faults_and_confirm_timeout_hangs_action_3_once() -> None:
    fields = {"sndStoreid": STORE_ID, "sndOrdernumber": "TEST20260301100000000001",
              "sndGoodname": "당근10kg", "sndAmount": "1003", "sndInstallmenttype": "0",
              "sndPaymethod": "1000000000", "sndReply": "http://127.0.0.1/kspay/result",
              "sndCurrencytype": "WON", "sndInteresttype": "NONE", "sndOrdername": "김토끼",
              "sndStoreName": "케이에스페이(주)", "sndRtApp": "", "sndGoodType": "1",
              "sndCharSet": "utf-8"}
    box = sandbox.Sandbox(fault_delay=1.0)
    with serve(box) as base:
        window = http(base + sandbox.WINDOW_PATH, urlencode(fields).encode(),
                      "application/x-www-form-urlencoded")
        assert window.status == 200, window.body.decode()
        page = BeautifulSoup(window.body.decode("utf-8"), "html.parser")
        offered = {i["value"]: page.find("label", attrs={"for": i["id"]}).get_text()
                   for i in page.find_all("input", attrs={"name": "fault"})}
        assert offered == sandbox.FAULTS
        assert offered["confirm_timeout"] == "결과 확인 통보(action 3) 응답 지연 (시간 초과, 한 번)"
        session = page.find("input", attrs={"name": "session"})["value"]
        returned = http(base + sandbox.DECIDE_PATH, urlencode({
            "session": session, "outcome": "isp", "isp_issuer": "01", "halbu": "0",
            "fault": "confirm_timeout"}).encode(), "application/x-www-form-urlencoded")
        assert returned.status == 200
        form = BeautifulSoup(returned.body.decode("utf-8"), "html.parser")
        conn_id = form.find("input", attrs={"name": "reCommConId"})["value"]

        url = sandbox.recv_post_url(base)
        began = time.monotonic()
        result, _ = recv_post.complete(url, conn_id, STORE_ID, 1003, timeout=5)
        assert result.approved and time.monotonic() - began < 0.9  # action 1 is not delayed
        with pytest.raises(recv_post.RecvPostError, match="did not answer within 0.3 s"):
            recv_post.confirm(url, conn_id, STORE_ID, 1003, timeout=0.3)
        began = time.monotonic()
        assert recv_post.confirm(url, conn_id, STORE_ID, 1003, timeout=5) == sandbox.CONFIRM_REPLY
        assert time.monotonic() - began < 0.9  # once only
        assert box.calls(conn_id) == [("1", "1003"), ("3", "1003"), ("3", "1003")]
        assert box.faulted(conn_id) == [(1, "confirm_timeout")]
        with pytest.raises(ValueError, match="fault 'slow'"):
            box.decide(sandbox.Transaction(fields, euc_kr=False), "isp", fault="slow")


def test_reconcile_leaves_a_payment_in_its_grace_period(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url, timeout=0.5, fault_delay=1.5) as stack:
        paid = stack.pay(fault="timeout")
        assert stack.post(paid).state == "pending"
        done = cli("payments", "reconcile", "--db", db_url, "--sites", str(stack.sites),
                   cwd=tmp_path)  # the default grace: 30 s
        assert (done.returncode, lines(done.stdout)) == (0, [
            "reconciled 0 payment(s), 0 finished, 0 still unfinished; "
            "notices: 0 delivered, 0 failed"])
        assert stack.store.find(paid.order_number).state == "pending"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]


def test_reconcile_refuses_a_missing_sites_folder(tmp_path: Path, db_url: str) -> None:
    store = PaymentStore(db_url)
    store.ensure_schema()
    store.engine.dispose()
    done = cli("payments", "reconcile", "--db", db_url, "--sites", str(tmp_path / "nope"),
               cwd=tmp_path)
    assert done.returncode == 2
    assert lines(done.stderr) == [
        f"kspay-pages payments: {tmp_path / 'nope'}: no such folder of merchant files (--sites)"]


# --- list and export -------------------------------------------------------------------

ORDERS = {"approved": "TEST20260301095959000001", "refused": "TEST20260302101500000002",
          "cancelled": "TEST20260302235959000003", "issued": "TEST20260303000000000004"}
CREATED = {"approved": "2026-03-01T09:59:59.123+09:00", "refused": "2026-03-02T10:15:00.000+09:00",
           "cancelled": "2026-03-02T23:59:59.999+09:00", "issued": "2026-03-03T00:00:00.000+09:00"}


def _seed(tmp_path: Path, db_url: str) -> None:
    """Four payments through the service, one per final state, on known days (KST)."""
    with payment_stack(tmp_path, db_url) as stack:
        for state, (product, outcome, choice) in {
            "approved": ("gift-set", "isp", {"isp_issuer": "01", "halbu": "3"}),
            "refused": ("carrot-10kg", "refuse", {"refusal_code": "7001",
                                                  "refusal_message": "한도 초과"}),
            "cancelled": ("carrot-10kg", "cancel", {}),
            "issued": ("carrot-10kg", "virtual_account", {"bank": "04"}),
        }.items():
            paid = stack.pay(product, outcome, choice, order=ORDERS[state])
            assert stack.post(paid).state == state
        with stack.store.engine.begin() as conn:
            for state, order in ORDERS.items():
                conn.execute(update(payments).where(payments.c.order_number == order)
                             .values(created_at=CREATED[state]))


def _stored(db_url: str) -> dict[str, object]:
    store = PaymentStore(db_url)
    try:
        return {p.state: p for p in store.payments()}
    finally:
        store.engine.dispose()


def test_list_prints_a_table_and_filters_by_state_and_day(tmp_path: Path, db_url: str) -> None:
    _seed(tmp_path, db_url)
    rows = _stored(db_url)
    trno = {state: p.transaction_number for state, p in rows.items()}
    assert all(len(trno[s]) == 12 for s in ("approved", "refused", "issued"))
    header = ("created (KST)        state      order number              site/product      "
              "expected  amount  method    transaction   confirmed")
    rule = ("-------------------  ---------  ------------------------  ----------------  "
            "--------  ------  --------  ------------  ---------")
    approved = (f"2026-03-01 09:59:59  approved   {ORDERS['approved']}  shop/gift-set     "
                f"  55,000  55,000  신용카드  {trno['approved']}  yes")
    refused = (f"2026-03-02 10:15:00  refused    {ORDERS['refused']}  shop/carrot-10kg  "
               f"   1,003   1,003  신용카드  {trno['refused']}  yes")
    cancelled = f"2026-03-02 23:59:59  cancelled  {ORDERS['cancelled']}  shop/carrot-10kg     1,003"
    issued = (f"2026-03-03 00:00:00  issued     {ORDERS['issued']}  shop/carrot-10kg  "
              f"   1,003   1,003  가상계좌  {trno['issued']}  yes")

    done = cli("payments", "list", "--db", db_url, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    assert lines(done.stdout) == [header, rule, approved, refused, cancelled, issued,
                                  "4 payment(s); paid 1, 55,000 won"]

    # Columns are as wide as the rows shown.
    done = cli("payments", "list", "--db", db_url, "--state", "approved", cwd=tmp_path)
    narrow = [
        "created (KST)        state     order number              site/product   expected  amount"
        "  method    transaction   confirmed",
        "-------------------  --------  ------------------------  -------------  --------  ------"
        "  --------  ------------  ---------",
        f"2026-03-01 09:59:59  approved  {ORDERS['approved']}  shop/gift-set    55,000  55,000"
        f"  신용카드  {trno['approved']}  yes",
        "1 payment(s); paid 1, 55,000 won"]
    assert (done.returncode, lines(done.stdout)) == (0, narrow)

    # --since is a day in Korean time: from its midnight on.
    done = cli("payments", "list", "--db", db_url, "--since", "2026-03-02", cwd=tmp_path)
    assert (done.returncode, lines(done.stdout)) == (0, [
        header, rule, refused, cancelled, issued, "3 payment(s); paid 0, 0 won"])
    done = cli("payments", "list", "--db", db_url, "--since", "2026-03-03", "--state", "issued",
               cwd=tmp_path)
    assert lines(done.stdout)[2:] == [issued.replace("issued     ", "issued  "),
                                      "1 payment(s); paid 0, 0 won"]
    done = cli("payments", "list", "--db", db_url, "--since", "2026-03-04", cwd=tmp_path)
    assert lines(done.stdout) == [
        "created (KST)  state  order number  site/product  expected  amount  method  transaction"
        "  confirmed",
        "-------------  -----  ------------  ------------  --------  ------  ------  -----------"
        "  ---------",
        "0 payment(s); paid 0, 0 won"]

    done = cli("payments", "list", "--db", db_url, "--since", "03/02/2026", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, b"")
    assert lines(done.stderr) == [
        "kspay-pages payments list: --since '03/02/2026': use YYYY-MM-DD"]
    done = cli("payments", "list", "--db", db_url, "--state", "paid", cwd=tmp_path)
    assert done.returncode == 2 and b"invalid choice: 'paid'" in done.stderr


def test_export_csv_opens_in_excel_with_korean_intact(tmp_path: Path, db_url: str) -> None:
    _seed(tmp_path, db_url)
    rows = _stored(db_url)
    done = cli("payments", "export", "--db", db_url, "--format", "csv", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, b"")
    data = done.stdout
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"\r\n") == 5  # the header and four payments
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == list(EXPORT_FIELDS)
    assert [dict(zip(EXPORT_FIELDS, r)) for r in table[1:]][0] == {
        "order_number": ORDERS["approved"], "state": "approved", "paid": "yes", "site": "shop",
        "product": "gift-set", "product_name": "한라봉 선물세트", "store_id": STORE_ID,
        "expected_amount": "55000", "amount": "55000", "method": "card", "method_label": "신용카드",
        "transaction_number": rows["approved"].transaction_number,
        "approval_number": rows["approved"].approval_number, "refusal_code": "",
        "message": "정상승인 BC카드", "issuer": "BC카드", "bank_code": "", "bank_name": "",
        "virtual_account": "", "installment_months": "3",
        "trade_date": rows["approved"].trade_date, "trade_time": rows["approved"].trade_time,
        "echo": '{"ECHA": "지점-01"}', "created_at": CREATED["approved"],
        "updated_at": rows["approved"].updated_at, "confirmed_at": rows["approved"].confirmed_at}
    by_state = {r[1]: dict(zip(EXPORT_FIELDS, r)) for r in table[1:]}
    assert [r[0] for r in table[1:]] == list(ORDERS.values())
    assert (by_state["refused"]["paid"], by_state["refused"]["refusal_code"],
            by_state["refused"]["message"]) == ("no", "7001", "거절 한도 초과")
    cancelled = by_state["cancelled"]
    assert (cancelled["amount"], cancelled["method"], cancelled["installment_months"],
            cancelled["confirmed_at"], cancelled["echo"]) == ("", "", "", "", '{"ECHA": "지점-01"}')
    issued = by_state["issued"]
    assert (issued["bank_code"], issued["bank_name"], issued["virtual_account"]) == (
        "04", "국민은행", rows["issued"].virtual_account)

    out = tmp_path / "payments.csv"
    done = cli("payments", "export", "--db", db_url, "--out", str(out), cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, b"")
    assert lines(done.stderr) == [f"wrote 4 payment(s) to {out}"]
    assert out.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_export_json_round_trips(tmp_path: Path, db_url: str) -> None:
    _seed(tmp_path, db_url)
    out = tmp_path / "payments.json"
    done = cli("payments", "export", "--db", db_url, "--format", "json", "--out", str(out),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "한라봉 선물세트" in text and "지점-01" in text  # not \\u escapes
    exported = json.loads(text)
    store = PaymentStore(db_url)
    try:
        assert exported == [export_row(p) for p in store.iter_payments()]
    finally:
        store.engine.dispose()
    assert [list(r) for r in exported] == [list(EXPORT_FIELDS)] * 4
    approved = exported[0]
    assert (approved["paid"], approved["amount"], approved["installment_months"],
            approved["echo"], approved["product_name"]) == (True, 55000, 3, {"ECHA": "지점-01"},
                                                            "한라봉 선물세트")
    cancelled = exported[2]
    assert (cancelled["state"], cancelled["paid"], cancelled["amount"],
            cancelled["confirmed_at"]) == ("cancelled", False, None, None)
    stdout = cli("payments", "export", "--db", db_url, "--format", "json", cwd=tmp_path)
    assert json.loads(stdout.stdout.decode("utf-8")) == exported


# --- a bad --db: one clean line, exit 2 ---------------------------------------------------

BAD_DBS = {
    "mysql://kspay:secret-pw@127.0.0.1/kspay": "--db 'mysql://kspay:***@127.0.0.1/kspay': "
                                               "use sqlite:///path or postgresql://...",
    "payments.sqlite3": "--db 'payments.sqlite3': not a database URL",
    "postgresql://kspay:secret-pw@127.0.0.1:notaport/kspay": "--db 'postgresql://kspay:***"
                                                             "@127.0.0.1:notaport/kspay': "
                                                             "not a database URL",
    "sqlite:///no/such/folder/payments.sqlite3": "sqlite:///no/such/folder/payments.sqlite3: no "
                                                 "such payment store",
    "postgresql://kspay:secret-pw@127.0.0.1:1/kspay": "postgresql://kspay:***@127.0.0.1:1/kspay: "
                                                      "cannot open the payment store: "
                                                      "OperationalError: connection failed:",
    "postgresql+psycopg2://kspay@127.0.0.1/kspay": "--db 'postgresql+psycopg2://kspay@127.0.0.1"
                                                   "/kspay': No module named 'psycopg2'",
}


# Every kind of bad URL with `list`; three of them with every command.
BAD_DB_CASES = [("list", url) for url in BAD_DBS] + [
    (command, url) for command in ("export", "reconcile", "serve") for url in (
        "mysql://kspay:secret-pw@127.0.0.1/kspay", "sqlite:///no/such/folder/payments.sqlite3",
        "postgresql://kspay:secret-pw@127.0.0.1:1/kspay")]


@pytest.mark.parametrize("command, url", BAD_DB_CASES,
                         ids=[f"{c}-{u.split(':')[0]}-{i}" for i, (c, u) in enumerate(BAD_DB_CASES)])
def test_a_bad_db_url_is_one_clean_line_and_exit_2(tmp_path: Path, command: str, url: str) -> None:
    sites = tmp_path / "sites"
    write_merchant(sites)
    options = {"list": [], "export": ["--format", "csv"], "reconcile": ["--sites", str(sites)],
               "serve": ["--sites", str(sites), "--port", "0"]}[command]
    done = cli("payments", command, "--db", url, *options, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == b""
    error = lines(done.stderr)
    expected = BAD_DBS[url]
    if command == "serve" and expected.endswith("no such payment store"):
        # serve creates the store, but not its folder
        expected = ("sqlite:///no/such/folder/payments.sqlite3: cannot open the payment store: "
                    "no/such/folder/payments.sqlite3.lock: No such file or directory")
    assert len(error) == 1 and error[0].startswith(f"kspay-pages payments: {expected}"), error
    assert "Traceback" not in done.stderr.decode()
    assert "secret-pw" not in error[0]  # a password is masked
    assert not (tmp_path / "no").exists()
