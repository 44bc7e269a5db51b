"""The merchant's side of a KSPay result: read recv_post's reply and check it.

KSPay posts only reCommConId (and ECH* fields) to sndReply; the merchant's server then
asks recv_post for the result and gets one EUC-KR line: pieces split at backticks, the
first dropped, each value space-padded to its width, in the order the request's
sndRpyParams named. `encode_reply` writes that line (the local sandbox answers with it);
`decode_reply` and `read_result` read it back into a typed result, which the payments
service holds against the order the merchant expected (`payments.flow.judge`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import kspay
from .reference import Bank, Card, bank_by_code, card_by_code, load_reference, recv_post_spec



class ResultError(ValueError):
    """The reply is not a recv_post line."""


def widths() -> dict[str, int]:
    return {f["name"]: f["width"] for f in recv_post_spec()["fields"]}


def default_params() -> list[str]:
    return [f["name"] for f in recv_post_spec()["fields"]]


def parse_params(text: str | None) -> list[str]:
    """sndRpyParams -> names; empty or without a backtick means the default order."""
    delimiter = recv_post_spec()["delimiter"]
    if not text or delimiter not in text:
        return default_params()
    return [name.strip() for name in text.split(delimiter)]


def _fit(value: str, width: int) -> bytes:
    """The value in EUC-KR, space-padded to at least `width` bytes.

    Never cut: a virtual account number is longer than isscd's 6 bytes, and the
    backticks, not the widths, delimit the values.
    """
    return value.encode(kspay.ENCODING, errors="replace").ljust(width, b" ")


def encode_reply(values: dict[str, str], params: list[str], first: str = "") -> bytes:
    sizes = widths()
    delimiter = recv_post_spec()["delimiter"].encode("ascii")
    pieces = [first.encode("ascii")] + [_fit(values.get(name, ""), sizes.get(name, 16))
                                        for name in params]
    return delimiter.join(pieces)


def decode_reply(raw: bytes, params: list[str] | None = None) -> dict[str, str]:
    names = params or default_params()
    delimiter = recv_post_spec()["delimiter"]
    text = raw.decode(kspay.ENCODING, errors="replace").rstrip("\r\n")
    if delimiter not in text:
        raise ResultError(f"not a recv_post reply (no {delimiter} in {text[:40]!r})")
    pieces = text.split(delimiter)[1:]
    if len(pieces) < len(names):
        raise ResultError(f"the reply has {len(pieces)} values, {len(names)} were asked for")
    return {name: piece.strip(" ") for name, piece in zip(names, pieces)}


@dataclass(frozen=True)
class PaymentResult:
    approved: bool
    method: str  # card | virtual_account | mobile | transfer | point | worldpass | unknown
    method_label: str
    result_code: str
    transaction: str
    date: str
    time: str
    amount: int | None
    approval_number: str  # empty when refused
    refusal_code: str  # empty when approved
    message1: str
    message2: str
    order_number: str
    issuer: Card | None
    acquirer: Card | None
    virtual_account: str  # the account number to pay into, virtual account only
    bank: Bank | None  # the virtual account's bank
    installment_months: int | None
    raw: dict[str, str]

    @property
    def issuer_name(self) -> str:
        return self.issuer.name_today if self.issuer else ""

    @property
    def acquirer_name(self) -> str:
        return self.acquirer.name_today if self.acquirer else ""


def method_of(result_code: str) -> tuple[str, str]:
    """The payment method and its Korean label, read from the first character of the
    method code `result` by the reference's table of first characters (the results page
    shows the same rows); ("unknown", "") when no row has it."""
    first = result_code[:1]
    for prefix in load_reference().results.prefixes:
        if first and first in prefix.chars:
            return prefix.key, prefix.method
    return "unknown", ""


def read_result(raw: bytes, params: list[str] | None = None) -> PaymentResult:
    values = decode_reply(raw, params)
    get = values.get
    approved = get("authyn", "") == "O"
    result_code = get("result", "")
    method, method_label = method_of(result_code)
    virtual = method == "virtual_account"
    amount_text = get("amt", "")
    halbu = get("halbu", "")
    return PaymentResult(
        approved=approved,
        method=method,
        method_label=method_label,
        result_code=result_code,
        transaction=get("trno", ""),
        date=get("trddt", ""),
        time=get("trdtm", ""),
        amount=kspay.whole_number(amount_text),
        approval_number=get("authno", "") if approved and not virtual else "",
        refusal_code="" if approved else get("authno", ""),
        message1=get("msg1", ""),
        message2=get("msg2", ""),
        order_number=get("ordno", ""),
        issuer=None if virtual else card_by_code(get("isscd", "")),
        acquirer=None if virtual else card_by_code(get("aqucd", "")),
        virtual_account=get("isscd", "") if virtual else "",
        bank=bank_by_code(get("authno", "")) if virtual else None,
        # Installments are a card's: a virtual account or a mobile payment has none,
        # whatever halbu says.
        installment_months=kspay.whole_number(halbu) if method == "card" else None,
        raw=values,
    )
