"""KSPay form-field rules and encoders: the one place they are written down.

Everything else reads this module: the config validator, the order page's input
attributes, the page script (through `customer_rules()`, embedded as JSON) and the
parameters reference page. The rules come from KSNET's smartphone guide (Part 2 and
Part 3 of chapter 2); where the guide is silent, `Field.source` says where a rule
came from instead.

Patterns are written in the common subset of Python `re` and JavaScript `RegExp`
syntax so that the page script can run the very same expressions.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

ENCODING = "cp949"  # KSNET and the card companies work in EUC-KR (CP949) bytes.

INSTALLMENT_MIN_AMOUNT = 50_000  # won; below this only lump sum (guide, chapter 3)
CARD_MIN_AMOUNT = 1_000  # won; the card window refuses less (guide, chapter 3)
MAX_INSTALLMENT_MONTHS = 36
ORDER_PREFIX_PATTERN = "[A-Za-z0-9]{1,10}"
ORDER_PREFIX_MAX = 10
# prefix + YYYYMMDDHHMMSS + random digits: the page fills up to ORDER_NUMBER_MAX bytes.
ORDER_TIMESTAMP_DIGITS = 14
ORDER_RANDOM_DIGITS = 6
ECHO_NAME_PATTERN = "ECH[A-Z]"
VIRTUAL_ACCOUNT_DAYS_MAX = 30  # ours: a deposit window longer than a month helps no one
VIRTUAL_ACCOUNT_CLOSES = "235959"  # sndVirExpTm: the deadline day's last second
SLUG_PATTERN = "[a-z0-9]+(-[a-z0-9]+)*"
# What a URL may hold after its host: no space, quote, angle bracket, backtick, backslash
# (browsers read it as /) or control character. `url_problem` then reads the URL with
# urllib's parser: a real host and port.
URL_PATTERN = (r"https?://[A-Za-z0-9._-]+(:[0-9]{1,5})?"
               r"([/?#][^\s\"'<>`\\\u0000-\u001f\u007f]*)?")
# An app's URL scheme, then printable ASCII only: the card apps open it to return.
APP_SCHEME_PATTERN = r"[A-Za-z][A-Za-z0-9+.-]*://[!#-&(-;=?-\[\]-_a-~]*"
# http is accepted only for a test on one's own machine (the dev server): anywhere else
# the payment result would travel in the clear.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
_HOST_LABEL = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_ASCII_NUMBER = "[0-9]+"
# Characters the page never lets through in free text: C0 controls and DEL.
NO_CONTROLS = "[^\\u0000-\\u001f\\u007f]*"

# Position (1-based) of each method's "1" in the ten-digit sndPaymethod string.
PAYMETHOD_POSITIONS: dict[str, int] = {"card": 1, "virtual_account": 2, "mobile": 6}
PAYMETHOD_LABELS: dict[str, str] = {"card": "신용카드", "virtual_account": "가상계좌", "mobile": "휴대폰"}
GOOD_TYPES: dict[str, str] = {"physical": "1", "digital": "2"}
ANDROID_RTAPP = "android"


@dataclass(frozen=True)
class Window:
    """One KSPay payment window: where the form posts and how it is encoded."""

    name: str
    action: str
    accept_charset: str | None  # None: the page's own UTF-8
    charset_field: str | None  # value of the hidden sndCharSet, None: not sent
    recv_post: str  # where the merchant's server completes the payment (KSNET's web-host samples)


KSPAY_HOST = "kspay.ksnet.to"
WINDOWS: dict[str, Window] = {
    "v1.4": Window(
        "v1.4", f"https://{KSPAY_HOST}/store/KSPayMobileV1.4/KSPayPWeb.jsp", None, "utf-8",
        f"https://{KSPAY_HOST}/store/KSPayMobileV1.4/web_host/recv_post.jsp",
    ),
    "mb2": Window("mb2", f"https://{KSPAY_HOST}/store/mb2/KSPayPWeb.jsp", "EUC-KR", None,
                  f"https://{KSPAY_HOST}/store/mb2/web_host/recv_post.jsp"),
}


@dataclass(frozen=True)
class Field:
    """One input of the form posted to the KSPay window."""

    name: str
    label: str  # the guide's Korean name
    meaning: str
    required: bool
    max_bytes: int | None  # EUC-KR bytes; None where the guide gives no limit
    pattern: str | None  # full-match pattern, Python and JavaScript alike
    allowed: str  # the pattern in words, in Korean (the parameters page, the sandbox)
    example: str
    set_by: str  # the config key, "customer", "page script" or "fixed"
    forbidden: str = ""  # characters refused even where the pattern allows them
    encodable: bool = True  # must encode in EUC-KR
    source: str = "guide"
    hint: str = ""  # what to do when the pattern does not match
    empty_ok: bool = False  # required to be sent, yet empty is a valid value (sndRtApp)
    url: bool = False  # an http(s) URL: `url_problem` reads it after the pattern


def _f(*args: object, **kwargs: object) -> Field:
    return Field(*args, **kwargs)  # type: ignore[arg-type]


FIELDS: tuple[Field, ...] = (
    _f("sndPaymethod", "결제수단설정", "Payment methods offered: ten 0/1 digits; card is "
       "position 1, virtual account 2, mobile 6.", True, 10, "[01]{10}", "0 또는 1, 10자리",
       "1000000000", "paymethods", hint="must be ten digits 0 or 1"),
    _f("sndStoreid", "상점아이디", "Store id issued by KSNET (2999199999 is the test store).",
       True, 10, "[0-9]{10}", "숫자 10자리", "2999199999", "store.id",
       hint="must be exactly 10 digits"),
    _f("sndCurrencytype", "화폐단위", "Currency: won, written WON or 410.", True, 3, "WON|410",
       "WON 또는 410", "WON", "currency", hint="must be WON or 410"),
    _f("sndOrdernumber", "주문번호", "Order number, unique per payment; made by the page when "
       "the customer taps Pay.", True, 30, "[A-Za-z0-9_]{1,30}", "영문, 숫자, _",
       "KSPAY20261128093000123456", "order_prefix (page script)",
       hint="may hold only A-Z, a-z, 0-9 and _"),
    _f("sndAllregid", "주민번호", "Resident registration number; never collected, sent empty.",
       False, 13, "", "항상 빈 값", "", "fixed",
       source="guide (optional); always empty under Korean privacy law", hint="must be empty"),
    _f("sndInstallmenttype", "일반할부개월수", "Installment months offered, joined by ':'; 0 is "
       "lump sum. Only 0 below 50,000 won.", True, 30, "[0-9]{1,2}(:[0-9]{1,2})*",
       "개월 수(0~36)를 :로 연결", "0:2:3:4:5:6:7:8:9:10:11:12", "installments",
       hint="must be months joined by ':'"),
    _f("sndInteresttype", "무이자할부개월수", "Interest-free months paid by the merchant: NONE, "
       "ALL, or months joined by ':' among those offered.", True, 30,
       "NONE|ALL|[0-9]{1,2}(:[0-9]{1,2})*", "NONE, ALL 또는 개월 수를 :로 연결", "3:4:5:6",
       "interest_free", hint="must be NONE, ALL or months joined by ':'"),
    _f("sndShowcard", "카드표시", "Card authentication shown: I = ISP, M = MPI, M(04,05) = MPI "
       "for those 2-digit card codes only.", False, None,
       r"(I|M|M\([0-9]{2}(,[0-9]{2})*\))(,(I|M|M\([0-9]{2}(,[0-9]{2})*\)))*",
       "I, M 또는 M(카드사 코드)를 ,로 연결", "I,M", "show_cards", hint="must be like I,M or M(04,05)"),
    _f("sndGoodname", "상품명", "Goods name; the card approval fails above 30 bytes.", True, 30,
       NO_CONTROLS, "EUC-KR 문자 (' \" ` ~ 제외)", "당근10kg", "products[].name",
       forbidden="'\"`~", hint="must not contain control characters"),
    _f("sndAmount", "가격", "Amount in won; cards need at least 1,000.", True, 9, "[1-9][0-9]{0,8}",
       "숫자 1~9자리", "1003", "products[].amount", hint="must be a whole number of won"),
    _f("sndOrdername", "성명", "Customer's name.", True, 20, NO_CONTROLS, "EUC-KR 문자",
       "김토끼", "customer", hint="must not contain control characters"),
    _f("sndEmail", "전자우편", "Customer's e-mail; KSPay mails the receipt (card, transfer).",
       False, 50, r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
       "이메일 주소", "kspay@carrot.do.kr", "customer",
       hint="must be an e-mail address such as name@example.kr"),
    _f("sndMobile", "이동전화", "Customer's mobile number, digits only (the page removes "
       "hyphens and spaces).", False, 20, "[0-9]{1,20}", "숫자만", "01609879999",
       "customer", hint="must hold digits only"),
    _f("sndReply", "결과페이지", "Full URL of the merchant's result page; the page adds "
       "ordno=<order number> to its query.", True, None, URL_PATTERN, "http(s):// 주소",
       "https://shop.example.kr/kspay/result", "reply_url",
       hint="must be an absolute http:// or https:// URL", url=True),
    _f("sndEscrow", "에스크로설정", "Escrow: 0 off, 1 on.", False, 1, "[01]", "0 or 1", "0",
       "escrow", hint="must be 0 or 1"),
    _f("sndVirExpDt", "가상계좌 입금기한일", "Virtual account deadline date: the page sets it "
       "to the pay date plus virtual_account_days; empty (KSNET's default) when that is not "
       "set.", False, 8, "([0-9]{8})?", "YYYYMMDD 또는 빈 값", "20261203",
       "virtual_account_days (page script)", source="KSNET's mobile sample",
       hint="must be YYYYMMDD"),
    _f("sndVirExpTm", "가상계좌 입금기한시간", "Virtual account deadline time: 235959 with "
       "sndVirExpDt, else empty.", False, 6, "([0-9]{6})?", "HHMMSS 또는 빈 값", "235959",
       "virtual_account_days (page script)", source="KSNET's mobile sample",
       hint="must be HHMMSS"),
    _f("sndStoreName", "회사명(한글)", "Store name shown in the card company's window.", True,
       20, NO_CONTROLS, "EUC-KR 문자", "케이에스페이(주)", "store.name",
       hint="must not contain control characters"),
    _f("sndStoreNameEng", "회사명(영문)", "Store name in English.", False, 20, "[ -~]*",
       "영문 (인쇄 가능한 ASCII)", "kspay_test_store", "store.name_en",
       hint="must be printable ASCII (English letters, digits, punctuation)"),
    _f("sndStoreDomain", "회사도메인", "Store domain with http:// or https://.", False, None,
       URL_PATTERN, "http(s):// 주소", "http://www.kspay_test.co.kr", "store.domain",
       hint="must start with http:// or https://", url=True),
    _f("sndGoodType", "상품구분", "Mobile payment goods type: 1 physical, 2 digital.", False, 1,
       "[12]?", "1, 2 또는 빈 값", "1", "good_type", hint="must be 1 or 2"),
    _f("sndUseBonusPoint", "포인트사용", "Card bonus points; sent empty (KSNET's sample).",
       False, None, "", "항상 빈 값", "", "fixed", source="KSNET's mobile sample",
       hint="must be empty"),
    _f("sndRtApp", "앱 URL Scheme", "Where the ISP/MPI card apps return: empty on mobile web, "
       "android in an Android app, the app's URL scheme in an iOS app.", True, None,
       "(android|" + APP_SCHEME_PATTERN + ")?", "빈 값, android 또는 scheme://", "kspaysample://",
       "apps", hint="must be empty, android or an app URL scheme such as myapp://",
       empty_ok=True),
    _f("sndStoreCeoName", "대표자명", "Store CEO's name (KakaoPay in the V1.4 window).", False,
       20, NO_CONTROLS, "EUC-KR 문자", "홍길동", "store.ceo_name",
       source="KSNET's V1.4 sample; the 20-byte limit is ours",
       hint="must not contain control characters"),
    _f("sndStorePhoneNo", "상점 전화번호", "Store phone number, digits only.", False, 20,
       "[0-9]{0,20}", "숫자만", "0215446030", "store.phone",
       source="KSNET's V1.4 sample; the limit is ours", hint="must hold digits only"),
    _f("sndStoreAddress", "상점 주소", "Store address.", False, 100, NO_CONTROLS, "EUC-KR 문자",
       "서울시 강남구 삼성동", "store.address",
       source="KSNET's V1.4 sample; the limit is ours", hint="must not contain control characters"),
    _f("sndCharSet", "문자셋", "Encoding of the posted values; utf-8 for the V1.4 window, absent "
       "on mb2 (EUC-KR).", False, None, "utf-8", "utf-8", "utf-8", "window",
       source="KSNET's V1.4 sample", hint="must be utf-8"),
    _f("ECH*", "추가파라미터", "Merchant pass-through values, posted back to sndReply as sent.",
       False, None, NO_CONTROLS, "EUC-KR 문자", "branch-01", "echo",
       hint="must not contain control characters"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
MAX_AMOUNT = 10 ** (FIELD_BY_NAME["sndAmount"].max_bytes or 9) - 1  # 9 digits of won
_compiled = functools.cache(re.compile)
CUSTOMER_FIELDS = ("sndOrdername", "sndEmail", "sndMobile")
# Removed from the mobile number before it is checked: the guide wants digits only.
MOBILE_STRIP = "[- ]"
# Trimmed from both ends of customer text. An explicit class: Python's \s and JavaScript's
# \s differ, and both sides must agree on every string.
TRIM = "^[ \\t\\r\\n]+|[ \\t\\r\\n]+$"


# --- EUC-KR helpers ---------------------------------------------------------------

def unencodable(text: str) -> list[str]:
    """Characters of `text` that EUC-KR (CP949) cannot encode, in order, without repeats."""
    if text.isascii():
        return []
    try:
        text.encode(ENCODING)
        return []
    except UnicodeEncodeError:
        pass
    bad: list[str] = []
    for char in text:
        if not char.isascii() and char not in bad:
            try:
                char.encode(ENCODING)
            except UnicodeEncodeError:
                bad.append(char)
    return bad


def euckr_len(text: str) -> int:
    """Bytes of `text` in EUC-KR; a character it cannot encode counts 2, as the page does."""
    if text.isascii():
        return len(text)
    return sum(1 if char.isascii() else 2 for char in text)


def describe_char(char: str) -> str:
    return f"{char!r} (U+{ord(char):04X})"


# --- rules --------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a value is refused, in a form both languages can be written from."""

    kind: Literal["required", "unencodable", "forbidden", "too_long", "pattern", "url"]
    field: Field
    value: str
    chars: tuple[str, ...] = ()
    size: int = 0
    detail: tuple[str, str] = ("", "")  # kind "url": what is wrong, in English and Korean

    def english(self) -> str:
        rule = self.field
        if self.kind == "required":
            return "is required"
        if self.kind == "unencodable":
            return f"{', '.join(describe_char(c) for c in self.chars)} cannot be encoded in EUC-KR"
        if self.kind == "forbidden":
            return f"must not contain {' '.join(self.chars)} (KSPay refuses {' '.join(rule.forbidden)})"
        if self.kind == "too_long":
            return f"{self.size} bytes in EUC-KR, the limit is {rule.max_bytes}"
        if self.kind == "url":
            return f"{self.detail[0]}, got {self.value!r}"
        return f"{rule.hint}, got {self.value!r}"

    def korean(self) -> str:
        rule = self.field
        name = f"{rule.label}({rule.name})"
        if self.kind == "required":
            return f"{name} 값이 없습니다."
        if self.kind == "unencodable":
            return f"{name}에 EUC-KR로 쓸 수 없는 문자가 있습니다: {' '.join(self.chars)}"
        if self.kind == "forbidden":
            return f"{name}에 쓸 수 없는 특수문자가 있습니다: {' '.join(self.chars)}"
        if self.kind == "too_long":
            return f"{name}이(가) {self.size}바이트입니다. 최대 {rule.max_bytes}바이트(EUC-KR)입니다."
        if self.kind == "url":
            return f"{name} 값 '{self.value}': {self.detail[1]}"
        return f"{name} 값 '{self.value}'이(가) 형식에 맞지 않습니다. 허용: {rule.allowed}"


