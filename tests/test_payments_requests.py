"""Requests the payments service refuses: each gets its exact 4xx status and stores
nothing, and none of them reaches recv_post. Real HTTP on 127.0.0.1, on SQLite and on
PostgreSQL."""

from __future__ import annotations

from http.client import HTTPConnection
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from generator import kspay
from generator.payments.service import RESULT_PATH
from payments_support import Payment, Response, Stack, http, payment_stack

FORM = "application/x-www-form-urlencoded"
LIMIT = kspay.RESULT_POST_MAX_BYTES


def body_of(posted: list[tuple[str, str]]) -> bytes:
    return urlencode(posted, encoding="cp949").encode("ascii")


def padded(paid: Payment, size: int) -> bytes:
    """The payment's post with an ECHZ field that makes the body exactly `size` bytes."""
    base = body_of([*paid.posted, ("ECHZ", "")])
    assert len(base) < size
    return base + b"x" * (size - len(base))


def replaced(paid: Payment, name: str, value: str) -> bytes:
    return body_of([(k, value if k == name else v) for k, v in paid.posted])


def without(paid: Payment, name: str) -> bytes:
    return body_of([(k, v) for k, v in paid.posted if k != name])


def result_url(stack: Stack, query: str) -> str:
    return f"{stack.base}{RESULT_PATH}?{query}"


def raw_request(url: str, method: str, body: bytes, headers: dict[str, str]) -> Response:
    """A request with exactly these headers (urllib adds its own)."""
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, f"{parts.path}?{parts.query}", skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        reply = connection.getresponse()
        return Response(reply.status, dict(reply.headers), reply.read())
    finally:
        connection.close()


def korean_and_english(response: Response) -> list[str]:
    return response.body.decode("utf-8").splitlines()


# Each case: (the request, from a stack and a payment KSPay is about to post back) ->
# (status, the English line of the answer).
Request = Callable[[Stack, Payment], Response]


def post(body: Callable[[Payment], bytes], content_type: str | None = FORM,
         url: Callable[[Stack, Payment], str] | None = None) -> Request:
    def send(stack: Stack, paid: Payment) -> Response:
        where = url(stack, paid) if url else stack.reply_url(paid.product, paid.order_number)
        return http(where, body(paid), content_type)
    return send


def query(text: str) -> Callable[[Stack, Payment], str]:
    """A result URL with this query; {ordno} is the payment's order number."""
    return lambda stack, paid: result_url(stack, text.format(ordno=paid.order_number))


def ordno(value: str) -> Callable[[Stack, Payment], str]:
    return lambda stack, paid: stack.reply_url(paid.product, value)


def ok_body(paid: Payment) -> bytes:
    return body_of(paid.posted)


