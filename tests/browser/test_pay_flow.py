"""The pay flow in Chromium at a phone's size: fill in, tap Pay, and the POST that
reaches the KSPay window (answered by the test, never sent)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest

from generator import kspay

from .conftest import Phone, Posted
from .helpers import ADDRESS, fill_customer, merchant, page_form, tap_pay, urlencode_form

pytestmark = pytest.mark.browser

KST = ZoneInfo("Asia/Seoul")  # the browser contexts run in Asia/Seoul
V14 = "https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp"
MB2 = "https://kspay.ksnet.to/store/mb2/KSPayPWeb.jsp"
FORM_TYPE = "application/x-www-form-urlencoded"

NAME, EMAIL, MOBILE = "김토끼", "kspay@carrot.do.kr", "010-1234-5678"


def pay(phone: Phone, path: str, name: str = NAME, email: str = EMAIL,
        mobile: str = MOBILE) -> tuple[Posted, datetime, datetime]:
    """Open the order page, fill it in, tap Pay; the one request the window got."""
    page = phone.open(path)
    fill_customer(page, name, email, mobile)
    before = datetime.now(KST).replace(microsecond=0)
    tap_pay(page)
    page.wait_for_url(re.compile(r"^https://kspay\.ksnet\.to/"))
    after = datetime.now(KST)
    assert len(phone.posted) == 1
    assert phone.blocked == []
    return phone.posted[0], before, after


def check_order_number(order: str, prefix: str, before: datetime, after: datetime) -> None:
    assert re.fullmatch(kspay.order_number_pattern(prefix), order), order
    assert len(order.encode(kspay.ENCODING)) <= 30
    assert re.fullmatch(kspay.FIELD_BY_NAME["sndOrdernumber"].pattern or "", order)
    stamp = datetime.strptime(order[len(prefix):len(prefix) + 14], "%Y%m%d%H%M%S")
    assert before <= stamp.replace(tzinfo=KST) <= after, (before, stamp, after)


def expected_body(hidden: list[tuple[str, str]], order: str, site: dict,
                  name: str, email: str, mobile: str) -> list[tuple[str, str]]:
    """What the page posts: the built hidden fields, with the order number, sndReply's
    ordno and (virtual_account_days) the deposit deadline filled in at pay time."""
    reply = dict(hidden)["sndReply"]  # the reply URL with site= and product= (build time)
    filled = {"sndOrdernumber": order, "sndReply": f"{reply}&ordno={order}"}
    days = site.get("virtual_account_days")
    if days:
        made = datetime.strptime(order[len(site["order_prefix"]):][:14], "%Y%m%d%H%M%S")
        filled["sndVirExpDt"] = (made + timedelta(days=days)).strftime("%Y%m%d")
        filled["sndVirExpTm"] = "235959"
    fields = [(k, filled.get(k, v)) for k, v in hidden]
    # The visible inputs, in the page's order: the quantity (a product sold by more than
    # one), the customer, and the address where the goods ship (ECH_SHIP is sent).
    product = next(p for p in site["products"] if p["name"] == dict(hidden)["sndGoodname"])
    quantity = [("ECH_QTY", "1")] if product.get("max_quantity", 1) > 1 else []
    address = [(k, v.replace("-", "")) for k, v in ADDRESS.items()] \
        if "ECH_SHIP" in dict(hidden) else []
    return fields + quantity + [("sndOrdername", name), ("sndEmail", email),
                                ("sndMobile", mobile)] + address


def check_post(phone: Phone, path: str, url: str, encoding: str, site: dict,
               hidden: list[tuple[str, str]]) -> tuple[Posted, list[tuple[str, str]]]:
    """Tap Pay on `path`; the POST that reached `url`, field by field and byte for byte."""
    posted, before, after = pay(phone, path)
    assert posted.method == "POST"
    assert posted.url == url
    assert posted.headers["content-type"] == FORM_TYPE
    fields = parse_qsl(posted.body.decode("ascii"), keep_blank_values=True,
                       strict_parsing=True, encoding=encoding, errors="strict")
    order = dict(fields)["sndOrdernumber"]
    check_order_number(order, site["order_prefix"], before, after)
    expected = expected_body(hidden, order, site, NAME, EMAIL, "01012345678")
    assert fields == expected
    assert posted.body == urlencode_form(expected, encoding)
    return posted, fields


@pytest.mark.parametrize("path", [
    "kspay-test/carrot-10kg/index.html",
    "jeju-orchard/hallabong-5kg/index.html",
    "jeju-orchard/tangerine-10kg/index.html",
])
def test_v14_window_gets_every_field_in_utf8(phone: Phone, built: Path, path: str) -> None:
    slug = path.split("/")[0]
    site = merchant(slug)
    attrs, hidden = page_form(built, path)
    assert attrs["action"] == V14

    posted, fields = check_post(phone, path, V14, "utf-8", site, hidden)
    values = dict(fields)
    order = values["sndOrdernumber"]
    assert values["sndCharSet"] == "utf-8"
    assert values["sndMobile"] == "01012345678"
    assert values["sndOrdername"] == "김토끼"
    reply = urlsplit(values["sndReply"])
    assert parse_qs(reply.query)["ordno"] == [order]
    product = path.split("/")[1]
    joiner = "&" if "?" in site["reply_url"] else "?"
    assert values["sndReply"] == (
        f"{site['reply_url']}{joiner}site={slug}&product={product}&ordno={order}")
    # The goods name as UTF-8 bytes, percent-encoded.
    goods = dict(hidden)["sndGoodname"]
    assert b"&sndGoodname=" + urlencode_form([("", goods)], "utf-8")[1:] + b"&" in posted.body


def test_v14_reply_url_with_a_query_gets_ordno_appended(phone: Phone, built: Path) -> None:
    posted, before, after = pay(phone, "jeju-orchard/hallabong-10kg/index.html")
    values = dict(parse_qsl(posted.body.decode("ascii"), keep_blank_values=True))
    order = values["sndOrdernumber"]
    check_order_number(order, "JEJU", before, after)
    assert values["sndReply"] == ("https://jeju-orchard.example.kr/kspay/result?from=pages"
                                  f"&site=jeju-orchard&product=hallabong-10kg&ordno={order}")
    # The virtual account's deadline: three days after the order number's date, 23:59:59.
    made = datetime.strptime(order[4:12], "%Y%m%d")
    assert (values["sndVirExpDt"], values["sndVirExpTm"]) == (
        (made + timedelta(days=3)).strftime("%Y%m%d"), "235959")
    assert values["ECHA"] == "app-store"
    assert values["sndRtApp"] == ""


def test_customer_input_is_trimmed_and_mobile_loses_hyphens_and_spaces(
        phone: Phone, built: Path) -> None:
    posted, _, _ = pay(phone, "kspay-test/carrot-10kg/index.html",
                       name="  Kim Tokki\t", email=" kspay@carrot.do.kr ", mobile=" 010 1234-5678 ")
    values = dict(parse_qsl(posted.body.decode("ascii"), keep_blank_values=True))
    assert (values["sndOrdername"], values["sndEmail"], values["sndMobile"]) == (
        "Kim Tokki", "kspay@carrot.do.kr", "01012345678")


def test_optional_fields_may_stay_empty(phone: Phone, built: Path) -> None:
    posted, _, _ = pay(phone, "kspay-test/carrot-10kg/index.html", email="", mobile="")
    fields = parse_qsl(posted.body.decode("ascii"), keep_blank_values=True)
    assert fields[-3:] == [("sndOrdername", "김토끼"), ("sndEmail", ""), ("sndMobile", "")]


@pytest.mark.parametrize("path", [
    "book-academy/python-course/index.html",
    "book-academy/sql-ebook/index.html",
])
def test_mb2_window_gets_euc_kr_bytes(phone: Phone, built: Path, path: str) -> None:
    site = merchant("book-academy")
    attrs, hidden = page_form(built, path)
    assert attrs["action"] == MB2
    assert attrs["accept-charset"] == "EUC-KR"

    posted, fields = check_post(phone, path, MB2, "cp949", site, hidden)
    assert "sndCharSet" not in dict(fields)
    # The raw bytes, written out: EUC-KR, not UTF-8.
    assert b"&sndOrdername=%B1%E8%C5%E4%B3%A2&" in posted.body  # 김토끼
    assert b"&sndStoreName=%C7%D1%BA%FB%BF%C2%B6%F3%C0%CE%BE%C6%C4%AB%B5%A5%B9%CC&" in posted.body
    assert b"&sndShowcard=M%2804%2C05%29&" in posted.body
    assert b"%EA%B9%80" not in posted.body  # 김 in UTF-8


def test_mb2_goods_name_bytes(phone: Phone, built: Path) -> None:
    posted, _, _ = pay(phone, "book-academy/python-course/index.html")
    # 파이썬 입문 12주 과정 in EUC-KR, percent-encoded, spaces as +.
    assert (b"&sndGoodname=%C6%C4%C0%CC%BD%E3+%C0%D4%B9%AE+12%C1%D6+%B0%FA%C1%A4&"
            in posted.body)
    assert b"&sndAmount=240000&" in posted.body


@pytest.mark.parametrize(("variant", "rtapp"), [
    ("index.html", ""), ("android.html", "android"), ("ios.html", "jejuorchard://"),
])
def test_app_variants_post_their_sndrtapp(phone: Phone, built: Path, variant: str,
                                          rtapp: str) -> None:
    path = f"jeju-orchard/hallabong-5kg/{variant}"
    _, hidden = page_form(built, path)
    posted, before, after = pay(phone, path)
    fields = parse_qsl(posted.body.decode("ascii"), keep_blank_values=True,
                       strict_parsing=True, encoding="utf-8", errors="strict")
    values = dict(fields)
    assert values["sndRtApp"] == rtapp
    order = values["sndOrdernumber"]
    check_order_number(order, "JEJU", before, after)
    assert fields == expected_body(hidden, order, merchant("jeju-orchard"),
                                   NAME, EMAIL, "01012345678")
