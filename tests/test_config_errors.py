"""Config errors as merchants see them: file:line:col, key, rule, measured value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import VALID
from generator import config, pipeline



def errors_of(tmp_path: Path, text: str, name: str = "shop.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = config.load_site(path)
    assert not isinstance(result, config.Site), "expected errors"
    return [str(e).replace(str(path), name) for e in result]


def test_valid_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID, encoding="utf-8")
    site = config.load_site(path)
    assert isinstance(site, config.Site)
    assert site.slug == "shop"
    c = site.config
    assert (c.window, c.currency, c.paymethods, c.installments, c.interest_free, c.escrow) == (
        "v1.4", "WON", ["card"], [0], "none", False)
    assert (c.show_cards, c.order_prefix, c.theme) == (None, "KSPAY", "default")


def test_over_long_korean_store_name(tmp_path: Path) -> None:
    text = VALID.replace("케이에스페이(주)", "케이에스페이주식회사본사")
    assert errors_of(tmp_path, text) == ["shop.yaml:3:9: store.name: 24 bytes in EUC-KR, the limit is 20"]


def test_emoji_in_goods_name(tmp_path: Path) -> None:
    text = VALID.replace("당근10kg", "당근🥕")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:7:11: products[0].name: '🥕' (U+1F955) cannot be encoded in EUC-KR"]


def test_store_id_written_as_a_number(tmp_path: Path) -> None:
    text = VALID.replace('"2999199999"', "2999199999")
    assert errors_of(tmp_path, text) == [
        'shop.yaml:2:7: store.id: expected text, got the number 2999199999; '
        'put it in quotes: "2999199999"']


def test_missing_required_key(tmp_path: Path) -> None:
    text = VALID.replace("reply_url: https://shop.example.kr/kspay/result\n", "")
    assert errors_of(tmp_path, text) == ["shop.yaml:1:1: reply_url: required key is missing"]


def test_missing_nested_key_points_at_its_parent(tmp_path: Path) -> None:
    text = VALID.replace("    amount: 1003\n", "")
    assert errors_of(tmp_path, text) == ["shop.yaml:6:5: products[0].amount: required key is missing"]


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    text = VALID + "intrest_free: all\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:1: intrest_free: unknown key; did you mean 'interest_free'? (allowed here: "
        "apps, currency, echo, escrow, good_type, installments, interest_free, notice, "
        "notify_url, order_prefix, paymethods, policies, products, reply_url, shipping, "
        "show_cards, store, theme, "
        "virtual_account_days, window)"]


def test_wrong_type(tmp_path: Path) -> None:
    text = VALID.replace("amount: 1003", "amount: 천원")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:8:13: products[0].amount: expected a whole number, got '천원'"]


def test_broken_yaml(tmp_path: Path) -> None:
    text = VALID.replace("  name: 케이에스페이(주)", "  name: [케이에스페이(주)")
    [message] = errors_of(tmp_path, text)
    assert message == "shop.yaml:4:10: YAML syntax: did not find expected ',' or ']'"


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = VALID.replace('  name: 케이에스페이(주)\n', '  name: 케이에스페이(주)\n  name: 다른이름\n')
    assert errors_of(tmp_path, text) == ["shop.yaml:4:3: store.name: duplicate key (first at line 3)"]


def test_duplicate_product_slug(tmp_path: Path) -> None:
    text = VALID + "  - slug: carrot-10kg\n    name: 당근5kg\n    amount: 2000\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:11: products[1].slug: duplicate product slug 'carrot-10kg' (first at line 6)"]


def test_interest_free_month_not_offered(tmp_path: Path) -> None:
    text = VALID + "installments: [0, 2, 3]\ninterest_free: [3, 6]\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:10:20: interest_free[1]: month 6 is not offered in installments [0, 2, 3]"]


def test_amount_over_nine_digits(tmp_path: Path) -> None:
    text = VALID.replace("amount: 1003", "amount: 1000000000")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:8:13: products[0].amount: 1000000000 is out of range: KSPay amounts are "
        "1 to 999,999,999 won (9 digits)"]


def test_card_minimum_amount(tmp_path: Path) -> None:
    text = VALID.replace("amount: 1003", "amount: 999")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:8:13: products[0].amount: 999 won is below the card minimum of 1,000 won"]


def test_mobile_needs_good_type(tmp_path: Path) -> None:
    text = VALID + "paymethods: [card, mobile]\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:13: paymethods: good_type (physical or digital) is required when mobile is offered"]


def test_bad_literal_and_echo_name(tmp_path: Path) -> None:
    text = VALID + "window: v2\necho: {ECH-A: x}\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:9: window: must be 'v1.4' or 'mb2', got 'v2'",
        "shop.yaml:10:8: echo.ECH-A: echo names are ECH and letters, digits or _ (ECHA, "
        "ECHSID, ECH_OrdNo), got 'ECH-A'",
    ]


def test_echo_names_as_ksnets_sample_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID + "echo: {ECHSID: s-1, ECH_OrdNo: o-1, ECHA: a}\n", encoding="utf-8")
    site = config.load_site(path)
    assert isinstance(site, config.Site), site
    assert site.config.echo == {"ECHSID": "s-1", "ECH_OrdNo": "o-1", "ECHA": "a"}


def test_show_cards_all_and_unset_are_accepted(tmp_path: Path) -> None:
    for text, expected in ((VALID, None), (VALID + "show_cards: all\n", "all")):
        path = tmp_path / "shop.yaml"
        path.write_text(text, encoding="utf-8")
        site = config.load_site(path)
        assert isinstance(site, config.Site), site
        assert site.config.show_cards == expected


def test_show_cards_a_word_other_than_all(tmp_path: Path) -> None:
    assert errors_of(tmp_path, VALID + "show_cards: none\n") == [
        "shop.yaml:9:13: show_cards: must be all or a mapping such as {isp: true, mpi: true}, "
        "got 'none'"]
    assert errors_of(tmp_path, VALID + "show_cards: {isp: x}\n") == [
        "shop.yaml:9:19: show_cards.isp: expected true or false, got 'x'"]


def test_mpi_codes_must_be_mpi_cards_of_the_card_table(tmp_path: Path) -> None:
    text = VALID + 'show_cards:\n  isp: false\n  mpi: ["04", "77", "01"]\n'
    mpi_cards = "03, 04, 05, 08, 09, 11, 12, 16, 17, 19, 24, 26"
    assert errors_of(tmp_path, text) == [
        f"shop.yaml:11:15: show_cards.mpi[1]: '77' is not in the card table; the MPI cards "
        f"are {mpi_cards}",
        f"shop.yaml:11:21: show_cards.mpi[2]: '01' is 비씨카드, which the card table does not "
        f"mark MPI; the MPI cards are {mpi_cards}"]


def test_isp_off_with_an_empty_mpi_list(tmp_path: Path) -> None:
    text = VALID + "show_cards:\n  isp: false\n  mpi: []\n"
    assert errors_of(tmp_path, text) == [
        'shop.yaml:11:8: show_cards.mpi: an empty list shows no MPI card: write false for '
        'none, or list card codes such as ["04", "05"]']


def test_installment_string_longer_than_kspay_takes(tmp_path: Path) -> None:
    """check and build agree: the months as sent are 32 bytes, reported at installments."""
    months = "[0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]"
    text = VALID.replace("amount: 1003", "amount: 60000") + f"installments: {months}\n"
    expected = ("shop.yaml:9:15: installments: sent as sndInstallmenttype "
                "'0:2:3:4:5:6:7:8:9:10:11:12:13:14': 32 bytes in EUC-KR, the limit is 30; "
                "offer fewer months")
    assert errors_of(tmp_path, text) == [expected]
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert [e.replace(str(sites) + "/", "") for e in failed.value.errors] == [expected]
    assert failed.value.errors == pipeline.check([sites])[0]


def test_empty_month_lists(tmp_path: Path) -> None:
    assert errors_of(tmp_path, VALID + "installments: []\n") == [
        "shop.yaml:9:15: installments: needs at least one month: [0] is lump sum only"]
    assert errors_of(tmp_path, VALID + "interest_free: []\n") == [
        "shop.yaml:9:16: interest_free: needs at least one month; none waives no interest"]


def test_mb2_refuses_hangul_outside_strict_euc_kr_in_the_merchants_text(tmp_path: Path) -> None:
    text = VALID.replace("케이에스페이(주)", "샾가게").replace("당근10kg", "똠양꿍") + \
        "window: mb2\necho: {ECHA: 똠}\n"
    why = ("is in CP949 but not in KS X 1001 (strict EUC-KR); the mb2 window reads EUC-KR and a "
           "strict reader garbles it: write it another way, or use window: v1.4")
    assert errors_of(tmp_path, text) == [
        f"shop.yaml:3:9: store.name: '샾' (U+C0FE) {why}",
        f"shop.yaml:7:11: products[0].name: '똠' (U+B620) {why}",
        f"shop.yaml:10:14: echo.ECHA: '똠' (U+B620) {why}"]
    # The V1.4 window posts UTF-8: the same file is valid there.
    path = tmp_path / "v14.yaml"
    path.write_text(text.replace("window: mb2", "window: v1.4"), encoding="utf-8")
    assert isinstance(config.load_site(path), config.Site)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(VALID.encode("cp949"))
    [error] = config.load_site(path)
    assert str(error) == f"{path}:3:9: not UTF-8 text (byte 0xc4); save the file as UTF-8"


def test_bad_file_name(tmp_path: Path) -> None:
    assert errors_of(tmp_path, VALID, name="My Shop.yaml") == [
        "My Shop.yaml:1:1: file name 'My Shop.yaml': a site slug must be lower-case letters, "
        "digits and single hyphens, e.g. my-shop.yaml"]


def test_every_error_of_every_file_and_nothing_written(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "a.yaml").write_text(VALID.replace("amount: 1003", "amount: 10"), encoding="utf-8")
    (sites / "b.yaml").write_text(VALID.replace("케이에스페이(주)", "가" * 11)
                                  .replace('"2999199999"', '"123"'), encoding="utf-8")
    (sites / "c.yaml").write_text(VALID, encoding="utf-8")
    out = tmp_path / "_site"
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, out)
    assert [e.replace(str(sites) + "/", "") for e in failed.value.errors] == [
        "a.yaml:8:13: products[0].amount: 10 won is below the card minimum of 1,000 won",
        "b.yaml:2:7: store.id: must be exactly 10 digits, got '123'",
        "b.yaml:3:9: store.name: 22 bytes in EUC-KR, the limit is 20",
    ]
    assert not out.exists()
    # Only the output's lock file (empty; taken before anything is read) is beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kspay-_site.lock", "sites"]


def test_failed_build_keeps_the_previous_site(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(VALID, encoding="utf-8")
    out = tmp_path / "_site"
    pipeline.build(sites, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (sites / "shop.yaml").write_text(VALID.replace("amount: 1003", "amount: -1"), encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        pipeline.build(sites, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".kspay-_site.lock", ".kspay-_site.manifest", "_site", "sites"]


def test_schema_lists_every_contract_key() -> None:
    schema = config.json_schema()
    assert set(schema["properties"]) == {
        "store", "reply_url", "window", "currency", "paymethods", "installments",
        "interest_free", "escrow", "show_cards", "good_type", "apps", "echo", "order_prefix",
        "theme", "notice", "products", "notify_url", "virtual_account_days", "policies",
        "shipping"}
    assert schema["required"] == ["store", "reply_url", "products"]
    assert schema["additionalProperties"] is False


def test_missing_theme_is_reported_at_its_key(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(VALID + "theme: carrot\n", encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    [message] = failed.value.errors
    assert message.endswith("shop.yaml:9:8: theme: theme 'carrot' not found: no "
                            f"{pipeline.THEMES_DIR}/carrot/templates")
    assert pipeline.check([sites]) == (failed.value.errors, [])


def test_virtual_account_days_needs_virtual_account(tmp_path: Path) -> None:
    assert errors_of(tmp_path, VALID + "virtual_account_days: 3\n") == [
        "shop.yaml:9:23: virtual_account_days: is set, but paymethods does not offer "
        "virtual_account"]


def test_virtual_account_days_is_one_to_thirty(tmp_path: Path) -> None:
    text = VALID + "paymethods: [virtual_account]\nvirtual_account_days: 31\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:10:23: virtual_account_days: must be at most 30, got the number 31"]


def test_notify_url_must_be_https(tmp_path: Path) -> None:
    assert errors_of(tmp_path, VALID + "notify_url: http://shop.example.kr/hook\n") == [
        "shop.yaml:9:13: notify_url: must be https://: the notice carries the customer's "
        "order, over http it travels in the clear (http is accepted only for localhost and "
        "127.0.0.1), got 'http://shop.example.kr/hook'"]
