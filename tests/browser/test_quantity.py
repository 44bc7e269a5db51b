"""Quantity, shipping and the address in Chromium at 360 px: the totals the page shows
and posts as the quantity crosses 50,000 won, and the address rules' messages."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest

from .conftest import Phone
from .helpers import ADDRESS, fill_customer, tap_pay

pytestmark = pytest.mark.browser

# 노지 감귤 10kg: 32,000 won, up to 5; shipping 3,000 won, free from 50,000 of goods.
PATH = "jeju-orchard/tangerine-10kg/index.html"
WINDOW = re.compile(r"^https://kspay\.ksnet\.to/")


def shown(page) -> dict[str, object]:
    return page.evaluate("""() => {
        const form = document.getElementById("pay-form");
        const visible = [...document.querySelectorAll("[data-when]")].filter((v) => !v.hidden);
        return {
            goods: document.getElementById("goods-total").textContent,
            shipping: document.getElementById("shipping-fee").textContent,
            total: document.getElementById("order-total").textContent,
            button: form.querySelector("button[type=submit]").textContent,
            sndAmount: form.elements.sndAmount.value,
            ship: form.elements.ECH_SHIP.value,
            installments: form.elements.sndInstallmenttype.value,
            interest: form.elements.sndInteresttype.value,
            terms: visible.map((v) => [...v.querySelectorAll("dt")].map(
                (dt) => dt.textContent + ": " + dt.nextElementSibling.textContent).join("; ")),
        };
    }""")


BELOW = {"goods": "32,000원", "shipping": "3,000원", "total": "35,000원",
         "button": "35,000원 결제하기", "sndAmount": "35000", "ship": "3000",
         "installments": "0", "interest": "NONE",
         "terms": ["할부: 일시불 (50,000원 이상부터 할부)"]}
TWO = {"goods": "64,000원", "shipping": "무료", "total": "64,000원",
       "button": "64,000원 결제하기", "sndAmount": "64000", "ship": "0",
       "installments": "0:2:3:4:5:6", "interest": "2:3",
       "terms": ["할부: 일시불, 2, 3, 4, 5, 6개월; 무이자: 2·3개월 무이자"]}


def test_the_total_follows_the_quantity_across_fifty_thousand_won(phone: Phone) -> None:
    page = phone.open(PATH)
    assert shown(page) == BELOW
    page.locator("button[data-step='1']").tap()
    assert page.input_value("#ECH_QTY") == "2"
    assert shown(page) == TWO
    page.locator("button[data-step='-1']").tap()
    assert shown(page) == BELOW
    page.locator("button[data-step='-1']").tap()  # never below 1
    assert page.input_value("#ECH_QTY") == "1"
    page.fill("#ECH_QTY", "5")  # typed, as a keyboard user does
    assert shown(page)["total"] == "160,000원"
    for _ in range(3):
        page.locator("button[data-step='1']").tap()  # never above 5
    assert page.input_value("#ECH_QTY") == "5"


def test_two_bags_post_the_total_and_the_quantity(phone: Phone) -> None:
    page = phone.open(PATH)
    page.locator("button[data-step='1']").tap()
    fill_customer(page, "김토끼", "kspay@carrot.do.kr", "010-1234-5678")
    tap_pay(page)
    page.wait_for_url(WINDOW)
    [posted] = phone.posted
    fields = dict(parse_qsl(posted.body.decode("ascii"), keep_blank_values=True))
    assert (fields["sndAmount"], fields["ECH_QTY"], fields["ECH_SHIP"],
            fields["sndInstallmenttype"], fields["sndInteresttype"]) == (
        "64000", "2", "0", "0:2:3:4:5:6", "2:3")
    assert {k: fields[k] for k in ADDRESS} == {k: v.replace("-", "") if k == "ECH_TEL" else v
                                               for k, v in ADDRESS.items()}


@pytest.mark.parametrize(("quantity", "message"), [
    ("6", "수량은 1개부터 5개까지 고를 수 있습니다."),
    ("0", "수량은 1개부터 5개까지 고를 수 있습니다."),
    ("", "수량은 1개부터 5개까지 고를 수 있습니다."),
])
def test_a_quantity_outside_the_range_posts_nothing(phone: Phone, quantity: str,
                                                   message: str) -> None:
    page = phone.open(PATH)
    url = page.url
    fill_customer(page, "김토끼", "", "")
    page.fill("#ECH_QTY", quantity)
    tap_pay(page)
    page.wait_for_timeout(300)
    assert (page.url, phone.posted) == (url, [])
    assert page.evaluate("() => document.activeElement.id") == "ECH_QTY"
    assert page.text_content("#ECH_QTY-error") == message
    assert page.get_attribute("#ECH_QTY", "aria-invalid") == "true"


ADDRESS_CASES = {
    "no recipient": ("ECH_NAME", "", "받는 분 이름을 입력해 주세요."),
    "recipient of 22 bytes": ("ECH_NAME", "가나다라마바사아자차카",
                              "받는 분 이름이 너무 깁니다: 22바이트, 최대 20바이트입니다 "
                              "(한글 2바이트, 영문·숫자 1바이트)."),
    "short phone": ("ECH_TEL", "010-12", "연락처는 숫자 9자리 이상으로 입력해 주세요."),
    "no phone": ("ECH_TEL", "", "받는 분 연락처를 입력해 주세요."),
    "four-digit postcode": ("ECH_ZIP", "1234", "우편번호는 숫자 5자리입니다."),
    "letters in postcode": ("ECH_ZIP", "1234a", "우편번호는 숫자 5자리입니다."),
    "no address": ("ECH_ADDR", "", "주소를 입력해 주세요."),
    "emoji in the memo": ("ECH_MEMO", "문 앞에 😀", "‘😀’ 문자는 결제창에서 쓸 수 없습니다."),
}


@pytest.mark.parametrize("case", list(ADDRESS_CASES))
def test_the_address_rules_speak_korean_and_post_nothing(phone: Phone, case: str) -> None:
    field, value, message = ADDRESS_CASES[case]
    page = phone.open(PATH)
    url = page.url
    fill_customer(page, "김토끼", "", "", address={**ADDRESS, field: value})
    tap_pay(page)
    page.wait_for_timeout(300)
    assert (page.url, phone.posted) == (url, [])
    state = page.evaluate("""(name) => ({
        active: document.activeElement.id,
        message: document.getElementById(name + "-error").textContent,
        invalid: document.getElementById(name).getAttribute("aria-invalid"),
        describedBy: document.getElementById(name).getAttribute("aria-describedby"),
    })""", field)
    assert (state["active"], state["message"], state["invalid"]) == (field, message, "true")
    assert f"{field}-error" in state["describedBy"].split()