def check(field_name: str, value: str) -> Problem | None:
    """The first rule `value` breaks for the KSPay field, or None.

    The order matters and the page script follows it: required, encodable,
    forbidden characters, byte length, pattern.
    """
    rule = FIELD_BY_NAME[field_name]
    if value == "":
        return Problem("required", rule, value) if rule.required and not rule.empty_ok else None
    if rule.encodable:
        bad = unencodable(value)
        if bad:
            return Problem("unencodable", rule, value, chars=tuple(bad))
    found = tuple(c for c in rule.forbidden if c in value)
    if found:
        return Problem("forbidden", rule, value, chars=found)
    if rule.max_bytes is not None:
        size = euckr_len(value)
        if size > rule.max_bytes:
            return Problem("too_long", rule, value, size=size)
    if rule.pattern is not None and _compiled(rule.pattern).fullmatch(value) is None:
        return Problem("pattern", rule, value)
    if rule.url and (detail := url_problem(value)) is not None:
        return Problem("url", rule, value, detail=detail)
    return None


def url_problem(url: str) -> tuple[str, str] | None:
    """What urllib's parser finds wrong with a URL that matches URL_PATTERN: a port out of
    range, a host that is no host name or IPv4 address; (English, Korean), or None."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # out of 0..65535
        port = 0
    if port == 0:
        written = parts.netloc.rpartition(":")[2]
        return (f"port {written} is not a port (1 to 65535)",
                f"포트 {written}은(는) 쓸 수 없습니다 (1~65535).")
    host = parts.netloc.partition(":")[0]
    labels = host.split(".")
    numeric = _compiled(_ASCII_NUMBER).fullmatch(labels[-1]) is not None
    if len(host) > 253 or not all(_compiled(_HOST_LABEL).fullmatch(label) for label in labels) \
            or numeric and not _ipv4(labels):
        return (f"{host!r} is not a host name (labels of letters, digits, - and _ joined by "
                "dots) or an IPv4 address",
                f"호스트 '{host}'이(가) 도메인 이름이나 IPv4 주소가 아닙니다.")
    return None


def _ipv4(labels: list[str]) -> bool:
    """Four numbers 0 to 255 without leading zeros (browsers read 010 as octal)."""
    return len(labels) == 4 and all(
        _compiled("0|[1-9][0-9]{0,2}").fullmatch(n) and int(n) <= 255 for n in labels)


def insecure_url(url: str) -> bool:
    """An http:// URL to another machine than this one (LOCAL_HOSTS)."""
    parts = urlsplit(url)
    return parts.scheme.lower() != "https" and (parts.hostname or "") not in LOCAL_HOSTS


