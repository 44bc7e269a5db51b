"""The editor schema (`kspay-pages schema`) against `check`: every valid file passes both;
every known-bad file is refused by `check`, and by the schema too unless its rule is one
that JSON Schema cannot express (config.SCHEMA_CANNOT_EXPRESS, by name)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, SITES, VALID
from generator import config, pipeline, starter

SCHEMA = config.json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def schema_errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(yaml.safe_load(text))]


def big(text: str) -> str:
    """VALID with an amount that offers installments."""
    return text.replace("amount: 1003", "amount: 60000")


# (name, file, the rule JSON Schema cannot express or None). Each is refused by check.
KNOWN_BAD = [
    # The eight the schema accepted before it carried the rules.
    ("5-digit store id", VALID.replace('"2999199999"', '"29991"'), None),
    ('" in a goods name', VALID.replace("당근10kg", "'당근\"10kg'"), None),
    ("slug Drip_Bag", VALID.replace("carrot-10kg", "Drip_Bag"), None),
    ("http:// reply_url", VALID.replace("https://shop", "http://shop"), None),
    ("interest-free month not offered", big(VALID) + "installments: [0, 2, 3]\ninterest_free: [6]\n",
     "interest-free months offered"),
    ("900 won by card", VALID.replace("amount: 1003", "amount: 900"), None),
    ("mobile without good_type", VALID + "paymethods: [card, mobile]\n", None),
    ("installment month 1", VALID + "installments: [0, 1]\n", None),
    # The rest of check's rules.
    ("store id as a number", VALID.replace('"2999199999"', "2999199999"), None),
    ("store name over 20 bytes", VALID.replace("케이에스페이(주)", "케이에스페이주식회사본사"),
     "EUC-KR bytes"),
    ("emoji in a goods name", VALID.replace("당근10kg", "당근🥕"), "EUC-KR characters"),
    ("empty store name", VALID.replace("name: 케이에스페이(주)", 'name: ""'), None),
    ("English store name not ASCII", VALID.replace("  name: 케이에스페이(주)\n",
                                                   "  name: 케이에스페이(주)\n  name_en: 케이\n"), None),
    ("domain without scheme", VALID.replace("  name: 케이에스페이(주)\n",
                                            "  name: 케이에스페이(주)\n  domain: www.a.kr\n"), None),
    ("phone with hyphens", VALID.replace("  name: 케이에스페이(주)\n",
                                         '  name: 케이에스페이(주)\n  phone: "02-1544-6030"\n'), None),
    ("missing reply_url", VALID.replace("reply_url: https://shop.example.kr/kspay/result\n", ""),
     None),
    ("unknown key", VALID + "intrest_free: all\n", None),
    ("window v2", VALID + "window: v2\n", None),
    ("currency USD", VALID + "currency: USD\n", None),
    ("a payment method twice", VALID + "paymethods: [card, card]\n", None),
    ("no payment method", VALID + "paymethods: []\n", None),
    ("installment month twice", big(VALID) + "installments: [0, 3, 3]\n", None),
    ("installment month 37", big(VALID) + "installments: [0, 37]\n", None),
    ("no installment month", VALID + "installments: []\n", None),
    ("installment string over 30 bytes",
     big(VALID) + "installments: [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]\n",
     "installment string"),
    ("interest-free lump sum", big(VALID) + "installments: [0, 2]\ninterest_free: [0]\n", None),
    ("interest-free word", VALID + "interest_free: some\n", None),
    ("show_cards word", VALID + "show_cards: none\n", None),
    ("MPI card not in the card table", VALID + 'show_cards: {isp: false, mpi: ["77"]}\n', None),
    ("MPI list with an ISP-only card", VALID + 'show_cards: {isp: true, mpi: ["01"]}\n', None),
    ("ISP off, empty MPI list", VALID + "show_cards: {isp: false, mpi: []}\n", None),
    ("no card authentication", VALID + "show_cards: {isp: false, mpi: false}\n", None),
    ("good_type other", VALID + "paymethods: [mobile]\ngood_type: service\n", None),
    ("echo name ECH-A", VALID + "echo: {ECH-A: x}\n", None),
    ("echo name ECH alone", VALID + "echo: {ECH: x}\n", None),
    ("echo value with a control character", VALID + 'echo: {ECHA: "a\\u0007"}\n', None),
    ("virtual_account_days without virtual account", VALID + "virtual_account_days: 3\n", None),
    ("virtual_account_days 31", VALID + "paymethods: [virtual_account]\nvirtual_account_days: 31\n",
     None),
    ("notify_url over http", VALID + "notify_url: http://shop.example.kr/hook\n", None),
    ("order prefix with a hyphen", VALID + "order_prefix: KS-PAY\n", None),
    ("ios scheme javascript:", VALID + 'apps: {ios_scheme: "javascript://x"}\n', None),
    ("ios scheme not a scheme", VALID + 'apps: {ios_scheme: "myapp"}\n', None),
    ("amount zero", VALID.replace("amount: 1003", "amount: 0"), None),
    ("amount over 9 digits", VALID.replace("amount: 1003", "amount: 1000000000"), None),
    ("no products", VALID[:VALID.index("products:")] + "products: []\n", None),
    ("duplicate product slug", VALID + "  - slug: carrot-10kg\n    name: 당근5kg\n    amount: 2000\n",
     "unique product slugs"),
    ("notice over 10,000 characters", VALID + f"notice: {'가' * 10_001}\n", None),
    ("theme name with a capital", VALID + "theme: Carrot\n", None),
    ("theme that does not exist", VALID + "theme: carrot\n", "theme folder"),
    ("Hangul outside KS X 1001 on mb2", VALID.replace("당근10kg", "똠양꿍") + "window: mb2\n",
     "KS X 1001 on mb2"),
    ("a key named like a secret", VALID + "echo: {ECHTOKEN: abc}\n", "published secrets"),
    ("a resident registration number", VALID + "notice: 문의 800101-1234567\n", "published secrets"),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    slug = re.sub("[^a-z0-9]+", "-", name.lower()).strip("-") or "file"
    path = tmp_path / f"{slug}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def valid_files() -> list[tuple[str, str]]:
    files = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SITES.glob("*.yaml"))]
    return files + [("VALID", VALID), ("starter", starter.STARTER),
                    ("every key", big(VALID) + """\
