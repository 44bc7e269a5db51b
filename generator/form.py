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
                  reply_url: str | None = None) -> list[tuple[str, str]]:
    """Every hidden input of the order form, in the order of `kspay.FIELDS` (KSNET's
    mobile sample order), then the echo fields.

    sndOrdernumber is empty and sndReply holds the reply URL with the merchant and
    product on its query (`kspay.reply_for_product`): the page script fills in the order
    number and adds it to sndReply when the customer taps Pay.
    """
    store = config.store
    charset = kspay.WINDOWS[config.window].charset_field
    values = {
        "sndPaymethod": kspay.paymethod_bits(config.paymethods),
        "sndStoreid": store.id,
        "sndCurrencytype": config.currency,
        "sndOrdernumber": "",
        "sndAllregid": "",
        "sndInstallmenttype": kspay.installment_string(config.installments, product.amount),
        "sndInteresttype": kspay.interest_string(config.interest_free, product.amount),
        "sndShowcard": kspay.showcard_value(config.window, config.show_cards),
        "sndGoodname": product.name,
        "sndAmount": str(product.amount),
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
    }
    fields = [(rule.name, values[rule.name]) for rule in kspay.FIELDS if rule.name in values]
    return fields + sorted(config.echo.items())


def hidden_inputs(fields: list[tuple[str, str]]) -> Markup:
    """The hidden inputs themselves. The generator writes them, not a theme template: they
    are KSPay's contract, which a theme must not be able to change."""
    return Markup("".join(  # noqa: S704 - every value escaped
        f'  <input type="hidden" name="{escape(name)}" value="{escape(value)}">\n'
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
    spec = {
        "sndOrdername": ("이름", "text", "text", "name", "김토끼"),
        "sndEmail": ("이메일", "email", "email", "email", "name@example.kr"),
        "sndMobile": ("휴대폰 번호", "tel", "tel", "tel", "010-1234-5678"),
    }
    inputs = []
    for name in kspay.CUSTOMER_FIELDS:
        rule = kspay.FIELD_BY_NAME[name]
        label, input_type, inputmode, autocomplete, placeholder = spec[name]
        limit = f"{rule.max_bytes}바이트" if rule.max_bytes else ""
        if name == "sndOrdername":
            help_text = f"한글 {rule.max_bytes // 2}자, 영문 {rule.max_bytes}자까지"
        elif name == "sndMobile":
            help_text = f"숫자만 {rule.max_bytes}자리까지, '-'는 빼고 보냅니다 (선택)"
        else:
            help_text = f"결제 내역을 메일로 받습니다, {limit}까지 (선택)"
        # Never fewer characters than bytes; the mobile number loses its hyphens and
        # spaces only when sent, so the field takes them as typed.
        maxlength = None if name == "sndMobile" else rule.max_bytes
        inputs.append(CustomerInput(name, label, rule.required, rule.max_bytes, maxlength, input_type,
                                    inputmode, autocomplete, placeholder, help_text))
    return inputs
