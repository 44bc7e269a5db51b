"""Fuzzing the config loader: whatever a merchant file holds, a clean error or a site.

The property, for every input: `config.load_site` returns a Site, or a non-empty list
of ConfigError whose str() is one line `file:line:col: ...` with line and column >= 1;
it never raises. The number of cases tried is printed in pytest's terminal summary.
"""

from __future__ import annotations

import copy
import os
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator import config, yamlload

VALID: dict[str, Any] = {
    "store": {"id": "2999199999", "name": "케이에스페이(주)", "name_en": "kspay_test_store",
              "domain": "https://www.kspay-test.co.kr", "ceo_name": "홍길동",
              "phone": "0215446030", "address": "서울시 강남구 삼성동"},
    "reply_url": "https://shop.example.kr/kspay/result",
    "window": "v1.4", "currency": "WON", "paymethods": ["card", "mobile"],
    "installments": [0, 2, 3], "interest_free": [2], "escrow": False,
    "show_cards": {"isp": True, "mpi": ["04", "05"]}, "good_type": "physical",
    "apps": {"android": True, "ios_scheme": "myapp://"}, "echo": {"ECHA": "branch-01"},
    "order_prefix": "SHOP", "theme": "default", "notice": "배송은 **2~3일**.",
    "products": [{"slug": "carrot", "name": "당근10kg", "amount": 60000,
                  "description": "제주 당근."}],
}
# KSPAY_FUZZ_EXAMPLES=5000 for a long run; the default keeps this file near 15 s.
EXAMPLES = int(os.environ.get("KSPAY_FUZZ_EXAMPLES", "0")) or None
SETTINGS = settings(max_examples=EXAMPLES or 250, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# Nested random data costs ~40 ms an example to generate: fewer of those by default.
NESTED = settings(SETTINGS, max_examples=EXAMPLES or 100)
DUMPER = getattr(yaml, "CDumper", yaml.Dumper)
ERROR_LINE = re.compile(r"[^\n]*:[0-9]+:[0-9]+: [^\n]+")

_tried: dict[str, int] = {}


class _Summary:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        total = sum(_tried.values())
        parts = ", ".join(f"{name} {count}" for name, count in sorted(_tried.items()))
        terminalreporter.write_line(
            f"config fuzz: {total} merchant files tried, each a Site or clean errors "
            f"({parts})")


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.config.pluginmanager.has_plugin("kspay-fuzz-summary"):
        request.config.pluginmanager.register(_Summary(), "kspay-fuzz-summary")
    yield


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def write(folder: Path, content: str | bytes, name: str = "shop.yaml") -> Path:
    path = folder / name
    if isinstance(content, str):
        content = content.encode("utf-8", errors="surrogatepass")
    path.write_bytes(content)
    return path


def check(folder: Path, content: str | bytes, kind: str, name: str = "shop.yaml") -> list[str]:
    """Write `content` as a merchant file, load it, assert the property; the messages."""
    _tried[kind] = _tried.get(kind, 0) + 1
    path = write(folder, content, name)
    result = config.load_site(path)  # must not raise, whatever the file holds
    if isinstance(result, config.Site):
        return []
    assert isinstance(result, list) and result, f"neither a Site nor errors: {result!r}"
    messages = []
    for error in result:
        assert isinstance(error, config.ConfigError)
        text = str(error)
        assert text.startswith(f"{config.display_path(path)}:"), text
        assert ERROR_LINE.fullmatch(text), f"not one file:line:col line: {text[:300]!r}"
        assert error.line >= 1 and error.column >= 1
        assert len(text) < 2_000, f"message too long ({len(text)} characters)"
        messages.append(text)
    return messages


# --- strategies ---------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=40), st.sampled_from(["", "2999199999", "WON", "410", "card", "mb2",
                                           "none", "all", "가" * 40, "🥕", "<script>",
                                           "javascript:alert(1)", "\u0000", "\ud800"]),
    st.binary(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)


def dump(data: Any) -> str:
    try:
        return yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeError):  # e.g. a lone surrogate: no file can hold it
        assume(False)
        raise


