"""The payment store: one row per payment, an append-only event log, a notify outbox.

SQLAlchemy Core over SQLite (WAL, the embedded default) or PostgreSQL (several service
instances sharing one store). Every write is one transaction; every state change
appends an event in the same transaction; duplicates are refused by unique
constraints (order number, reCommConId), never by a lookup alone. The states and the
only ways between them are in `states`.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    func,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .. import kspay
from .states import (  # noqa: F401 - the store's callers read the states here too
    APPROVED,
    CANCELLED,
    CONFIRMED_STATES,
    FINAL_STATES,
    ISSUED,
    MISMATCH,
    PAID_STATES,
    PENDING,
    REFUSED,
    STATES,
)

SCHEMA_VERSION = 1
KST = timezone(timedelta(hours=9))


def _bytes(field: str) -> int:
    return kspay.FIELD_BY_NAME[field].max_bytes or 0


metadata = MetaData()

meta = Table(
    "kspay_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

payments = Table(
    "kspay_payments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(_bytes("sndOrdernumber")), nullable=False, unique=True),
    Column("conn_id", String(kspay.CONN_ID_MAX), unique=True),  # a cancel without one: NULL
    Column("site", String(100), nullable=False),
    Column("product", String(100), nullable=False),
    Column("product_name", Text, nullable=False),
    Column("store_id", String(_bytes("sndStoreid")), nullable=False),
    Column("recv_post", Text, nullable=False),  # the URL action 1 and 3 go to
    Column("expected_amount", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    # From action 1's reply (empty until then):
    Column("amount", BigInteger),
    Column("authyn", String(1), nullable=False, default=""),
    Column("method", String(32), nullable=False, default=""),
    Column("method_label", Text, nullable=False, default=""),
    Column("result_code", String(8), nullable=False, default=""),
    Column("transaction_number", String(32), nullable=False, default=""),
    Column("trade_date", String(8), nullable=False, default=""),
    Column("trade_time", String(6), nullable=False, default=""),
    Column("approval_number", String(32), nullable=False, default=""),
    Column("refusal_code", String(16), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("issuer", Text, nullable=False, default=""),
    Column("acquirer", Text, nullable=False, default=""),
    Column("bank_code", String(8), nullable=False, default=""),
    Column("bank_name", Text, nullable=False, default=""),
    Column("virtual_account", String(64), nullable=False, default=""),
    Column("installment_months", Integer),
    Column("problems", Text, nullable=False, default=""),  # why a mismatch is one
    Column("reply", LargeBinary),  # action 1's raw reply bytes, for audit
    Column("echo", Text, nullable=False, default="{}"),  # the ECH* fields posted, JSON
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("confirmed_at", String(40)),  # action 3 sent
    # When the current attempt at action 1 or 3 began (epoch seconds): `reconcile`
    # leaves a payment alone while a live request may still be completing it.
    Column("attempt_at", Float, nullable=False),
)

events = Table(
    "kspay_payment_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", Integer, ForeignKey("kspay_payments.id"), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("data", LargeBinary),
)

outbox = Table(
    "kspay_notify_outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("payment_id", Integer, ForeignKey("kspay_payments.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("claimed_at", Float, nullable=False, default=0.0),
    Column("delivered_at", String(40)),
    Column("last_error", Text, nullable=False, default=""),
    UniqueConstraint("payment_id", "state", name="kspay_outbox_once"),
)

# Event kinds, in the order a payment meets them.
POST_RECEIVED = "post received"
POST_REPEATED = "post repeated"
ACTION1_REPLY = "action 1 reply"
ACTION1_FAILED = "action 1 failed"
ACTION3_SENT = "action 3 sent"
ACTION3_FAILED = "action 3 failed"
ACTION3_WITHHELD = "action 3 withheld"
NOTIFY_QUEUED = "notify queued"
NOTIFY_DELIVERED = "notify delivered"
NOTIFY_FAILED = "notify failed"


class StoreError(Exception):
    """The store cannot be opened or used: a message for the person running the service."""


def now_text(at: float | None = None) -> str:
    """A timestamp as stored: ISO 8601 in Korean time, to the millisecond."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, KST)
    return moment.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Payment:
    """One payment as stored (a row of kspay_payments)."""

    id: int
    order_number: str
    conn_id: str | None
    site: str
    product: str
    product_name: str
    store_id: str
    recv_post: str
    expected_amount: int
    state: str
    amount: int | None
    authyn: str
    method: str
    method_label: str
    result_code: str
    transaction_number: str
    trade_date: str
    trade_time: str
    approval_number: str
    refusal_code: str
    message: str
    issuer: str
    acquirer: str
    bank_code: str
    bank_name: str
    virtual_account: str
    installment_months: int | None
    problems: str
    reply: bytes | None
    echo: str
    created_at: str
    updated_at: str
    confirmed_at: str | None
    attempt_at: float

    @property
    def paid(self) -> bool:
        return self.state in PAID_STATES

    @property
    def echo_values(self) -> dict[str, str]:
        return json.loads(self.echo)

    @property
    def needs_confirm(self) -> bool:
        return self.state in CONFIRMED_STATES and self.confirmed_at is None


