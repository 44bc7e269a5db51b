"""Reference tables from KSNET's smartphone guide, read from generator/reference/.

The tables are data, not code, so that they can be checked row by row against the seed
and corrected without touching Python. KSPay hands codes back in more than one shape
(2 or 6 digits, space-padded to a fixed width, a KFTC three-digit bank code), so the
lookups accept every shape here once instead of each caller trimming its own way.
The files never change while the generator runs, so they are read once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .yamlload import load_plain

DATA_DIR = Path(__file__).with_name("reference")
_CARD_PREFIX = "0100"  # 6-digit card codes are "0100" + the 2-digit code


@dataclass(frozen=True)
class Card:
    code6: str
    code2: str
    name: str
    name_today: str
    isp: bool
    mpi: bool
    note: str
    agency_list: Literal["isp", "mpi"] | None
    agency_name: str | None
    conflict: str | None


@dataclass(frozen=True)
class AgencyCard:
    code6: str
    name: str


@dataclass(frozen=True)
class Bank:
    code: str
    code_end: str | None
    name: str
    name_today: str
    kftc: str  # the KFTC (금융결제원) three-digit code
    note: str
    kftc_note: str = ""  # where the KFTC code is not the seed's code with a 0 in front

    def covers(self, number: int) -> bool:
        """True if the 2-digit bank code `number` is this row (or inside its range)."""
        return int(self.code) <= number <= int(self.code_end or self.code)


@dataclass(frozen=True)
class SmartphoneCard:
    name: str
    iphone: bool
    android: bool
    ipad: bool
    note: str


@dataclass(frozen=True)
class Smartphone:
    intro: str
    cards: tuple[SmartphoneCard, ...]
    footnote: str


@dataclass(frozen=True)
class ResultField:
    name: str
    type: str
    length: int
    description: str
    seed: str | None
    correction: str | None


@dataclass(frozen=True)
class ResultCode:
    code: str
    label: str
    method: str
    auth: str | None


@dataclass(frozen=True)
class TransactionPrefix:
    chars: tuple[str, ...]
    method: str
    key: str  # card, virtual_account, mobile, ...: the method's name in code
    smartphone: bool


@dataclass(frozen=True)
class AuthYn:
    value: str
    label: str
    result_label: str


@dataclass(frozen=True)
class Receipt:
    title: str
    url: str
    note: str


@dataclass(frozen=True)
class Results:
    fields: tuple[ResultField, ...]
    codes: tuple[ResultCode, ...]
    prefixes: tuple[TransactionPrefix, ...]
    authyn: tuple[AuthYn, ...]
    notes: tuple[str, ...]
    receipts: tuple[Receipt, ...]


@dataclass(frozen=True)
class Reference:
    cards: tuple[Card, ...]
    card_notes: tuple[str, ...]
    agency_isp: tuple[AgencyCard, ...]
    agency_mpi: tuple[AgencyCard, ...]
    banks: tuple[Bank, ...]
    smartphone: Smartphone
    results: Results
    faq_markdown: str


def _read_yaml(name: str) -> dict[str, Any]:
    path = DATA_DIR / name
    data = load_plain(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _rows(cls: type, rows: list[dict[str, Any]], source: str) -> tuple[Any, ...]:
    try:
        return tuple(cls(**row) for row in rows)
    except TypeError as exc:  # a missing or unknown key
        raise ValueError(f"{DATA_DIR / source}: {cls.__name__}: {exc}") from None


@functools.cache
def recv_post_spec() -> dict[str, Any]:
    """recv_post's request and reply fields (recv_post.yaml): the results page shows them,
    the payments service and the sandbox read and write replies by them."""
    return _read_yaml("recv_post.yaml")


@functools.cache
def load_reference() -> Reference:
    cards = _read_yaml("cards.yaml")
    banks = _read_yaml("banks.yaml")
    phone = _read_yaml("smartphone.yaml")
    results = _read_yaml("results.yaml")
    prefixes = tuple(
        TransactionPrefix(tuple(p["chars"]), p["method"], p["key"], p["smartphone"])
        for p in results["prefixes"]
    )
    return Reference(
        cards=_rows(Card, cards["cards"], "cards.yaml"),
        card_notes=tuple(cards["notes"]),
        agency_isp=_rows(AgencyCard, cards["agency_isp"], "cards.yaml"),
        agency_mpi=_rows(AgencyCard, cards["agency_mpi"], "cards.yaml"),
        banks=_rows(Bank, banks["banks"], "banks.yaml"),
        smartphone=Smartphone(
            intro=phone["intro"],
            cards=_rows(SmartphoneCard, phone["cards"], "smartphone.yaml"),
            footnote=phone["footnote"],
        ),
        results=Results(
            fields=_rows(ResultField, results["fields"], "results.yaml"),
            codes=_rows(ResultCode, results["codes"], "results.yaml"),
            prefixes=prefixes,
            authyn=_rows(AuthYn, results["authyn"], "results.yaml"),
            notes=tuple(results["notes"]),
            receipts=_rows(Receipt, results["receipts"], "results.yaml"),
        ),
        faq_markdown=(DATA_DIR / "faq.md").read_text(encoding="utf-8"),
    )


def strip_code_padding(code: str) -> str:
    """The code without the spaces KSPay pads fixed-width fields with ("08    " -> "08")."""
    return code.strip(" \t\r\n\x00\u3000")


def _is_digits(code: str) -> bool:
    return code.isascii() and code.isdigit()


@functools.cache
def _cards_by_code2() -> dict[str, Card]:
    return {card.code2: card for card in load_reference().cards}


def card_by_code(code: str) -> Card | None:
    """The card for a 2-digit ("08") or 6-digit ("010008") code, padded or not."""
    code = strip_code_padding(code)
    if len(code) == 6 and code.startswith(_CARD_PREFIX):
        code = code[4:]
    if len(code) != 2 or not _is_digits(code):
        return None
    return _cards_by_code2().get(code)


@functools.cache
def _banks_by_kftc() -> dict[str, Bank]:
    return {bank.kftc: bank for bank in load_reference().banks}


def bank_by_code(code: str) -> Bank | None:
    """The bank for the guide's 2-digit code ("26"; "13" is in 12~15) or a KFTC 3-digit
    code ("026", "045" 새마을금고). A 3-digit code is read as KFTC's, never as the guide's
    code with a zero: KFTC's 093 is 한국주택금융공사, not the guide's 93 새마을금고."""
    code = strip_code_padding(code)
    if len(code) == 3 and _is_digits(code):
        return _banks_by_kftc().get(code)
    if len(code) != 2 or not _is_digits(code):
        return None
    number = int(code)
    return next((bank for bank in load_reference().banks if bank.covers(number)), None)
