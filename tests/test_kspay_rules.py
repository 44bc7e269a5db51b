"""Every rule in generator/kspay.py, edge values included."""

from __future__ import annotations

import pytest

from generator import kspay
from generator.kspay import problems


def test_euckr_length_counts_hangul_two_ascii_one() -> None:
    assert kspay.euckr_len("당근10kg") == 8
    assert kspay.euckr_len("") == 0
    assert kspay.euckr_len("李") == 2


def test_unencodable_finds_emoji_once_in_order() -> None:
    assert kspay.unencodable("a😀b😀\u00a0") == ["😀", "\u00a0"]
    assert kspay.unencodable("케이에스페이(주) 李 ～") == []


@pytest.mark.parametrize(("value", "expected"), [
    ("2999199999", []),
    ("299919999", ["must be exactly 10 digits, got '299919999'"]),
    ("29991999990", ["11 bytes in EUC-KR, the limit is 10"]),
    ("29991a9999", ["must be exactly 10 digits, got '29991a9999'"]),
    ("", ["is required"]),
])
def test_store_id(value: str, expected: list[str]) -> None:
    assert problems("sndStoreid", value) == expected


@pytest.mark.parametrize(("value", "ok"), [("WON", True), ("410", True), ("won", False),
                                           ("KRW", False), ("41", False)])
def test_currency(value: str, ok: bool) -> None:
    assert (problems("sndCurrencytype", value) == []) is ok


def test_order_number_thirty_bytes_of_word_characters() -> None:
    assert problems("sndOrdernumber", "A" * 30) == []
    assert problems("sndOrdernumber", "A" * 31) == ["31 bytes in EUC-KR, the limit is 30"]
    assert problems("sndOrdernumber", "KSPay_1234") == []
    assert problems("sndOrdernumber", "KS-1") == ["may hold only A-Z, a-z, 0-9 and _, got 'KS-1'"]
    assert problems("sndOrdernumber", "주문1") == ["may hold only A-Z, a-z, 0-9 and _, got '주문1'"]


def test_store_name_twenty_bytes() -> None:
    assert problems("sndStoreName", "가" * 10) == []
    assert problems("sndStoreName", "가" * 10 + "a") == ["21 bytes in EUC-KR, the limit is 20"]
    assert problems("sndStoreName", "케이에스페이(주)") == []
    assert problems("sndStoreName", "가게😀") == ["'😀' (U+1F600) cannot be encoded in EUC-KR"]
    assert problems("sndStoreName", "") == ["is required"]


def test_store_name_english_is_printable_ascii() -> None:
    assert problems("sndStoreNameEng", "kspay_test_store") == []
    assert problems("sndStoreNameEng", "a" * 21) == ["21 bytes in EUC-KR, the limit is 20"]
    assert problems("sndStoreNameEng", "가게") == [
        "must be printable ASCII (English letters, digits, punctuation), got '가게'"]
    assert problems("sndStoreNameEng", "") == []


@pytest.mark.parametrize(("value", "ok"), [
    ("http://www.kspay_test.co.kr", True), ("https://shop.example.kr/path?q=1", True),
    ("https://shop.example.kr:8443", True), ("www.example.kr", False), ("ftp://x.kr", False),
    ("https://", False), ("https://a.kr/<x>", False), ("javascript:alert(1)", False),
])
def test_domain_needs_scheme(value: str, ok: bool) -> None:
    assert (problems("sndStoreDomain", value) == []) is ok


def test_goods_name() -> None:
    assert problems("sndGoodname", "당근10kg") == []
    assert problems("sndGoodname", "가" * 15) == []
    assert problems("sndGoodname", "가" * 15 + "1") == ["31 bytes in EUC-KR, the limit is 30"]
    for char in "'\"`~":
        assert problems("sndGoodname", f"당근{char}") == [
            f"must not contain {char} (KSPay refuses ' \" ` ~)"]
    assert problems("sndGoodname", "당근\n10kg") == [
        "must not contain control characters, got '당근\\n10kg'"]
    assert problems("sndGoodname", "🥕") == ["'🥕' (U+1F955) cannot be encoded in EUC-KR"]


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("1003", True), ("999999999", True),
                                           ("1000000000", False), ("0", False), ("01000", False),
                                           ("10.5", False)])
def test_amount_digits(value: str, ok: bool) -> None:
    assert (problems("sndAmount", value) == []) is ok


def test_customer_name() -> None:
    assert problems("sndOrdername", "김토끼") == []
    assert problems("sndOrdername", "가" * 10) == []
    assert problems("sndOrdername", "가" * 10 + "a") == ["21 bytes in EUC-KR, the limit is 20"]
    assert problems("sndOrdername", "") == ["is required"]
    assert problems("sndOrdername", "김😀") == ["'😀' (U+1F600) cannot be encoded in EUC-KR"]


