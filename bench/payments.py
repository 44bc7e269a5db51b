"""Payments benchmark: N complete payments through `kspay-pages payments serve` (gunicorn).

    python bench/payments.py                                  # SQLite; PostgreSQL skipped
    python bench/payments.py --postgres postgresql://user:pw@127.0.0.1:5432/db
    python bench/payments.py --payments 5000 --clients 16 --workers 2 --threads 8

One payment is what KSPay's window causes once the customer has paid: the result post
(reCommConId, reCommType, reHash, reCnclType, ECH* in EUC-KR, to sndReply with site,
product and ordno on its query) to the service, which stores it, calls recv_post's
action 1 with the merchant's own store id and amount, checks and stores the reply, then
calls action 3. `--clients` posts are in flight at any time (a closed loop: a client
posts its next payment when its last page has arrived), each on a new connection, as
each payment is a different customer's browser. The latency is the client's: connect,
send, and read the whole result page. payments/s is the timed payments over the wall
time from the first post to the last page.

recv_post is the sandbox's (`generator.devserver.sandbox.Sandbox`, unchanged: the
EUC-KR result line, a refusal for a wrong sndAmount or store id, checked on a probe
transaction before each run), in its own process under gunicorn (one gthread worker, so
that the transactions live in one place). Two bench-only paths sit beside it:
/__bench/prepare settles the transactions before the clock starts (as the window's
Confirm button does), /__bench/calls reports what recv_post received.

Each run starts from an empty store (a temporary SQLite file; in PostgreSQL a schema of
the bench's own, `--postgres-schema`, made for the run and dropped after it, so that
tests emptying the kspay_* tables of the same database neither disturb it nor are
disturbed) and is checked afterwards: every payment (warm-up ones too) stored approved
with the expected amount and confirmed, exactly one "action 1 reply" and one "action 3
sent" event each, and exactly one action 1 and one action 3 received by recv_post for
its reCommConId.

Everything runs on this machine, so the service shares its cores with recv_post, the
clients and PostgreSQL. The CPU columns say who used them during the timed payments, in
milliseconds per payment: the service (gunicorn master and workers), recv_post, the
bench's client threads, PostgreSQL (the service's backends, by application_name, and the
server's background processes; a backend that exits during the run is counted in
"other"), and "other": everything else the machine did (another job on it skews the
figures: compare the calibration loop with bench/run.py's). busy is the machine's share
of busy CPU time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from generator import kspay  # noqa: E402
from generator.devserver import sandbox  # noqa: E402

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
SITE, STORE_ID, PREFIX = "shop", "2999199999", "TEST"
PRODUCTS = (("carrot-10kg", "당근10kg", 1003), ("gift-set", "한라봉 선물세트", 55000))
PREPARE_PATH, CALLS_PATH = "/__bench/prepare", "/__bench/calls"
RECV_POST_PATH = sandbox.recv_post_path("v1.4")
RECV_POST_PATHS = {sandbox.recv_post_path(window) for window in kspay.WINDOWS}
APPLICATION_NAME = "kspay-bench"
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


# --- recv_post: the sandbox in its own process ------------------------------------------

class BenchRecvPost:
    """The sandbox's WSGI app, plus the bench's two paths and a count of every call."""

    def __init__(self) -> None:
        self.sandbox = sandbox.Sandbox()
        self.lock = threading.Lock()
        self.actions: Counter[str] = Counter()
        self.peers: set[str] = set()  # client ports seen: connections, with keep-alive

    def __call__(self, environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == PREPARE_PATH:  # a JSON list of form posts -> their reCommConIds
            forms = json.loads(_body(environ))
            ids = [self.sandbox.decide(sandbox.Transaction(fields, euc_kr=False), "isp",
                                       {"isp_issuer": "01", "halbu": "0"}) for fields in forms]
            return _json(start_response, ids)
        if path == CALLS_PATH:  # reCommConIds -> what recv_post received for each
            ids = json.loads(_body(environ))
            with self.lock:
                actions, connections = dict(self.actions), len(self.peers)
            return _json(start_response, {"actions": actions, "connections": connections,
                                          "calls": {i: self.sandbox.calls(i) for i in ids}})
        if path in RECV_POST_PATHS:  # recv_post itself: counted, then the sandbox answers
            body = _body(environ)
            fields = dict(p.split("=", 1) for p in body.decode("ascii", "replace").split("&")
                          if "=" in p)
            with self.lock:
                self.actions[fields.get("sndActionType", "?")] += 1
                self.peers.add(environ.get("REMOTE_PORT", ""))
            environ["wsgi.input"] = _Replay(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.sandbox(environ, start_response)


class _Replay:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        out, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return out


def _body(environ: dict) -> bytes:
    return environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))


def _json(start_response: Any, value: Any) -> list[bytes]:
    data = json.dumps(value).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(data)))])
    return [data]


def serve_recv_post(threads: int) -> None:
    """The recv_post process: gunicorn, one gthread worker, any free port."""
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": "127.0.0.1:0", "workers": 1, "worker_class": "gthread",
                               "threads": threads, "errorlog": "-", "accesslog": None,
                               "backlog": 2048, "proc_name": "bench-recv-post"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return BenchRecvPost()

    App().run()


# --- processes ---------------------------------------------------------------------------

@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful stop
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(command: list[str], log: Path, what: str) -> Server:
    """A gunicorn command, its output to `log`; its port from gunicorn's 'Listening at'."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text("utf-8", "replace"))
        if found:
            return Server(process, int(found.group(1)), log)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{what} did not start:\n{log.read_text('utf-8', 'replace')[-3000:]}")