@dataclass(frozen=True)
class NewPayment:
    """What the result post and the merchant's file say about a payment to be."""

    order_number: str
    conn_id: str | None
    site: str
    product: str
    product_name: str
    store_id: str
    recv_post: str
    expected_amount: int
    echo: dict[str, str]


@dataclass(frozen=True)
class Event:
    id: int
    payment_id: int
    at: str
    kind: str
    detail: str
    data: bytes | None


@dataclass(frozen=True)
class Delivery:
    id: int
    payment_id: int
    state: str
    url: str
    body: str
    attempts: int


_PAYMENT_FIELDS = tuple(f.name for f in fields(Payment))


def _payment(row: Any) -> Payment:
    values = row._mapping
    return Payment(**{name: values[name] for name in _PAYMENT_FIELDS})


def engine_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; SQLAlchemy's own default is psycopg2."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


WRITE = "kspay_write"  # execution option of the store's write transactions


def _sqlite_setup(engine: Engine) -> None:
    """WAL (readers never wait for the writer), full fsync at commit (money), and write
    transactions that take the lock at BEGIN: with a deferred BEGIN two writers can
    deadlock upgrading their locks, which no busy timeout resolves. Reads begin deferred."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class _SqliteWriters:
    """One writer at a time, in a queue: a thread lock in this process, an flock on
    `<database>.lock` across processes (the service's workers, reconcile). SQLite itself
    lets waiting writers retry with growing sleeps (its busy timeout), which gives a few
    of them waits of a second while others go first."""

    def __init__(self, url: str, database: str) -> None:
        self._url = url
        self._thread_lock = threading.Lock()
        self._path = f"{database}.lock"
        self._fd: int | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._thread_lock:
            if self._fd is None:
                try:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                except OSError as exc:
                    raise StoreError(f"{self._url}: cannot open the payment store: "
                                     f"{self._path}: {exc.strerror}") from None
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class PaymentStore:
    """All reads and writes of payments. Safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(engine_url(url))
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds
            raise StoreError(f"--db {url!r}: not a database URL ({exc})") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise StoreError(f"--db {url!r}: use sqlite:///path or postgresql://...")
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            options.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        try:
            self.engine = create_engine(parsed, **options)
        except Exception as exc:  # noqa: BLE001 - a missing driver, a bad option
            raise StoreError(f"--db {url!r}: {exc}") from None
        self._writers: Callable[[], Any] = nullcontext
        if parsed.get_backend_name() == "sqlite":
            _sqlite_setup(self.engine)
            if parsed.database and parsed.database != ":memory:":
                self._writers = _SqliteWriters(url, parsed.database)
        self._writer = self.engine.execution_options(**{WRITE: True})

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on an error."""
        with self._writers(), self._writer.begin() as conn:
            yield conn

    # --- schema -----------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the tables on first start and record the schema version; refuse a
        store written by a later release."""
        try:
            self._ensure_schema()
        except SQLAlchemyError as exc:
            raise StoreError(f"{self.url}: cannot open the payment store: "
                             f"{exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}"
                             ) from None

    def _ensure_schema(self) -> None:
        for attempt in range(3):  # two instances starting at once: one creates, both go on
            try:
                with self._write() as conn:
                    if not inspect(conn).has_table(meta.name):
                        metadata.create_all(conn)
                        conn.execute(insert(meta).values(key="schema_version",
                                                         value=str(SCHEMA_VERSION)))
                    version = conn.execute(select(meta.c.value).where(
                        meta.c.key == "schema_version")).scalar_one_or_none()
                break
            except (IntegrityError, SQLAlchemyError):
                if attempt == 2:
                    raise
                time.sleep(0.2)
        if version is None or not version.isdigit():
            raise StoreError(f"{self.url}: kspay_meta has no schema_version")
        if int(version) > SCHEMA_VERSION:
            raise StoreError(f"{self.url}: schema version {version} is newer than this "
                             f"release's {SCHEMA_VERSION}; upgrade kspay-pages")

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(meta.c.value).where(
                meta.c.key == "schema_version")).scalar_one())

    # --- writes -----------------------------------------------------------------------

    def open_payment(self, new: NewPayment, state: str, detail: str,
                     notify_url: str | None = None) -> tuple[Payment, bool]:
        """Store a payment as `state` (pending, or cancelled) with its first event.

        Returns (the payment, True) when this call made the row, or (the stored one,
        False) when the order number or reCommConId was there already: a repeated or
        concurrent post. The unique constraints decide which post is first.
        """
        stamp, now = now_text(), time.time()
        row = {"order_number": new.order_number, "conn_id": new.conn_id or None,
               "site": new.site, "product": new.product, "product_name": new.product_name,
               "store_id": new.store_id, "recv_post": new.recv_post,
               "expected_amount": new.expected_amount, "state": state,
               "echo": json.dumps(new.echo, ensure_ascii=False, sort_keys=True),
               "created_at": stamp, "updated_at": stamp, "attempt_at": now}
        try:
            with self._write() as conn:
                stored = _payment(conn.execute(_INSERT_PAYMENT, row).one())
                _event(conn, stored.id, POST_RECEIVED, detail)
                if state in FINAL_STATES:
                    _queue_notify(conn, stored, notify_url)
            return stored, True
        except IntegrityError:
            pass
        with self._write() as conn:
            same = payments.c.order_number == new.order_number
            if new.conn_id:
                same = same | (payments.c.conn_id == new.conn_id)
            found = conn.execute(select(payments).where(same)
                                 .order_by(payments.c.id).limit(1)).first()
            if found is None:  # not a duplicate: some other constraint failed
                raise StoreError(f"cannot store order {new.order_number!r}")
            existing = _payment(found)
            other = ""
            if existing.conn_id != (new.conn_id or None):
                other = f"; another reCommConId {new.conn_id!r} was posted for it and not completed"
            elif existing.order_number != new.order_number:
                other = f"; posted again under order number {new.order_number!r}, not taken"
            _event(conn, existing.id, POST_REPEATED, f"{detail}{other}")
        return existing, False

    def record_reply(self, payment_id: int, state: str, values: dict[str, Any], raw: bytes,
                     detail: str, notify_url: str | None = None) -> Payment:
        """Action 1 answered: store the checked outcome and the raw reply, once.

        Only a pending payment takes a reply: a second answer (a reconcile racing a
        live request) leaves the first one in place.
        """
        assert state in (APPROVED, REFUSED, ISSUED, MISMATCH)
        with self._write() as conn:
            row = conn.execute(_RECORD_REPLY, {
                "pid": payment_id, "state": state, "reply": raw, "updated_at": now_text(),
                "attempt_at": time.time(), **values}).first()
            if row is None:
                return _get(conn, payment_id)
            stored = _payment(row)
            _event(conn, payment_id, ACTION1_REPLY, detail, raw)
            _queue_notify(conn, stored, notify_url)
            return stored

    def record_failure(self, payment_id: int, kind: str, detail: str,
                       raw: bytes | None = None) -> Payment:
        """An action failed (timeout, garbage): the payment keeps its state."""
        with self._write() as conn:
            _event(conn, payment_id, kind, detail, raw)
            return _get(conn, payment_id)

    def record_confirmed(self, payment_id: int, detail: str, raw: bytes) -> Payment:
        with self._write() as conn:
            stamp = now_text()
            row = conn.execute(_RECORD_CONFIRMED, {
                "pid": payment_id, "confirmed_at": stamp, "updated_at": stamp}).first()
            if row is None:
                return _get(conn, payment_id)
            _event(conn, payment_id, ACTION3_SENT, detail, raw)
            return _payment(row)

    def note(self, payment_id: int, kind: str, detail: str) -> None:
        with self._write() as conn:
            _event(conn, payment_id, kind, detail)

    def claim(self, payment: Payment, stale_before: float) -> bool:
        """Take the payment for an attempt at action 1 or 3: only if no attempt began
        after `stale_before` (a live request may still be completing it) and none began
        since `payment` was read (compare-and-set on `attempt_at`: of two reconciles, or a
        reconcile and a refreshed page, one wins)."""
        if payment.attempt_at > stale_before:
            return False
        with self._write() as conn:
            return conn.execute(
                update(payments).where(payments.c.id == payment.id,
                                       payments.c.attempt_at == payment.attempt_at)
                .values(attempt_at=max(time.time(), payment.attempt_at + 1e-3))).rowcount == 1

    # --- reads --------------------------------------------------------------------------

    def get(self, payment_id: int) -> Payment:
        with self.engine.connect() as conn:
            return _get(conn, payment_id)

    def find(self, order_number: str) -> Payment | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(payments).where(
                payments.c.order_number == order_number)).first()
        return _payment(row) if row else None

    def unfinished(self, stale_before: float) -> list[Payment]:
        """Pending payments and stored ones still owed action 3, whose last attempt
        began before `stale_before`: what `reconcile` finishes."""
        owed = payments.c.state.in_(CONFIRMED_STATES) & payments.c.confirmed_at.is_(None)
        with self.engine.connect() as conn:
            rows = conn.execute(select(payments).where(
                (payments.c.state == PENDING) | owed,
                payments.c.attempt_at <= stale_before).order_by(payments.c.id)).all()
        return [_payment(r) for r in rows]

    def payments(self, state: str | None = None, since: str | None = None) -> list[Payment]:
        query = select(payments).order_by(payments.c.id)
        if state:
            query = query.where(payments.c.state == state)
        if since:
            query = query.where(payments.c.created_at >= since)
        with self.engine.connect() as conn:
            return [_payment(r) for r in conn.execute(query)]

    def iter_payments(self) -> Iterator[Payment]:
        with self.engine.connect() as conn:
            for row in conn.execute(select(payments).order_by(payments.c.id)):
                yield _payment(row)

    def events(self, payment_id: int) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(events).where(events.c.payment_id == payment_id)
                                .order_by(events.c.id)).all()
        return [Event(**r._mapping) for r in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(payments)).scalar_one()

    # --- the notify outbox ------------------------------------------------------------

    def due_deliveries(self, now: float, limit: int = 20) -> list[Delivery]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(outbox).where(
                outbox.c.delivered_at.is_(None), outbox.c.next_at <= now)
                .order_by(outbox.c.next_at).limit(limit)).all()
        return [Delivery(r.id, r.payment_id, r.state, r.url, r.body, r.attempts) for r in rows]

    def claim_delivery(self, delivery_id: int, now: float, hold: float) -> bool:
        """Take a delivery for one attempt; another instance skips it for `hold` s."""
        with self._write() as conn:
            return conn.execute(update(outbox).where(
                outbox.c.id == delivery_id, outbox.c.delivered_at.is_(None),
                outbox.c.next_at <= now).values(next_at=now + hold, claimed_at=now)).rowcount == 1

    def delivered(self, delivery: Delivery, detail: str) -> None:
        with self._write() as conn:
            conn.execute(update(outbox).where(outbox.c.id == delivery.id).values(
                delivered_at=now_text(), attempts=delivery.attempts + 1, last_error=""))
            _event(conn, delivery.payment_id, NOTIFY_DELIVERED, detail)

    def delivery_failed(self, delivery: Delivery, error: str, next_at: float) -> None:
        with self._write() as conn:
            conn.execute(update(outbox).where(outbox.c.id == delivery.id).values(
                attempts=delivery.attempts + 1, last_error=error, next_at=next_at))
            _event(conn, delivery.payment_id, NOTIFY_FAILED,
                   f"attempt {delivery.attempts + 1}: {error}")

    def outbox_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(outbox).order_by(outbox.c.id))]


