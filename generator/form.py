"""The order form of one product: which page variants exist and every field's value.

Values come from the merchant's model through `kspay`'s encoders; nothing here knows
a byte limit or a bit position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from . import kspay

if TYPE_CHECKING:
    from .config import Product, SiteConfig


@dataclass(frozen=True)
class Variant:
    """One order page of a product: mobile web, or inside a hybrid app's WebView."""

    key: str  # web | android | ios
    filename: str
    rtapp: str
    label: str


def variants(config: SiteConfig) -> list[Variant]:
    found = [Variant("web", "index.html", "", "모바일 웹")]
    if config.apps.android:
        found.append(Variant("android", "android.html", kspay.ANDROID_RTAPP, "Android 앱"))
    if config.apps.ios_scheme:
        found.append(Variant("ios", "ios.html", config.apps.ios_scheme, "iOS 앱"))
    return found


def hidden_fields(config: SiteConfig, product: Product, variant: Variant,
                  reply_url: str | None = None, quantity: int = 1) -> list[tuple[str, str]]:
    """Every hidden input of the order form, in the order of `kspay.FIELDS` (KSNET's
    mobile sample order), then the echo fields.

    sndOrdernumber is empty and sndReply holds the reply URL with the merchant and
    product on its query (`kspay.reply_for_product`): the page script fills in the order
    number and adds it to sndReply when the customer taps Pay.
    """
    store = config.store
    charset = kspay.WINDOWS[config.window].charset_field
    total = config.total(product, quantity)
    values = {
        "sndPaymethod": kspay.paymethod_bits(config.paymethods),
        "sndStoreid": store.id,
        "sndCurrencytype": config.currency,
        "sndOrdernumber": "",
        "sndAllregid": "",
        "sndInstallmenttype": kspay.installment_string(config.installments, total),
        "sndInteresttype": kspay.interest_string(config.interest_free, total),
        "sndShowcard": kspay.showcard_value(config.window, config.show_cards),
        "sndGoodname": product.name,
        "sndAmount": str(total),
        "sndReply": reply_url or config.reply_url,
        "sndEscrow": "1" if config.escrow else "0",
        "sndVirExpDt": "",
        "sndVirExpTm": "",
        "sndStoreName": store.name,
        "sndStoreNameEng": store.name_en,
        "sndStoreDomain": store.domain,
        "sndGoodType": kspay.GOOD_TYPES[config.good_type] if config.good_type else "",
        "sndUseBonusPoint": "",
        "sndRtApp": variant.rtapp,
        "sndStoreCeoName": store.ceo_name,
        "sndStorePhoneNo": store.phone,
        "sndStoreAddress": store.address,
        **({"sndCharSet": charset} if charset else {}),
        **({kspay.ECH_SHIPPING_FEE: str(total - product.amount * quantity)}
           if config.ships(product) else {}),
    }
    fields = [(rule.name, values[rule.name]) for rule in kspay.FIELDS if rule.name in values]
    return fields + sorted(config.echo.items())


def hidden_inputs(fields: list[tuple[str, str]]) -> Markup:
    """The hidden inputs themselves. The generator writes them, not a theme template: they
    are KSPay's contract, which a theme must not be able to change."""
    return Markup("".join(  # noqa: S704 - every value escaped
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">\n'
        for name, value in fields))


@dataclass(frozen=True)
class CustomerInput:
    """A visible input of the order form, its attributes read from the KSPay rule."""

    name: str
    label: str
    required: bool
    max_bytes: int | None
    maxlength: int | None  # characters the browser lets in; None where input is cleaned first
    input_type: str
    inputmode: str
    autocomplete: str
    placeholder: str
    help: str


def customer_inputs() -> list[CustomerInput]:
    """Who orders: name, e-mail and mobile, on every order page."""
    return _inputs(kspay.CUSTOMER_FIELDS)


def shipping_inputs() -> list[CustomerInput]:
    """Where the goods go, on the order pages of goods that ship."""
    return _inputs(kspay.SHIPPING_FIELDS)


# label, type, inputmode, autocomplete, placeholder, help (with {bytes}, {chars}: the rule's)
_SPEC = {
    "sndOrdername": ("이름", "text", "text", "name", "김토끼", "한글 {chars}자, 영문 {bytes}자까지"),
    "sndEmail": ("이메일", "email", "email", "email", "name@example.kr",
                 "결제 내역을 메일로 받습니다, {bytes}바이트까지"),
    "sndMobile": ("휴대폰 번호", "tel", "tel", "tel", "010-1234-5678",
                  "숫자만 {bytes}자리까지, '-'는 빼고 보냅니다"),
    "ECH_NAME": ("받는 분", "text", "text", "shipping name", "",
                      "한글 {chars}자, 영문 {bytes}자까지"),
    "ECH_TEL": ("받는 분 연락처", "tel", "tel", "shipping tel", "010-1234-5678",
                     "'-'는 빼고 보냅니다"),
    "ECH_ZIP": ("우편번호", "text", "numeric", "shipping postal-code", "06236", "숫자 {bytes}자리"),
    "ECH_ADDR": ("주소", "text", "text", "shipping address-line1", "",
                 "한글 {chars}자까지"),
    "ECH_ADDR2": ("상세 주소", "text", "text", "shipping address-line2", "", ""),
    "ECH_MEMO": ("배송 메모", "text", "text", "off", "", ""),
}


def _inputs(names: tuple[str, ...]) -> list[CustomerInput]:
    inputs = []
    for name in names:
        rule = kspay.FIELD_BY_NAME[name]
        label, input_type, inputmode, autocomplete, placeholder, help_text = _SPEC[name]
        size = rule.max_bytes or 0
        help_text = help_text.format(bytes=size, chars=size // 2)
        if help_text and not rule.required:
            help_text += " (선택)"
        # Never fewer characters than bytes; phone numbers lose their hyphens and spaces
        # only when sent, so those fields take them as typed.
        maxlength = None if name in kspay.PHONE_FIELDS else rule.max_bytes
        inputs.append(CustomerInput(name, label, rule.required, rule.max_bytes, maxlength,
                                    input_type, inputmode, autocomplete, placeholder, help_text))
    return inputs
