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
# CP949 is what a browser sends for a form with accept-charset="EUC-KR" (the WHATWG
# Encoding Standard's EUC-KR is Windows-949), so byte counts use it. It has 8,822 Hangul
# syllables that KS X 1001, strict EUC-KR, lacks (똠, 샾); a server that decodes strict
# EUC-KR garbles them. Python's euc_kr codec writes those as 8-byte jamo sequences, so a
# character it encodes in exactly two bytes is in KS X 1001.
STRICT_ENCODING = "euc_kr"

INSTALLMENT_MIN_AMOUNT = 50_000  # won; below this only lump sum (guide, chapter 3)
CARD_MIN_AMOUNT = 1_000  # won; the card window refuses less (guide, chapter 3)
MAX_INSTALLMENT_MONTHS = 36
ORDER_PREFIX_PATTERN = "[A-Za-z0-9]{1,10}"
ORDER_PREFIX_MAX = 10
# prefix + YYYYMMDDHHMMSS + random digits: the page fills up to ORDER_NUMBER_MAX bytes.
ORDER_TIMESTAMP_DIGITS = 14
ORDER_RANDOM_DIGITS = 6
# ECH and letters, digits or _: KSNET's samples send ECHA, ECHSID and ECH_OrdNo.
ECHO_NAME_PATTERN = "ECH[A-Za-z0-9_]+"
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
# KSNET's test store: real cards are charged and cancelled 3-5 minutes later (guide, FAQ).
TEST_STORE_ID = "2999199999"


@dataclass(frozen=True)
class Window:
    """One KSPay payment window: where the form posts and how it is encoded."""

    name: str
    action: str
    accept_charset: str | None  # None: the page's own UTF-8
    charset_field: str | None  # value of the hidden sndCharSet, None: not sent
    recv_post: str  # where the merchant's server completes the payment (KSNET's web-host samples)
    all_cards: str  # sndShowcard for every card: KSNET's V1.4 sample sends C, the guide I,M
    # Text the merchant writes must be in KS X 1001 (strict EUC-KR) when the window reads
    # EUC-KR: see STRICT_ENCODING.
    strict_text: bool