def whole_number(text: str) -> int | None:
    """`text` as a number when it is at most 18 ASCII digits: str.isdigit() also takes
    '²', which int() refuses, int() reads '١٢' (Arabic-Indic digits) and refuses more
    than 4,300 digits; no field holds a number of more than 18."""
    if len(text) > 18 or _compiled(_ASCII_NUMBER).fullmatch(text) is None:
        return None
    return int(text)


def problems(field_name: str, value: str) -> list[str]:
    """Why `value` is not acceptable for the KSPay field, as messages for merchants."""
    found = check(field_name, value)
    return [found.english()] if found else []


def normalize_customer(field_name: str, value: str) -> str:
    """What the page sends for a customer's input: trimmed, mobile without - and spaces."""
    value = re.sub(TRIM, "", value)
    if field_name == "sndMobile":
        value = re.sub(MOBILE_STRIP, "", value)
    return value


def customer_rules() -> dict[str, object]:
    """The rules the page script needs, as JSON-ready data (one source: FIELDS)."""
    fields = {}
    for name in CUSTOMER_FIELDS:
        rule = FIELD_BY_NAME[name]
        fields[name] = {
            "required": rule.required,
            "maxBytes": rule.max_bytes,
            "pattern": rule.pattern,
            "forbidden": rule.forbidden,
        }
    return {
        "fields": fields,
        "trim": TRIM,
        "mobileStrip": MOBILE_STRIP,
        "orderNumber": {
            "maxBytes": FIELD_BY_NAME["sndOrdernumber"].max_bytes,
            "timestampDigits": ORDER_TIMESTAMP_DIGITS,
            "randomDigits": ORDER_RANDOM_DIGITS,
        },
        "virtualAccountCloses": VIRTUAL_ACCOUNT_CLOSES,
        "replyOrder": REPLY_ORDER,
    }