def request(port: int, method: str, path: str, body: bytes | None = None,
            content_type: str = "application/json", timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(server.port, "GET", "/kspay/health", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if server.process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"the service is not healthy:\n{server.log.read_text('utf-8', 'replace')[-3000:]}")


# --- CPU accounting ------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, user+system CPU seconds), for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        rest = text[text.rindex(")") + 2:].split()
        table[int(entry)] = (int(rest[1]), name, (int(rest[11]) + int(rest[12])) / _TICK)
    return table


def _machine() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK, sum(values[:8]) / _TICK


def cpu_snapshot() -> dict[str, Any]:
    """CPU seconds so far of every process, of the bench itself (its client threads) and
    of the machine."""
    times = os.times()
    return {"table": _proc_table(), "client": times.user + times.system, "machine": _machine()}


def descendants(table: dict[int, tuple[int, str, float]], root: int) -> set[int]:
    members, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, (pp, _, _) in table.items() if pp == parent]
        members.update(kids)
        frontier += kids
    return members


def cpu_used(before: dict[str, Any], after: dict[str, Any],
             groups: dict[str, set[int]]) -> dict[str, float]:
    """CPU seconds between the snapshots of each group of processes, of the bench, of
    everything else on the machine ("other"), and the machine's busy share."""
    old, new = before["table"], after["table"]
    used = {label: sum(new[p][2] - (old[p][2] if p in old else 0.0) for p in pids if p in new)
            for label, pids in groups.items()}
    used["client"] = after["client"] - before["client"]
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    used["other"] = max(0.0, busy - sum(used.values()))
    used["machine_busy"] = busy / total if total else 0.0
    return used


def postgres_pids(db_url: str) -> set[int]:
    """The server processes working for the bench: its service's backends (marked by
    application_name) and PostgreSQL's own background processes; other sessions'
    backends (tests sharing the database) are left out."""
    from sqlalchemy import create_engine

    from generator.payments.store import engine_url

    engine = create_engine(engine_url(db_url))
    try:
        with engine.connect() as conn:
            return {pid for (pid,) in conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "OR backend_type <> 'client backend'", (APPLICATION_NAME,))}
    finally:
        engine.dispose()


def machine_busy(seconds: float = 2.0) -> float:
    """The machine's busy share over a short wait: other work skews the figures."""
    busy, total = _machine()
    time.sleep(seconds)
    busy2, total2 = _machine()
    return (busy2 - busy) / (total2 - total) if total2 > total else 0.0


# --- the payments ---------------------------------------------------------------------------

@dataclass
class Prepared:
    order_number: str
    product: str
    amount: int
    conn_id: str
    path: str  # sndReply's path and query: /kspay/result?site=..&product=..&ordno=..
    body: bytes  # what KSPay posts, EUC-KR form-encoded


