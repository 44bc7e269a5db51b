"""The whole payment on 127.0.0.1: order page -> sandbox window -> sndReply (the payments
service) -> recv_post (the sandbox) -> the stored payment and the customer's result page.

An HTTP client stands in for the browser (the browser tests drive the real page); it
posts exactly what the order page's form holds, as the page script completes it.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Iterator
from urllib.parse import urlencode

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT, SITES
from generator import kspay, results
from generator.devserver.server import DevServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    sites = tmp_path_factory.mktemp("sandbox") / "sites"
    shutil.copytree(SITES, sites)
    dev = DevServer(sites, port=0, use_sandbox=True, log=lambda line: None)
    dev.start()
    yield dev
    dev.stop()


def fetch(url: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as rsp:
            return rsp.status, rsp.headers.get("Content-Type", ""), rsp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def page(body: bytes) -> BeautifulSoup:
    return BeautifulSoup(body.decode("utf-8"), "html.parser")


def post_form(form: BeautifulSoup, values: dict[str, str], encoding: str = "utf-8") -> tuple[int, str, bytes]:
    fields = [(i["name"], values.get(i["name"], i.get("value", ""))) for i in form.find_all("input")
              if i.get("name")]
    return fetch(form["action"], urlencode(fields, encoding=encoding).encode("ascii"),
                 "application/x-www-form-urlencoded")


# What a customer types for goods that ship (the page sends the phone without hyphens).
ADDRESS = {"ECH_NAME": "김받는", "ECH_TEL": "01012345678", "ECH_ZIP": "63535",
           "ECH_ADDR": "제주특별자치도 서귀포시 남원읍 한라로 1", "ECH_ADDR2": "감귤창고 2층",
           "ECH_MEMO": "부재 시 문 앞에 놓아 주세요"}


def pay(server: DevServer, path: str, name: str = "김토끼",
        **order: str) -> tuple[BeautifulSoup, str]:
    """Open the order page and tap Pay: the sandbox window's page and the order number.
    `order` sets ECH_* inputs (quantity, address) as the page script would post them."""
    status, _, body = fetch(server.base + path)
    assert status == 200
    form = page(body).find("form", id="pay-form")
    prefix = form["data-order-prefix"]
    order_number = prefix + time.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"
    address = ADDRESS if form.find("input", attrs={"name": "ECH_NAME"}) else {}
    values = {"sndOrdername": name, "sndEmail": "kspay@carrot.do.kr", "sndMobile": "01609879999",
              "sndOrdernumber": order_number,
              "sndReply": kspay.reply_with_order(form["data-reply"], order_number),
              **address, **order}
    order = order_number
    encoding = "cp949" if form.get("accept-charset") else "utf-8"
    status, _, body = post_form(form, values, encoding)
    assert status == 200, body.decode("utf-8")
    return page(body), order




def choose(server: DevServer, window: BeautifulSoup, outcome: str, **choice: str) -> BeautifulSoup:
    """Pick the outcome in the sandbox window; returns the page that posts back to sndReply."""
    form = window.find("form", class_="decide")
    values = {"session": form.find("input", attrs={"name": "session"})["value"], "outcome": outcome,
              **choice}
    status, _, body = fetch(server.base + form["action"], urlencode(values).encode(),
                            "application/x-www-form-urlencoded")
    assert status == 200
    return page(body)


def follow(returned: BeautifulSoup) -> tuple[dict[str, str], BeautifulSoup]:
    """Post the sandbox's callback to sndReply (as its script does); the result page."""
    form = returned.find("form", id="return-form")
    assert form["accept-charset"] == ["EUC-KR"]  # as KSPay posts, whatever the page's charset
    posted = {i["name"]: i["value"] for i in form.find_all("input")}
    status, _, body = post_form(form, {}, "cp949")
    assert status == 200, body.decode("utf-8")
    return posted, page(body)


def shown(result: BeautifulSoup) -> dict[str, str]:
    return {dd["id"]: dd.get_text() for dd in result.select(".receipt dd")}


