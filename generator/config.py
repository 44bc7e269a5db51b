"""Merchant YAML -> typed, validated site model; every error as file:line:col: key: rule.

Field rules are not written here: each value is checked by `kspay.problems` for the
KSPay field it becomes, and rules that tie keys together are `kspay.config_problems`.
"""

from __future__ import annotations

import collections
import difflib
import os
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from . import kspay, markdown_cost, markdown_safe, safety, seller, yamlload
from .yamlload import Document, Mark

SLUG_RE = re.compile(kspay.SLUG_PATTERN)
# A merchant file is a page of YAML; a file this big is a mistake (or a bomb).
MAX_FILE_BYTES = 1_000_000
# URL schemes that run code or read local files instead of opening an app.
SCRIPT_SCHEMES = ("javascript", "vbscript", "data", "file", "about", "blob")
QUOTE_MAX = 80
POLICIES_FOLDER = "policies"  # /SLUG/policies/refund/: no product may take the name


@dataclass(frozen=True)
class ConfigError:
    """A problem at a place in a merchant file: `file:line:col: key: message`."""

    file: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def quoted(value: Any) -> str:
    """repr() of a value for a message, shortened when long (a message stays one line)."""
    text = repr(value)
    if len(text) <= QUOTE_MAX:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written"
    return f"{text[:QUOTE_MAX - 20]}... ({size})"


def _kspay_rule(field_name: str) -> AfterValidator:
    def check(value: str) -> str:
        found = kspay.problems(field_name, value)
        if found:
            message = "; ".join(found).replace(repr(value), quoted(value))
            raise PydanticCustomError("kspay", message)
        return value

    return AfterValidator(check)


