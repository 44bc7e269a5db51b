"""generator.results: the recv_post line, read and checked as a merchant's server does."""

from __future__ import annotations

import pytest

from generator import results

APPROVED = {
    "authyn": "O", "trno": "I00000000123", "trddt": "20261128", "trdtm": "093015",
    "amt": "59000", "authno": "30012345", "msg1": "정상승인", "msg2": "현대카드",
    "ordno": "JEJU20261128093000123456", "isscd": "08", "aqucd": "08", "result": "I001",
    "halbu": "03",
}


def test_encode_pads_each_field_to_its_width_in_euc_kr() -> None:
    line = results.encode_reply(APPROVED, ["authyn", "trno", "amt", "msg1", "isscd"], first="x")
    assert line == ("x`O`I00000000123`59000    `" + "정상승인" + " " * 8 + "`08    ").encode("cp949")


def test_default_order_is_ksnets() -> None:
    assert results.default_params() == [
        "authyn", "trno", "trddt", "trdtm", "amt", "authno", "msg1", "msg2", "ordno", "isscd",
        "aqucd", "result", "halbu", "cbtrno", "cbauthno"]
    assert results.parse_params("") == results.default_params()
    assert results.parse_params("ordno`authyn") == ["ordno", "authyn"]


def test_round_trip_of_an_approved_card_payment() -> None:
    line = results.encode_reply(APPROVED, results.default_params(), first="0000")
    result = results.read_result(line)
    assert result.approved is True
    assert (result.method, result.method_label, result.result_code) == ("card", "신용카드", "I001")
    assert (result.transaction, result.date, result.time) == ("I00000000123", "20261128", "093015")
    assert result.amount == 59000
    assert result.approval_number == "30012345"
    assert result.refusal_code == ""
    assert (result.message1, result.message2) == ("정상승인", "현대카드")
    assert result.order_number == "JEJU20261128093000123456"
    assert (result.issuer_name, result.acquirer_name) == ("현대카드", "현대카드")
    assert result.installment_months == 3


def test_field_order_follows_the_request() -> None:
    params = ["ordno", "amt", "authyn"]
    line = results.encode_reply(APPROVED, params)
    assert results.decode_reply(line, params) == {
        "ordno": "JEJU20261128093000123456", "amt": "59000", "authyn": "O"}


def test_refusal_carries_its_code() -> None:
    values = dict(APPROVED, authyn="X", authno="7003", msg1="거절", msg2="한도초과", result="1001")
    result = results.read_result(results.encode_reply(values, results.default_params()))
    assert (result.approved, result.refusal_code, result.approval_number) == (False, "7003", "")


def test_virtual_account_number_and_bank() -> None:
    values = dict(APPROVED, authno="26", isscd="26123456789012", aqucd="", result="6001",
                  trno="600000000001", msg1="가상계좌 발급")
    result = results.read_result(results.encode_reply(values, results.default_params()))
    assert (result.method, result.virtual_account) == ("virtual_account", "26123456789012")
    assert result.bank is not None and result.bank.name == "신한은행"
    assert (result.issuer, result.approval_number) == (None, "")


def test_mobile_payment() -> None:
    values = dict(APPROVED, result="M131", trno="M00000000001", isscd="", aqucd="")
    result = results.read_result(results.encode_reply(values, results.default_params()))
    assert (result.method, result.method_label, result.issuer) == ("mobile", "휴대폰", None)


@pytest.mark.parametrize("raw", [b"", b"NODATA", b"x`O`1"])
def test_not_a_reply(raw: bytes) -> None:
    with pytest.raises(results.ResultError):
        results.read_result(raw)


def test_installments_are_a_cards_only() -> None:
    for result_code, trno in (("6001", "600000000001"), ("M131", "M00000000001")):
        values = dict(APPROVED, result=result_code, trno=trno, halbu="00")
        assert results.read_result(results.encode_reply(
            values, results.default_params())).installment_months is None
    card = dict(APPROVED, result="1001", halbu="03")
    assert results.read_result(results.encode_reply(
        card, results.default_params())).installment_months == 3


def test_method_is_read_from_results_first_character_by_the_reference_rows() -> None:
    """The results page's table of first characters and the code are the same rows: a
    reply is read by `result`, whatever the transaction number starts with."""
    from generator.reference import load_reference

    for prefix in load_reference().results.prefixes:
        for char in prefix.chars:
            values = dict(APPROVED, result=char + "001", trno="900000000001")
            read = results.read_result(results.encode_reply(values, results.default_params()))
            assert (read.method, read.method_label) == (prefix.key, prefix.method)
    unknown = dict(APPROVED, result="Z001", trno="100000000001")
    read = results.read_result(results.encode_reply(unknown, results.default_params()))
    assert (read.method, read.method_label) == ("unknown", "")
