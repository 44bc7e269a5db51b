"""Who sells: what a Korean online store must show of its seller, and those values' formats.

전자상거래법 제10조 and its decree ask a store to show 상호, 대표자, 주소, 전화번호,
전자우편, 사업자등록번호, 통신판매업 신고번호 and its 호스팅서비스 제공자, and 개인정보보호법
a 개인정보 보호책임자; the refund terms (제17조 청약철회) must be shown before the order.
An item the merchant left out is a warning (an error with `--strict`), except in KSNET's
test store, whose pages say that they are a test instead.
"""

from __future__ import annotations

import re
from typing import Any

from . import kspay

BUSINESS_NUMBER_PATTERN = "[0-9]{3}-?[0-9]{2}-?[0-9]{5}"
# National Tax Service: digits 1-9 times these, plus the carry of digit 9 times 5.
BUSINESS_NUMBER_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
# 통신판매업 신고번호 as the local offices issue it: 제2025-서울강남-01234호.
MAIL_ORDER_PATTERN = r"(제 ?)?[0-9]{4}-[가-힣A-Za-z0-9]+(-[가-힣A-Za-z0-9]+)*-[0-9]{1,6}( ?호)?"
# A Korean phone number, digits only: 0 and 8 to 10 more (02, 0xx, 01x, 050x, 070), or a
# service number such as 1588 1234.
PHONE_PATTERN = "0[0-9]{8,10}|1[5-9][0-9]{6}"
TEXT_MAX = 100  # characters of a name or a company in the seller block

# Each item a store must show: where the merchant writes it, what the law calls it.
REQUIRED: tuple[tuple[tuple[str, str], str], ...] = (
    (("store", "ceo_name"), "대표자"),
    (("store", "address"), "주소"),
    (("store", "phone"), "전화번호"),
    (("store", "email"), "전자우편"),
    (("store", "business_number"), "사업자등록번호"),
    (("store", "mail_order_number"), "통신판매업 신고번호"),
    (("store", "hosting_provider"), "호스팅서비스 제공자"),
    (("store", "privacy_officer"), "개인정보 보호책임자"),
    (("policies", "refund"), "청약철회·교환·환불"),
    (("policies", "privacy"), "개인정보 수집·이용"),
)


def business_number_problem(value: str) -> str | None:
    """Why `value` is not a 사업자등록번호, or None."""
    if re.fullmatch(BUSINESS_NUMBER_PATTERN, value) is None:
        return f"must be 10 digits such as 123-45-67891 (hyphens optional), got {value!r}"
    digits = [int(d) for d in value.replace("-", "")]
    total = sum(d * w for d, w in zip(digits, BUSINESS_NUMBER_WEIGHTS))
    expected = (10 - (total + digits[8] * 5 // 10) % 10) % 10
    if digits[9] != expected:
        return (f"{value!r} fails the check digit: the National Tax Service's rule (weights "
                f"1,3,7,1,3,7,1,3,5 plus the carry of the ninth digit) gives {expected} as "
                f"the last digit, not {digits[9]}; copy the number from the 사업자등록증")
    return None


def business_number_text(value: str) -> str:
    """123-45-67891, however the hyphens were written."""
    digits = value.replace("-", "")
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def phone_text(digits: str) -> str:
    """A phone number as Koreans write it: 02-1234-5678, 064-725-0000, 1588-1234."""
    if not digits.startswith("0"):
        return f"{digits[:4]}-{digits[4:]}" if len(digits) == 8 else digits
    area = 2 if digits.startswith("02") else 4 if digits.startswith("050") else 3
    return f"{digits[:area]}-{digits[area:-4]}-{digits[-4:]}"


def missing(config: Any) -> list[tuple[tuple[str, str], str]]:
    """The required items `config` leaves out: (where it belongs, the law's name for it);
    none for KSNET's test store, whose pages carry the test banner instead."""
    if config.store.id == kspay.TEST_STORE_ID:
        return []
    return [(where, label) for where, label in REQUIRED
            if not getattr(getattr(config, where[0]), where[1])]


# The policy pages, in the order the footer links them: folder under /SLUG/policies/,
# title. The third-party page is the generator's own (the customer's data goes to KSNET).
POLICY_PAGES = (("terms", "이용약관"), ("privacy", "개인정보처리방침"),
                ("refund", "청약철회·교환·환불"), ("third-party", "개인정보 제3자 제공"))
THIRD_PARTY = "third-party"


def policy_pages(config: Any) -> list[tuple[str, str]]:
    """(folder, title) of each policy page the store has; the third-party page comes with
    any of the merchant's own."""
    written = [(kind, title) for kind, title in POLICY_PAGES
               if kind != THIRD_PARTY and getattr(config.policies, kind)]
    return written + [POLICY_PAGES[-1]] if written else []


def footer(config: Any) -> list[tuple[str, str, str]]:
    """The seller block: (label, text, link or "") for each item the merchant wrote."""
    store = config.store
    items = [("상호", store.name, ""), ("대표자", store.ceo_name, ""),
             ("주소", store.address, ""),
             ("전화", phone_text(store.phone) if store.phone else "",
              f"tel:{store.phone}" if store.phone else ""),
             ("전자우편", store.email, f"mailto:{store.email}" if store.email else ""),
             ("사업자등록번호", business_number_text(store.business_number)
              if store.business_number else "", ""),
             ("통신판매업 신고번호", store.mail_order_number, ""),
             ("호스팅서비스 제공자", store.hosting_provider, ""),
             ("개인정보 보호책임자", store.privacy_officer, "")]
    return [item for item in items if item[1]]