def _pattern_rule(pattern: str, rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if re.fullmatch(pattern, value) is None:
            raise PydanticCustomError("kspay", f"{rule}, got {quoted(value)}")
        return value

    return AfterValidator(check)


# --- the JSON Schema (`kspay-pages schema`): what an editor can check as a file is typed --
#
# The validators decide and word the errors; beside each one, the JSON Schema keywords
# that say the same, for editors. What JSON Schema cannot say is listed in
# SCHEMA_CANNOT_EXPRESS (the test holds the list to the known-bad files).

@dataclass(frozen=True, eq=False)  # hashed by identity: a type in a Union is hashed
class JsonSchema:
    """JSON Schema keywords added to a value's schema; `keys` may be a function, called
    only when a schema is made (the MPI card codes come from the card table)."""

    keys: dict[str, Any] | Callable[[], dict[str, Any]]

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        schema.update(self.keys() if callable(self.keys) else self.keys)
        return schema


def _full(pattern: str, empty_ok: bool = False) -> str:
    """A Python/JavaScript full-match pattern as a JSON Schema `pattern` (which searches)."""
    return f"^(?:{pattern}){'?' if empty_ok else ''}$"


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _field_schema(field_name: str) -> dict[str, Any]:
    """The KSPay field's rules (kspay.py) that JSON Schema can say: its pattern, its
    forbidden characters, and its byte limit as a limit on characters (never more
    characters than bytes; the bytes themselves it cannot count)."""
    rule = kspay.FIELD_BY_NAME[field_name]
    empty_ok = not rule.required or rule.empty_ok
    keys: dict[str, Any] = {}
    if not empty_ok:
        keys["minLength"] = 1
    if rule.max_bytes is not None:
        keys["maxLength"] = rule.max_bytes
    if rule.pattern:
        keys["pattern"] = _full(rule.pattern, empty_ok)
        keys["patternErrorMessage"] = rule.hint
    if rule.forbidden:
        escaped = "".join("\\" + c if c in "\\]^-" else c for c in rule.forbidden)
        keys["not"] = {"pattern": f"[{escaped}]"}
    return keys


def KspayText(field_name: str) -> Any:  # noqa: N802 (used as a type)
    """Text that becomes the KSPay field: checked by its rules in kspay.py."""
    return Annotated[str, _kspay_rule(field_name), JsonSchema(_field_schema(field_name))]


def Pattern(pattern: str, rule: str) -> Any:  # noqa: N802 (used as a type)
    """Text that must match `pattern` (Python and JavaScript alike); `rule` says how."""
    return Annotated[str, _pattern_rule(pattern, rule),
                     JsonSchema({"pattern": _full(pattern), "patternErrorMessage": rule})]


def _max(field_name: str) -> int:
    """The KSPay field's byte limit, for a key's description (kspay.py says it)."""
    return kspay.FIELD_BY_NAME[field_name].max_bytes or 0


# Limits the descriptions quote (names, not calls: annotations are read as strings).
_STORE_NAME_BYTES = _max("sndStoreName")
_STORE_NAME_EN_BYTES = _max("sndStoreNameEng")
_CEO_BYTES = _max("sndStoreCeoName")
_ADDRESS_BYTES = _max("sndStoreAddress")
_GOODS_BYTES = _max("sndGoodname")
_INSTALLMENTS_BYTES = _max("sndInstallmenttype")
_MARKDOWN_MAX = markdown_safe.MAX_MARKDOWN_CHARS


def doc(korean: str, english: str) -> Any:
    """A key's description: Korean for the merchant's editor, then English (the README's
    table shows the English)."""
    return Field(description=f"{korean}\n\n{english}")


def english_description(description: str) -> str:
    return description.rsplit("\n\n", 1)[-1]


def _months(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(type(m) is int for m in value):
        raise PydanticCustomError("kspay", "expected a list of months such as [0, 2, 3]")
    if not value:
        raise PydanticCustomError("kspay", "needs at least one month: [0] is lump sum only")
    for month in value:
        if month == 1 or not 0 <= month <= kspay.MAX_INSTALLMENT_MONTHS:
            raise PydanticCustomError(
                "kspay", f"month {month} is not an installment: use 0 (lump sum) or "
                f"2 to {kspay.MAX_INSTALLMENT_MONTHS}")
    duplicates = sorted(m for m, n in collections.Counter(value).items() if n > 1)
    if duplicates:
        raise PydanticCustomError("kspay", f"month {duplicates[0]} is listed twice")
    return value


def _interest_free(value: Any) -> str | list[int]:
    if value in ("none", "all"):
        return typing.cast(str, value)
    if value == []:
        raise PydanticCustomError("kspay", "needs at least one month; none waives no interest")
    if isinstance(value, list):
        months = _months(value)
        if 0 in months:
            raise PydanticCustomError("kspay", "0 is lump sum and has no interest to waive")
        return months
    raise PydanticCustomError(
        "kspay", f"must be none, all or a list of months such as [3, 6], got {quoted(value)}")


def _mpi(value: Any) -> bool | list[str]:
    if type(value) is bool:
        return value
    if value == []:
        raise PydanticCustomError(
            "kspay", 'an empty list shows no MPI card: write false for none, or list card '
            'codes such as ["04", "05"]')
    if isinstance(value, list) and value and all(
            isinstance(c, str) and re.fullmatch("[0-9]{2}", c) for c in value):
        return value
    raise PydanticCustomError(
        "kspay", 'must be true, false or a list of 2-digit card codes such as ["04", "05"] '
        f"(quoted), got {quoted(value)}")


_MONTH = {"type": "integer", "anyOf": [{"const": 0}, {
    "minimum": 2, "maximum": kspay.MAX_INSTALLMENT_MONTHS}]}
Months = Annotated[list[int], PlainValidator(_months), WithJsonSchema(
    {"type": "array", "items": _MONTH, "minItems": 1, "uniqueItems": True})]
InterestFree = Annotated[Any, PlainValidator(_interest_free), WithJsonSchema(
    {"anyOf": [{"enum": ["none", "all"]},
               {"type": "array", "minItems": 1, "uniqueItems": True,
                "items": {"type": "integer", "minimum": 2,
                          "maximum": kspay.MAX_INSTALLMENT_MONTHS}}]})]
MpiCards = Annotated[Any, PlainValidator(_mpi), WithJsonSchema({}), JsonSchema(lambda: {
    "anyOf": [{"type": "boolean"},
              {"type": "array", "minItems": 1,
               "items": {"type": "string", "enum": kspay.mpi_card_codes()}}]})]


def _https_only(why: str) -> AfterValidator:
    def check(value: str) -> str:
        if not kspay.insecure_url(value):
            return value
        raise PydanticCustomError(
            "kspay", f"must be https://: {why} (http is accepted only for localhost and "
            f"127.0.0.1), got {quoted(value)}")

    return AfterValidator(check)


# https://, or http:// to this machine (as _https_only).
_HTTPS_SCHEMA = JsonSchema({"allOf": [{
    "pattern": "^(?:https://|[^:/?#]*://(?:" + "|".join(_any_case(h) for h in kspay.LOCAL_HOSTS)
    + ")(?:[:/?#]|$))",
    "patternErrorMessage": "must be https:// (http only for localhost and 127.0.0.1)"}]})
_https_reply = _https_only(
    "KSPay sends the payment result to this page, over http it travels in the clear and "
    "browsers block it as mixed content from an https page")
_https_notify = _https_only("the notice carries the customer's order, over http it travels "
                            "in the clear")


def _app_scheme(value: str) -> str:
    scheme = value.split(":", 1)[0].lower()
    if scheme in SCRIPT_SCHEMES:
        raise PydanticCustomError(
            "kspay", f"{scheme}: is not an app's URL scheme (the card apps would open it), "
            f"got {quoted(value)}")
    return value


_NOT_SCRIPT_SCHEMA = JsonSchema({"not": {
    "pattern": "^(?:" + "|".join(_any_case(s) for s in SCRIPT_SCHEMES) + "):"}})


def _markdown(value: str, info: ValidationInfo) -> str:
    tally = info.context.get("markdown") if isinstance(info.context, dict) else None
    if problem := markdown_safe.markdown_problem(value, tally):
        raise PydanticCustomError("kspay", problem)
    if (html := markdown_safe.convert(value)) is None:
        raise PydanticCustomError("kspay", markdown_safe.NESTED_TOO_DEEPLY)
    return markdown_safe.MarkdownText(value, html)  # converted once: the pages take its HTML


Markdown = Annotated[str, AfterValidator(_markdown),
                     JsonSchema({"maxLength": markdown_safe.MAX_MARKDOWN_CHARS})]
Slug = Pattern(kspay.SLUG_PATTERN, "must be lower-case letters, digits and single hyphens")


def _business_number(value: str) -> str:
    if problem := seller.business_number_problem(value):
        raise PydanticCustomError("kspay", problem)
    return value


def _seller_text(what: str) -> Any:
    def check(value: str) -> str:
        if len(value) > seller.TEXT_MAX or not value.isprintable():
            raise PydanticCustomError("kspay", f"{what}: one line of at most {seller.TEXT_MAX} "
                                      f"characters, got {quoted(value)}")
        return value

    return Annotated[str, AfterValidator(check), JsonSchema({"maxLength": seller.TEXT_MAX})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Store(_Model):
    id: Annotated[KspayText("sndStoreid"), doc(
        "KSNET이 발급한 상점아이디: 숫자 10자리, 따옴표 안에 씁니다 (\"2999199999\"는 KSNET "
        "테스트 상점).", "exactly 10 digits, quoted (\"2999199999\" is KSNET's test store)")]
    name: Annotated[KspayText("sndStoreName"), doc(
        f"카드사 결제창에 보이는 상점 이름(상호): EUC-KR {_STORE_NAME_BYTES}바이트까지 "
        f"(한글 {_STORE_NAME_BYTES // 2}자).",
        f"required, at most {_STORE_NAME_BYTES} bytes in EUC-KR")]
    name_en: Annotated[KspayText("sndStoreNameEng"), doc(
        f"영문 상점 이름: 인쇄 가능한 ASCII {_STORE_NAME_EN_BYTES}자까지.",
        f"printable ASCII, at most {_STORE_NAME_EN_BYTES} bytes")] = ""
    domain: Annotated[KspayText("sndStoreDomain"), doc(
        "http:// 또는 https://로 시작하는 상점 주소.", "an http:// or https:// URL")] = ""
    ceo_name: Annotated[KspayText("sndStoreCeoName"), doc(
        f"대표자 (EUC-KR {_CEO_BYTES}바이트까지): 모든 페이지의 판매자 정보에 보이고, "
        "V1.4 결제창의 카카오페이가 씁니다.",
        f"the CEO's name, at most {_CEO_BYTES} bytes in EUC-KR: shown in every "
        "page's seller block (KakaoPay in the V1.4 window needs it too)")] = ""
    phone: Annotated[KspayText("sndStorePhoneNo"), _pattern_rule(
        seller.PHONE_PATTERN, "must be a Korean phone number, digits only, such as "
        "0212345678 or 15881234"), JsonSchema({"pattern": _full(seller.PHONE_PATTERN, True)}), doc(
        "전화번호: 숫자만, 따옴표 안에 (\"0212345678\"); 02-1234-5678처럼 보입니다.",
        "the store's phone number, digits only, quoted (\"0212345678\"), shown as "
        "02-1234-5678")] = ""
    address: Annotated[KspayText("sndStoreAddress"), doc(
        f"주소 (EUC-KR {_ADDRESS_BYTES}바이트까지).",
        f"the store's address, at most {_ADDRESS_BYTES} bytes in EUC-KR")] = ""
    business_number: Annotated[str, AfterValidator(_business_number), JsonSchema(
        {"pattern": _full(seller.BUSINESS_NUMBER_PATTERN)}), doc(
        "사업자등록번호: 10자리, 하이픈은 있어도 없어도 됩니다 (\"123-45-67891\"). 국세청 "
        "검증번호를 확인합니다.", "the business registration number: 10 digits, "
        "hyphens optional (\"123-45-67891\"), the National Tax Service's check digit verified")] = ""
    mail_order_number: Annotated[Pattern(
        seller.MAIL_ORDER_PATTERN, "must read as the office issued it, such as "
        "제2025-서울강남-01234호 (year, office, number)"), doc(
        "통신판매업 신고번호: 제2025-서울강남-01234호처럼.",
        "the mail-order business number as the office issued it "
        "(year, office, number)")] = ""
    email: Annotated[Pattern(
        kspay.FIELD_BY_NAME["sndEmail"].pattern or "",
        "must be an e-mail address such as help@shop.example.kr"), doc(
        "고객센터 전자우편 (판매자 정보에 mailto: 링크).",
        "customer service e-mail (a mailto: link in the seller block)")] = ""
    privacy_officer: Annotated[_seller_text("the officer's name (and contact)"), doc(
        f"개인정보 보호책임자: 한 줄, {seller.TEXT_MAX}자까지.",
        f"the privacy officer: one line, at most {seller.TEXT_MAX} characters")] = ""
    hosting_provider: Annotated[_seller_text("the hosting company's name"), doc(
        f"호스팅서비스 제공자: 한 줄, {seller.TEXT_MAX}자까지.",
        f"the hosting provider: one line, at most {seller.TEXT_MAX} characters")] = ""
    logo: Annotated[str, doc(
        "상점 로고: 상점 파일 옆의 JPEG, PNG, WebP 또는 GIF 파일 (그 폴더에서의 경로). 상점 "
        "페이지들과 파비콘에 보입니다.", "the store's logo: a JPEG, PNG, WebP or GIF file "
        "beside the merchant file (a path from its folder); shown on the store's pages and as "
        "their favicon")] = ""


class Policies(_Model):
    """Markdown pages under the store: /SLUG/policies/refund/ and so on."""

    refund: Annotated[Markdown, doc(
        "청약철회·교환·환불 (Markdown): 첫 문단이 모든 주문 페이지에 보입니다. 기한과 방법을 "
        "첫 문단에 쓰세요.", "the refund and return terms (Markdown); its first "
        "paragraph is shown on every order page: write the deadline and the way there")] = ""
    privacy: Annotated[Markdown, doc(
        "개인정보 수집·이용 (Markdown): 항목, 목적, 보유기간.",
        "the privacy policy (Markdown): items, purpose, retention")] = ""
    terms: Annotated[Markdown, doc("이용약관 (Markdown, 선택).",
                                   "the terms of use (Markdown, optional)")] = ""


class ShowCards(_Model):
    isp: Annotated[bool, doc("ISP 인증 카드를 보입니다 (기본 true).",
                             "show the ISP cards (default true)")] = True
    mpi: Annotated[MpiCards, doc(
        "true는 모든 MPI(안심클릭) 카드, false는 없음, 또는 카드사 코드표에서 MPI인 2자리 "
        "코드의 목록 (예: [\"04\", \"05\"]).",
        "true: every MPI card, false: none, or a list of the 2-digit codes of the card "
        "table's MPI cards, quoted, such as [\"04\", \"05\"]")] = True


def _all_cards(value: Any) -> str:
    if value != "all":
        raise PydanticCustomError(
            "kspay", "must be all or a mapping such as {isp: true, mpi: true}, "
            f"got {quoted(value)}")
    return "all"


AllCards = Annotated[str, PlainValidator(_all_cards), WithJsonSchema({"const": "all"})]
# show_cards is a word or a mapping; the tag picks which, so an error names one of them.
SHOW_CARDS_TAGS = ("all", "cards")


def _show_cards_kind(value: Any) -> str:
    return "all" if isinstance(value, str) else "cards"


class Apps(_Model):
    android: Annotated[bool, doc(
        "android.html 주문 페이지를 더 만듭니다 (Android 앱의 WebView, sndRtApp=android).",
        "adds android.html order pages for an Android app's WebView (sndRtApp=android)")] = False
    ios_scheme: Annotated[Annotated[
        Pattern(kspay.APP_SCHEME_PATTERN, "must be an app URL scheme such as myapp://"),
        AfterValidator(_app_scheme), _kspay_rule("sndRtApp"), _NOT_SCRIPT_SCHEMA] | None, doc(
            "ios.html 주문 페이지를 더 만듭니다: iOS 앱의 URL scheme (예: \"myapp://\").",
            "adds ios.html order pages for an iOS app: the app's URL scheme, such as "
            "\"myapp://\"")] = None


class Product(_Model):
    slug: Annotated[Slug, doc(
        "상품 페이지 주소: 영문 소문자, 숫자, 하이픈(-). 한 파일 안에서 겹치지 않게, policies는 "
        "쓸 수 없습니다.", "the order page's address: lower-case letters, digits and single "
        "hyphens, unique in the file, not policies")]
    name: Annotated[KspayText("sndGoodname"), doc(
        f"상품명: EUC-KR {_GOODS_BYTES}바이트까지 (한글 {_GOODS_BYTES // 2}자), "
        "' \" ` ~ 없이.", f"at most {_GOODS_BYTES} bytes in EUC-KR, without ' \" ` ~")]
    amount: Annotated[int, Field(ge=1, le=kspay.MAX_AMOUNT), doc(
        f"금액(원): 1 ~ {kspay.MAX_AMOUNT:,}. 신용카드를 받으면 {kspay.CARD_MIN_AMOUNT:,}원 이상.",
        f"in won, 1 to {kspay.MAX_AMOUNT:,}; at least {kspay.CARD_MIN_AMOUNT:,} when card is "
        "offered")]
    description: Annotated[Markdown, doc(
        f"주문 페이지에 보일 상품 설명 (Markdown, {_MARKDOWN_MAX:,}자까지). HTML은 글자 그대로 "
        f"보입니다.", f"Markdown shown on the order page, at most {_MARKDOWN_MAX:,} characters; "
        "raw HTML is shown as "
        "text")] = ""
    image: Annotated[str, doc(
        "상품 사진: 상점 파일 옆의 JPEG, PNG, WebP 또는 GIF 파일 (그 폴더에서의 경로). 720px와 "
        "1280px 너비로 게시되고, 대체 텍스트는 상품명입니다.", "a photo of the product: a JPEG, "
        "PNG, WebP or GIF file beside the merchant file (a path from its folder); published "
        "at 720 and 1280 px wide, its alt text the name")] = ""
    max_quantity: Annotated[int, Field(ge=1, le=kspay.MAX_QUANTITY), doc(
        f"한 번에 주문할 수 있는 최대 수량 (기본 1, {kspay.MAX_QUANTITY}까지): 2 이상이면 주문 "
        "페이지에 수량 선택이 생기고, 금액은 단가 x 수량 + 배송비입니다.",
        f"the most the customer may order at once (default 1, at most {kspay.MAX_QUANTITY}); "
        "above 1 the order page has a quantity stepper and posts unit price x quantity + "
        "shipping")] = 1
    shipping: Annotated[bool, doc(
        "배송하지 않는 상품(강의, 내려받기)은 false: 배송비도 주소도 받지 않습니다.",
        "false for goods that are not shipped (courses, downloads): no shipping fee and no "
        "address")] = True


class Shipping(_Model):
    fee: Annotated[int, Field(ge=0, le=kspay.MAX_AMOUNT), doc(
        "주문마다 받는 배송비(원).", "shipping fee per order, in won")] = 0
    free_from: Annotated[Annotated[int, Field(ge=1, le=kspay.MAX_AMOUNT)] | None, doc(
        "상품 금액이 이만큼(원) 이상이면 배송비 없음 (선택).",
        "optional: no shipping fee on goods worth this many won or more")] = None


def _cross_key_rules(schema: dict[str, Any]) -> None:
    """The rules that tie two keys together (kspay.config_problems) that JSON Schema can
    say, as if/then."""
    has = lambda method: {"required": ["paymethods"],  # noqa: E731
                          "properties": {"paymethods": {"contains": {"const": method}}}}
    card = {"anyOf": [{"not": {"required": ["paymethods"]}}, has("card")]}  # [card] by default
    schema["allOf"] = [
        {"if": has("mobile"), "then": {
            "required": ["good_type"],
            "properties": {"good_type": {"enum": list(kspay.GOOD_TYPES)}}}},
        {"if": card, "then": {"properties": {
            "products": {"items": {"properties": {
                "amount": {"minimum": kspay.CARD_MIN_AMOUNT}}}},
            "show_cards": {"not": {"type": "object", "required": ["isp", "mpi"], "properties": {
                "isp": {"const": False}, "mpi": {"const": False}}}}}}},
        {"if": {"required": ["virtual_account_days"],
                "properties": {"virtual_account_days": {"type": "integer"}}},
         "then": has("virtual_account")},
    ]


_ECHO_NAMES = "echo names are ECH and letters, digits or _ (ECHA, ECHSID, ECH_OrdNo)"


class SiteConfig(_Model):
    model_config = ConfigDict(json_schema_extra=_cross_key_rules)

    store: Annotated[Store, doc("상점 정보 (id와 name은 필수).", "the store; id and name are "
                                "required")]
    reply_url: Annotated[KspayText("sndReply"), _https_reply, _HTTPS_SCHEMA, doc(
        "결제 서비스의 결과 주소 (https://내-호스트/kspay/result). http는 localhost와 "
        "127.0.0.1만. 주문 페이지가 site=, product=, ordno=를 붙입니다.",
        "absolute https URL of the payments service, https://your-host/kspay/result (http "
        "only for localhost and 127.0.0.1); the page adds site=, product= and ordno=")]
    notify_url: Annotated[Annotated[KspayText("sndReply"), _https_notify, _HTTPS_SCHEMA] | None,
                          doc("선택: 결제가 끝날 때마다 결제 서비스가 서명한 JSON 알림을 POST하는 "
                              "https 주소.", "optional https URL of your fulfilment system: the "
                              "payments service POSTs it a signed JSON notice of every final "
                              "state")] = None
    window: Annotated[Literal["v1.4", "mb2"], doc(
        "결제창: v1.4 (기본, KSNET의 현재 결제창, UTF-8로 보내고 sndCharSet=utf-8) 또는 mb2 "
        "(가이드의 결제창, EUC-KR). 폼의 action이 됩니다.",
        "the form action: v1.4 (default, KSNET's current window, posts UTF-8 with "
        "sndCharSet=utf-8) or mb2 (the guide's window, EUC-KR)")] = "v1.4"
    currency: Annotated[Literal["WON", "410"], doc(
        "화폐단위: WON (기본) 또는 \"410\".", "WON (default) or \"410\"")] = "WON"
    paymethods: Annotated[list[Literal["card", "virtual_account", "mobile"]],
                          Field(min_length=1, json_schema_extra={"uniqueItems": True}), doc(
        "결제수단: card, virtual_account, mobile 중에서, 각각 한 번 (기본 [card]).",
        "any of card, virtual_account, mobile, each once (default [card])")] = ["card"]
    installments: Annotated[Months, doc(
        f"할부 개월: 0(일시불), 2~{kspay.MAX_INSTALLMENT_MONTHS} (기본 [0]). "
        f"{kspay.INSTALLMENT_MIN_AMOUNT:,}원 이상 상품에만 보내고, :로 이어 "
        f"{_INSTALLMENTS_BYTES}바이트까지.",
        f"months offered, 0 = lump sum, 2 to {kspay.MAX_INSTALLMENT_MONTHS} (default [0]); "
        f"only from {kspay.INSTALLMENT_MIN_AMOUNT:,} won; joined by ':' at most "
        f"{_INSTALLMENTS_BYTES} bytes")] = [0]
    interest_free: Annotated[InterestFree, doc(
        "무이자 할부: none (기본), all, 또는 installments에 있는 개월 목록.",
        "none (default), all, or months that installments offers")] = "none"
    escrow: Annotated[bool, doc("에스크로: true 또는 false (기본).",
                                "true or false (default)")] = False
    show_cards: Annotated[Annotated[Union[Annotated[AllCards, Tag("all")],
                                          Annotated[ShowCards, Tag("cards")]],
                                    Discriminator(_show_cards_kind)] | None, doc(
        "보일 카드: 쓰지 않거나 all이면 모든 카드 (V1.4 결제창은 KSNET V1.4 샘플처럼 C, mb2는 "
        "I,M). {isp: true, mpi: true}는 I,M, {isp: false, mpi: [\"04\", \"05\"]}는 M(04,05).",
        "unset or all: every card (C on the V1.4 window, as KSNET's V1.4 sample; I,M on "
        "mb2); {isp: true, mpi: true} -> I,M; {isp: false, mpi: [\"04\", \"05\"]} -> "
        "M(04,05)")] = None
    good_type: Annotated[Literal["physical", "digital"] | None, doc(
        "휴대폰 결제의 상품 구분: physical (실물) 또는 digital (디지털). mobile이면 필수.",
        "physical or digital; required with mobile")] = None
    apps: Annotated[Apps, doc("하이브리드 앱용 주문 페이지 (sndRtApp).",
                              "order pages for hybrid apps (sndRtApp)")] = Apps()
    echo: Annotated[dict[Pattern(kspay.ECHO_NAME_PATTERN, _ECHO_NAMES), KspayText("ECH*")],
                    # pydantic writes a key's pattern as patternProperties, which let other
                    # keys through: propertyNames says what a key must be.
                    Field(json_schema_extra={"propertyNames": {
                        "pattern": _full(kspay.ECHO_NAME_PATTERN),
                        "patternErrorMessage": _ECHO_NAMES}}), doc(
        "KSPay가 결과 페이지로 그대로 돌려주는 값. 이름은 ECH 뒤에 영문, 숫자, _ (ECHA, "
        "ECHSID, ECH_OrdNo).",
        "values KSPay posts back to your result page; names are ECH and letters, digits or "
        "_ (ECHA, ECHSID, ECH_OrdNo)")] = {}
    virtual_account_days: Annotated[Annotated[
        int, Field(ge=1, le=kspay.VIRTUAL_ACCOUNT_DAYS_MAX)] | None, doc(
        f"가상계좌 입금 기한 (선택, 1~{kspay.VIRTUAL_ACCOUNT_DAYS_MAX}일): 주문한 날부터 그 "
        "날수 뒤 23:59:59까지 (sndVirExpDt). 쓰지 않으면 KSNET 기본값. virtual_account가 필요합니다.",
        f"optional, 1-{kspay.VIRTUAL_ACCOUNT_DAYS_MAX}: the customer pays into the virtual "
        "account by 23:59:59 that many days after ordering (sndVirExpDt; unset: KSNET's "
        "default); needs virtual_account")] = None
    order_prefix: Annotated[Pattern(
        kspay.ORDER_PREFIX_PATTERN, f"must be 1 to {kspay.ORDER_PREFIX_MAX} letters or digits"),
        doc(f"주문번호 앞부분: 영문, 숫자 1~{kspay.ORDER_PREFIX_MAX}자 (기본 KSPAY). 페이지가 "
            "날짜, 시각, 임의 숫자 6자리를 붙입니다.",
            f"1-{kspay.ORDER_PREFIX_MAX} letters or digits (default KSPAY); the page adds "
            "date, time and 6 random digits")] = "KSPAY"
    theme: Annotated[Slug, doc(
        "themes/ 아래의 테마 폴더 (기본 default). 그 theme.yaml이 extends:로 다른 테마를 이을 수 "
        "있습니다.", "a folder under themes/ (default default); its theme.yaml may extends: "
        "another")] = "default"
    notice: Annotated[Markdown, doc(
        f"상점 페이지의 공지 (Markdown, {_MARKDOWN_MAX:,}자까지). HTML은 글자 그대로 보입니다.",
        f"Markdown shown on the store page, at most {_MARKDOWN_MAX:,} characters; raw HTML is "
        "shown as "
        "text")] = ""
    shipping: Annotated[Shipping | None, doc(
        "상점이 상품을 배송하면 {fee: 3000, free_from: 30000}: 주문 페이지가 받는 분의 주소를 "
        "받고 배송비를 더합니다.", "the store ships its goods, {fee: 3000, free_from: 30000}: "
        "the order page asks for the address and adds the fee")] = None
    policies: Annotated[Policies, doc(
        "상점 아래의 정책 페이지 (/SLUG/policies/): 하나라도 있으면 주문 페이지가 결제 전 "
        "동의를 받습니다.", "the store's policy pages under /SLUG/policies/; with any of them "
        "the order page asks for the required agreements")] = Policies()
    products: Annotated[list[Product], Field(min_length=1), doc(
        "상품 목록: 하나 이상.", "at least one product")]

    def ships(self, product: Product) -> bool:
        return self.shipping is not None and product.shipping

    def total(self, product: Product, quantity: int = 1) -> int:
        """sndAmount for `quantity` of `product`, shipping included: what the page posts
        and what the payments service expects."""
        if self.shipping is not None and product.shipping:
            return kspay.order_total(product.amount, quantity, self.shipping.fee,
                                     self.shipping.free_from)
        return kspay.order_total(product.amount, quantity)


@dataclass(frozen=True)
class Site:
    slug: str
    source: Path
    config: SiteConfig
    # Where each key was written, for errors found later (a theme that is missing).
    doc: Document | None = field(default=None, compare=False, repr=False)
    # The bytes that were validated, so that the build records exactly what it rendered.
    data: bytes = field(default=b"", compare=False, repr=False)
    # Seller information the law asks for and the file leaves out (`seller.REQUIRED`).
    warnings: tuple[ConfigError, ...] = ()

    def error(self, where: tuple[str | int, ...], message: str) -> ConfigError:
        mark = self.doc.mark(where) if self.doc else Mark(1, 1)
        return ConfigError(display_path(self.source), mark.line, mark.column,
                           key_path(where), message)


_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"\\\x00-\x1f\x7f]{1,40}")


def key_path(path: tuple[str | int, ...]) -> str:
    """`products[0].name`; a key that is not plain text is quoted: `store['a b']`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and part.isprintable():
            text += f".{part}" if text else part
        else:
            text += f"[{quoted(part)}]"
    return text


def display_path(path: Path) -> str:
    """The path relative to the working folder when it is inside it, as given if not."""
    try:  # the file's own name: it may be a symlink (even one that leads nowhere)
        return str((path.parent.resolve() / path.name).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_site(path: Path) -> Site | list[ConfigError]:
    """Read and validate one merchant file; every problem found, or the site."""

    def error(mark: Mark, where: tuple[str | int, ...], message: str) -> ConfigError:
        # The path as shown is worked out for an error only: a valid file needs none.
        return ConfigError(display_path(path), mark.line, mark.column, key_path(where), message)

    slug = path.stem
    if SLUG_RE.fullmatch(slug) is None:
        return [error(Mark(1, 1), (), f"file name {path.name!r}: a site slug must be "
                      "lower-case letters, digits and single hyphens, e.g. my-shop.yaml")]
    outside = safety.symlink_outside(path, path.parent)
    if outside is not None:
        return [error(Mark(1, 1), (), f"a symlink to {outside}, outside "
                      f"{display_path(path.parent)}; keep merchant files in the sites folder")]
    try:
        if path.is_symlink() and not path.exists():
            return [error(Mark(1, 1), (), f"a symlink to {os.readlink(path)} that leads nowhere "
                          "(its target is missing, or a loop of links)")]
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "not a regular file"
            return [error(Mark(1, 1), (), f"cannot read: {kind}")]
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [error(Mark(1, 1), (), f"{size:,} bytes, the limit for a merchant file "
                          f"is {MAX_FILE_BYTES:,}")]
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].split(b"\n")
        # The bytes before the bad one are UTF-8: its column counts their characters.
        where = Mark(len(line), len(line[-1].decode("utf-8")) + 1)
        return [error(where, (), f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                      "save the file as UTF-8")]
    except OSError as exc:
        return [error(Mark(1, 1), (), f"cannot read: {exc.strerror}")]
    try:
        doc = yamlload.load(text)
    except yamlload.YamlError as exc:
        return [error(exc.mark, exc.path, exc.message)]
    if not isinstance(doc.data, dict):
        return [error(Mark(1, 1), (), "the file must be a mapping of keys (store:, products:, ...)")]
    unpublishable = safety.config_problems(doc) + doc.problems
    found = [error(mark, where, message) for where, mark, message in unpublishable]
    hidden = [where for where, _, _ in unpublishable]  # not validated (again), nor quoted
    # A value the loader could not read is kept as its text: the list holding it (months)
    # would be "not a list of months" too.
    unread = [where for where, _, _ in doc.problems]
    try:
        # The file's Markdown texts share one budget (`markdown_cost.Tally`).
        config = SiteConfig.model_validate(doc.data,
                                           context={"markdown": markdown_cost.Tally()})
    except ValidationError as exc:
        for err in exc.errors():
            mark, where, message = _locate(doc, err)
            if not any(where[:len(h)] == h for h in hidden) \
                    and not any(where and u[:len(where)] == where for u in unread):
                found.append(error(mark, where, message))
        return sorted(found, key=lambda e: (e.line, e.column))
    if found:
        return sorted(found, key=lambda e: (e.line, e.column))
    problems = [error(doc.mark(where), where, message) for where, message in
                kspay.config_problems(config, lambda where: doc.mark(where).line)]
    problems += [error(doc.mark(where), where, message)
                 for where, message in _reserved_slugs(config)]
    if problems:
        return sorted(problems, key=lambda e: (e.line, e.column))
    warnings = tuple(
        error(doc.mark(where[:1], key=True), where[:1],
              f"no {where[1]} ({label}), which a Korean online store must show")
        for where, label in seller.missing(config))
    return Site(slug, path, config, doc, data, warnings)


def _reserved_slugs(config: SiteConfig) -> list[tuple[tuple[str | int, ...], str]]:
    return [(("products", i, "slug"), f"{product.slug!r} is the folder of the store's "
             "policy pages; choose another slug")
            for i, product in enumerate(config.products) if product.slug == POLICIES_FOLDER]


# --- pydantic errors -> messages for people -------------------------------------------

def _got(doc: Document, where: tuple[str | int, ...], value: Any) -> str:
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    kind = "true/false" if isinstance(value, bool) else "the number"
    return f"{kind} {doc.scalar_text.get(where, repr(value))}"


_EXPECTED = {"int_type": "a whole number", "int_from_float": "a whole number",
             "bool_type": "true or false", "list_type": "a list",
             "dict_type": "a mapping of keys", "model_type": "a mapping of keys"}


def _locate(doc: Document, err: Any) -> tuple[Mark, tuple[str | int, ...], str]:
    loc = _without_tags(err["loc"])
    where = tuple(p for p in loc if isinstance(p, int) or p in _known_keys(loc))
    kind, value = err["type"], err.get("input")
    if loc and loc[-1] == "[key]":
        return doc.mark(where, key=True), where, err["msg"]
    if kind == "missing":
        return doc.mark(where[:-1]), where, "required key is missing"
    if kind == "extra_forbidden":
        return doc.mark(where, key=True), where, _unknown_key(where)
    if kind == "string_type":
        hint = f'; put it in quotes: "{doc.scalar_text.get(where, value)}"' \
            if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        message = f"expected text, got {_got(doc, where, value)}{hint}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_got(doc, where, value)}"
    elif kind == "literal_error":
        message = f"must be {err['ctx']['expected']}, got {_got(doc, where, value)}"
    elif kind == "too_short":
        message = "needs at least one entry"
    elif kind in ("greater_than_equal", "less_than_equal") and where[-1] == "amount":
        message = (f"{value} is out of range: KSPay amounts are 1 to "
                   f"{kspay.MAX_AMOUNT:,} won ({len(str(kspay.MAX_AMOUNT))} digits)")
    elif kind == "greater_than_equal":
        message = f"must be at least {err['ctx']['ge']}, got {_got(doc, where, value)}"
    elif kind == "less_than_equal":
        message = f"must be at most {err['ctx']['le']}, got {_got(doc, where, value)}"
    else:
        message = err["msg"]
    return doc.mark(where), where, message


def _without_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The loc without the tag pydantic puts after show_cards (which kind it was)."""
    if loc[:1] == ("show_cards",) and len(loc) > 1 and loc[1] in SHOW_CARDS_TAGS:
        return loc[:1] + loc[2:]
    return loc


def _known_keys(loc: tuple[Any, ...]) -> set[str]:
    """Strings in a pydantic loc that are real keys (not union tags or dict-key markers)."""
    return {p for p in loc if isinstance(p, str)
            and not p.startswith(("literal[", "function-", "[key]"))}


def _model_at(where: tuple[str | int, ...]) -> type[BaseModel] | None:
    model: Any = SiteConfig
    for part in where[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        annotation = model.model_fields[part].annotation
        model = _unwrap_model(annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    """The model inside `list[Product]`, `Apps | None` and the like."""
    if isinstance(annotation, type) and not typing.get_args(annotation) \
            and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _unwrap_model(arg)
        if inner is not None:
            return inner
    return None


def _unknown_key(where: tuple[str | int, ...]) -> str:
    model = _model_at(where)
    allowed = sorted(model.model_fields) if model else []
    unknown = str(where[-1]) if where else ""
    close = difflib.get_close_matches(unknown, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed here: {', '.join(allowed)})"


def load_sites(paths: list[Path]) -> tuple[list[Site], list[ConfigError]]:
    sites: list[Site] = []
    errors: list[ConfigError] = []
    for path in paths:
        loaded = load_site(path)
        if isinstance(loaded, Site):
            sites.append(loaded)
        else:
            errors.extend(loaded)
    return sites, errors


# --- the schema and the README's table of keys --------------------------------------------

# What `kspay-pages schema > kspay-pages.schema.json` writes; `new` points a merchant file at
# it with the first line, which editors with the YAML language server read.
SCHEMA_FILE = "kspay-pages.schema.json"
SCHEMA_COMMENT = "# yaml-language-server: $schema="

# The rules `check` holds that the JSON Schema cannot say, by name: an editor lets these
# through and `check` reports them (the test holds a known-bad file to each).
SCHEMA_CANNOT_EXPRESS = {
    "EUC-KR bytes": "byte lengths in EUC-KR, Hangul 2 bytes (the schema limits characters)",
    "EUC-KR characters": "characters EUC-KR cannot encode, such as emoji",
    "KS X 1001 on mb2": "Hangul outside KS X 1001 in the merchant's text on the mb2 window",
    "installment string": "the installment months joined by ':' within 30 bytes",
    "interest-free months offered": "interest-free months among those installments offers",
    "unique product slugs": "a product slug used once in the file",
    "published secrets": "keys named like secrets, resident registration numbers and "
                         "passwords written in values",
    "theme folder": "the theme is a folder under themes/",
}


def json_schema() -> dict[str, Any]:
    schema = SiteConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "KSPay Pages merchant config"
    return schema


def key_docs(model: type[BaseModel] = SiteConfig, prefix: str = "") -> list[tuple[str, str]]:
    """Every key of a merchant file (`products[].name`) with its description, in the
    model's order: what the README's table shows."""
    found: list[tuple[str, str]] = []
    for name, info in model.model_fields.items():
        key = prefix + name
        found.append((key, info.description or ""))
        inner = _unwrap_model(info.annotation)
        if inner is not None:
            is_list = typing.get_origin(info.annotation) is list
            found += key_docs(inner, key + ("[]." if is_list else "."))
    return found


def readme_table() -> str:
    """The README's table of keys (`kspay-pages schema --markdown`): each key, the KSPay
    fields it sets (kspay.FIELDS' set_by) and its description in English."""
    lines = ["| key | KSPay field | rule |", "| --- | --- | --- |"]
    for key, description in key_docs():
        fields = [f.name for f in kspay.FIELDS
                  if key == (set_by := f.set_by.split(" ")[0]) or key.startswith(set_by + ".")]
        lines.append(f"| `{key}` | {', '.join(fields)} | {english_description(description)} |")
    return "\n".join(lines) + "\n"