def order_number_pattern(prefix: str) -> str:
    return re.escape(prefix) + f"[0-9]{{{ORDER_TIMESTAMP_DIGITS + ORDER_RANDOM_DIGITS}}}"


def order_time(order_number: str, prefix: str) -> datetime | None:
    """When the page made the order number (the phone's clock, as it was sent)."""
    stamp = order_number[len(prefix):len(prefix) + ORDER_TIMESTAMP_DIGITS]
    try:
        return datetime.strptime(stamp, "%Y%m%d%H%M%S")
    except ValueError:
        return None


def deposit_deadline(paid_at: datetime, days: int) -> tuple[str, str]:
    """sndVirExpDt and sndVirExpTm: the end of the day `days` after the order, as the
    page script writes them at the moment it makes the order number."""
    return (paid_at + timedelta(days=days)).strftime("%Y%m%d"), VIRTUAL_ACCOUNT_CLOSES


# --- encoders -----------------------------------------------------------------------

def paymethod_bits(methods: Iterable[str]) -> str:
    """`["card", "mobile"]` -> `"1000010000"`."""
    bits = ["0"] * 10
    for method in methods:
        bits[PAYMETHOD_POSITIONS[method] - 1] = "1"
    return "".join(bits)


def offers_installments(amount: int) -> bool:
    return amount >= INSTALLMENT_MIN_AMOUNT