STAMP = "20261201120000"
CASES: dict[str, tuple[Request, int, str]] = {
    "body over 64 KB": (
        post(lambda p: padded(p, LIMIT + 1)), 413,
        f"the body has {LIMIT + 1:,} bytes, the limit is {LIMIT:,}"),
    # Refused by its Content-Length, before a byte of it is read (none is sent here).
    "Content-Length of 1 MB": (
        lambda stack, paid: raw_request(stack.reply_url(paid.product, paid.order_number), "POST",
                                        b"", {"Content-Type": FORM, "Content-Length": "1048576"}),
        413, f"the body has {1024 * 1024:,} bytes, the limit is {LIMIT:,}"),
    "reCommConId missing": (
        post(lambda p: without(p, "reCommConId")), 400, "reCommConId is missing"),
    "reCommConId empty": (
        post(lambda p: replaced(p, "reCommConId", "")), 400, "reCommConId is missing"),
    "reCommConId with a space": (
        post(lambda p: replaced(p, "reCommConId", "SBX 1")), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got 'SBX 1'"),
    "reCommConId with a quote": (
        post(lambda p: replaced(p, "reCommConId", 'SBX"1')), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got 'SBX\"1'"),
    "reCommConId with markup": (
        post(lambda p: replaced(p, "reCommConId", "<b>1")), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got '<b>1'"),
    "reCommConId of 65 characters": (
        post(lambda p: replaced(p, "reCommConId", "A" * 65)), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got '{'A' * 65}'"),
    "reCommConId with a newline": (
        post(lambda p: replaced(p, "reCommConId", "SBX1\n")), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got 'SBX1\\n'"),
    "a malformed reCommConId on a cancel": (
        post(lambda p: body_of([("reCommConId", "SBX 1"), ("reCnclType", "1")])), 400,
        f"reCommConId must match {kspay.CONN_ID_PATTERN}, got 'SBX 1'"),
    "an unknown field": (
        post(lambda p: body_of([*p.posted, ("sndAmount", "10")])), 400,
        "unknown fields: sndAmount"),
    "two unknown fields": (
        post(lambda p: body_of([*p.posted, ("ordno", "x"), ("ECH", "y")])), 400,
        "unknown fields: ECH, ordno"),
    "reCommConId posted twice": (
        post(lambda p: body_of([*p.posted, ("reCommConId", p.conn_id)])), 400,
        "fields posted twice: reCommConId"),
    "an echo field posted twice": (
        post(lambda p: body_of([*p.posted, ("ECHA", "지점-02")])), 400,
        "fields posted twice: ECHA"),
    "reCnclType 7": (
        post(lambda p: replaced(p, "reCnclType", "7")), 400, "reCnclType must be 0 or 1, got '7'"),
    "reCnclType 7 on an empty reCommConId": (
        post(lambda p: body_of([("reCommConId", ""), ("reCnclType", "7")])), 400,
        "reCnclType must be 0 or 1, got '7'"),
    "not a form": (
        post(lambda p: b"reCommConId"), 400, "the body is not a URL-encoded form"),
    "bytes that are not ASCII": (
        post(lambda p: ok_body(p) + "&ECHB=지점".encode("cp949")), 400,
        "the body is not a URL-encoded form"),
    "Content-Type text/plain": (
        post(ok_body, "text/plain"), 415, "KSPay posts application/x-www-form-urlencoded"),
    "Content-Type multipart/form-data": (
        post(ok_body, "multipart/form-data; boundary=x"), 415,
        "KSPay posts application/x-www-form-urlencoded"),
    "Content-Type application/json": (
        post(ok_body, "application/json"), 415, "KSPay posts application/x-www-form-urlencoded"),
    "no site in the query": (
        post(ok_body, url=query("product=carrot-10kg&ordno={ordno}")), 400,
        "the query must name site= exactly once (the order page sets it)"),
    "no product in the query": (
        post(ok_body, url=query("site=shop&ordno={ordno}")), 400,
        "the query must name product= exactly once (the order page sets it)"),
    "no ordno in the query": (
        post(ok_body, url=query("site=shop&product=carrot-10kg")), 400,
        "the query must name ordno= exactly once (the order page sets it)"),
    "an empty ordno": (
        post(ok_body, url=query("site=shop&product=carrot-10kg&ordno=")), 400,
        "the query must name ordno= exactly once (the order page sets it)"),
    "ordno twice in the query": (
        post(ok_body, url=query("site=shop&product=carrot-10kg&ordno={ordno}&ordno={ordno}")), 400,
        "the query must name ordno= exactly once (the order page sets it)"),
    "no query": (
        post(ok_body, url=lambda stack, paid: stack.base + RESULT_PATH), 400,
        "the query must name site= exactly once (the order page sets it)"),
    "an unknown merchant": (
        post(ok_body, url=query("site=other-shop&product=carrot-10kg&ordno={ordno}")), 404,
        "no product other-shop/carrot-10kg in the merchant files"),
    "a merchant slug that is a path": (
        post(ok_body, url=query("site=../sites/shop&product=carrot-10kg&ordno={ordno}")), 404,
        "no product ../sites/shop/carrot-10kg in the merchant files"),
    "an unknown product": (
        post(ok_body, url=query("site=shop&product=carrot-20kg&ordno={ordno}")), 404,
        "no product shop/carrot-20kg in the merchant files"),
    "ordno with another merchant's prefix": (
        post(ok_body, url=ordno(f"KSPAY{STAMP}123456")), 400,
        f"ordno 'KSPAY{STAMP}123456' is not an order number of shop's pages"),
    "ordno with the prefix in lower case": (
        post(ok_body, url=ordno(f"test{STAMP}123456")), 400,
        f"ordno 'test{STAMP}123456' is not an order number of shop's pages"),
    "ordno one digit short": (
        post(ok_body, url=ordno(f"TEST{STAMP}12345")), 400,
        f"ordno 'TEST{STAMP}12345' is not an order number of shop's pages"),
    "ordno one digit long": (
        post(ok_body, url=ordno(f"TEST{STAMP}1234567")), 400,
        f"ordno 'TEST{STAMP}1234567' is not an order number of shop's pages"),
    "ordno with a letter": (
        post(ok_body, url=ordno(f"TEST{STAMP}12345A")), 400,
        f"ordno 'TEST{STAMP}12345A' is not an order number of shop's pages"),
    "ordno with a trailing newline": (
        post(ok_body, url=ordno(f"TEST{STAMP}123456%0A")), 400,
        f"ordno 'TEST{STAMP}123456\\n' is not an order number of shop's pages"),
    "GET": (
        lambda stack, paid: http(stack.reply_url(paid.product, paid.order_number)), 405,
        "KSPay posts the result here; use POST"),
    "PUT": (
        lambda stack, paid: http(stack.reply_url(paid.product, paid.order_number), ok_body(paid),
                                 FORM, method="PUT"), 405,
        "KSPay posts the result here; use POST"),
    "DELETE": (
        lambda stack, paid: http(stack.reply_url(paid.product, paid.order_number),
                                 method="DELETE"), 405,
        "KSPay posts the result here; use POST"),
    "Content-Length not a number": (
        lambda stack, paid: raw_request(stack.reply_url(paid.product, paid.order_number), "POST",
                                        b"", {"Content-Type": FORM, "Content-Length": "many"}),
        400, "Content-Length is not a number"),
    # A negative length must not mean "read until the client stops": that reads without
    # the 64 KB limit and holds the request until the client gives up.
    "Content-Length negative": (
        lambda stack, paid: raw_request(stack.reply_url(paid.product, paid.order_number), "POST",
                                        ok_body(paid), {"Content-Type": FORM, "Content-Length": "-1"}),
        400, "Content-Length is not a number"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_request_is_refused_and_stores_nothing(tmp_path: Path, db_url: str, case: str) -> None:
    send, status, english = CASES[case]
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay("carrot-10kg", "isp")
        response = send(stack, paid)
        assert response.status == status
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert korean_and_english(response)[1] == english
        assert stack.store.count() == 0
        assert stack.sandbox.calls(paid.conn_id) == []
        # The payment itself is still taken when KSPay's own post comes.
        assert stack.post(paid).state == "approved"
        assert stack.store.count() == 1


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_the_result_path_get_405_allow_post(
        tmp_path: Path, db_url: str, method: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        url = stack.reply_url(paid.product, paid.order_number)
        body = b"" if method in ("GET", "HEAD") else body_of(paid.posted)
        response = raw_request(url, method, body, {"Content-Type": FORM,
                                                   "Content-Length": str(len(body))})
        assert response.status == 405
        assert response.headers["Allow"] == "POST"
        if method != "HEAD":
            assert korean_and_english(response) == [
                "KSPay 결제창이 POST로 호출하는 주소입니다.", "KSPay posts the result here; use POST"]
        assert stack.store.count() == 0
        assert stack.sandbox.calls(paid.conn_id) == []


def test_the_korean_line_comes_first(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        response = http(stack.reply_url(paid.product, paid.order_number),
                        body_of([*paid.posted, ("sndAmount", "10")]), FORM)
        assert (response.status, response.body.decode("utf-8")) == (
            400, "알 수 없는 항목이 있습니다.\nunknown fields: sndAmount\n")
        assert response.headers["Cache-Control"] == "no-store"
        assert stack.store.count() == 0


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=euc-kr",
    "Application/X-WWW-Form-Urlencoded"])
def test_the_form_content_type_is_taken_with_or_without_a_charset(
        tmp_path: Path, db_url: str, content_type: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        response = http(stack.reply_url(paid.product, paid.order_number), body_of(paid.posted),
                        content_type)
        assert (response.status, response.state) == (200, "approved")
        assert stack.store.count() == 1


def test_a_body_of_exactly_64_kb_is_read(tmp_path: Path, db_url: str) -> None:
    with payment_stack(tmp_path, db_url) as stack:
        paid = stack.pay()
        response = http(stack.reply_url(paid.product, paid.order_number), padded(paid, LIMIT), FORM)
        assert (response.status, response.state) == (200, "approved")
        stored = stack.store.find(paid.order_number)
        assert set(stored.echo_values) == {"ECHA", "ECHZ"}
        assert stored.echo_values["ECHA"] == "지점-01"
        assert stack.store.count() == 1


def test_a_valid_order_number_of_this_merchant_is_taken(tmp_path: Path, db_url: str) -> None:
    """The boundary of the order number rule: the prefix and exactly 20 digits."""
    with payment_stack(tmp_path, db_url) as stack:
        order = f"TEST{STAMP}000000"
        assert len(order) == 4 + kspay.ORDER_TIMESTAMP_DIGITS + kspay.ORDER_RANDOM_DIGITS
        paid = stack.pay(order=order)
        assert stack.post(paid).state == "approved"
        assert stack.store.find(order).state == "approved"