def test_card_isp_approval_end_to_end(server: DevServer) -> None:
    window, order = pay(server, "/kspay-test/carrot-10kg/")
    assert window.find(id="problems") is None
    assert window.find(id="goods").get_text() == "당근10kg"
    assert window.find(id="buyer").get_text() == "김토끼"
    returned = choose(server, window, "isp", isp_issuer="01", halbu="0")
    posted, result = follow(returned)
    assert set(posted) == {"reCommConId", "reCommType", "reHash", "reCnclType", "ECHA", "ECHB", "ECHC"}
    assert (posted["reCommType"], posted["reCnclType"]) == ("WH", "0")
    assert (posted["ECHA"], posted["ECHB"], posted["ECHC"]) == ("추가파라미터A", "추가파라미터B", "추가파라미터C")
    assert returned.find("form", id="return-form")["action"] == (
        f"{server.base}/kspay/result?site=kspay-test&product=carrot-10kg&ordno={order}")
    assert result.find(id="status")["data-status"] == "approved"
    values = shown(result)
    assert values == {"product": "당근10kg", "order": order, "amount": "1,003원",
                      "method": "신용카드", "approval": values["approval"], "installment": "일시불",
                      "paid-at": values["paid-at"]}
    assert re.fullmatch(r"[0-9]{8}", values["approval"])
    stored = server.payments.payments.store.find(order)
    assert (stored.state, stored.amount, stored.expected_amount, stored.issuer) == (
        "approved", 1003, 1003, "BC카드")
    assert stored.echo_values == {"ECHA": "추가파라미터A", "ECHB": "추가파라미터B", "ECHC": "추가파라미터C"}
    assert re.fullmatch(r"I[0-9]{11}", stored.transaction_number)
    assert server.sandbox.calls(posted["reCommConId"]) == [("1", "1003"), ("3", "1003")]
    assert stored.confirmed_at is not None


def test_mpi_with_installments_on_the_euc_kr_window(server: DevServer) -> None:
    window, order = pay(server, "/book-academy/python-course/", name="이몽룡")
    assert window.find(id="buyer").get_text() == "이몽룡"  # EUC-KR bytes survived
    assert window.find(id="goods").get_text() == "파이썬 입문 12주 과정"
    issuers = [o["value"] for o in window.find("select", id="mpi_issuer").find_all("option")]
    assert issuers == ["04", "05"]  # sndShowcard M(04,05)
    assert window.find("select", id="isp_issuer") is None
    months = [o["value"] for o in window.find("select", id="halbu").find_all("option")]
    assert months == ["0", "2", "3", "6", "10", "12"]
    posted, result = follow(choose(server, window, "mpi", mpi_issuer="04", halbu="6"))
    values = shown(result)
    assert (values["installment"], values["amount"]) == ("6개월", "240,000원")
    assert result.find(id="status")["data-status"] == "approved"
    assert server.payments.payments.store.find(order).issuer == "삼성카드"


def test_refusal(server: DevServer) -> None:
    window, _ = pay(server, "/jeju-orchard/hallabong-5kg/android.html")
    _, result = follow(choose(server, window, "refuse", refusal_code="7003", refusal_message="한도초과"))
    assert result.find(id="status")["data-status"] == "refused"
    values = shown(result)
    assert (values["refusal"], values["message"]) == ("7003", "거절 한도초과")
    assert result.find("a", class_="pay-button")["href"] == f"{server.base}/jeju-orchard/hallabong-5kg/"


def test_virtual_account(server: DevServer) -> None:
    window, order = pay(server, "/jeju-orchard/tangerine-10kg/")
    banks = {o["value"]: o.get_text() for o in window.find("select", id="bank").find_all("option")}
    assert banks["26"] == "26 신한은행"
    _, result = follow(choose(server, window, "virtual_account", bank="26"))
    assert result.find(id="status")["data-status"] == "issued"
    values = shown(result)
    assert values["bank"] == "신한은행"
    assert re.fullmatch(r"26[0-9]{12}", values["account"])
    assert values["method"] == "가상계좌"
    assert server.payments.payments.store.find(order).state == "issued"


def test_mobile(server: DevServer) -> None:
    window, _ = pay(server, "/jeju-orchard/hallabong-10kg/ios.html")
    _, result = follow(choose(server, window, "mobile"))
    assert result.find(id="status")["data-status"] == "approved"
    assert shown(result)["method"] == "휴대폰"


def test_cancel_posts_cncl_type_one(server: DevServer) -> None:
    window, order = pay(server, "/kspay-test/carrot-10kg/")
    posted, result = follow(choose(server, window, "cancel"))
    assert posted["reCnclType"] == "1"
    assert result.find(id="status")["data-status"] == "cancelled"
    assert shown(result)["order"] == order
    assert server.sandbox.calls(posted["reCommConId"]) == []  # a cancel calls no recv_post
    assert server.payments.payments.store.find(order).state == "cancelled"