def installment_string(months: Iterable[int], amount: int) -> str:
    """`[0, 2, 3]` -> `"0:2:3"`; only `"0"` below 50,000 won."""
    if not offers_installments(amount):
        return "0"
    return ":".join(str(m) for m in sorted(set(months)))


def interest_string(interest_free: str | list[int], amount: int) -> str:
    """`"none"` -> NONE, `"all"` -> ALL, `[3, 4]` -> `"3:4"`; NONE below 50,000 won."""
    if not offers_installments(amount) or interest_free == "none":
        return "NONE"
    if interest_free == "all":
        return "ALL"
    return ":".join(str(m) for m in sorted(set(interest_free)))


def showcard_string(isp: bool, mpi: bool | list[str]) -> str:
    """`(True, True)` -> `"I,M"`; `(False, ["04", "05"])` -> `"M(04,05)"`."""
    parts = []
    if isp:
        parts.append("I")
    if mpi is True:
        parts.append("M")
    elif isinstance(mpi, list) and mpi:
        parts.append(f"M({','.join(mpi)})")
    return ",".join(parts)


def _add_query(url: str, pairs: str) -> str:
    """`pairs` (already encoded) appended to the URL's query, before any fragment."""
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        joiner = ""
    return f"{base}{joiner}{pairs}{hash_mark}{fragment}"