KSPAY_HOST = "kspay.ksnet.to"
WINDOWS: dict[str, Window] = {
    "v1.4": Window(
        "v1.4", f"https://{KSPAY_HOST}/store/KSPayMobileV1.4/KSPayPWeb.jsp", None, "utf-8",
        f"https://{KSPAY_HOST}/store/KSPayMobileV1.4/web_host/recv_post.jsp", "C", False,
    ),
    "mb2": Window("mb2", f"https://{KSPAY_HOST}/store/mb2/KSPayPWeb.jsp", "EUC-KR", None,
                  f"https://{KSPAY_HOST}/store/mb2/web_host/recv_post.jsp", "I,M", True),
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
    source: str = "가이드"  # where the rule comes from, in Korean (the parameters page)
    hint: str = ""  # what to do when the pattern does not match
    empty_ok: bool = False  # required to be sent, yet empty is a valid value (sndRtApp)
    conflict: str = ""  # where KSNET's texts disagree on this field and which one we follow
    url: bool = False  # an http(s) URL: `url_problem` reads it after the pattern


def _f(*args: object, **kwargs: object) -> Field:
    return Field(*args, **kwargs)  # type: ignore[arg-type]


FIELDS: tuple[Field, ...] = (
    _f("sndPaymethod", "결제수단설정", "결제수단: 0/1 열 자리. 신용카드는 1번째, 가상계좌는 2번째, "
       "휴대폰은 6번째 자리입니다.", True, 10, "[01]{10}", "0 또는 1, 10자리",
       "1000000000", "paymethods", hint="must be ten digits 0 or 1"),
    _f("sndStoreid", "상점아이디", f"KSNET이 발급한 상점아이디 ({TEST_STORE_ID}는 테스트 상점).",
       True, 10, "[0-9]{10}", "숫자 10자리", TEST_STORE_ID, "store.id",
       hint="must be exactly 10 digits"),
    _f("sndCurrencytype", "화폐단위", "화폐단위: 원화, WON 또는 410.", True, 3, "WON|410",
       "WON 또는 410", "WON", "currency", hint="must be WON or 410"),
    _f("sndOrdernumber", "주문번호", "결제마다 다른 주문번호. 고객이 결제 버튼을 누를 때 페이지가 "
       "만듭니다.", True, 30, "[A-Za-z0-9_]{1,30}", "영문, 숫자, _",
       "KSPAY20261128093000123456", "order_prefix (page script)",
       hint="may hold only A-Z, a-z, 0-9 and _",
       conflict="가이드 2장 Part 2는 주문번호를 30Byte(한글 15자)로, 4장 Q&A는 '영문 50byte, "
       "한글 25자'로 적었고, 3장 결과 항목 표의 ordno 길이는 50입니다. 보내는 값은 Part 2의 "
       "30바이트를 따릅니다."),
    _f("sndAllregid", "주민번호", "주민등록번호. 수집하지 않고 항상 빈 값으로 보냅니다.",
       False, 13, "", "항상 빈 값", "", "fixed",
       source="가이드(옵션). 개인정보 보호법에 따라 항상 빈 값", hint="must be empty"),
    _f("sndInstallmenttype", "일반할부개월수", "고객이 고를 수 있는 할부 개월 수를 :로 연결한 값. "
       f"0은 일시불입니다. {INSTALLMENT_MIN_AMOUNT:,}원 미만 상품에는 0만 보냅니다.", True, 30,
       "[0-9]{1,2}(:[0-9]{1,2})*", f"개월 수(0~{MAX_INSTALLMENT_MONTHS})를 :로 연결",
       "0:2:3:4:5:6:7:8:9:10:11:12", "installments", hint="must be months joined by ':'",
       conflict="가이드의 샘플 주문 페이지는 금액 1,003원에 할부 0:2:3:4:5:6:7:8:9:10:11:12를 "
       f"보내지만, 3장은 할부 거래가 5만원 이상이라고 적었습니다. {INSTALLMENT_MIN_AMOUNT:,}원 "
       "미만 상품에는 0(일시불)만 보냅니다."),
    _f("sndInteresttype", "무이자할부개월수", "가맹점이 할부 수수료를 부담하는 무이자 개월: NONE, "
       "ALL 또는 할부 개월 중 일부를 :로 연결한 값.", True, 30,
       "NONE|ALL|[0-9]{1,2}(:[0-9]{1,2})*", "NONE, ALL 또는 개월 수를 :로 연결", "3:4:5:6",
       "interest_free", hint="must be NONE, ALL or months joined by ':'"),
    _f("sndShowcard", "카드표시", "결제창에 보일 카드 인증 방식. C = 모든 카드(KSNET V1.4 샘플), "
       "I = ISP, M = MPI(안심클릭), M(04,05) = 그 2자리 카드사 코드의 MPI만. V1.4 결제창은 "
       "show_cards를 쓰지 않거나 all이면 C를, mb2 결제창은 I,M을 보내고, show_cards를 쓰면 "
       "두 결제창 모두 가이드의 I,M 형식을 보냅니다.", False, None,
       r"C|(I|M|M\([0-9]{2}(,[0-9]{2})*\))(,(I|M|M\([0-9]{2}(,[0-9]{2})*\)))*",
       "C, 또는 I, M, M(카드사 코드)를 ,로 연결", "I,M", "show_cards",
       hint="must be C, or like I,M or M(04,05)",
       conflict="가이드(mb2 결제창)는 I,M과 M(04,05)만 적었고, KSNET의 V1.4 모바일 샘플은 C를 "
       "보냅니다. 두 값을 결제창에 따라 나누어 씁니다."),
    _f("sndGoodname", "상품명", "상품명. 30바이트를 넘으면 카드 승인이 되지 않습니다.", True, 30,
       NO_CONTROLS, "EUC-KR 문자 (' \" ` ~ 제외)", "당근10kg", "products[].name",
       forbidden="'\"`~", hint="must not contain control characters",
       conflict="가이드 2장 Part 3은 상품명을 30Byte(한글 15자)로, 4장 Q&A는 '영문 50byte, "
       "한글 25자'로 적었습니다. 30바이트를 넘으면 카드 승인이 되지 않는다는 Part 3을 따릅니다."),
    _f("sndAmount", "가격", f"금액(원). 신용카드는 {CARD_MIN_AMOUNT:,}원 이상입니다.", True, 9,
       "[1-9][0-9]{0,8}", "숫자 1~9자리", "1003", "products[].amount",
       hint="must be a whole number of won"),
    _f("sndOrdername", "성명", "주문자 성명.", True, 20, NO_CONTROLS, "EUC-KR 문자",
       "김토끼", "customer", hint="must not contain control characters"),
    _f("sndEmail", "전자우편", "주문자 이메일. KSPay가 결제 내역을 메일로 보냅니다(신용카드, "
       "계좌이체).", False, 50,
       r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
       "이메일 주소", "kspay@carrot.do.kr", "customer",
       hint="must be an e-mail address such as name@example.kr"),
    _f("sndMobile", "이동전화", "주문자 휴대폰 번호, 숫자만 (페이지가 -와 공백을 빼고 보냅니다).",
       False, 20, "[0-9]{1,20}", "숫자만", "01609879999",
       "customer", hint="must hold digits only"),
    _f("sndReply", "결과페이지", "가맹점 결과 페이지의 전체 주소. 페이지가 쿼리에 "
       "ordno=<주문번호>를 붙입니다.", True, None, URL_PATTERN, "http(s):// 주소",
       "https://shop.example.kr/kspay/result", "reply_url",
       hint="must be an absolute http:// or https:// URL", url=True),
    _f("sndEscrow", "에스크로설정", "에스크로: 0 적용 안 함, 1 적용.", False, 1, "[01]", "0 또는 1",
       "0", "escrow", hint="must be 0 or 1"),
    _f("sndVirExpDt", "가상계좌 입금기한일", "가상계좌 입금 기한 날짜: 주문일에 "
       "virtual_account_days를 더한 날. 설정하지 않으면 빈 값(KSNET 기본값)입니다.", False, 8,
       "([0-9]{8})?", "YYYYMMDD 또는 빈 값", "20261203",
       "virtual_account_days (page script)", source="KSNET 모바일 샘플",
       hint="must be YYYYMMDD"),
    _f("sndVirExpTm", "가상계좌 입금기한시간", "가상계좌 입금 기한 시각: sndVirExpDt와 함께 "
       f"{VIRTUAL_ACCOUNT_CLOSES}, 아니면 빈 값.", False, 6, "([0-9]{6})?", "HHMMSS 또는 빈 값",
       VIRTUAL_ACCOUNT_CLOSES, "virtual_account_days (page script)", source="KSNET 모바일 샘플",
       hint="must be HHMMSS"),
    _f("sndStoreName", "회사명(한글)", "카드사 결제창에 보이는 상점 이름.", True,
       20, NO_CONTROLS, "EUC-KR 문자", "케이에스페이(주)", "store.name",
       hint="must not contain control characters"),
    _f("sndStoreNameEng", "회사명(영문)", "영문 상점 이름.", False, 20, "[ -~]*",
       "영문 (인쇄 가능한 ASCII)", "kspay_test_store", "store.name_en",
       hint="must be printable ASCII (English letters, digits, punctuation)"),
    _f("sndStoreDomain", "회사도메인", "http:// 또는 https://를 포함한 상점 도메인.", False, None,
       URL_PATTERN, "http(s):// 주소", "http://www.kspay_test.co.kr", "store.domain",
       hint="must start with http:// or https://", url=True),
    _f("sndGoodType", "상품구분", "휴대폰 결제의 상품 구분: 1 실물, 2 디지털.", False, 1,
       "[12]?", "1, 2 또는 빈 값", "1", "good_type", hint="must be 1 or 2"),
    _f("sndUseBonusPoint", "포인트사용", "카드 포인트 사용. KSNET 샘플처럼 빈 값으로 보냅니다.",
       False, None, "", "항상 빈 값", "", "fixed", source="KSNET 모바일 샘플",
       hint="must be empty"),
    _f("sndRtApp", "앱 URL Scheme", "ISP/MPI 카드 앱이 결제 뒤 돌아올 곳: 모바일 웹은 빈 값, "
       "Android 앱은 android, iOS 앱은 그 앱의 URL scheme.", True, None,
       "(android|Android|" + APP_SCHEME_PATTERN + ")?", "빈 값, android(Android) 또는 scheme://",
       "kspaysample://", "apps",
       hint="must be empty, android or an app URL scheme such as myapp://", empty_ok=True,
       conflict="가이드 2장 Part 2는 Android 계열에 value=\"Android\"를, 같은 장의 '(4) 안드로이드 "
       "App 샘플 추가 정보'는 'android'를 반드시 쓰라고 적었습니다. 주문 페이지는 android를 "
       "보내고, 샌드박스 결제창은 Android도 받습니다."),
    _f("sndStoreCeoName", "대표자명", "대표자명 (V1.4 결제창의 카카오페이가 씁니다).", False,
       20, NO_CONTROLS, "EUC-KR 문자", "홍길동", "store.ceo_name",
       source="KSNET V1.4 샘플. 20바이트 제한은 이 프로젝트가 정함",
       hint="must not contain control characters"),
    _f("sndStorePhoneNo", "상점 전화번호", "상점 전화번호, 숫자만.", False, 20,
       "[0-9]{0,20}", "숫자만", "0215446030", "store.phone",
       source="KSNET V1.4 샘플. 길이 제한은 이 프로젝트가 정함", hint="must hold digits only"),
    _f("sndStoreAddress", "상점 주소", "상점 주소.", False, 100, NO_CONTROLS, "EUC-KR 문자",
       "서울시 강남구 삼성동", "store.address",
       source="KSNET V1.4 샘플. 길이 제한은 이 프로젝트가 정함",
       hint="must not contain control characters"),
    _f("sndCharSet", "문자셋", "보내는 값의 문자셋: V1.4 결제창은 utf-8, mb2 결제창(EUC-KR)에는 "
       "보내지 않습니다.", False, None, "utf-8", "utf-8", "utf-8", "window",
       source="KSNET V1.4 샘플", hint="must be utf-8"),
    _f("ECH*", "추가파라미터", "가맹점 추가 파라미터. 보낸 값 그대로 sndReply로 돌아옵니다. 이름은 "
       "ECH 뒤에 영문, 숫자, _ (KSNET 샘플의 ECHA, ECHSID, ECH_OrdNo).",
       False, None, NO_CONTROLS, "EUC-KR 문자", "branch-01", "echo",
       hint="must not contain control characters"),

    # The order the customer makes, carried to the merchant in echo fields (KSPay posts
    # every ECH* back to sndReply); the names are the generator's own (source "ours").
    _f("ECH_QTY", "주문 수량", "주문 수량 (products[].max_quantity가 2 이상일 때 수량 "
       "선택). 결제 서버는 이 수량으로 금액을 다시 계산합니다.", False, 3,
       "[1-9][0-9]{0,2}", "숫자 1~999", "2", "customer (products[].max_quantity)",
       source="ours", hint="must be a whole number from 1"),
    _f("ECH_SHIP", "배송비", "받은 배송비(원): shipping.fee, shipping.free_from 이상이면 "
       "0. 수량에 따라 페이지가 넣습니다.", False, 9, "[0-9]{1,9}",
       "숫자", "3000", "shipping (page script)", source="ours",
       hint="must be a whole number of won"),
    _f("ECH_NAME", "받는 분", "배송 상품을 받는 분.", True, 20, NO_CONTROLS,
       "EUC-KR 문자", "김토끼", "customer (shipping)", source="ours",
       hint="must not contain control characters"),
    _f("ECH_TEL", "받는 분 연락처", "받는 분 연락처, 숫자만 (페이지가 하이픈과 빈칸을 "
       "뺍니다).", True, 20, "[0-9]{9,20}", "숫자 9자리 이상", "01012345678",
       "customer (shipping)", source="ours", hint="must hold 9 or more digits"),
    _f("ECH_ZIP", "우편번호", "우편번호: 숫자 5자리.", True, 5, "[0-9]{5}", "숫자 5자리",
       "06236", "customer (shipping)", source="ours", hint="must be 5 digits"),
    _f("ECH_ADDR", "주소", "도로명 또는 지번 주소.", True, 100, NO_CONTROLS, "EUC-KR 문자",
       "서울특별시 강남구 테헤란로 1", "customer (shipping)", source="ours",
       hint="must not contain control characters"),
    _f("ECH_ADDR2", "상세 주소", "동, 층, 호수.", False, 100, NO_CONTROLS,
       "EUC-KR 문자", "101동 202호", "customer (shipping)", source="ours",
       hint="must not contain control characters"),
    _f("ECH_MEMO", "배송 메모", "배송 메모.", False, 100, NO_CONTROLS, "EUC-KR 문자",
       "문 앞에 놓아 주세요", "customer (shipping)", source="ours",
       hint="must not contain control characters"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
MAX_AMOUNT = 10 ** (FIELD_BY_NAME["sndAmount"].max_bytes or 9) - 1  # 9 digits of won
_compiled = functools.cache(re.compile)
CUSTOMER_FIELDS = ("sndOrdername", "sndEmail", "sndMobile")
# Asked for goods that ship, in this order; posted as echo fields.
SHIPPING_FIELDS = ("ECH_NAME", "ECH_TEL", "ECH_ZIP", "ECH_ADDR", "ECH_ADDR2",
                   "ECH_MEMO")
ECH_QUANTITY, ECH_SHIPPING_FEE = "ECH_QTY", "ECH_SHIP"
ORDER_ECHO_FIELDS = (ECH_QUANTITY, ECH_SHIPPING_FEE, *SHIPPING_FIELDS)
MAX_QUANTITY = 10 ** (FIELD_BY_NAME[ECH_QUANTITY].max_bytes or 3) - 1
# Removed from phone numbers before they are checked: the guide wants digits only.
MOBILE_STRIP = "[- ]"
PHONE_FIELDS = ("sndMobile", "ECH_TEL")
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


def outside_ks_x_1001(text: str) -> list[str]:
    """Characters of `text` that CP949 encodes and strict EUC-KR (KS X 1001) does not, in
    order, without repeats (see STRICT_ENCODING)."""
    if text.isascii():
        return []
    bad: list[str] = []
    for char in text:
        if char.isascii() or char in bad:
            continue
        try:
            size = len(char.encode(STRICT_ENCODING))
        except UnicodeEncodeError:
            continue  # not even CP949: `unencodable` reports it
        if size != 2:
            bad.append(char)
    return bad


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

    @property
    def field_name(self) -> str:
        return self.field.name

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
    if field_name in PHONE_FIELDS:
        value = re.sub(MOBILE_STRIP, "", value)
    return value


def customer_rules() -> dict[str, object]:
    """The rules the page script needs, as JSON-ready data (one source: FIELDS)."""
    fields = {}
    for name in CUSTOMER_FIELDS + SHIPPING_FIELDS:
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
        "phoneFields": list(PHONE_FIELDS),
        "installmentMin": INSTALLMENT_MIN_AMOUNT,
        "lumpSum": installment_string([0], 0),
        "noInterest": interest_string("none", 0),
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


def shipping_fee(goods: int, fee: int, free_from: int | None) -> int:
    """The shipping fee on goods worth `goods` won: none from `free_from` won up."""
    return 0 if free_from is not None and goods >= free_from else fee


def order_total(unit: int, quantity: int, fee: int = 0, free_from: int | None = None) -> int:
    """sndAmount of an order: unit price x quantity, plus shipping. The page script does
    the same sum (order.js), and the payments service recomputes it from the file."""
    goods = unit * quantity
    return goods + shipping_fee(goods, fee, free_from)


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


def showcard_value(window: str, show_cards: Any) -> str:
    """sndShowcard for the config's `show_cards`: unset or `all` is every card the way
    the window takes it (`C` on V1.4, as KSNET's V1.4 sample; `I,M` on mb2, as the guide);
    `{isp, mpi}` is the guide's form on either window."""
    if show_cards is None or show_cards == "all":
        return WINDOWS[window].all_cards
    return showcard_string(show_cards.isp, show_cards.mpi)


def mpi_card_codes() -> list[str]:
    """The 2-digit codes of the card table's rows that allow MPI, in the table's order."""
    from .reference import load_reference  # the table is data: generator/reference/cards.yaml

    return [card.code2 for card in load_reference().cards if card.mpi]


def _card_names() -> dict[str, str]:
    from .reference import load_reference

    return {card.code2: card.name for card in load_reference().cards}


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
    cards = c.show_cards
    if "card" in c.paymethods and cards not in (None, "all") and not (cards.isp or cards.mpi):
        found.append((("show_cards",), "at least one of isp and mpi must be on for card payments"))
    if cards not in (None, "all") and isinstance(cards.mpi, list):
        found += _mpi_problems(cards.mpi)
    found += _joined_months_problems(c)
    if WINDOWS[c.window].strict_text:
        found += [(where, f"{', '.join(describe_char(ch) for ch in bad)} is in CP949 but not in "
                   "KS X 1001 (strict EUC-KR); the mb2 window reads EUC-KR and a strict "
                   "reader garbles it: write it another way, or use window: v1.4")
                  for where, text in _merchant_texts(c) if (bad := outside_ks_x_1001(text))]
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
        fee = c.shipping.fee if c.shipping and product.shipping else 0
        if (most := order_total(product.amount, product.max_quantity, fee)) > MAX_AMOUNT:
            found.append((("products", i, "max_quantity"), f"{product.max_quantity} x "
                          f"{product.amount:,} won{f' + {fee:,} shipping' if fee else ''} is "
                          f"{most:,} won, above KSPay's {MAX_AMOUNT:,}"))
    found += [(("echo", name), f"{name} is the generator's own echo field (the order's "
               f"{FIELD_BY_NAME[name].label}); choose another name")
              for name in c.echo if name in ORDER_ECHO_FIELDS]
    return found


def _mpi_problems(codes: list[str]) -> list[tuple[tuple[str | int, ...], str]]:
    allowed = mpi_card_codes()
    names = _card_names()
    found: list[tuple[tuple[str | int, ...], str]] = []
    for i, code in enumerate(codes):
        if code in allowed:
            continue
        what = f"{code!r} is {names[code]}, which the card table does not mark MPI" \
            if code in names else f"{code!r} is not in the card table"
        found.append((("show_cards", "mpi", i), f"{what}; the MPI cards are {', '.join(allowed)}"))
    return found


def _joined_months_problems(c: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The installment months as the form sends them from 50,000 won, held to KSPay's
    byte limit. (The interest-free months are among them without 0, so never longer.)"""
    text = installment_string(c.installments, INSTALLMENT_MIN_AMOUNT)
    if (problem := check("sndInstallmenttype", text)) is None:
        return []
    return [(("installments",), f"sent as sndInstallmenttype {text!r}: {problem.english()}; "
             "offer fewer months")]


def _merchant_texts(c: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The merchant's own text that the form posts, with the key of each."""
    store = c.store
    texts: list[tuple[tuple[str | int, ...], str]] = [
        (("store", "name"), store.name), (("store", "ceo_name"), store.ceo_name),
        (("store", "address"), store.address)]
    texts += [(("products", i, "name"), p.name) for i, p in enumerate(c.products)]
    texts += [(("echo", name), value) for name, value in c.echo.items()]
    return texts


# --- the whole form ----------------------------------------------------------------

@dataclass(frozen=True)
class FormProblem:
    """A rule that ties two fields of a posted form together."""

    field_name: str  # the KSPay field it is about
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
        if rule.name in ORDER_ECHO_FIELDS:
            continue  # echo fields to KSPay, which passes them back: checked as ECH* below
        if value is None:
            if rule.required:
                found.append(FormProblem(rule.name, f"{rule.name} is missing",
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
            "sndReply", "without sndReply KSPay cannot call the result page and the payment fails",
            "sndReply(결과페이지)가 없으면 결과 페이지가 호출되지 않아 결제가 되지 않습니다."))
    elif check("sndReply", reply) is None and insecure_url(reply):
        found.append(FormProblem(
            "sndReply", "must be https:// (http only for localhost and 127.0.0.1): the payment "
            "result would travel in the clear",
            "sndReply(결과페이지)는 https:// 주소여야 합니다 (http는 localhost, 127.0.0.1만)."))
    bits = fields.get("sndPaymethod", "")
    methods = {m for m, pos in PAYMETHOD_POSITIONS.items() if bits[pos - 1:pos] == "1"}
    if re.fullmatch("[01]{10}", bits):
        others = [i + 1 for i, b in enumerate(bits) if b == "1"
                  and i + 1 not in PAYMETHOD_POSITIONS.values()]
        if others:
            found.append(FormProblem(
                "sndPaymethod", f"sndPaymethod {bits} sets position(s) {others}; the smartphone window takes "
                "only card (1), virtual account (2) and mobile (6)",
                f"결제수단설정(sndPaymethod) {bits}: 스마트폰 결제창은 신용카드(1번째), "
                "가상계좌(2번째), 휴대폰(6번째)만 받습니다."))
        elif not methods:
            found.append(FormProblem("sndPaymethod", "sndPaymethod offers no payment method",
                                     "결제수단설정(sndPaymethod)에 결제수단이 하나도 없습니다."))
    amount_text = fields.get("sndAmount", "")
    amount = whole_number(amount_text)
    if amount is not None and below_card_minimum(methods, amount):
        found.append(FormProblem(
            "sndAmount", f"{amount} won is below the card minimum of {CARD_MIN_AMOUNT:,} won",
            f"신용카드는 {CARD_MIN_AMOUNT:,}원 이상부터 결제할 수 있습니다. 금액: {amount:,}원"))
    installments = fields.get("sndInstallmenttype", "")
    offered = _months_of(installments)
    if amount is not None and not offers_installments(amount) and any(offered):
        found.append(FormProblem(
            "sndInstallmenttype", f"installments {installments!r} offered on {amount} won; installments start at "
            f"{INSTALLMENT_MIN_AMOUNT:,} won",
            f"할부는 {INSTALLMENT_MIN_AMOUNT:,}원 이상부터입니다. 금액 {amount:,}원에 "
            f"할부 개월 '{installments}'이(가) 설정되어 있습니다."))
    interest = fields.get("sndInteresttype", "")
    missing = months_not_offered(_months_of(interest), offered)
    if interest not in ("NONE", "ALL") and missing:
        found.append(FormProblem(
            "sndInteresttype", f"interest-free months {missing} are not among the installments {installments!r}",
            f"무이자 개월 {missing}이(가) 할부 개월 '{installments}'에 없습니다."))
    if good_type_missing(methods, fields.get("sndGoodType")):
        found.append(FormProblem(
            "sndGoodType", "mobile payment needs sndGoodType (1 physical, 2 digital)",
            "휴대폰 결제에는 상품구분(sndGoodType: 1 실물, 2 디지털)이 필요합니다."))
    return found
