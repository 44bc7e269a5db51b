"""An example result page for a merchant's server (standard library WSGI).

KSPay posts reCommConId to sndReply; this handler asks recv_post for the result, reads
it with `generator.results`, and checks it against the order the merchant expected
before telling the customer anything. A real shop looks the order up in its own
database; here `lookup(path, ordno)` gives the expected amount.

Run against the local sandbox with `kspay-pages serve --sandbox`, which mounts it at
/__result/. Standalone: `wsgiref.simple_server.make_server(host, port, make_app(url, f))`.
"""

from __future__ import annotations

import html
import urllib.request
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode

from . import results

Lookup = Callable[[str, str], "int | None"]
StartResponse = Callable[..., object]


def fetch_result(recv_post_url: str, conn_id: str, timeout: float = 10) -> results.PaymentResult:
    """Ask recv_post for the payment behind reCommConId (sndActionType 1)."""
    params = results.default_params()
    body = urlencode({"sndCommConId": conn_id, "sndActionType": "1",
                      "sndRpyParams": results.recv_post_spec()["delimiter"].join(params)})
    with urllib.request.urlopen(recv_post_url, data=body.encode("ascii"), timeout=timeout) as rsp:
        return results.read_result(rsp.read(), params)


def make_app(recv_post_url: str, lookup: Lookup) -> Callable[[dict, StartResponse], Iterable[bytes]]:
    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _page(start_response, "405 Method Not Allowed", "결과 페이지",
                         "<p>KSPay가 POST로 호출하는 페이지입니다.</p>")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, 100_000)).decode("ascii", "replace")
        posted = dict(parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="replace"))
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        ordno = query.get("ordno", "")
        if posted.get("reCnclType") == "1":
            return _page(start_response, "200 OK", "결제 취소",
                         f'<p id="status" data-status="cancelled">결제를 취소했습니다. '
                         f'주문번호 {_e(ordno)}</p>')
        try:
            result = fetch_result(recv_post_url, posted.get("reCommConId", ""))
        except (OSError, results.ResultError) as exc:
            return _page(start_response, "502 Bad Gateway", "결과 조회 실패",
                         f'<p id="status" data-status="error">결제 결과를 받지 못했습니다: '
                         f'{_e(str(exc))}</p>')
        expected = lookup(environ.get("PATH_INFO", ""), ordno)
        problems = results.verify(result, ordno, expected if expected is not None else -1)
        if expected is None:
            problems.append(f"no order {ordno!r} is expected here")
        return _page(start_response, "200 OK", "결제 결과", _result_html(result, problems))

    return app


def _e(text: object) -> str:
    return html.escape(str(text))


def _result_html(result: results.PaymentResult, problems: list[str]) -> str:
    if problems and result.approved:
        status, headline = "mismatch", "결제 결과가 주문과 맞지 않습니다. 주문을 처리하지 마세요."
    elif not result.approved:
        status, headline = "refused", "결제가 거절되었습니다."
    elif result.method == "virtual_account":
        status, headline = "issued", "가상계좌가 발급되었습니다. 입금하면 주문이 완료됩니다."
    else:
        status, headline = "approved", "결제가 완료되었습니다."
    rows = [("method", "결제수단", result.method_label), ("order", "주문번호", result.order_number),
            ("amount", "금액", f"{result.amount:,}원" if result.amount is not None else ""),
            ("transaction", "거래번호", result.transaction),
            ("approval", "승인번호", result.approval_number),
            ("refusal", "거절 코드", result.refusal_code),
            ("message", "메시지", f"{result.message1} {result.message2}".strip()),
            ("issuer", "발급사", result.issuer_name), ("acquirer", "매입사", result.acquirer_name),
            ("bank", "입금 은행", result.bank.name_today if result.bank else ""),
            ("account", "가상계좌", result.virtual_account),
            ("installment", "할부", "일시불" if result.installment_months == 0 else
             f"{result.installment_months}개월" if result.installment_months else "")]
    items = "".join(f'<dt>{label}</dt><dd id="{key}">{_e(value)}</dd>'
                    for key, label, value in rows if value)
    checks = "".join(f"<li>{_e(p)}</li>" for p in problems)
    return (f'<p id="status" data-status="{status}">{_e(headline)}</p><dl>{items}</dl>'
            + (f'<ul id="problems">{checks}</ul>' if checks else ""))


def _page(start_response: StartResponse, status: str, title: str, body: str) -> list[bytes]:
    page = ('<!doctype html><html lang="ko"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title></head><body><main><h1>{_e(title)}</h1>{body}"
            "</main></body></html>").encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(page))),
                            ("Content-Security-Policy", "default-src 'none'")])
    return [page]