def reply_with_order(reply_url: str, order_number: str) -> str:
    """sndReply with `ordno` added to the query, before any fragment (as the page does)."""
    return _add_query(reply_url, f"{REPLY_ORDER}={order_number}")


def reply_for_product(reply_url: str, site_slug: str, product_slug: str) -> str:
    """The sndReply an order page starts from: which merchant and product it sells, so
    that the payments service finds the expected amount in that merchant's file. Slugs
    need no escaping (SLUG_PATTERN)."""
    return _add_query(reply_url, f"{REPLY_SITE}={site_slug}&{REPLY_PRODUCT}={product_slug}")


# --- the result post and recv_post (the payments service and the sandbox) ------------

# What the page puts on sndReply's query: KSPay posts back no order number of its own.
REPLY_SITE, REPLY_PRODUCT, REPLY_ORDER = "site", "product", "ordno"
# What KSPay posts to sndReply (KSNET's web-host samples): nothing else is taken.
RESULT_POST_FIELDS = ("reCommConId", "reCommType", "reHash", "reCnclType")
# reCommConId: KSNET's key of the payment. Its format is not documented; this admits
# every id the samples show and nothing that needs escaping in a URL or a page.
CONN_ID_MAX = 64
CONN_ID_PATTERN = f"[A-Za-z0-9_.-]{{1,{CONN_ID_MAX}}}"
RESULT_CANCELLED = "1"  # reCnclType: the customer closed the window
RESULT_POST_MAX_BYTES = 64 * 1024
# sndActionType: 1 completes the payment and returns its result (repeatable until 3),
# 3 tells KSNET the merchant has stored it (KSNET's mobile web-host sample).
ACTION_COMPLETE, ACTION_CONFIRM = "1", "3"