notify_url: https://shop.example.kr/hook
window: mb2
currency: "410"
paymethods: [card, virtual_account, mobile]
installments: [0, 2, 3]
interest_free: [2, 3]
escrow: true
show_cards: {isp: true, mpi: ["04", "05"]}
good_type: digital
apps: {android: true, ios_scheme: "myapp://"}
echo: {ECHA: a, ECHSID: s, ECH_OrdNo: o}
virtual_account_days: 3
order_prefix: SHOP
theme: default
notice: 배송은 **2~3일**.
"""), ("show_cards all", VALID + "show_cards: all\n"),
        ("localhost reply_url", VALID.replace("https://shop.example.kr", "http://LOCALHOST:8000")),
        ("nothing but virtual accounts", VALID.replace("amount: 1003", "amount: 500")
         + "paymethods: [virtual_account]\nshow_cards: {isp: false, mpi: false}\n")]


@pytest.mark.parametrize(("name", "text"), valid_files(), ids=lambda v: v if len(v) < 40 else "")
def test_valid_files_pass_check_and_the_schema(tmp_path: Path, name: str, text: str) -> None:
    for image in [*SITES.glob("*.png"), *SITES.glob("*.jpg")]:  # the example's images
        shutil.copy(image, tmp_path / image.name)
    path = write(tmp_path, name, text)
    assert pipeline.check([path])[0] == []
    assert schema_errors(text) == []


@pytest.mark.parametrize(("name", "text", "inexpressible"), KNOWN_BAD, ids=[b[0] for b in KNOWN_BAD])
def test_known_bad_files(tmp_path: Path, name: str, text: str, inexpressible: str | None) -> None:
    assert pipeline.check([write(tmp_path, name, text)])[0] != [], "check must refuse it"
    if inexpressible is None:
        assert schema_errors(text) != [], "the schema must refuse it too"
    else:
        # The schema lets it through: JSON Schema cannot say this rule. Should the schema
        # start refusing it, move the case to None.
        assert inexpressible in config.SCHEMA_CANNOT_EXPRESS
        assert schema_errors(text) == []


def test_every_rule_the_schema_cannot_express_has_a_known_bad_file() -> None:
    assert {b[2] for b in KNOWN_BAD if b[2]} == set(config.SCHEMA_CANNOT_EXPRESS)


def test_every_key_has_a_korean_and_an_english_description() -> None:
    docs = config.key_docs()
    properties = [SCHEMA["properties"]] + [d["properties"] for d in SCHEMA["$defs"].values()]
    assert len(docs) == sum(len(p) for p in properties)  # every key of every mapping
    for key, description in docs:
        korean, _, english = description.partition("\n\n")
        assert re.search("[가-힣]", korean), key
        assert english and not re.search("[가-힣]", english), key
    # The schema carries the same text.
    assert SCHEMA["properties"]["store"]["description"] == dict(docs)["store"]
    assert SCHEMA["$defs"]["Product"]["properties"]["name"]["description"] == \
        dict(docs)["products[].name"]


def test_readme_table_is_the_models_descriptions() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert config.readme_table() in readme, (
        "the README's table of keys differs from the model: paste `kspay-pages schema "
        "--markdown` into README.md")


def test_readme_shows_the_line_that_makes_an_editor_check_the_file() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"{config.SCHEMA_COMMENT}../{config.SCHEMA_FILE}" in readme
    assert f"kspay-pages schema > {config.SCHEMA_FILE}" in readme
