"""flow.judge: the one rule by which a recv_post reply becomes a stored state."""

from __future__ import annotations

import dataclasses

import pytest

from generator import results
from generator.payments.flow import judge
from generator.payments.store import Payment

ORDER = "JEJU20261128093000123456"
REPLY = {"authyn": "O", "trno": "I00000000123", "trddt": "20261128", "trdtm": "093015",
         "amt": "59000", "authno": "30012345", "msg1": "정상승인", "msg2": "현대카드",
         "ordno": ORDER, "isscd": "04", "aqucd": "04", "result": "I001", "halbu": "03"}


def payment(expected: int = 59000, order: str = ORDER) -> Payment:
    fields = {f.name: "" for f in dataclasses.fields(Payment)}
    fields.update(id=1, order_number=order, conn_id="SBX1", expected_amount=expected,
                  state="pending", amount=None, installment_months=None, reply=None,
                  echo="{}", confirmed_at=None, attempt_at=0.0)
    return Payment(**fields)


def reply(**changes: str) -> results.PaymentResult:
    return results.read_result(results.encode_reply({**REPLY, **changes}, results.default_params()))


def test_the_expected_order_and_amount_is_approved() -> None:
    assert judge(reply(), payment()) == ("approved", [])


def test_a_virtual_account_is_issued_not_paid() -> None:
    assert judge(reply(result="6001", authno="26", isscd="26123456789012"), payment()) == ("issued", [])


@pytest.mark.parametrize(("changes", "problem"), [
    ({"amt": "1000"}, "amount 1000 is not the expected 59000"),
    ({"amt": ""}, "amount None is not the expected 59000"),
    ({"ordno": "JEJU20261128093000999999"},
     "order number 'JEJU20261128093000999999' is not 'JEJU20261128093000123456'"),
])
def test_an_approval_for_another_order_or_amount_is_a_mismatch(changes: dict, problem: str) -> None:
    assert judge(reply(**changes), payment()) == ("mismatch", [problem])


def test_a_refusal_stays_a_refusal_whatever_its_amount() -> None:
    assert judge(reply(authyn="X", authno="7003", amt="10"), payment()) == ("refused", [])