def paths_of(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, item in data.items():
            found += paths_of(item, prefix + (key,))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += paths_of(item, prefix + (index,))
    return found


KEY_PATHS = paths_of(VALID)


def replaced(path: tuple, value: Any) -> dict:
    data = copy.deepcopy(VALID)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


# --- the fuzz tests -----------------------------------------------------------------

def test_the_valid_base_is_valid(folder: Path) -> None:
    assert check(folder, dump(VALID), "base") == []


@NESTED
@given(data=values)
def test_random_yaml_documents(folder: Path, data: Any) -> None:
    check(folder, dump(data), "random document")


@NESTED
@given(data=st.dictionaries(st.sampled_from(sorted(VALID) + ["x"]), values, max_size=8))
def test_random_documents_with_the_real_keys(folder: Path, data: dict) -> None:
    check(folder, dump({**VALID, **data}), "real keys, random values")


@NESTED
@given(where=st.sampled_from(KEY_PATHS), value=values)
def test_wrong_type_at_every_key(folder: Path, where: tuple, value: Any) -> None:
    check(folder, dump(replaced(where, value)), "wrong type at a key")


# --- every YAML tag and every way of writing a number, at every key ----------------------

TAGS = ["!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary", "!!map",
        "!!seq", "!!set", "!!omap", "!!pairs", "!!merge", "!!value", "!!yaml", "!!python/none",
        "!!python/str", "!!python/object/apply:os.system", "!local", "!",
        "!<tag:yaml.org,2002:int>", "!<tag:yaml.org,2002:str>", "!<!x>", "!e!x"]
# YAML 1.1's integers and floats in every form, what YAML 1.2 reads as text, and edges.
NUMBER_FORMS = ["0", "-0", "+0", "00", "07", "010", "010000", "0o17", "0x1F", "0X1f", "-0x10",
                "0b101", "-0b1", "1_000", "1__0", "0_7", "1:00", "1:00:00", "-1:30", "190:20:30",
                "1:60", "1003", "+1003", "-1003", "1e3", "1.0e+3", "1.", ".5", "1_000.5",
                "1:30.5", ".inf", "-.inf", "+.INF", ".nan", ".NaN", "9" * 40, "9" * 101, "1,000",
                "１０００", "٣", "²", "", "-", "+", "_", ".", "maybe", "yes", "No", "on", "OFF",
                "~", "null", "2024-01-01", "2024-01-01 10:00:00"]
PLACEHOLDER = "fuzz-placeholder-value"
# The only integers YAML 1.1 and YAML 1.2 read alike.
PLAIN_DIGITS = re.compile(r"[-+]?(0|[1-9][0-9]*)")
# Keys whose value is published as a number: what YAML read must be what was written.
INTEGER_KEYS = [("products", 0, "amount"), ("installments", 0), ("installments", 1),
                ("installments", 2), ("interest_free", 0), ("virtual_account_days",)]


def _scalar_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _scalar_paths(v, prefix + (k,))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _scalar_paths(v, prefix + (i,))]
    return [prefix]


# VALID with virtual accounts, so that virtual_account_days is a key too.
BASE = {**copy.deepcopy(VALID), "paymethods": ["card", "mobile", "virtual_account"],
        "virtual_account_days": 3}
SCALAR_PATHS = _scalar_paths(BASE)


def written_at(where: tuple, snippet: str) -> str:
    """BASE as YAML with `snippet` written, as it stands, for the value at `where`."""
    data = copy.deepcopy(BASE)
    target = data
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = PLACEHOLDER
    return dump(data).replace(PLACEHOLDER, snippet)


def assert_numbers_as_written(site: config.Site) -> None:
    """Every integer the config took is the one its text says in plain digits."""
    assert site.doc is not None
    for where in INTEGER_KEYS:
        value: Any = site.config
        try:
            for part in where:
                value = value[part] if isinstance(part, int) else getattr(value, part)
        except (IndexError, TypeError):
            continue  # not a list here (interest_free: all)
        text = site.doc.scalar_text.get(where)
        if text is None or value is None:
            continue  # the default, not written
        assert PLAIN_DIGITS.fullmatch(text), (where, text, value)
        assert int(text) == value, (where, text, value)


