"""The same rules in Python and in the page script.

Thousands of generated strings (seeded) go through `kspay.normalize_customer` and
`kspay.problems` in Python and through `window.KSPayRules.normalize` and `.problem` in
the order page in Chromium; both sides must agree on every one: the normalized string,
whether it is accepted, and why not (required, not encodable, too long, pattern).
"""

from __future__ import annotations

import random
import re
import string
from typing import Any, Callable

import pytest

from generator import kspay

from .conftest import Phone

pytestmark = pytest.mark.browser

PATH = "kspay-test/carrot-10kg/index.html"
SEED = 20261128
BATCH = 4000

HANGUL = [chr(c) for c in range(0xAC00, 0xD7A4)]
COMPAT_JAMO = [chr(c) for c in range(0x3131, 0x318F)]
CONJOINING_JAMO = [chr(c) for c in range(0x1100, 0x1200)]
HANJA = [chr(c) for c in range(0x4E00, 0x9FA6)] + [chr(c) for c in range(0xF900, 0xFA0C)]
ASCII = [chr(c) for c in range(0x20, 0x7F)]
SYMBOLS = list("'\"`~\\!@#$%^&*()-_=+[]{};:,.<>/?|")
CONTROLS = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
SPACES = [" ", "\t", "\r", "\n", "\x0b", "\x0c", "\u00a0", "\u3000", "\u2002", "\u200b",
          "\u2028", "\ufeff", "\u1680", "\u202f"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "❤️", "🇰🇷", "🥕", "\U0001F9D1\u200D\U0001F4BB", "☺", "✓"]
FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["￦", "￠", "￡", "￥", "￢", "￣"]
OTHER = ["·", "ㆍ", "※", "℃", "€", "®", "™", "©", "°", "±", "×", "÷", "ß", "é", "ñ", "Ω",
         "Ж", "ア", "あ", "〒", "①", "Ⅻ", "½", "\ufffd", "\u0301", "Å", "Å", "ﬁ", "ǅ",
         "一", "丁", "龜", "豈", "\U00020000", "\U0002A6D6"]
POOLS = [HANGUL, COMPAT_JAMO, CONJOINING_JAMO, HANJA, ASCII, SYMBOLS, CONTROLS, SPACES, EMOJI,
         FULLWIDTH, OTHER, list(string.digits), list(string.ascii_letters)]


def _mixed(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(rng.choice(POOLS)) for _ in range(length))


def _sized(rng: random.Random, size: int, wide: list[str]) -> str:
    """About `size` EUC-KR bytes: 2-byte characters from `wide`, then ASCII."""
    out, left = [], size
    while left > 0:
        if left >= 2 and rng.random() < 0.6:
            out.append(rng.choice(wide))
            left -= 2
        else:
            out.append(rng.choice(string.ascii_letters + string.digits + " .-"))
            left -= 1
    return "".join(out)


def _email(rng: random.Random, size: int) -> str:
    domain = rng.choice(["example.kr", "carrot.do.kr", "ksnet.co.kr", "a.io"])
    local = "".join(rng.choice(string.ascii_lowercase + string.digits + "._%+-")
                    for _ in range(max(1, size - len(domain) - 1)))
    return f"{local}@{domain}"


def _mobile(rng: random.Random, digits: int) -> str:
    out = []
    for i in range(digits):
        out.append(rng.choice(string.digits))
        if i < digits - 1 and rng.random() < 0.25:
            out.append(rng.choice(["-", " ", "--", " - "]))
    return "".join(out)