# --- rules that tie two values together: the config and the posted form both use them --

def months_not_offered(interest_free: Iterable[int], offered: Iterable[int]) -> list[int]:
    """Interest-free months that are not among the installment months offered."""
    offered = set(offered)
    return [m for m in interest_free if m not in offered]


def good_type_missing(methods: Iterable[str], good_type: object) -> bool:
    """Mobile payment needs the goods type (physical or digital)."""
    return "mobile" in methods and not good_type


def below_card_minimum(methods: Iterable[str], amount: int) -> bool:
    return "card" in methods and amount < CARD_MIN_AMOUNT


def config_problems(config: object, line_of: Callable[[tuple[str | int, ...]], int]
                    ) -> list[tuple[tuple[str | int, ...], str]]:
    """The merchant config's rules that tie two keys together, each reported at the key
    that must change; `line_of` tells where a key was written."""
    c: Any = config
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(c.interest_free, list):
        missing = months_not_offered(c.interest_free, c.installments)
        found += [(("interest_free", i), f"month {month} is not offered in installments "
                   f"{sorted(set(c.installments))}")
                  for i, month in enumerate(c.interest_free) if month in missing]
    if good_type_missing(c.paymethods, c.good_type is not None):
        found.append((("paymethods",), "good_type (physical or digital) is required when "
                      "mobile is offered"))
    if c.virtual_account_days is not None and "virtual_account" not in c.paymethods:
        found.append((("virtual_account_days",), "is set, but paymethods does not offer "
                      "virtual_account"))
    if "card" in c.paymethods and not (c.show_cards.isp or c.show_cards.mpi):
        found.append((("show_cards",), "at least one of isp and mpi must be on for card payments"))
    for method in sorted(m for m in set(c.paymethods) if c.paymethods.count(m) > 1):
        found.append((("paymethods",), f"{method} is listed twice"))
    first_slug: dict[str, int] = {}
    for i, product in enumerate(c.products):
        if product.slug in first_slug:
            line = line_of(("products", first_slug[product.slug], "slug"))
            found.append((("products", i, "slug"), f"duplicate product slug {product.slug!r} "
                          f"(first at line {line})"))
        first_slug.setdefault(product.slug, i)
        if below_card_minimum(c.paymethods, product.amount):
            found.append((("products", i, "amount"), f"{product.amount} won is below the card "
                          f"minimum of {CARD_MIN_AMOUNT:,} won"))
    return found


# --- the whole form ----------------------------------------------------------------

@dataclass(frozen=True)
class FormProblem:
    """A rule that ties two fields of a posted form together."""

    english_text: str
    korean_text: str

    def english(self) -> str:
        return self.english_text

    def korean(self) -> str:
        return self.korean_text


def _months_of(text: str) -> list[int]:
    return [m for m in map(whole_number, text.split(":")) if m is not None]