def prepare(recv_post: Server, count: int, run_tag: str) -> list[Prepared]:
    """`count` transactions settled in the sandbox (approved by ISP), and their posts."""
    stamp = time.strftime("%Y%m%d%H%M%S")
    forms, rows = [], []
    for i in range(count):
        product, name, amount = PRODUCTS[i % len(PRODUCTS)]
        order = f"{PREFIX}{stamp}{run_tag}{i:05d}"  # prefix, date-time, 6 digits
        reply = kspay.reply_with_order(kspay.reply_for_product(
            "http://127.0.0.1/kspay/result", SITE, product), order)
        forms.append({"sndStoreid": STORE_ID, "sndOrdernumber": order, "sndGoodname": name,
                      "sndAmount": str(amount), "sndInstallmenttype": "0",
                      "sndPaymethod": "1100010000", "sndReply": reply, "ECHA": "지점-01"})
        rows.append((order, product, amount, reply.split("127.0.0.1", 1)[1]))
    status, data = request(recv_post.port, "POST", PREPARE_PATH, json.dumps(forms).encode())
    if status != 200:
        raise SystemExit(f"recv_post did not prepare the transactions: HTTP {status}")
    out = []
    for (order, product, amount, path), conn_id, fields in zip(rows, json.loads(data), forms):
        posted = sandbox.Sandbox.posted_back(conn_id, fields, False)
        out.append(Prepared(order, product, amount, conn_id, path,
                            urlencode(posted, encoding="cp949").encode("ascii")))
    return out


def probe_recv_post(recv_post: Server) -> None:
    """recv_post refuses an action 1 whose sndAmount is not the window's (as KSNET does),
    and answers the EUC-KR line: checked on one transaction outside the timed ones."""
    from generator.payments import recv_post as client

    [probe] = prepare(recv_post, 1, "9")
    url = f"http://127.0.0.1:{recv_post.port}{RECV_POST_PATH}"
    wrong, raw = client.complete(url, probe.conn_id, STORE_ID, probe.amount + 1)
    right, _ = client.complete(url, probe.conn_id, STORE_ID, probe.amount)
    if wrong.approved or wrong.raw.get("authno") != "AMT1" or not right.approved \
            or right.amount != probe.amount or right.order_number != probe.order_number:
        raise SystemExit(f"recv_post does not answer as the sandbox does: {raw!r}")


def post_all(port: int, payments: list[Prepared], clients: int) -> tuple[float, list[float]]:
    """Every result post, `clients` at a time; wall seconds and each post's latency."""
    latencies: list[float] = [0.0] * len(payments)
    failures: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(len(payments)))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    approved = b'data-status="approved"'

    def client() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None or failures:
                return
            payment = payments[i]
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", payment.path, payment.body, headers)
                response = conn.getresponse()
                page = response.read()
                conn.close()
            except OSError as exc:
                failures.append(f"{payment.order_number}: {exc}")
                return
            latencies[i] = time.perf_counter() - began
            if response.status != 200 or approved not in page:
                failures.append(f"{payment.order_number}: HTTP {response.status}: "
                                f"{page[:300].decode('utf-8', 'replace')}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} result post(s) failed, e.g. {failures[0]}")
    return wall, latencies


def verify(db_url: str, recv_post: Server, payments: list[Prepared], probes: int) -> int:
    """Each payment stored approved and confirmed exactly once; recv_post called exactly
    once with action 1 and once with action 3 for each. The number of connections the
    calls came on (client ports seen)."""
    from sqlalchemy import func, select

    from generator.payments.store import (
        ACTION1_REPLY,
        ACTION3_SENT,
        APPROVED,
        PaymentStore,
        events,
    )

    store = PaymentStore(db_url)
    try:
        rows = {p.order_number: p for p in store.payments()}
        with store.engine.connect() as conn:
            kinds = Counter({(pid, kind): n for pid, kind, n in conn.execute(
                select(events.c.payment_id, events.c.kind, func.count())
                .group_by(events.c.payment_id, events.c.kind))})
    finally:
        store.engine.dispose()
    problems = []
    if len(rows) != len(payments):
        problems.append(f"{len(rows)} payment rows stored, {len(payments)} posted")
    per_kind = Counter()
    for (_, kind), n in kinds.items():
        per_kind[kind] += n
    for p in payments:
        row = rows.get(p.order_number)
        if row is None:
            problems.append(f"{p.order_number}: not stored")
            continue
        if (row.state, row.amount, row.expected_amount, row.conn_id) != \
                (APPROVED, p.amount, p.amount, p.conn_id) or row.confirmed_at is None:
            problems.append(f"{p.order_number}: {row.state}, amount {row.amount}, "
                            f"confirmed {row.confirmed_at}")
        if kinds[(row.id, ACTION1_REPLY)] != 1 or kinds[(row.id, ACTION3_SENT)] != 1:
            problems.append(f"{p.order_number}: {kinds[(row.id, ACTION1_REPLY)]} action 1 "
                            f"replies, {kinds[(row.id, ACTION3_SENT)]} action 3 stored")
    expected_kinds = {"post received": len(payments), ACTION1_REPLY: len(payments),
                      ACTION3_SENT: len(payments)}
    if dict(per_kind) != expected_kinds:
        problems.append(f"events {dict(per_kind)}, expected {expected_kinds}")
    status, data = request(recv_post.port, "POST", CALLS_PATH,
                           json.dumps([p.conn_id for p in payments]).encode())
    seen = json.loads(data)
    for p in payments:
        calls = [tuple(c) for c in seen["calls"][p.conn_id]]
        if calls != [(kspay.ACTION_COMPLETE, str(p.amount)), (kspay.ACTION_CONFIRM, str(p.amount))]:
            problems.append(f"{p.order_number}: recv_post received {calls}")
    want = {kspay.ACTION_COMPLETE: len(payments) + 2 * probes, kspay.ACTION_CONFIRM: len(payments)}
    if seen["actions"] != want:
        problems.append(f"recv_post received {seen['actions']} in all, expected {want}")
    if problems:
        raise SystemExit(f"verification failed ({len(problems)} problem(s)):\n  " +
                         "\n  ".join(problems[:20]))
    return seen["connections"]


