"""The payments service over real HTTP on 127.0.0.1, with the sandbox's recv_post as KSNET:
each outcome, exactly once, on SQLite and on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from payments_support import AMOUNTS, payment_stack


def test_card_approval_is_completed_checked_stored_and_confirmed(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "3"})
        response = stack.post(paid)
        assert (response.status, response.state) == (200, "approved")
        shown = response.shown()
        assert (shown["amount"], shown["method"], shown["installment"]) == ("55,000원", "신용카드", "3개월")
        stored = stack.store.find(paid.order_number)
        assert (stored.state, stored.amount, stored.expected_amount, stored.conn_id) == (
            "approved", 55000, 55000, paid.conn_id)
        assert stored.confirmed_at is not None
        assert stored.echo_values == {"ECHA": "지점-01"}
        assert stored.reply is not None and stored.reply.startswith(b"sandbox`O`")
        assert [e.kind for e in stack.store.events(stored.id)] == [
            "post received", "action 1 reply", "action 3 sent"]
        assert stack.sandbox.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]


def test_twenty_concurrent_posts_make_one_row_and_one_completion(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda _: stack.post(paid), range(20)))
        assert {r.status for r in responses} == {200}
        assert {r.state for r in responses} <= {"approved", "pending"}
        assert stack.store.count() == 1
        assert stack.sandbox.calls(paid.conn_id) == [("1", str(AMOUNTS["carrot-10kg"])),
                                                     ("3", str(AMOUNTS["carrot-10kg"]))]
        assert stack.post(paid).state == "approved"
        assert stack.store.count() == 1