def test_email() -> None:
    assert problems("sndEmail", "kspay@carrot.do.kr") == []
    assert problems("sndEmail", "") == []
    assert problems("sndEmail", "a" * 41 + "@ex.co.kr") == []  # 50 bytes
    assert problems("sndEmail", "a" * 42 + "@ex.co.kr") == ["51 bytes in EUC-KR, the limit is 50"]
    for bad in ("kspay", "kspay@", "@carrot.kr", "a@b", "a b@c.kr", "김@c.kr"):
        assert problems("sndEmail", bad) == [
            f"must be an e-mail address such as name@example.kr, got {bad!r}"]


def test_mobile_digits_only_after_hyphens_removed() -> None:
    assert kspay.normalize_customer("sndMobile", " 010-1234 5678 ") == "01012345678"
    assert problems("sndMobile", "01609879999") == []
    assert problems("sndMobile", "1" * 20) == []
    assert problems("sndMobile", "1" * 21) == ["21 bytes in EUC-KR, the limit is 20"]
    assert problems("sndMobile", "010-1234") == ["must hold digits only, got '010-1234'"]
    assert problems("sndMobile", "") == []


def test_normalize_trims_only_ascii_blanks() -> None:
    assert kspay.normalize_customer("sndOrdername", "\t 김토끼 \r\n") == "김토끼"
    assert kspay.normalize_customer("sndOrdername", "\u3000김토끼") == "\u3000김토끼"


def test_installment_and_interest_syntax() -> None:
    assert problems("sndInstallmenttype", "0:2:3:4:5:6:7:8:9:10:11:12") == []
    assert problems("sndInstallmenttype", "0,2") == ["must be months joined by ':', got '0,2'"]
    assert problems("sndInteresttype", "NONE") == []
    assert problems("sndInteresttype", "ALL") == []
    assert problems("sndInteresttype", "3:4:5:6") == []
    assert problems("sndInteresttype", " NONE") == [
        "must be NONE, ALL or months joined by ':', got ' NONE'"]


def test_rtapp_values() -> None:
    assert problems("sndRtApp", "") == []
    assert problems("sndRtApp", "android") == []
    assert problems("sndRtApp", "Android") == []  # the guide's Part 2 writes it so
    assert kspay.ANDROID_RTAPP == "android"  # what the pages send: the Android sample's
    assert problems("sndRtApp", "kspaysample://") == []
    assert problems("sndRtApp", "Android app") != []


def test_paymethod_bit_positions() -> None:
    assert kspay.paymethod_bits(["card"]) == "1000000000"
    assert kspay.paymethod_bits(["virtual_account"]) == "0100000000"
    assert kspay.paymethod_bits(["mobile"]) == "0000010000"
    assert kspay.paymethod_bits(["mobile", "card", "virtual_account"]) == "1100010000"
    assert problems("sndPaymethod", "1100010000") == []


def test_installment_string_only_from_fifty_thousand_won() -> None:
    months = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert kspay.installment_string(months, 49_999) == "0"
    assert kspay.installment_string(months, 50_000) == "0:2:3:4:5:6:7:8:9:10:11:12"
    assert kspay.installment_string([3, 0, 2], 60_000) == "0:2:3"


def test_interest_string() -> None:
    assert kspay.interest_string("none", 90_000) == "NONE"
    assert kspay.interest_string("all", 90_000) == "ALL"
    assert kspay.interest_string([6, 3, 4, 5], 90_000) == "3:4:5:6"
    assert kspay.interest_string("all", 49_999) == "NONE"
    assert kspay.interest_string([3], 1_003) == "NONE"


def test_showcard_string() -> None:
    assert kspay.showcard_string(True, True) == "I,M"
    assert kspay.showcard_string(False, ["04", "05"]) == "M(04,05)"
    assert kspay.showcard_string(True, False) == "I"
    assert kspay.showcard_string(True, ["04"]) == "I,M(04)"
    for value in ("C", "I,M", "M(04,05)", "I", "I,M(04)"):
        assert problems("sndShowcard", value) == []
    for value in ("C,I", "CM", "M()", "M(4)"):
        assert problems("sndShowcard", value) != []


def test_showcard_value_follows_the_window_when_show_cards_is_unset_or_all() -> None:
    from generator.config import ShowCards

    # KSNET's V1.4 sample sends C; the guide (the mb2 window) I,M.
    assert kspay.showcard_value("v1.4", None) == "C"
    assert kspay.showcard_value("v1.4", "all") == "C"
    assert kspay.showcard_value("mb2", None) == "I,M"
    assert kspay.showcard_value("mb2", "all") == "I,M"
    # show_cards written out: the guide's form on either window.
    assert kspay.showcard_value("v1.4", ShowCards()) == "I,M"
    assert kspay.showcard_value("v1.4", ShowCards(isp=False, mpi=["04", "05"])) == "M(04,05)"
    assert kspay.showcard_value("mb2", ShowCards(isp=True, mpi=False)) == "I"