def form_problems(fields: dict[str, str]) -> list[Problem | FormProblem]:
    """Everything the KSPay window would refuse in a posted form, field rules first.

    The local sandbox window shows these; the build runs them over every order form
    it renders, as a last guard behind the config's own checks.
    """
    found: list[Problem | FormProblem] = []
    for rule in FIELDS:
        if rule.name in ("ECH*", "sndCharSet"):
            continue
        value = fields.get(rule.name)
        if rule.name == "sndReply" and not value:
            continue  # said below, in the guide's words
        if value is None:
            if rule.required:
                found.append(FormProblem(f"{rule.name} is missing",
                                         f"{rule.label}({rule.name}) 항목이 없습니다."))
            continue
        problem = check(rule.name, value)
        if problem is not None:
            found.append(problem)
    for name, value in fields.items():
        if name.startswith("ECH") and (problem := check("ECH*", value)) is not None:
            found.append(problem)
    reply = fields.get("sndReply", "")
    if not reply:
        found.append(FormProblem(
            "without sndReply KSPay cannot call the result page and the payment fails",
            "sndReply(결과페이지)가 없으면 결과 페이지가 호출되지 않아 결제가 되지 않습니다."))
    elif check("sndReply", reply) is None and insecure_url(reply):
        found.append(FormProblem(
            "sndReply must be https:// (http only for localhost and 127.0.0.1): the payment "
            "result would travel in the clear",
            "sndReply(결과페이지)는 https:// 주소여야 합니다 (http는 localhost, 127.0.0.1만)."))
    bits = fields.get("sndPaymethod", "")
    methods = {m for m, pos in PAYMETHOD_POSITIONS.items() if bits[pos - 1:pos] == "1"}
    if re.fullmatch("[01]{10}", bits):
        others = [i + 1 for i, b in enumerate(bits) if b == "1"
                  and i + 1 not in PAYMETHOD_POSITIONS.values()]
        if others:
            found.append(FormProblem(
                f"sndPaymethod {bits} sets position(s) {others}; the smartphone window takes "
                "only card (1), virtual account (2) and mobile (6)",
                f"결제수단설정(sndPaymethod) {bits}: 스마트폰 결제창은 신용카드(1번째), "
                "가상계좌(2번째), 휴대폰(6번째)만 받습니다."))
        elif not methods:
            found.append(FormProblem("sndPaymethod offers no payment method",
                                     "결제수단설정(sndPaymethod)에 결제수단이 하나도 없습니다."))
    amount_text = fields.get("sndAmount", "")
    amount = whole_number(amount_text)
    if amount is not None and below_card_minimum(methods, amount):
        found.append(FormProblem(
            f"{amount} won is below the card minimum of {CARD_MIN_AMOUNT:,} won",
            f"신용카드는 {CARD_MIN_AMOUNT:,}원 이상부터 결제할 수 있습니다. 금액: {amount:,}원"))
    installments = fields.get("sndInstallmenttype", "")
    offered = _months_of(installments)
    if amount is not None and not offers_installments(amount) and any(offered):
        found.append(FormProblem(
            f"installments {installments!r} offered on {amount} won; installments start at "
            f"{INSTALLMENT_MIN_AMOUNT:,} won",
            f"할부는 {INSTALLMENT_MIN_AMOUNT:,}원 이상부터입니다. 금액 {amount:,}원에 "
            f"할부 개월 '{installments}'이(가) 설정되어 있습니다."))
    interest = fields.get("sndInteresttype", "")
    missing = months_not_offered(_months_of(interest), offered)
    if interest not in ("NONE", "ALL") and missing:
        found.append(FormProblem(
            f"interest-free months {missing} are not among the installments {installments!r}",
            f"무이자 개월 {missing}이(가) 할부 개월 '{installments}'에 없습니다."))
    if good_type_missing(methods, fields.get("sndGoodType")):
        found.append(FormProblem(
            "mobile payment needs sndGoodType (1 physical, 2 digital)",
            "휴대폰 결제에는 상품구분(sndGoodType: 1 실물, 2 디지털)이 필요합니다."))
    return found
