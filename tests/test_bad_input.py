"""Bad input is a clean error at the right place, never a traceback or a changed value.

What a red team found (issue 16): YAML tags that crashed the loader, YAML 1.1 numbers that
changed prices, control characters and impossible hosts in URLs, errors reported at byte
columns, symlinks and slug collisions that hid the other errors, and files that `check`
accepted and `build` refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import VALID, form_values, soup
from generator import config, pipeline


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    result = config.load_site(path)
    assert not isinstance(result, config.Site), "expected errors"
    return [str(e).replace(str(path), "shop.yaml") for e in result]


def with_amount(written: str) -> str:
    return VALID.replace("amount: 1003", f"amount: {written}")


# --- YAML tags (item 5) --------------------------------------------------------------

@pytest.mark.parametrize(("written", "message"), [
    ("!!bool maybe", "'maybe' is not true or false (tagged !!bool)"),
    ("!!bool ''", "'' is not true or false (tagged !!bool)"),
    ('!!int ""', "'' is not a whole number (tagged !!int)"),
    ('!!int "-"', "'-' is not a whole number (tagged !!int)"),
    ('!!int "_"', "'_' is not a whole number (tagged !!int)"),
    ('!!int "+"', "'+' is not a whole number (tagged !!int)"),
    ('!!int "x1"', "'x1' is not a whole number (tagged !!int)"),
    ('!!float ""', "'' is not a number (tagged !!float)"),
    ('!!float "-"', "'-' is not a number (tagged !!float)"),
])
def test_a_tag_that_does_not_fit_its_value_is_an_error(tmp_path: Path, written: str,
                                                        message: str) -> None:
    assert errors_of(tmp_path, with_amount(written)) == [
        f"shop.yaml:8:13: products[0].amount: {message}"]


def test_tag_errors_are_listed_with_the_files_other_errors(tmp_path: Path) -> None:
    text = with_amount("!!bool maybe").replace('"2999199999"', '"29991"')
    assert errors_of(tmp_path, text) == [
        "shop.yaml:2:7: store.id: must be exactly 10 digits, got '29991'",
        "shop.yaml:8:13: products[0].amount: 'maybe' is not true or false (tagged !!bool)"]


def test_a_tag_that_fits_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(with_amount('!!int "1003"') + "escrow: !!bool true\n", encoding="utf-8")
    site = config.load_site(path)
    assert isinstance(site, config.Site)
    assert (site.config.products[0].amount, site.config.escrow) == (1003, True)


# --- YAML 1.1 numbers (item 6) --------------------------------------------------------

NOT_PLAIN = ("write a number in plain digits without a leading 0, or put text in quotes")


@pytest.mark.parametrize(("written", "meaning"), [
    ("010000", "4096 by YAML 1.1 (octal: a leading 0) and as 10000 by YAML 1.2"),
    ("1:00:00", "3600 by YAML 1.1 (base 60) and as text by YAML 1.2"),
    ("16:40", "1000 by YAML 1.1 (base 60) and as text by YAML 1.2"),
    ("0x3E8", "1000 by YAML 1.1 (hexadecimal) and as 1000 by YAML 1.2"),
    ("0b1111101000", "1000 by YAML 1.1 (binary) and as text by YAML 1.2"),
    ("1_000", "1000 by YAML 1.1 (the _ ignored) and as text by YAML 1.2"),
    ("+01750", "1000 by YAML 1.1 (octal: a leading 0) and as 1750 by YAML 1.2"),
    ('!!int "01750"', "1000 by YAML 1.1 (octal: a leading 0) and as 1750 by YAML 1.2"),
])
def test_an_amount_yaml_versions_read_differently_is_refused(tmp_path: Path, written: str,
                                                            meaning: str) -> None:
    shown = written.removeprefix("!!int ").strip('"')
    assert errors_of(tmp_path, with_amount(written)) == [
        f"shop.yaml:8:13: products[0].amount: {shown} is read as {meaning}; {NOT_PLAIN}"]


@pytest.mark.parametrize(("key", "text", "where"), [
    ("installments", "installments: [0, 2, 03, 010]\n", ["9:22: installments[2]: 03 is read as 3",
                                                         "9:26: installments[3]: 010 is read as 8"]),
    ("interest_free", "installments: [0, 2, 3]\ninterest_free: [0x3]\n",
     ["10:17: interest_free[0]: 0x3 is read as 3"]),
    ("virtual_account_days", "paymethods: [virtual_account]\nvirtual_account_days: 0:10\n",
     ["10:23: virtual_account_days: expected a whole number, got '0:10'"]),  # text in both
    ("virtual_account_days", "paymethods: [virtual_account]\nvirtual_account_days: 0:30\n"
     "installments: [0, 1:30]\n", ["10:23: virtual_account_days: expected a whole number, "
                                   "got '0:30'", "11:19: installments[1]: 1:30 is read as 90"]),
    ("store.phone", VALID.replace("  name: 케이에스페이(주)\n", "  name: 케이에스페이(주)\n"
                                  "  phone: 0215446030\n"), ["4:10: store.phone: 0215446030 is read as 37112856"]),
])
def test_every_integer_key_refuses_yaml_1_1_numbers(tmp_path: Path, key: str, text: str,
                                                    where: list[str]) -> None:
    full = text if text.startswith("store:") else VALID + text
    errors = errors_of(tmp_path, full)
    assert [e.split(" by YAML")[0] for e in errors] == [f"shop.yaml:{w}" for w in where]


def test_no_page_carries_a_number_the_merchant_did_not_write(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(with_amount("010000"), encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        pipeline.build(sites, tmp_path / "_site")
    assert not (tmp_path / "_site").exists()
    (sites / "shop.yaml").write_text(with_amount("10000"), encoding="utf-8")
    pipeline.build(sites, tmp_path / "_site")
    page = soup(tmp_path / "_site" / "shop" / "carrot-10kg" / "index.html")
    assert form_values(page)["sndAmount"] == "10000"


# --- URLs (item 8) ------------------------------------------------------------------------

def with_reply(url: str) -> str:
    return VALID.replace("https://shop.example.kr/kspay/result", url)


@pytest.mark.parametrize(("written", "shown"), [
    ('"https://shop.example.kr/\\0"', "'https://shop.example.kr/\\x00'"),
    ('"https://shop.example.kr/\\x01"', "'https://shop.example.kr/\\x01'"),
    ('"https://shop.example.kr/\\x7f"', "'https://shop.example.kr/\\x7f'"),
    ('"https://shop.example.kr/\\e[2J"', "'https://shop.example.kr/\\x1b[2J'"),
    ('"https://shop.example.kr/a\\\\b"', "'https://shop.example.kr/a\\\\b'"),
])
def test_control_characters_in_reply_url_are_refused(tmp_path: Path, written: str,
                                                      shown: str) -> None:
    assert errors_of(tmp_path, with_reply(written)) == [
        f"shop.yaml:4:12: reply_url: must be an absolute http:// or https:// URL, got {shown}"]


@pytest.mark.parametrize(("url", "message"), [
    ("https://shop.example.kr:99999/r", "port 99999 is not a port (1 to 65535)"),
    ("https://shop.example.kr:0/r", "port 0 is not a port (1 to 65535)"),
    ("https://.../r", "'...' is not a host name"),
    ("https://shop..example.kr/r", "'shop..example.kr' is not a host name"),
    ("https://-shop.example.kr/r", "'-shop.example.kr' is not a host name"),
    ("https://shop.example.kr./r", "'shop.example.kr.' is not a host name"),
    ("https://999.1.1.1/r", "'999.1.1.1' is not a host name"),
    ("https://1.2.3/r", "'1.2.3' is not a host name"),
    ("https://010.0.0.1/r", "'010.0.0.1' is not a host name"),
    ("https://" + "a" * 64 + ".kr/r", f"'{'a' * 64}.kr' is not a host name"),
])
def test_ports_and_hosts_are_read_by_a_url_parser(tmp_path: Path, url: str, message: str) -> None:
    [error] = errors_of(tmp_path, with_reply(url))
    assert error.startswith(f"shop.yaml:4:12: reply_url: {message}")
    assert error.endswith(f", got {url!r}")


@pytest.mark.parametrize("url", ["https://10.0.0.1:8443/r", "https://shop.example.kr:65535/r",
                                 "http://localhost:8000/r", "https://xn--9n2bp8q.kr/?a=1#x",
                                 "https://www.kspay_test.co.kr/r"])
def test_real_urls_pass(tmp_path: Path, url: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(with_reply(url), encoding="utf-8")
    assert isinstance(config.load_site(path), config.Site)


@pytest.mark.parametrize("key", ["notify_url", "store.domain"])
def test_the_other_urls_follow_the_same_rules(tmp_path: Path, key: str) -> None:
    if key == "notify_url":
        text = VALID + 'notify_url: "https://shop.example.kr:70000/n"\n'
        where = "9:13"
    else:
        text = VALID.replace("  name: 케이에스페이(주)\n", "  name: 케이에스페이(주)\n"
                             '  domain: "https://shop.example.kr/\\0"\n')
        where = "4:11"
    [error] = errors_of(tmp_path, text)
    assert error.startswith(f"shop.yaml:{where}: {key}: ")


@pytest.mark.parametrize("scheme", ['"myapp://\\0"', '"myapp://\\x1b"', '"myapp://\\x7f"',
                                    '"myapp://a b"', '"myapp://😀"', '"myapp://가"'])
def test_ios_scheme_refuses_control_characters_and_non_ascii(tmp_path: Path, scheme: str) -> None:
    [error] = errors_of(tmp_path, VALID + f"apps: {{ios_scheme: {scheme}}}\n")
    assert error.startswith("shop.yaml:9:20: apps.ios_scheme: must be an app URL scheme such "
                            "as myapp://, got ")


def test_no_control_character_reaches_a_page(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(with_reply('"https://shop.example.kr/\\0"'), encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        pipeline.build(sites, tmp_path / "_site")
    assert not (tmp_path / "_site").exists()


# --- where errors are (item 9) ----------------------------------------------------------------

def test_a_control_character_after_hangul_is_reported_where_it_is(tmp_path: Path) -> None:
    text = VALID.replace("    name: 당근10kg", "    name: 당근10kg\x01")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:7:17: YAML: character U+0001 is not allowed in a YAML file (control character)"]
    text = VALID.replace("  name: 케이에스페이(주)", "  name: 케이에스페이(주)\x7f")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:3:18: YAML: character U+007F is not allowed in a YAML file (control character)"]


def test_bytes_that_are_not_utf8_after_hangul_are_reported_in_characters(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_bytes(VALID.replace("당근10kg", "당근").encode() + "  # 메모 ".encode() + b"\xff\n")
    [error] = config.load_site(path)
    assert (error.line, error.column) == (9, 8)


def sites_with(tmp_path: Path, files: dict[str, str]) -> Path:
    sites = tmp_path / "sites"
    sites.mkdir()
    for name, text in files.items():
        (sites / name).write_text(text, encoding="utf-8")
    return sites


def shown(errors: list[str], sites: Path) -> list[str]:
    return [e.replace(str(sites) + "/", "") for e in errors]


def test_symlinks_that_lead_nowhere_do_not_hide_other_errors(tmp_path: Path) -> None:
    sites = sites_with(tmp_path, {"good.yaml": VALID,
                                  "bad.yaml": VALID.replace('"2999199999"', '"29991"')})
    os.symlink("nowhere.yaml", sites / "dangling.yaml")
    os.symlink("loop.yaml", sites / "loop.yaml")
    expected = [
        "bad.yaml:2:7: store.id: must be exactly 10 digits, got '29991'",
        "dangling.yaml:1:1: a symlink to nowhere.yaml that leads nowhere (its target is "
        "missing, or a loop of links)",
        "loop.yaml:1:1: a symlink to loop.yaml that leads nowhere (its target is missing, or a "
        "loop of links)"]
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert shown(failed.value.errors, sites) == expected
    assert shown(pipeline.check([sites])[0], sites) == expected
    assert not (tmp_path / "_site").exists()


def test_slug_collisions_do_not_stop_other_files_errors(tmp_path: Path) -> None:
    sites = sites_with(tmp_path, {"shop.yaml": VALID, "shop.yml": VALID,
                                  "bad.yaml": VALID.replace("amount: 1003", "amount: 12")})
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    expected = ["shop.yml:1:1: shop.yaml and shop.yml would both be published at /shop/; keep one",
                "bad.yaml:8:13: products[0].amount: 12 won is below the card minimum of 1,000 won"]
    assert shown(failed.value.errors, sites) == expected
    assert shown(pipeline.check([sites])[0], sites) == expected


# --- what check accepts, build builds (item 9) ------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    ("installments: [0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\n",
     "9:15: installments: sent as sndInstallmenttype '0:2:3:4:5:6:7:8:9:10:11:12:13:14:15': "
     "35 bytes in EUC-KR, the limit is 30; offer fewer months"),
    ('apps: {ios_scheme: "myapp://😀"}\n',
     "9:20: apps.ios_scheme: must be an app URL scheme such as myapp://, got 'myapp://😀'"),
])
def test_what_build_refuses_check_refuses_at_its_line(tmp_path: Path, extra: str,
                                                      message: str) -> None:
    text = VALID.replace("amount: 1003", "amount: 60000") + extra
    sites = sites_with(tmp_path, {"shop.yaml": text})
    assert shown(pipeline.check([sites])[0], sites) == [f"shop.yaml:{message}"]
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site")
    assert shown(failed.value.errors, sites) == [f"shop.yaml:{message}"]


def test_thirty_bytes_of_installments_build(tmp_path: Path) -> None:
    months = "[0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]"  # 0:2:...:13, 29 bytes
    sites = sites_with(tmp_path, {"shop.yaml": VALID.replace("amount: 1003", "amount: 60000")
                                  + f"installments: {months}\n"})
    assert pipeline.check([sites])[0] == []
    pipeline.build(sites, tmp_path / "_site")
    page = soup(tmp_path / "_site" / "shop" / "carrot-10kg" / "index.html")
    assert form_values(page)["sndInstallmenttype"] == "0:2:3:4:5:6:7:8:9:10:11:12:13"


# --- the resident-number and password guards (item 10) ----------------------------------------

RRN_ERROR = ("looks like a resident registration number (주민등록번호); a site config is "
             "published, and KSPay pages never carry one (sndAllregid is sent empty)")
PASSWORD_ERROR = ("looks like a password written out; a site config is published, keep "
                  "secrets on your server")


@pytest.mark.parametrize("value", [
    "901231  -  1234567", "901231\t\t-2234567", "９０１２３１－１２３４５６７", "９０１２３１１２３４５６７",
    "901231.1234567", "901231 / 1234567", "901231_1234567", "901231\u200b-\u200b1234567",
    "901231\u2060 1234567", "주민번호: 901231 —  1234567", "901231  ‐ 5234567",
])
def test_resident_number_evasions_are_caught(tmp_path: Path, value: str) -> None:
    assert errors_of(tmp_path, VALID + f"echo: {{ECHA: '{value}'}}\n") == [
        f"shop.yaml:9:14: echo.ECHA: {RRN_ERROR}"]


@pytest.mark.parametrize("value", [
    "비밀번호는 kspay1234 입니다", "비밀번호는 kspay 입니다", "비밀번호는 kspay1234입니다",
    "비밀번호 kspay2024", "비밀번호﹕kspay", "비밀\u200b번호: kspay",
    "패스워드는 \"Pa55word!\"", "PASSWORD IS hunter2", "ｐａｓｓｗｏｒｄ＝ｋｓｐａｙ", "비밀번호　kspay1234",
])
def test_password_evasions_are_caught(tmp_path: Path, value: str) -> None:
    assert errors_of(tmp_path, VALID + f"notice: '{value}'\n") == [
        f"shop.yaml:9:9: notice: {PASSWORD_ERROR}"]


@pytest.mark.parametrize("value", [
    "비밀번호는 KSNET에서 안내합니다", "비밀번호는 KSNET 고객센터에 문의하세요", "비밀번호를 입력하세요",
    "비밀번호 8자 이상", "비밀번호는 2024년부터 바뀝니다", "A password is required", "암호화 AES256 적용",
    "주문번호 20240101-1234567", "02-1544-6030", "900101-9234567", "123456-1234567890",
    "2024.01.01 1234567원", "991399 1234567",
])
def test_what_only_looks_alike_passes(tmp_path: Path, value: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID + f"notice: '{value}'\n", encoding="utf-8")
    assert isinstance(config.load_site(path), config.Site)


def test_a_key_written_in_full_width_letters_is_still_a_secret(tmp_path: Path) -> None:
    text = VALID.replace("  name: 케이에스페이(주)\n", "  name: 케이에스페이(주)\n  ｐａｓｓｗｏｒｄ: x\n")
    assert errors_of(tmp_path, text) == [
        "shop.yaml:4:3: store.ｐａｓｓｗｏｒｄ: looks like a secret; a site config is published, "
        "keep secrets on your server"]


# --- the theme chain (item 11) ------------------------------------------------------------

@pytest.fixture()
def themes(tmp_path: Path) -> Path:
    import shutil

    from conftest import ROOT

    folder = tmp_path / "themes"
    shutil.copytree(ROOT / "themes" / "default", folder / "default")
    (folder / "carrot" / "templates").mkdir(parents=True)
    (folder / "carrot" / "theme.yaml").write_text("extends: default\n", encoding="utf-8")
    return folder


def build_errors(tmp_path: Path, themes: Path, theme: str) -> list[str]:
    sites = sites_with(tmp_path, {"shop.yaml": VALID + f"theme: {theme}\n"})
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site", themes)
    assert not (tmp_path / "_site").exists()
    assert shown(pipeline.check([sites], themes)[0], sites) == shown(failed.value.errors, sites)
    return shown(failed.value.errors, sites)


@pytest.mark.parametrize("where", ["templates/store.html", "static/extra.css"])
def test_a_symlink_in_an_extended_theme_is_found(tmp_path: Path, themes: Path, where: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    link = themes / "default" / where
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    assert build_errors(tmp_path, themes, "carrot") == [
        f"shop.yaml:9:8: theme: theme 'default': default/{where} is a symlink to {secret}, "
        f"outside {themes}; copy the file into the theme"]


def test_the_default_theme_is_checked_whatever_the_sites_use(tmp_path: Path, themes: Path) -> None:
    import shutil

    shutil.copytree(themes / "default", themes / "plain")  # extends nothing
    secret = tmp_path / "secret.css"
    secret.write_text("/* private */", encoding="utf-8")
    (themes / "default" / "static" / "extra.css").symlink_to(secret)
    assert build_errors(tmp_path, themes, "plain") == [
        f"shop.yaml:9:8: theme: theme 'default': default/static/extra.css is a symlink to "
        f"{secret}, outside {themes}; copy the file into the theme"]


@pytest.mark.parametrize(("theme_yaml", "message"), [
    ("extends: [default]\n", "extends: must be the name of a theme, got ['default']"),
    ("extends: {a: 1\n", "not a readable theme.yaml"),
])
def test_a_broken_theme_yaml_is_an_error(tmp_path: Path, themes: Path, theme_yaml: str,
                                         message: str) -> None:
    (themes / "carrot" / "theme.yaml").write_text(theme_yaml, encoding="utf-8")
    [error] = build_errors(tmp_path, themes, "carrot")
    assert error.startswith(f"shop.yaml:9:8: theme: {themes / 'carrot' / 'theme.yaml'}: {message}")


def test_an_extends_that_leaves_themes_is_not_walked(tmp_path: Path, themes: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "templates").mkdir(parents=True)
    (outside / "templates" / "leak.html").symlink_to(tmp_path)
    (themes / "carrot" / "theme.yaml").write_text("extends: ../outside\n", encoding="utf-8")
    [error] = build_errors(tmp_path, themes, "carrot")
    assert error == (f"shop.yaml:9:8: theme: theme '../outside' not found: no "
                     f"{themes / '../outside'}/templates")
