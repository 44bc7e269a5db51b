"""The payments service over real HTTP on 127.0.0.1, with the sandbox's recv_post as KSNET:
each outcome, exactly once, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from generator import results
from generator.devserver import sandbox
from generator.payments.flow import describe
from payments_support import (
    AMOUNTS,
    STORE_ID,
    Response,
    Stack,
    closed_port,
    order_number,
    payment_stack,
    serve,
)

STORE_URL = "http://127.0.0.1/pages/shop/"
STORE_LINK = "케이에스페이(주) 홈으로 돌아가기"


def links(response: Response) -> list[tuple[str, str]]:
    """The page's links after the header's: (text, href), in order."""
    return [(a.get_text(), a["href"]) for a in response.page.select("p.next a")]


def headline(response: Response) -> str:
    return response.page.find("h1", id="status").get_text()


def kinds(stack: Stack, order: str) -> list[str]:
    return [e.kind for e in stack.store.events(stack.store.find(order).id)]


# --- outcomes -------------------------------------------------------------------------

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


@pytest.mark.parametrize(("outcome", "choice", "result_code", "issuer", "months", "installment"), [
    ("isp", {"isp_issuer": "01", "halbu": "0"}, "I001", "BC카드", 0, "일시불"),
    ("isp", {"isp_issuer": "02", "halbu": "3"}, "I001", "KB국민카드", 3, "3개월"),
    ("mpi", {"mpi_issuer": "04", "halbu": "2"}, "1001", "삼성카드", 2, "2개월"),
    ("mpi", {"mpi_issuer": "05", "halbu": "0"}, "1001", "신한카드", 0, "일시불"),
], ids=["isp-lump-sum", "isp-3-months", "mpi-2-months", "mpi-lump-sum"])
def test_card_approval_by_isp_and_mpi_shows_the_card_and_installment(
        tmp_path: Path, db_url: str, outcome: str, choice: dict[str, str], result_code: str,
        issuer: str, months: int, installment: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("gift-set", outcome, choice)
        response = stack.post(paid)
        stored = stack.store.find(paid.order_number)
        assert (response.status, response.state, headline(response)) == (
            200, "approved", "결제가 완료되었습니다")
        assert re.fullmatch(r"[0-9]{8}", stored.approval_number)
        assert re.fullmatch(r"[0-9]{14}", stored.trade_date + stored.trade_time)
        paid_at = (f"{stored.trade_date[:4]}-{stored.trade_date[4:6]}-{stored.trade_date[6:]} "
                   f"{stored.trade_time[:2]}:{stored.trade_time[2:4]}:{stored.trade_time[4:]}")
        assert response.shown() == {
            "product": "한라봉 선물세트", "order": paid.order_number, "amount": "55,000원",
            "method": "신용카드", "approval": stored.approval_number, "installment": installment,
            "paid-at": paid_at}
        assert (stored.state, stored.method, stored.method_label, stored.result_code) == (
            "approved", "card", "신용카드", result_code)
        assert (stored.issuer, stored.acquirer, stored.installment_months) == (issuer, issuer, months)
        assert (stored.amount, stored.expected_amount, stored.authyn, stored.refusal_code) == (
            55000, 55000, "O", "")
        assert stored.transaction_number[0] == result_code[0]
        assert stored.message == f"정상승인 {issuer}"
        assert stored.paid and stored.confirmed_at is not None
        assert links(response) == [(STORE_LINK, STORE_URL)]
        assert stack.sandbox.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]


def test_refusal_shows_kspays_message_and_code_and_a_retry_link(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "refuse",
                         {"refusal_code": "7003", "refusal_message": "한도초과"})
        response = stack.post(paid)
        assert (response.status, response.state, headline(response)) == (
            200, "refused", "결제가 거절되었습니다")
        assert response.shown() == {"product": "당근10kg", "order": paid.order_number,
                                    "amount": "1,003원", "method": "신용카드",
                                    "message": "거절 한도초과", "refusal": "7003"}
        assert links(response) == [("다시 결제하기", "http://127.0.0.1/pages/shop/carrot-10kg/"),
                                   (STORE_LINK, STORE_URL)]
        stored = stack.store.find(paid.order_number)
        assert (stored.state, stored.authyn, stored.refusal_code, stored.message,
                stored.approval_number) == ("refused", "X", "7003", "거절 한도초과", "")
        assert not stored.paid
        # A refusal is stored and processed: KSNET is told so with action 3.
        assert stored.confirmed_at is not None
        assert kinds(stack, paid.order_number) == ["post received", "action 1 reply", "action 3 sent"]
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]


def test_virtual_account_issued_shows_the_bank_and_the_account_number(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("gift-set", "virtual_account", {"bank": "26"})
        response = stack.post(paid)
        assert (response.status, response.state, headline(response)) == (
            200, "issued", "가상계좌가 발급되었습니다")
        stored = stack.store.find(paid.order_number)
        assert re.fullmatch(r"26[0-9]{12}", stored.virtual_account)
        shown = response.shown()
        assert (shown["bank"], shown["account"], shown["method"], shown["amount"]) == (
            "신한은행", stored.virtual_account, "가상계좌", "55,000원")
        assert "approval" not in shown and "installment" not in shown
        assert (stored.state, stored.method, stored.result_code, stored.bank_code,
                stored.bank_name, stored.approval_number) == (
            "issued", "virtual_account", "6001", "26", "신한은행", "")
        assert not stored.paid  # issued: the customer has not paid in yet
        assert stored.confirmed_at is not None
        assert links(response) == [(STORE_LINK, STORE_URL)]
        assert stack.sandbox.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]


def test_mobile_approval(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "mobile", {})
        response = stack.post(paid)
        assert (response.status, response.state, headline(response)) == (
            200, "approved", "결제가 완료되었습니다")
        stored = stack.store.find(paid.order_number)
        shown = response.shown()
        assert (shown["method"], shown["approval"], shown["amount"]) == (
            "휴대폰", stored.approval_number, "1,003원")
        assert re.fullmatch(r"[0-9]{8}", stored.approval_number)
        assert (stored.state, stored.method, stored.method_label, stored.result_code,
                stored.issuer) == ("approved", "mobile", "휴대폰", "M131", "")
        assert re.fullmatch(r"M[0-9]{11}", stored.transaction_number)
        assert stored.paid and stored.confirmed_at is not None
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]


def test_cancel_is_stored_without_any_recv_post_call(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        closed = stack.pay("gift-set", "cancel")
        assert dict(closed.posted)["reCnclType"] == "1"
        response = stack.post(closed)
        assert (response.status, response.state, headline(response)) == (
            200, "cancelled", "결제를 취소했습니다")
        assert response.shown() == {"product": "한라봉 선물세트", "order": closed.order_number,
                                    "amount": "55,000원"}
        assert links(response) == [("다시 결제하기", "http://127.0.0.1/pages/shop/gift-set/"),
                                   (STORE_LINK, STORE_URL)]
        stored = stack.store.find(closed.order_number)
        assert (stored.state, stored.conn_id, stored.amount, stored.confirmed_at, stored.reply) == (
            "cancelled", closed.conn_id, None, None, None)
        assert kinds(stack, closed.order_number) == ["post received"]
        assert stack.sandbox.calls(closed.conn_id) == []
        assert stack.post(closed).state == "cancelled"  # posted again: the same, still no call
        assert stack.app.payments.reconcile(grace=0) == []  # a cancel is final
        assert stack.sandbox.calls(closed.conn_id) == []
        assert stack.store.count() == 1


def test_a_cancel_post_with_an_empty_conn_id_is_accepted(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        first, second = stack.pay("carrot-10kg", "cancel"), stack.pay("gift-set", "cancel")
        for closed in (first, second):
            posted = [(k, "" if k == "reCommConId" else v) for k, v in closed.posted]
            response = stack.post(closed, posted)
            assert (response.status, response.state) == (200, "cancelled")
            assert links(response)[-1] == (STORE_LINK, STORE_URL)
            stored = stack.store.find(closed.order_number)
            assert (stored.state, stored.conn_id) == ("cancelled", None)
            assert stack.sandbox.calls(closed.conn_id) == []
        # Two payments without a reCommConId are two rows (NULL is not a duplicate).
        assert stack.store.count() == 2
        posted = [(k, v) for k, v in first.posted if k != "reCommConId"]  # left out entirely
        assert stack.post(first, posted).state == "cancelled"
        assert stack.store.count() == 2


# --- the amount and the order are the merchant's -------------------------------------

def test_an_amount_the_customer_edited_is_refused_never_approved(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        edited = stack.pay("carrot-10kg", "isp", amount=10)
        response = stack.post(edited)
        assert (response.status, response.state, headline(response)) == (
            200, "refused", "결제가 거절되었습니다")
        assert "결제가 완료되었습니다" not in response.body.decode("utf-8")
        assert response.shown()["amount"] == "1,003원"  # the merchant's price, not 10
        assert (response.shown()["refusal"], response.shown()["message"]) == (
            "AMT1", "금액 불일치 요청 1003 결제창 10")
        stored = stack.store.find(edited.order_number)
        assert (stored.state, stored.expected_amount, stored.amount, stored.refusal_code,
                stored.paid) == ("refused", 1003, 10, "AMT1", False)
        # Action 1 carried the file's amount, never the page's.
        assert stack.sandbox.calls(edited.conn_id) == [("1", "1003"), ("3", "1003")]
        assert stack.post(edited).state == "refused"
        assert stack.sandbox.calls(edited.conn_id) == [("1", "1003"), ("3", "1003")]


def test_a_reply_for_another_order_number_is_a_mismatch_and_gets_no_action_3(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp")
        other = order_number()
        response = stack.post(paid, url=stack.reply_url(paid.product, other))
        assert (response.status, response.state, headline(response)) == (
            200, "mismatch", "결제를 확인하지 못했습니다")
        assert stack.store.find(paid.order_number) is None
        stored = stack.store.find(other)
        assert (stored.state, stored.paid, stored.confirmed_at) == ("mismatch", False, None)
        assert stored.problems == f"order number {paid.order_number!r} is not {other!r}"
        events = stack.store.events(stored.id)
        assert [e.kind for e in events] == ["post received", "action 1 reply", "action 3 withheld"]
        assert events[-1].detail == "a mismatch is not processed: no action 3"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]
        assert stack.app.payments.reconcile(grace=0) == []  # nor later
        assert stack.post(paid, url=stack.reply_url(paid.product, other)).state == "mismatch"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]
        assert stack.store.count() == 1


def _fake_recv_post(values: Callable[[dict[str, str]], dict[str, str]], log: list[dict[str, str]],
                    confirm_failures: int = 0):
    """A recv_post that answers action 1 with `values(request)` and action 3 with OK, after
    answering the first `confirm_failures` actions 3 with HTTP 503."""
    failures = [confirm_failures]

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = dict(parse_qsl(environ["wsgi.input"].read(length).decode("ascii")))
        log.append(request)
        status = "200 OK"
        if request["sndActionType"] == "1":
            body = results.encode_reply(values(request),
                                        results.parse_params(request["sndRpyParams"]), first="fake")
        elif failures[0] > 0:
            failures[0] -= 1
            status, body = "503 Service Unavailable", b"busy"
        else:
            body = b"OK"
        start_response(status, [("Content-Type", "text/plain; charset=euc-kr"),
                                ("Content-Length", str(len(body)))])
        return [body]

    return app


def _approval(order: str, amount: str = "1003") -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda request: {
        "authyn": "O", "trno": "I00000000001", "trddt": "20261201", "trdtm": "120000",
        "amt": amount, "authno": "12345678", "msg1": "정상승인", "ordno": order, "isscd": "01",
        "aqucd": "01", "result": "I001", "halbu": "00"}


def test_an_approval_of_another_amount_is_a_mismatch_and_gets_no_action_3(
        tmp_path: Path, db_url: str) -> None:
    order = order_number()
    log: list[dict[str, str]] = []
    approve_10 = _fake_recv_post(_approval(order, "10"), log)
    with serve(approve_10) as fake:
        with payment_stack(tmp_path, db_url, recv_post_url=fake + "/recv_post.jsp") as stack:
            paid = stack.pay("carrot-10kg", "isp", order=order)
            response = stack.post(paid)
            assert (response.status, response.state) == (200, "mismatch")
            stored = stack.store.find(order)
            assert (stored.state, stored.amount, stored.expected_amount, stored.paid,
                    stored.confirmed_at) == ("mismatch", 10, 1003, False, None)
            assert stored.problems == "amount 10 is not the expected 1003"
            assert [(r["sndActionType"], r["sndAmount"], r["sndStoreid"], r["sndCommConId"])
                    for r in log] == [("1", "1003", STORE_ID, paid.conn_id)]
            assert kinds(stack, order)[-1] == "action 3 withheld"


# --- exactly once ---------------------------------------------------------------------

def test_the_same_post_twice_gives_the_stored_outcome_and_one_completion(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "3"})
        first = stack.post(paid)
        stored = stack.store.find(paid.order_number)
        again = stack.post(paid)
        assert (first.status, first.state, again.status, again.state) == (
            200, "approved", 200, "approved")
        assert again.shown() == first.shown()
        assert stack.store.find(paid.order_number) == stored  # not touched by the repeat
        assert stack.store.count() == 1
        assert stack.sandbox.calls(paid.conn_id) == [("1", "55000"), ("3", "55000")]
        assert kinds(stack, paid.order_number) == [
            "post received", "action 1 reply", "action 3 sent", "post repeated"]


def test_another_conn_id_for_a_stored_order_number_makes_no_row_and_no_call(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp")
        assert stack.post(paid).state == "approved"
        second = stack.pay("carrot-10kg", "refuse", {"refusal_code": "7003"},
                           order=paid.order_number)
        assert second.conn_id != paid.conn_id
        response = stack.post(second)
        assert (response.status, response.state) == (200, "approved")  # the stored outcome
        assert stack.store.count() == 1
        assert stack.store.find(paid.order_number).conn_id == paid.conn_id
        assert stack.sandbox.calls(second.conn_id) == []
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]
        events = stack.store.events(stack.store.find(paid.order_number).id)
        assert events[-1].kind == "post repeated"
        assert events[-1].detail.endswith(
            f"; another reCommConId {second.conn_id!r} was posted for it and not completed")


def test_a_stored_conn_id_under_another_order_number_makes_no_row_and_no_call(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp")
        assert stack.post(paid).state == "approved"
        other = order_number()
        response = stack.post(paid, url=stack.reply_url(paid.product, other))
        # The payment KSPay's reCommConId names, as stored: not one for the other order.
        assert (response.status, response.state, response.shown()["order"]) == (
            200, "approved", paid.order_number)
        assert stack.store.find(other) is None
        assert stack.store.count() == 1
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]


def test_twenty_concurrent_posts_make_one_row_and_one_completion(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        with ThreadPoolExecutor(20) as pool:
            responses = list(pool.map(lambda _: stack.post(paid), range(20)))
        assert {r.status for r in responses} == {200}
        states = [r.state for r in responses]
        assert set(states) <= {"approved", "pending"}
        assert "approved" in states  # the first post completes the payment before it answers
        assert stack.store.count() == 1
        assert stack.sandbox.calls(paid.conn_id) == [("1", str(AMOUNTS["carrot-10kg"])),
                                                     ("3", str(AMOUNTS["carrot-10kg"]))]
        assert stack.post(paid).state == "approved"
        assert stack.store.count() == 1


def test_concurrent_posts_of_one_order_number_with_different_conn_ids_complete_one(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        order = order_number()
        tries = [stack.pay("carrot-10kg", "isp", order=order) for _ in range(8)]
        with ThreadPoolExecutor(len(tries)) as pool:
            responses = list(pool.map(stack.post, tries))
        assert {r.status for r in responses} == {200}
        assert stack.store.count() == 1
        stored = stack.store.find(order)
        assert stored.conn_id in {t.conn_id for t in tries}
        assert {t.conn_id: stack.sandbox.calls(t.conn_id) for t in tries} == {
            t.conn_id: [("1", "1003"), ("3", "1003")] if t.conn_id == stored.conn_id else []
            for t in tries}
        assert stack.store.find(order).state == "approved"


# --- faults and reconcile ---------------------------------------------------------------

def _assert_reconciled(stack: Stack, order: str, conn_id: str, calls_before: int) -> None:
    """Reconcile finishes the pending payment once: approved and confirmed, after the
    events the payment had."""
    events_before = kinds(stack, order)
    done = stack.app.payments.reconcile(grace=0)
    assert [(before.order_number, before.state, after.state) for before, after in done] == [
        (order, "pending", "approved")]
    before, after = done[0]
    assert after.confirmed_at is not None and after.amount == 1003
    assert describe(before, after) == (
        f"{order} (shop/carrot-10kg, 1,003 won): pending -> approved, confirmed")
    assert stack.sandbox.calls(conn_id)[calls_before:] == [("1", "1003"), ("3", "1003")]
    assert kinds(stack, order) == [*events_before, "action 1 reply", "action 3 sent"]
    assert stack.store.find(order).state == "approved"
    assert stack.app.payments.reconcile(grace=0) == []  # nothing left to do
    assert len(stack.sandbox.calls(conn_id)) == calls_before + 2


@pytest.mark.parametrize("fault", ["timeout", "garbage"])
def test_a_recv_post_fault_leaves_the_payment_pending_until_reconcile(
        tmp_path: Path, db_url: str, fault: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp", fault=fault)
        response = stack.post(paid)
        assert (response.status, response.state, headline(response)) == (200, "pending", "결제 확인 중")
        stored = stack.store.find(paid.order_number)
        assert (stored.state, stored.amount, stored.confirmed_at, stored.reply) == (
            "pending", None, None, None)
        failed = stack.store.events(stored.id)[-1]
        assert failed.kind == "action 1 failed"
        if fault == "timeout":
            assert (failed.detail, failed.data) == ("recv_post did not answer within 2 s", None)
        else:
            assert failed.detail == ("recv_post's reply is not a result line: not a recv_post "
                                     "reply (no ` in '<html><body>502 Bad Gateway</body></html')")
            assert failed.data == sandbox.GARBAGE
        assert stack.post(paid).state == "pending"  # a repeat does not call recv_post again
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]
        assert kinds(stack, paid.order_number) == ["post received", "action 1 failed",
                                                   "post repeated"]
        _assert_reconciled(stack, paid.order_number, paid.conn_id, 1)
        assert stack.post(paid).state == "approved"


def test_an_unreachable_recv_post_leaves_the_payment_pending_until_reconcile(
        tmp_path: Path, db_url: str) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}{sandbox.recv_post_path()}"
    with payment_stack(tmp_path, db_url, recv_post_url=url) as stack:
        paid = stack.pay("carrot-10kg", "isp")
        response = stack.post(paid)
        assert (response.status, response.state, headline(response)) == (200, "pending", "결제 확인 중")
        stored = stack.store.find(paid.order_number)
        assert (stored.state, stored.recv_post) == ("pending", url)
        failed = stack.store.events(stored.id)[-1]
        assert failed.kind == "action 1 failed"
        assert failed.detail.startswith("recv_post unreachable: ")
        assert stack.sandbox.calls(paid.conn_id) == []
        # Still down: reconcile tries again and the payment stays pending.
        done = stack.app.payments.reconcile(grace=0)
        assert [(b.state, a.state) for b, a in done] == [("pending", "pending")]
        assert describe(*done[0]).endswith(": pending -> still pending (recv_post failed again)")
        # recv_post is back (the sandbox, on the payment's recv_post address).
        with serve(stack.sandbox, port):
            done = stack.app.payments.reconcile(grace=0)
            assert [(b.state, a.state) for b, a in done] == [("pending", "approved")]
            assert done[0][1].confirmed_at is not None
            assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("3", "1003")]
            assert kinds(stack, paid.order_number) == [
                "post received", "action 1 failed", "action 1 failed", "action 1 reply",
                "action 3 sent"]
            assert stack.app.payments.reconcile(grace=0) == []
        assert stack.post(paid).state == "approved"


def test_reconcile_leaves_a_payment_alone_within_the_grace(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp", fault="timeout")
        assert stack.post(paid).state == "pending"
        assert stack.app.payments.reconcile(grace=60) == []
        assert stack.store.find(paid.order_number).state == "pending"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]
        assert kinds(stack, paid.order_number) == ["post received", "action 1 failed"]
        _assert_reconciled(stack, paid.order_number, paid.conn_id, 1)


def test_a_failed_action_3_leaves_the_payment_stored_but_unconfirmed_until_reconcile(
        tmp_path: Path, db_url: str) -> None:
    order = order_number()
    log: list[dict[str, str]] = []
    with serve(_fake_recv_post(_approval(order), log, confirm_failures=2)) as fake:
        with payment_stack(tmp_path, db_url, recv_post_url=fake + "/recv_post.jsp") as stack:
            paid = stack.pay("carrot-10kg", "isp", order=order)
            response = stack.post(paid)
            # The outcome is stored, so the customer sees it; KSNET is told again later.
            assert (response.status, response.state) == (200, "approved")
            stored = stack.store.find(order)
            assert (stored.state, stored.confirmed_at, stored.needs_confirm) == (
                "approved", None, True)
            failed = stack.store.events(stored.id)[-1]
            assert (failed.kind, failed.detail) == ("action 3 failed", "recv_post answered HTTP 503")
            assert stack.post(paid).state == "approved"  # a repeat does not call recv_post
            assert [r["sndActionType"] for r in log] == ["1", "3"]

            done = stack.app.payments.reconcile(grace=0)
            assert [(b.state, a.state, a.confirmed_at) for b, a in done] == [
                ("approved", "approved", None)]
            assert describe(*done[0]) == (
                f"{order} (shop/carrot-10kg, 1,003 won): approved, unconfirmed -> "
                "approved, action 3 failed again")
            done = stack.app.payments.reconcile(grace=0)
            assert describe(*done[0]) == (
                f"{order} (shop/carrot-10kg, 1,003 won): approved, unconfirmed -> "
                "approved, confirmed")
            assert done[0][1].confirmed_at is not None
            assert stack.app.payments.reconcile(grace=0) == []
            # Action 1 once (the outcome was stored); action 3 until it was taken.
            assert [(r["sndActionType"], r["sndAmount"]) for r in log] == [
                ("1", "1003"), ("3", "1003"), ("3", "1003"), ("3", "1003")]
            assert kinds(stack, order) == [
                "post received", "action 1 reply", "action 3 failed", "post repeated",
                "action 3 failed", "action 3 sent"]


def test_reconciles_at_once_complete_a_payment_once(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp", fault="garbage")
        assert stack.post(paid).state == "pending"
        time.sleep(1.2)  # the failed attempt is now older than the grace below
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(lambda _: stack.app.payments.reconcile(grace=1.0), range(4)))
        assert sorted(len(done) for done in runs) == [0, 0, 0, 1]
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("1", "1003"), ("3", "1003")]
        assert stack.store.find(paid.order_number).state == "approved"


def test_a_refreshed_pending_page_finishes_the_payment_once_the_first_try_gave_up(
        tmp_path: Path, db_url: str) -> None:
    """The customer refreshes "결제 확인 중": the browser posts again. Once the first
    attempt has had its recv_post timeout (and the margin), the repeated post finishes the
    payment as reconcile would; before that it only shows the stored state."""
    with payment_stack(tmp_path, db_url) as stack:
        stack.app.payments.retry_margin = 0
        paid = stack.pay(fault="timeout")
        assert stack.post(paid).state == "pending"  # took the 2 s timeout
        refreshed = stack.post(paid)
        assert refreshed.state == "approved"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003"), ("1", "1003"), ("3", "1003")]
        assert stack.post(paid).state == "approved"  # stored now: shown, never completed again
        assert len(stack.sandbox.calls(paid.conn_id)) == 3
        assert stack.store.count() == 1


def test_a_refresh_within_the_first_attempts_time_only_shows_pending(
        tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay(fault="timeout")  # retry_margin 5 s: the refresh comes sooner
        assert stack.post(paid).state == "pending"
        assert stack.post(paid).state == "pending"
        assert stack.sandbox.calls(paid.conn_id) == [("1", "1003")]


def test_the_result_page_carries_its_security_headers(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        response = stack.post(stack.pay())
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
        assert (response.headers["Cache-Control"], response.headers["X-Content-Type-Options"],
                response.headers["Referrer-Policy"]) == ("no-store", "nosniff", "no-referrer")


def test_the_result_page_shows_the_seller_block_and_the_test_banner(tmp_path: Path,
                                                                    db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("gift-set", "isp", {"isp_issuer": "01", "halbu": "0"})
        page = stack.post(paid).page
    rows = [(dt.get_text(), dt.find_next_sibling("dd").get_text())
            for dt in page.select("footer .seller-info > dt")]
    assert rows == [("상호", "케이에스페이(주)")]
    assert page.select("footer .policy-links") == []  # the file has no policies
    assert page.find(class_="test-banner").get_text().startswith("테스트 상점입니다.")