# --- one run ---------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of them do not exceed."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(share * len(ordered)))) - 1]


def run(label: str, db_url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    sites = work / "sites"
    sites.mkdir(exist_ok=True)
    (sites / f"{SITE}.yaml").write_text(MERCHANT, encoding="utf-8")
    recv_post = start([sys.executable, str(Path(__file__).resolve()), "_recv_post",
                       str(args.recv_post_threads)], work / f"recv_post-{label}.log",
                      "recv_post")
    service = None
    try:
        recv_post_url = f"http://127.0.0.1:{recv_post.port}{RECV_POST_PATH}"
        command = [str(kspay_pages()), "payments", "serve", "--sites", str(sites),
                   "--db", db_url, "--host", "127.0.0.1", "--port", "0",
                   "--recv-post", recv_post_url, "--pages-url", "http://127.0.0.1/pages/",
                   "--workers", str(args.workers), "--threads", str(args.threads)]
        service = start(command, work / f"service-{label}.log", "the payments service")
        wait_healthy(service)
        probe_recv_post(recv_post)
        warm = prepare(recv_post, args.warmup, "8") if args.warmup else []
        timed = prepare(recv_post, args.payments, "0")
        if warm:  # every worker's first result page loads the theme and the merchant file
            post_all(service.port, warm, args.clients)
        before = cpu_snapshot()
        wall, latencies = post_all(service.port, timed, args.clients)
        after = cpu_snapshot()
        groups = {"service": descendants(after["table"], service.process.pid),
                  "recv_post": descendants(after["table"], recv_post.process.pid),
                  "postgres": postgres_pids(db_url) if label == "postgresql" else set()}
        cpu = cpu_used(before, after, groups)
        connections = verify(db_url, recv_post, warm + timed, probes=1)
    finally:
        if service is not None:
            service.stop()
        recv_post.stop()
    n = args.payments
    return {"store": label, "payments": n, "rate": n / wall, "wall": wall,
            "p50": percentile(latencies, 0.50) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "max": max(latencies) * 1000, "mean": statistics.fmean(latencies) * 1000,
            "calls": 2 * (n + args.warmup) + 2, "connections": connections,
            "cpu": {k: (v if k == "machine_busy" else v * 1000 / n) for k, v in cpu.items()}}


def kspay_pages() -> Path:
    script = Path(sys.executable).parent / "kspay-pages"
    if not script.exists():
        found = shutil.which("kspay-pages")
        if found is None:
            raise SystemExit("kspay-pages is not installed (make test installs it into .venv)")
        script = Path(found)
    return script


def in_schema(url: str, schema: str) -> str:
    """The URL with PostgreSQL's search_path set to `schema`, the bench's tables apart
    from any others in that database (tests that drop kspay_* tables as they start),
    and the bench's application_name on its connections."""
    return (f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
            f"&application_name={APPLICATION_NAME}")


def empty_postgres(url: str, schema: str, drop: bool = False) -> None:
    """The bench's own schema, empty; or gone when `drop`."""
    from sqlalchemy import create_engine

    from generator.payments.store import engine_url

    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(engine_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            if not drop:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except SQLAlchemyError as exc:
        raise SystemExit(f"--postgres: cannot make schema {schema}: "
                         f"{getattr(exc, 'orig', None) or exc}") from None
    finally:
        engine.dispose()


def calibration() -> float:
    """The same fixed pure-Python loop as bench/run.py's: this machine's speed varies."""
    loop = "import time; t = time.perf_counter(); s = 0\nfor i in range(10_000_000): s += i\n" \
           "print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", loop], capture_output=True, text=True,
                                check=True).stdout)