def check_site(folder: Path, content: str, kind: str) -> None:
    check(folder, content, kind)
    result = config.load_site(folder / "shop.yaml")
    if isinstance(result, config.Site):
        assert_numbers_as_written(result)


def quoted_forms(text: str) -> list[str]:
    return [text, f'"{text}"', f"'{text}'"] if text else ['""', "''"]


@SETTINGS
@given(where=st.sampled_from(SCALAR_PATHS), tag=st.sampled_from(TAGS + [""]),
       text=st.sampled_from(NUMBER_FORMS) | st.text(max_size=8), quoting=st.integers(0, 2))
def test_every_tag_at_every_key(folder: Path, where: tuple, tag: str, text: str,
                                quoting: int) -> None:
    forms = quoted_forms(text)
    snippet = f"{tag} {forms[quoting % len(forms)]}".strip()
    check_site(folder, written_at(where, snippet), "a YAML tag at a key")


@SETTINGS
@given(where=st.sampled_from(SCALAR_PATHS), text=st.sampled_from(NUMBER_FORMS),
       quoting=st.integers(0, 2))
def test_every_number_form_at_every_key(folder: Path, where: tuple, text: str,
                                        quoting: int) -> None:
    forms = quoted_forms(text)
    check_site(folder, written_at(where, forms[quoting % len(forms)]), "a number form at a key")


@pytest.mark.parametrize("text", NUMBER_FORMS)
def test_each_number_form_as_an_amount(folder: Path, text: str) -> None:
    """Every form once where it matters most: the price on the page."""
    check_site(folder, written_at(("products", 0, "amount"), text or '""'), "a number form as the amount")


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text(folder: Path, text: str) -> None:
    check(folder, text, "random text")


@SETTINGS
@given(blob=st.binary(max_size=300))
def test_random_bytes(folder: Path, blob: bytes) -> None:
    check(folder, blob, "random bytes")


@SETTINGS
@given(position=st.integers(0, len(dump(VALID))),
       insert=st.sampled_from(["\n", ":", "- ", "  ", "[", "{", "&a ", "*a", "!!python/object ",
                               "<<: ", "'", '"', "#", "|", ">", "\t", "\x00", "\ufeff", "---\n",
                               "? ", "!!binary ", "%YAML 1.1\n", "@", "`"]) | st.text(max_size=5),
       cut=st.integers(0, 20))
def test_mutated_valid_file(folder: Path, position: int, insert: str, cut: int) -> None:
    text = dump(VALID)
    check(folder, text[:position] + insert + text[position + cut:], "mutated valid file")


# --- the named attacks, each once -----------------------------------------------------

def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels + 1):
        prev = "a" if level == 1 else f"l{level - 1}"
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "store: " + "[" * depth + "]" * depth + "\n"