def _pad(rng: random.Random, text: str) -> str:
    """Sometimes whitespace (trimmed or not) around the text."""
    pads = ["", "", "", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\x0c"]
    return rng.choice(pads) + text + rng.choice(pads)


def generate(seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    cases: list[tuple[str, str]] = []
    makers: dict[str, list[Callable[[], str]]] = {
        "sndOrdername": [
            lambda: _mixed(rng, rng.randint(0, 12)),
            lambda: _sized(rng, rng.choice([19, 20, 21]), HANGUL),
            lambda: _sized(rng, rng.choice([19, 20, 21]), HANJA + FULLWIDTH + COMPAT_JAMO),
            lambda: "".join(rng.choice(HANGUL) for _ in range(rng.choice([9, 10, 11]))),
            lambda: "".join(rng.choice(ASCII) for _ in range(rng.choice([19, 20, 21]))),
            lambda: rng.choice(HANGUL) * 2 + rng.choice(EMOJI + CONTROLS + SPACES + OTHER),
        ],
        "sndEmail": [
            lambda: _email(rng, rng.choice([49, 50, 51])),
            lambda: _email(rng, rng.randint(6, 30)),
            lambda: _email(rng, 20).replace("@", rng.choice(["", "@@", " @", "@."])),
            lambda: _email(rng, 20) + rng.choice(["", ".", ".k", "-", "_"]),
            lambda: _mixed(rng, rng.randint(0, 12)) + "@example.kr",
            lambda: "김" + _email(rng, rng.randint(8, 20)),
            lambda: _mixed(rng, rng.randint(0, 8)),
        ],
        "sndMobile": [
            lambda: _mobile(rng, rng.choice([19, 20, 21])),
            lambda: _mobile(rng, rng.randint(1, 12)),
            lambda: "010-" + _mixed(rng, rng.randint(1, 6)),
            lambda: "".join(rng.choice(string.digits + "- \t") for _ in range(rng.randint(0, 24))),
            lambda: _mixed(rng, rng.randint(0, 8)),
        ],
    }
    # The address of goods that ship: the same rule table (kspay.SHIPPING_FIELDS).
    makers["ECH_NAME"] = makers["sndOrdername"]
    makers["ECH_TEL"] = makers["sndMobile"] + [lambda: _mobile(rng, rng.choice([8, 9, 10]))]
    makers["ECH_ZIP"] = [
        lambda: "".join(rng.choice(string.digits) for _ in range(rng.choice([4, 5, 6]))),
        lambda: "".join(rng.choice(string.digits + "- ") for _ in range(rng.randint(0, 7))),
        lambda: _mixed(rng, rng.randint(0, 6)),
    ]
    text = [lambda: _sized(rng, rng.choice([99, 100, 101]), HANGUL),
            lambda: "".join(rng.choice(HANGUL) for _ in range(rng.choice([49, 50, 51]))),
            lambda: _mixed(rng, rng.randint(0, 30)),
            lambda: rng.choice(HANGUL) * 2 + rng.choice(EMOJI + CONTROLS + SPACES + OTHER)]
    for name in ("ECH_ADDR", "ECH_ADDR2", "ECH_MEMO"):
        makers[name] = text
    for name, fns in makers.items():
        for _ in range(1500):
            cases.append((name, _pad(rng, rng.choice(fns)())))
    # Fixed boundaries, whatever the seed does.
    for name in kspay.CUSTOMER_FIELDS + kspay.SHIPPING_FIELDS:
        cases += [(name, s) for s in ["", " ", "\t\n", "\u00a0", "\u3000", "a", "0", "\x00"]]
    cases += [("sndOrdername", "가" * n) for n in (9, 10, 11)]
    cases += [("sndOrdername", "a" * n) for n in (19, 20, 21)]
    cases += [("sndOrdername", "가" * 9 + "a" * n) for n in (1, 2, 3)]
    cases += [("sndEmail", "a" * (50 - len("@example.kr") + d) + "@example.kr") for d in (-1, 0, 1)]
    cases += [("sndMobile", "1" * n) for n in (19, 20, 21)]
    cases += [("sndMobile", "-".join(["12345"] * 4) + tail) for tail in ("", "6", " 6")]
    return cases


def every_code_point() -> list[tuple[str, str]]:
    """Every character of the BMP but surrogates, and a sample above it, as a name."""
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    chars += [chr(c) for c in range(0x10000, 0x110000, 0x101)]
    return [("sndOrdername", "김" + ch) for ch in chars]


def python_verdict(name: str, raw: str) -> tuple[str, str, str]:
    value = kspay.normalize_customer(name, raw)
    found = kspay.problems(name, value)
    if not found:
        return value, "ok", ""
    message = found[0]
    if message == "is required":
        return value, "required", ""
    if message.endswith("cannot be encoded in EUC-KR"):
        return value, "encodable", "".join(kspay.unencodable(value))
    if message.startswith("must not contain") and "(KSPay refuses" in message:
        return value, "forbidden", ""
    if re.fullmatch(r"\d+ bytes in EUC-KR, the limit is \d+", message):
        return value, "bytes", message.split()[0]
    return value, "pattern", ""


JS_VERDICTS = r"""(items) => items.map(([name, raw]) => {
    const rules = window.KSPayRules;
    const value = rules.normalize(name, raw);
    const message = rules.problem(name, value);
    let kind = "pattern", detail = "";
    if (message === "") { kind = "ok"; }
    else if (/[을를] 입력해 주세요\.$/.test(message)) { kind = "required"; }
    else if (message.endsWith("문자는 결제창에서 쓸 수 없습니다.")) {
        kind = "encodable";
        detail = message.slice(1, -" 문자는 결제창에서 쓸 수 없습니다.".length - 1).split("’, ‘").join("");
    }
    else if (message.endsWith("문자는 쓸 수 없습니다.")) { kind = "forbidden"; }
    else if (message.includes("너무 깁니다")) { kind = "bytes"; detail = message.match(/([0-9]+)바이트,/)[1]; }
    return [value, kind, detail];
})"""


def js_verdicts(page: Any, cases: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for start in range(0, len(cases), BATCH):
        batch = [list(c) for c in cases[start:start + BATCH]]
        out += [tuple(r) for r in page.evaluate(JS_VERDICTS, batch)]
    return out


def compare(phone: Phone, cases: list[tuple[str, str]]) -> list[str]:
    page = phone.open(PATH)
    assert page.evaluate("typeof window.KSPayRules.problem") == "function"
    js = js_verdicts(page, cases)
    assert len(js) == len(cases)
    disagreements = []
    for (name, raw), theirs in zip(cases, js):
        ours = python_verdict(name, raw)
        if ours != theirs:
            disagreements.append(f"{name} {raw!r}: python {ours!r}, page {theirs!r}")
    return disagreements


def test_generated_strings_get_the_same_verdict(phone: Phone, record_property: Any) -> None:
    cases = generate()
    by_field = {n: sum(1 for f, _ in cases if f == n)
                for n in kspay.CUSTOMER_FIELDS + kspay.SHIPPING_FIELDS}
    assert all(by_field.values()), by_field
    verdicts = [python_verdict(n, s)[1] for n, s in cases]
    disagreements = compare(phone, cases)
    summary = (f"rule agreement: {len(cases)} generated strings compared "
               f"({', '.join(f'{k} {v}' for k, v in by_field.items())}; "
               f"{verdicts.count('ok')} accepted), {len(disagreements)} disagreement(s)")
    print(summary)
    record_property("summary", summary)
    # Every kind of verdict is exercised, or the generator has gone blind.
    assert {v for v in verdicts} == {"ok", "required", "encodable", "bytes", "pattern"}
    assert disagreements == [], "\n".join(disagreements[:50])


def test_every_character_gets_the_same_verdict(phone: Phone, record_property: Any) -> None:
    cases = every_code_point()
    disagreements = compare(phone, cases)
    accepted = sum(1 for n, s in cases if not kspay.problems(n, s))
    summary = (f"rule agreement: {len(cases)} single characters compared "
               f"({accepted} accepted), {len(disagreements)} disagreement(s)")
    print(summary)
    record_property("summary", summary)
    assert disagreements == [], "\n".join(disagreements[:50])