def test_mpi_cards_are_the_card_table_rows_marked_mpi() -> None:
    assert kspay.mpi_card_codes() == ["03", "04", "05", "08", "09", "11", "12", "16", "17",
                                      "19", "24", "26"]


def test_hangul_outside_strict_euc_kr() -> None:
    # CP949 encodes 8,822 Hangul syllables that KS X 1001 (strict EUC-KR) lacks.
    syllables = [chr(c) for c in range(0xAC00, 0xD7A4)]
    outside = [s for s in syllables if kspay.outside_ks_x_1001(s)]
    assert len(outside) == 8822
    assert kspay.outside_ks_x_1001("똠양꿍 샾 가게") == ["똠", "샾"]
    assert kspay.outside_ks_x_1001("가나다 ABC 한글") == []
    assert kspay.outside_ks_x_1001("🥕") == []  # not CP949 at all: `unencodable` says so
    assert all(kspay.euckr_len(s) == 2 for s in outside)  # CP949 counts them 2 bytes


def test_reply_with_order_number() -> None:
    assert kspay.reply_with_order("https://a.kr/r", "K1") == "https://a.kr/r?ordno=K1"
    assert kspay.reply_with_order("https://a.kr/r?x=1", "K1") == "https://a.kr/r?x=1&ordno=K1"
    assert kspay.reply_with_order("https://a.kr/r?x=1#top", "K1") == "https://a.kr/r?x=1&ordno=K1#top"
    assert kspay.reply_with_order("https://a.kr/r?", "K1") == "https://a.kr/r?ordno=K1"


def test_allregid_is_always_empty() -> None:
    assert problems("sndAllregid", "") == []
    assert problems("sndAllregid", "8001011234567") == ["must be empty, got '8001011234567'"]


def test_echo_names_and_values() -> None:
    import re
    # KSNET's samples send ECHA, ECHSID and ECH_OrdNo.
    for name in ("ECHA", "ECHSID", "ECH_OrdNo", "ECHO1"):
        assert re.fullmatch(kspay.ECHO_NAME_PATTERN, name), name
    for name in ("ECH", "echa", "ECH-A", "ECH A", "XECHA", "ECH가"):
        assert not re.fullmatch(kspay.ECHO_NAME_PATTERN, name), name
    assert problems("ECH*", "추가파라미터A") == []


def test_customer_rules_for_the_page_come_from_the_field_table() -> None:
    rules = kspay.customer_rules()
    assert rules["fields"] == {
        "sndOrdername": {"required": True, "maxBytes": 20, "pattern": kspay.NO_CONTROLS,
                         "forbidden": ""},
        "sndEmail": {"required": False, "maxBytes": 50,
                     "pattern": kspay.FIELD_BY_NAME["sndEmail"].pattern, "forbidden": ""},
        "sndMobile": {"required": False, "maxBytes": 20, "pattern": "[0-9]{1,20}", "forbidden": ""},
        # Asked only for goods that ship, and posted as echo fields:
        "ECH_NAME": {"required": True, "maxBytes": 20, "pattern": kspay.NO_CONTROLS,
                          "forbidden": ""},
        "ECH_TEL": {"required": True, "maxBytes": 20, "pattern": "[0-9]{9,20}",
                         "forbidden": ""},
        "ECH_ZIP": {"required": True, "maxBytes": 5, "pattern": "[0-9]{5}", "forbidden": ""},
        "ECH_ADDR": {"required": True, "maxBytes": 100, "pattern": kspay.NO_CONTROLS,
                     "forbidden": ""},
        "ECH_ADDR2": {"required": False, "maxBytes": 100, "pattern": kspay.NO_CONTROLS,
                            "forbidden": ""},
        "ECH_MEMO": {"required": False, "maxBytes": 100, "pattern": kspay.NO_CONTROLS,
                     "forbidden": ""},
    }
    assert (rules["installmentMin"], rules["lumpSum"], rules["noInterest"]) == (50000, "0", "NONE")
    assert rules["phoneFields"] == ["sndMobile", "ECH_TEL"]
    assert rules["orderNumber"] == {"maxBytes": 30, "timestampDigits": 14, "randomDigits": 6}


def test_longest_order_number_fits() -> None:
    longest = "A" * kspay.ORDER_PREFIX_MAX + "2" * (kspay.ORDER_TIMESTAMP_DIGITS + kspay.ORDER_RANDOM_DIGITS)
    assert problems("sndOrdernumber", longest) == []