ATTACKS: dict[str, str | bytes] = {
    "10,000 nested lists": nested(10_000),
    "100,000 nested lists": nested(100_000),
    "10,000 nested mappings": "a: " + "{a: " * 10_000 + "1" + "}" * 10_000,
    "10,000 nested block lists": "a:\n" + "".join("  " * i + "-\n" for i in range(10_000)),
    "billion laughs": billion_laughs(),
    "self-referencing alias": "store: &s {x: *s}\n",
    "self-referencing list": "products: &p [*p]\n",
    "python object tag": "store: !!python/object/apply:os.system ['echo hacked']\n",
    "python name tag": "store: !!python/name:os.system\n",
    "local tag": "store: !secret x\n",
    "binary tag": "store: !!binary aGVsbG8=\n",
    "set tag": "paymethods: !!set {card}\n",
    "omap tag on a list": "paymethods: !!omap [a: 1]\n",
    "merge key": "base: &b {id: '2999199999'}\nstore:\n  <<: *b\n  name: x\n",
    "duplicate key": dump(VALID) + "window: mb2\n",
    "duplicate nested key": dump(VALID).replace("  name_en:", "  name: again\n  name_en:", 1),
    "huge string": dump(VALID).replace("케이에스페이(주)", "가" * 300_000),
    "huge key": "a" * 500_000 + ": 1\n",
    "huge integer": dump(VALID).replace("60000", "9" * 5_000),
    "huge hex integer": dump(VALID).replace("60000", "0x" + "f" * 5_000),
    "huge float": dump(VALID).replace("60000", "1" * 5_000 + ".5"),
    "infinity amount": dump(VALID).replace("60000", ".inf"),
    "nan amount": dump(VALID).replace("60000", ".nan"),
    "date as store id": dump(VALID).replace("'2999199999'", "2024-01-01"),
    "two documents": dump(VALID) + "---\n" + dump(VALID),
    "empty file": "",
    "only a comment": "# nothing\n",
    "a list at the top": "- a\n- b\n",
    "a scalar at the top": "hello\n",
    "NUL byte": dump(VALID).replace("당근10kg", "당근\x00"),
    "escape control character": dump(VALID).replace("당근10kg", '"당근\\x07"'),
    "lone surrogate escape": dump(VALID).replace("당근10kg", '"\\ud800"'),
    "byte order mark": "\ufeff" + dump(VALID),
    "CRLF line ends": dump(VALID).replace("\n", "\r\n"),
    "non-UTF-8 (EUC-KR)": dump(VALID).encode("cp949"),
    "non-UTF-8 (UTF-16)": dump(VALID).encode("utf-16"),
    "binary garbage": bytes(range(256)) * 4,
    "a file over 1 MB": "notice: " + "x" * 1_100_000 + "\n",
    "deep Markdown list": dump(replaced(("notice",), "- " * 3_000 + "x")),
    "long Markdown": dump(replaced(("notice",), "[" * 12_000)),
    "huge installment list": dump(replaced(("installments",), list(range(2, 37)) * 2_000)),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack(folder: Path, name: str) -> None:
    started = time.perf_counter()
    messages = check(folder, ATTACKS[name], "named attack")
    seconds = time.perf_counter() - started
    if name not in ("byte order mark", "CRLF line ends"):
        assert messages, f"{name}: accepted"
    assert seconds < 5, f"{name}: {seconds:.1f} s"


def test_attack_messages_say_what_is_wrong(folder: Path) -> None:
    def only(name: str) -> str:
        [message] = check(folder, ATTACKS[name], "named attack")
        return message

    [error] = config.load_site(write(folder, ATTACKS["10,000 nested lists"]))
    assert (error.line, error.key, error.message) == (
        1, "", f"nested more than {yamlload.MAX_DEPTH} levels deep; "
        "a merchant file needs three or four")
    # Where it stops: our check on the event stream, or, from PyYAML 6.0.4 on, libyaml's
    # scanner, which reads a flow collection to its 1,000-level limit before any event.
    assert error.column in (7 + yamlload.MAX_DEPTH, 7 + 1000)
    assert only("100,000 nested lists").endswith("nested more than 32 levels deep; a merchant "
                                                 "file needs three or four")
    assert "more than 100,000 values (anchors and aliases expanding without end?)" in only(
        "billion laughs")
    assert "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'" in only(
        "python object tag")
    assert "merge keys (<<) are not supported" in only("merge key")
    assert only("duplicate key").endswith("window: duplicate key (first at line 10)")
    assert only("huge string").endswith("store.name: 600000 bytes in EUC-KR, the limit is 20")
    assert "a number written with 5,000 characters, the limit is 100" in only("huge integer")
    assert "not UTF-8 text" in only("non-UTF-8 (EUC-KR)")
    assert only("a file over 1 MB").endswith("1,100,009 bytes, the limit for a merchant file "
                                             "is 1,000,000")
    assert "Markdown nested too deeply" in only("deep Markdown list")
    assert "12,000 characters, the limit is 10,000" in only("long Markdown")
    assert "U+0000 is not allowed in a YAML file" in only("NUL byte")