def main() -> None:
    if sys.argv[1:2] == ["_recv_post"]:
        serve_recv_post(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=2000, help="timed payments per store")
    parser.add_argument("--clients", type=int, default=16, help="concurrent result posts")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="the service's gunicorn workers (serve's default: one per core)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per worker (serve's default 8)")
    parser.add_argument("--recv-post-threads", type=int, default=32,
                        help="threads of the recv_post process")
    parser.add_argument("--warmup", type=int, default=64,
                        help="untimed payments first (checked with the timed ones)")
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="a PostgreSQL database (the role must be allowed to create a schema)")
    parser.add_argument("--postgres-schema", default="kspay_bench",
                        help="the schema the bench makes there and drops afterwards")
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "postgresql"),
                        default=["sqlite", "postgresql"], help="which stores to run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    if not 1 <= args.payments <= 99_999:
        parser.error("--payments: 1 to 99999 (the order numbers' serial has 5 digits)")

    work = Path(tempfile.mkdtemp(prefix="kspay-bench-payments-"))
    keep = args.keep
    reports: list[dict[str, Any]] = []
    try:
        speed = calibration()
        idle = 1 - machine_busy()
        print(_header(), flush=True)
        if "sqlite" in args.stores:
            result = run("sqlite", f"sqlite:///{work / 'payments.sqlite3'}", args, work)
            print(_row(result, args), flush=True)
            reports.append(result)
        if "postgresql" in args.stores and args.postgres:
            empty_postgres(args.postgres, args.postgres_schema)
            try:
                result = run("postgresql", in_schema(args.postgres, args.postgres_schema),
                             args, work)
            finally:
                empty_postgres(args.postgres, args.postgres_schema, drop=True)
            print(_row(result, args), flush=True)
            reports.append(result)
        elif "postgresql" in args.stores:
            print("postgresql: skipped (give --postgres postgresql://...)", flush=True)
        print(f"every payment stored approved and confirmed once; recv_post called once with "
              f"action 1 and once with action 3 for each")
        for r in reports:
            print(f"{r['store']}: recv_post's {r['calls']:,} calls came from "
                  f"{r['connections']:,} client ports (one a connection; ports are reused "
                  f"over thousands of connections)")
        print(f"calibration: a 10,000,000-step Python loop took {speed:.2f} s before and "
              f"{calibration():.2f} s after; the machine was {idle:.0%} idle before the runs "
              f"(\"other\": CPU of everything else during a run)")
    except BaseException:
        keep = True  # the servers' logs say why
        raise
    finally:
        if keep:
            print(f"logs and store in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _row(r: dict[str, Any], args: argparse.Namespace) -> str:
    cpu = r["cpu"]
    return (f"{r['store']:<10} {r['payments']:>8,} {args.clients:>7} {args.workers:>7} "
            f"{args.threads:>7} {r['rate']:>10.0f} {r['p50']:>7.1f} {r['p99']:>7.1f} "
            f"{r['max']:>7.1f}   {cpu['service']:>7.2f} {cpu['recv_post']:>9.2f} "
            f"{cpu['client']:>6.2f} {cpu['postgres']:>8.2f} {cpu['other']:>6.2f}   "
            f"{cpu['machine_busy']:>5.0%}")


def _header() -> str:
    return (f"{'':<10} {'':>8} {'':>7} {'':>7} {'':>7} {'':>10} {'':>7} {'':>7} {'':>7}   "
            f"{'CPU ms per payment':-^42}\n"
            f"{'store':<10} {'payments':>8} {'clients':>7} {'workers':>7} {'threads':>7} "
            f"{'payments/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}   {'service':>7} "
            f"{'recv_post':>9} {'client':>6} {'postgres':>8} {'other':>6}   {'busy':>5}")


if __name__ == "__main__":
    main()