def raw_window_post(server: DevServer, **overrides: str) -> BeautifulSoup:
    fields = {"sndPaymethod": "1000000000", "sndStoreid": "2999199999", "sndCurrencytype": "WON",
              "sndOrdernumber": "KSPay_1", "sndAllregid": "", "sndInstallmenttype": "0",
              "sndInteresttype": "NONE", "sndShowcard": "I,M", "sndGoodname": "당근10kg",
              "sndAmount": "1003", "sndOrdername": "김토끼", "sndReply": "https://a.kr/r?ordno=KSPay_1",
              "sndStoreName": "케이에스페이(주)", "sndRtApp": "", "sndCharSet": "utf-8"}
    fields.update(overrides)
    status, _, body = fetch(server.base + "/__sandbox/KSPayPWeb.jsp",
                            urlencode({k: v for k, v in fields.items() if v is not None}).encode(),
                            "application/x-www-form-urlencoded")
    return page(body)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sndGoodname": "제주 한라봉 선물세트 특대과 5kg 한정"},
     "상품명(sndGoodname)이(가) 36바이트입니다. 최대 30바이트(EUC-KR)입니다."),
    ({"sndGoodname": "당근'10kg"}, "상품명(sndGoodname)에 쓸 수 없는 특수문자가 있습니다: '"),
    ({"sndAmount": "999"}, "신용카드는 1,000원 이상부터 결제할 수 있습니다. 금액: 999원"),
    ({"sndInstallmenttype": "0:2:3"},
     "할부는 50,000원 이상부터입니다. 금액 1,003원에 할부 개월 '0:2:3'이(가) 설정되어 있습니다."),
    ({"sndPaymethod": "10000"},
     "결제수단설정(sndPaymethod) 값 '10000'이(가) 형식에 맞지 않습니다. 허용: 0 또는 1, 10자리"),
    ({"sndPaymethod": "1001000000"},
     "결제수단설정(sndPaymethod) 1001000000: 스마트폰 결제창은 신용카드(1번째), 가상계좌(2번째), "
     "휴대폰(6번째)만 받습니다."),
    ({"sndReply": ""}, "sndReply(결과페이지)가 없으면 결과 페이지가 호출되지 않아 결제가 되지 않습니다."),
])
def test_window_shows_what_kspay_would_refuse(server: DevServer, overrides: dict[str, str],
                                              message: str) -> None:
    window = raw_window_post(server, **overrides)
    assert [li.get_text() for li in window.find(id="problems").find_all("li")] == [message]
    outcomes = [i["value"] for i in window.find_all("input", attrs={"name": "outcome"})]
    assert outcomes == ["cancel"]


def test_recv_post_answers_in_the_requested_order(server: DevServer) -> None:
    window, order = pay(server, "/kspay-test/carrot-10kg/")
    posted, _ = follow(choose(server, window, "isp", isp_issuer="02", halbu="0"))
    body = urlencode({"sndCommConId": posted["reCommConId"], "sndActionType": "1",
                      "sndStoreid": "2999199999", "sndAmount": "1003",
                      "sndRpyParams": "ordno`authyn`msg1`amt"}).encode()
    status, content_type, raw = fetch(server.base + "/__sandbox/store/KSPayMobileV1.4/web_host/recv_post.jsp",
                                      body, "application/x-www-form-urlencoded")
    assert (status, content_type) == (200, "text/plain; charset=euc-kr")
    assert raw == b"sandbox`" + order.ljust(50).encode() + b"`O`" + "정상승인".encode("cp949") \
        + b" " * 8 + b"`1003     "
    assert results.decode_reply(raw, ["ordno", "authyn", "msg1", "amt"]) == {
        "ordno": order, "authyn": "O", "msg1": "정상승인", "amt": "1003"}


def test_showcard_c_shows_every_isp_and_mpi_card(server: DevServer) -> None:
    from generator.reference import load_reference

    cards = load_reference().cards
    window = raw_window_post(server, sndShowcard="C")
    assert window.find(id="problems") is None
    isp = [o["value"] for o in window.find("select", id="isp_issuer").find_all("option")]
    mpi = [o["value"] for o in window.find("select", id="mpi_issuer").find_all("option")]
    assert isp == [c.code2 for c in cards if c.isp]
    assert mpi == [c.code2 for c in cards if c.mpi]


def test_rtapp_android_as_the_guides_part_2_writes_it(server: DevServer) -> None:
    for rtapp in ("Android", "android"):
        window = raw_window_post(server, sndRtApp=rtapp)
        assert window.find(id="problems") is None, rtapp