# Statements built once, their values passed as parameters: SQLAlchemy then compiles
# each once per process instead of once per call. RETURNING hands back the written row.
_INSERT_PAYMENT = insert(payments).returning(*payments.c)
_SELECT_PAYMENT = select(payments).where(payments.c.id == bindparam("pid"))
_RECORD_REPLY = update(payments).where(payments.c.id == bindparam("pid"),
                                       payments.c.state == PENDING).returning(*payments.c)
_RECORD_CONFIRMED = update(payments).where(payments.c.id == bindparam("pid"),
                                           payments.c.confirmed_at.is_(None)
                                           ).returning(*payments.c)
_INSERT_EVENT = insert(events)
_INSERT_NOTICE = insert(outbox)


def _get(conn: Connection, payment_id: int) -> Payment:
    return _payment(conn.execute(_SELECT_PAYMENT, {"pid": payment_id}).one())


def _event(conn: Connection, payment_id: int, kind: str, detail: str,
           data: bytes | None = None) -> None:
    conn.execute(_INSERT_EVENT, {"payment_id": payment_id, "at": now_text(), "kind": kind,
                                 "detail": detail, "data": data})


def _queue_notify(conn: Connection, payment: Payment, url: str | None) -> None:
    """A final state reached: queue the merchant's notification in the same transaction
    (the transactional outbox), so that no committed state goes unannounced."""
    if not url:
        return
    from .notify import notification_body  # the body is the notifier's format

    conn.execute(_INSERT_NOTICE, {
        "payment_id": payment.id, "state": payment.state, "url": url,
        "body": notification_body(payment), "attempts": 0, "next_at": time.time(),
        "claimed_at": 0.0, "last_error": ""})
    _event(conn, payment.id, NOTIFY_QUEUED, url)
