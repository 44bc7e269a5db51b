"""The payment store on SQLite and on PostgreSQL: the schema and its version, the unique
constraints as the database itself holds them, and the event log read back in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from generator.payments import store as store_module
from generator.payments.service import build_app
from generator.payments.store import (
    SCHEMA_VERSION,
    NewPayment,
    PaymentStore,
    StoreError,
    meta,
    payments,
)
from payments_support import http, order_number, payment_stack, write_merchant

TABLES = {"kspay_meta", "kspay_payments", "kspay_payment_events", "kspay_notify_outbox"}


def kspay_tables(store: PaymentStore) -> set[str]:
    with store.engine.connect() as conn:
        return {t for t in inspect(conn).get_table_names() if t.startswith("kspay_")}


def meta_rows(store: PaymentStore) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(meta.c.key, meta.c.value).order_by(meta.c.key))]


@pytest.fixture
def store(db_url: str):
    opened = PaymentStore(db_url)
    opened.ensure_schema()
    yield opened
    opened.engine.dispose()


def new_payment(order: str | None = None, conn_id: str | None = "SBX1") -> NewPayment:
    return NewPayment(order or order_number(), conn_id, "shop", "carrot-10kg", "당근10kg",
                      "2999199999", "http://127.0.0.1/recv_post.jsp", 1003, {"ECHA": "지점-01"})


def row(order: str, conn_id: str | None) -> dict[str, object]:
    """A kspay_payments row with every column that has no default."""
    return {"order_number": order, "conn_id": conn_id, "site": "shop", "product": "carrot-10kg",
            "product_name": "당근10kg", "store_id": "2999199999",
            "recv_post": "http://127.0.0.1/recv_post.jsp", "expected_amount": 1003,
            "state": "pending", "created_at": store_module.now_text(),
            "updated_at": store_module.now_text(), "attempt_at": 0.0}


# --- the schema ---------------------------------------------------------------------

def test_the_schema_is_created_on_first_start_with_version_1(db_url: str) -> None:
    fresh = PaymentStore(db_url)
    try:
        assert kspay_tables(fresh) == set()
        fresh.ensure_schema()
        assert kspay_tables(fresh) == TABLES
        assert meta_rows(fresh) == [("schema_version", "1")]
        assert SCHEMA_VERSION == 1 and fresh.schema_version() == 1
        fresh.ensure_schema()  # a second start changes nothing
        assert meta_rows(fresh) == [("schema_version", "1")]
        assert fresh.count() == 0
    finally:
        fresh.engine.dispose()


def test_the_service_creates_the_schema_when_it_starts(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        assert kspay_tables(stack.store) == TABLES
        assert meta_rows(stack.store) == [("schema_version", "1")]
        health = http(stack.base + "/kspay/health")
        assert (health.status, health.body) == (200, b"ok\n")


def test_a_store_of_a_newer_schema_version_is_refused(tmp_path: Path, store: PaymentStore,
                                                      db_url: str) -> None:
    newer = SCHEMA_VERSION + 1
    with store.engine.begin() as conn:
        conn.execute(update(meta).where(meta.c.key == "schema_version").values(value=str(newer)))
    later = PaymentStore(db_url)
    try:
        with pytest.raises(StoreError) as refused:
            later.ensure_schema()
        assert str(refused.value) == (f"{db_url}: schema version {newer} is newer than this "
                                      f"release's {SCHEMA_VERSION}; upgrade kspay-pages")
        # The service does not start on it either, and the store is left as it was.
        sites = tmp_path / "sites"
        write_merchant(sites)
        with pytest.raises(StoreError, match=f"schema version {newer} is newer than this "
                                             f"release's {SCHEMA_VERSION}"):
            build_app(sites, later, notify=False)
        assert meta_rows(later) == [("schema_version", str(newer))]
    finally:
        later.engine.dispose()


def test_a_store_without_a_schema_version_is_refused(store: PaymentStore, db_url: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(meta.delete())
    with pytest.raises(StoreError) as refused:
        store.ensure_schema()
    assert str(refused.value) == f"{db_url}: kspay_meta has no schema_version"


@pytest.mark.parametrize("url", ["mysql://u@localhost/db", "not a url", "http://example.com/"])
def test_a_store_url_of_another_kind_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match=r"^--db "):
        PaymentStore(url)


# --- unique constraints, held by the database -------------------------------------------

def test_the_order_number_is_unique_in_the_database(store: PaymentStore) -> None:
    order = order_number()
    with store.engine.begin() as conn:
        conn.execute(insert(payments).values(**row(order, "SBX1")))
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(insert(payments).values(**row(order, "SBX2")))
    assert store.count() == 1
    assert store.find(order).conn_id == "SBX1"


def test_the_conn_id_is_unique_in_the_database(store: PaymentStore) -> None:
    first = order_number()
    with store.engine.begin() as conn:
        conn.execute(insert(payments).values(**row(first, "SBX1")))
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn:
            conn.execute(insert(payments).values(**row(order_number(), "SBX1")))
    assert [p.order_number for p in store.payments()] == [first]


def test_payments_without_a_conn_id_are_not_duplicates(store: PaymentStore) -> None:
    orders = [order_number(), order_number()]
    with store.engine.begin() as conn:
        for order in orders:
            conn.execute(insert(payments).values(**row(order, None)))
    assert [(p.order_number, p.conn_id) for p in store.payments()] == [
        (orders[0], None), (orders[1], None)]


def test_open_payment_takes_the_first_and_returns_it_to_a_repeat(store: PaymentStore) -> None:
    order = order_number()
    first, made = store.open_payment(new_payment(order, "SBX1"), "pending", "first")
    assert made and (first.order_number, first.conn_id, first.state) == (order, "SBX1", "pending")
    same, made_again = store.open_payment(new_payment(order, "SBX1"), "pending", "again")
    assert (made_again, same) == (False, first)
    other_conn, made_other = store.open_payment(new_payment(order, "SBX2"), "pending", "other")
    assert (made_other, other_conn.id) == (False, first.id)
    third = new_payment(None, "SBX1")
    other_order, made_third = store.open_payment(third, "pending", "third")
    assert (made_third, other_order.id) == (False, first.id)
    assert store.count() == 1
    assert [(e.kind, e.detail) for e in store.events(first.id)] == [
        ("post received", "first"), ("post repeated", "again"),
        ("post repeated", "other; another reCommConId 'SBX2' was posted for it and not completed"),
        ("post repeated", f"third; posted again under order number {third.order_number!r}, "
                          "not taken")]


# --- the event log ----------------------------------------------------------------------

def test_every_event_is_read_back_in_order(store: PaymentStore) -> None:
    payment, _ = store.open_payment(new_payment(), "pending", "reCommConId SBX1")
    other, _ = store.open_payment(new_payment(conn_id="SBX2"), "pending", "another payment")
    store.record_failure(payment.id, "action 1 failed", "recv_post did not answer", b"\x00partial")
    store.note(other.id, "action 1 failed", "the other one's")
    replied = store.record_reply(payment.id, "approved", {"amount": 1003, "authyn": "O"},
                                 b"sandbox`O`", "approved: authyn O")
    assert (replied.state, replied.amount, replied.reply) == ("approved", 1003, b"sandbox`O`")
    # A second reply for the same payment is not taken: no event, the first one stays.
    assert store.record_reply(payment.id, "refused", {"authyn": "X"}, b"late", "late") == replied
    confirmed = store.record_confirmed(payment.id, "after approved", b"OK")
    assert confirmed.confirmed_at is not None
    assert store.record_confirmed(payment.id, "again", b"OK") == confirmed  # once
    store.note(payment.id, "post repeated", "the customer reloaded")
    events = store.events(payment.id)
    assert [(e.payment_id, e.kind, e.detail, e.data) for e in events] == [
        (payment.id, "post received", "reCommConId SBX1", None),
        (payment.id, "action 1 failed", "recv_post did not answer", b"\x00partial"),
        (payment.id, "action 1 reply", "approved: authyn O", b"sandbox`O`"),
        (payment.id, "action 3 sent", "after approved", b"OK"),
        (payment.id, "post repeated", "the customer reloaded", None)]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert all(e.at.endswith("+09:00") for e in events)
    assert [(e.kind, e.detail) for e in store.events(other.id)] == [
        ("post received", "another payment"), ("action 1 failed", "the other one's")]


def test_a_payments_events_over_http_are_read_back_in_order(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp", fault="garbage")
        assert stack.post(paid).state == "pending"
        assert stack.post(paid).state == "pending"
        stack.app.payments.reconcile(grace=0)
        assert stack.post(paid).state == "approved"
        stored = stack.store.find(paid.order_number)
        events = stack.store.events(stored.id)
        assert [e.kind for e in events] == [
            "post received", "action 1 failed", "post repeated", "action 1 reply",
            "action 3 sent", "post repeated"]
        assert events[0].detail == f"reCommConId {paid.conn_id}; expected 1003 won"
        assert events[3].data == stored.reply
        assert events[4].data == b"OK"
        assert [e.id for e in events] == sorted(e.id for e in events)
        assert [e.at for e in events] == sorted(e.at for e in events)