def test_virtual_account_banks_open_accounts_and_carry_no_installments(server: DevServer) -> None:
    window, order = pay(server, "/jeju-orchard/tangerine-10kg/")
    options = window.find("select", id="bank").find_all("option")
    codes = [o["value"] for o in options]
    # The first option is the one a tester who changes nothing gets.
    assert codes[0] == "02"
    assert not {"01", "08", "76"} & set(codes)  # 한국은행, 수출입은행, 신용보증기금
    # The window's form also carries the card's installment select: a browser posts it
    # whatever outcome is picked.
    _, result = follow(choose(server, window, "virtual_account", bank="04", halbu="0"))
    assert result.find(id="status")["data-status"] == "issued"
    assert "installment" not in shown(result)
    assert "할부" not in result.get_text()
    stored = server.payments.payments.store.find(order)
    assert (stored.bank_name, stored.installment_months) == ("국민은행", None)


# --- quantity, shipping and the address: the order travels in ECH* fields --------------

def test_quantity_and_address_travel_in_echo_fields_into_the_export(server: DevServer) -> None:
    # Two bags of 32,000 won: 64,000 of goods, free shipping from 50,000, and installments.
    window, order = pay(server, "/jeju-orchard/tangerine-10kg/", ECH_QTY="2", ECH_SHIP="0",
                        sndAmount="64000", sndInstallmenttype="0:2:3:4:5:6",
                        sndInteresttype="2:3")
    assert window.find(id="problems") is None
    posted, result = follow(choose(server, window, "isp", isp_issuer="01", halbu="3"))
    assert {k: posted[k] for k in ADDRESS} == ADDRESS  # in EUC-KR on the wire, as KSPay posts
    assert result.find(id="status")["data-status"] == "approved"
    stored = server.payments.payments.store.find(order)
    assert (stored.state, stored.expected_amount, stored.amount) == ("approved", 64000, 64000)
    assert stored.echo_values == {"ECHA": "app-store", "ECH_QTY": "2", "ECH_SHIP": "0", **ADDRESS}
    assert server.sandbox.calls(posted["reCommConId"]) == [("1", "64000"), ("3", "64000")]
    exported = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "payments", "export", "--db",
         str(server.payments.payments.store.engine.url), "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True)
    [row] = [r for r in json.loads(exported.stdout) if r["order_number"] == order]
    assert (row["expected_amount"], row["echo"]["ECH_QTY"], row["echo"]["ECH_ADDR"],
            row["echo"]["ECH_MEMO"]) == (64000, "2", "제주특별자치도 서귀포시 남원읍 한라로 1",
                                         "부재 시 문 앞에 놓아 주세요")


def test_a_total_edited_below_the_quantity_is_never_paid(server: DevServer) -> None:
    # Two bags, but the amount of one (the customer edited the form): the window charges
    # 35,000; the service expects 64,000 from the file and asks recv_post for that.
    window, order = pay(server, "/jeju-orchard/tangerine-10kg/", ECH_QTY="2", ECH_SHIP="3000",
                        sndAmount="35000")
    posted, result = follow(choose(server, window, "isp", isp_issuer="01", halbu="0"))
    stored = server.payments.payments.store.find(order)
    assert (stored.state, stored.expected_amount, stored.paid) == ("refused", 64000, False)
    assert server.sandbox.calls(posted["reCommConId"]) == [("1", "64000"), ("3", "64000")]
    assert result.find(id="status")["data-status"] == "refused"


@pytest.mark.parametrize(("quantity", "why"), [
    ("6", "ECH_QTY '6' is not a quantity of jeju-orchard/tangerine-10kg: 1 to 5"),
    ("0", "ECH_QTY '0' is not a quantity of jeju-orchard/tangerine-10kg: 1 to 5"),
    ("２", "ECH_QTY '２' is not a quantity of jeju-orchard/tangerine-10kg: 1 to 5"),
])
def test_a_quantity_the_page_cannot_make_is_refused_and_nothing_stored(
        server: DevServer, quantity: str, why: str) -> None:
    window, order = pay(server, "/jeju-orchard/tangerine-10kg/", ECH_QTY=quantity)
    returned = choose(server, window, "isp", isp_issuer="01", halbu="0")
    form = returned.find("form", id="return-form")
    status, _, body = post_form(form, {}, "cp949")
    assert (status, body.decode("utf-8")) == (400, f"주문 정보가 잘못되었습니다.\n{why}\n")
    assert server.payments.payments.store.find(order) is None


def test_an_address_missing_for_goods_that_ship_is_refused(server: DevServer) -> None:
    window, order = pay(server, "/jeju-orchard/hallabong-5kg/", ECH_ZIP="")
    returned = choose(server, window, "isp", isp_issuer="01", halbu="0")
    status, _, body = post_form(returned.find("form", id="return-form"), {}, "cp949")
    assert (status, body.decode("utf-8")) == (400, "주문 정보가 잘못되었습니다.\nECH_ZIP: is required\n")
    assert server.payments.payments.store.find(order) is None
