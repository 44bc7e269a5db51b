"""Hostile strings, the Content-Security-Policy, paths, secrets and reproducible output.

Each test builds into a temporary folder and reads the pages with BeautifulSoup (and
html5lib where a browser's reading matters).
"""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, SITES, VALID, form_values
from generator import config, kspay, markdown_safe, pipeline, safety, yamlload


# Every string a merchant file can carry, each as hostile as the validator lets it be.
HOSTILE = {
    "store": {
        "name": '"><svg onload=x>',  # 16 bytes
        "name_en": "'\"><img src=x>",
        "domain": "https://shop.example.kr/?a=1&b=javascript:alert(1)",
        "ceo_name": "</script><b>",
        "address": "\"><script>alert('address')</script><a href=javascript:alert(1)>",
        "phone": "0215446030",
    },
    "reply_url": "https://shop.example.kr/r?x=1&next=javascript:alert(1)&amp;#frag",
    "echo": {
        "ECHA": "\" onmouseover=\"alert(1)",
        "ECHB": "</script><script>alert(1)</script>",
        "ECHC": "javascript:alert(1)",
        "ECHD": "'><iframe src=javascript:alert(1)>",
        "ECHE": "&lt;&amp;&#x3C;&quot;",
    },
    "apps": {"android": True, "ios_scheme": "myapp://pay?r=&x=/script"},
    "notice": textwrap.dedent("""\
        <script>alert('notice')</script>
        <img src=x onerror=alert(1)>
        [click](javascript:alert(1)) [tab](java\tscript:alert(1)) <javascript:alert(1)>
        [ref][r] ![alt" onerror="alert(1)](https://x.kr/i.png)
        <a href="javascript:alert(1)">raw</a> <div style="color:red" onclick="x">d</div>
        [ok](https://jeju.example.kr "t\\" onclick=\\"x") <mail@example.kr>

        [r]: javascript:alert(2)
        """),
    "products": [{
        "slug": "carrot-10kg",
        "name": "<i>당근</i></script>",  # 20 bytes; ' " ` ~ are refused by KSPay
        "amount": 1003,
        "description": "</textarea><script>alert('d')</script> **굵게** `<b>`\n\n"
                       "<iframe src=\"javascript:alert(1)\"></iframe> [x](data:text/html,x)",
    }],
}


def write_site(folder: Path, slug: str, data: dict) -> Path:
    import yaml
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def hostile_config() -> dict:
    return {"store": {"id": "2999199999", **HOSTILE["store"]}, "reply_url": HOSTILE["reply_url"],
            "echo": HOSTILE["echo"], "apps": HOSTILE["apps"], "notice": HOSTILE["notice"],
            "products": HOSTILE["products"]}


def pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def parse(path: Path, parser: str = "html5lib") -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), parser)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write_site(root / "sites", "hostile", hostile_config())
    out = root / "_site"
    pipeline.build(root / "sites", out)
    return out


def test_hostile_values_pass_the_validator(tmp_path: Path) -> None:
    site = config.load_site(write_site(tmp_path, "hostile", hostile_config()))
    assert isinstance(site, config.Site), [str(e) for e in site]


def test_no_script_runs_and_no_attribute_breaks(hostile_site: Path) -> None:
    checked = 0
    for path in pages(hostile_site):
        for parser in ("html5lib", "html.parser"):  # a browser's reading, and a strict one
            page = parse(path, parser)
            scripts = page.find_all("script")
            assert all(s.get("src") and not s.get_text().strip() for s in scripts), path
            assert len(scripts) <= 1, path
            for script in scripts:
                assert re.fullmatch(r"(\.\./)*static/[a-z-]+\.[0-9a-f]{10}\.js", script["src"])
            for tag in page.find_all(True):
                assert tag.name not in ("iframe", "img", "svg", "object", "embed", "style",
                                        "textarea", "base"), (path, tag)
                for name, value in tag.attrs.items():
                    assert not name.lower().startswith("on"), (path, tag)
                    assert name != "style", (path, tag)
                    if name in ("href", "src", "action", "formaction"):
                        plain = re.sub("[\\x00-\\x20]", "", str(value)).lower()
                        assert not plain.startswith(("javascript:", "data:", "vbscript:")), (path, tag)
            checked += 1
    assert checked >= 2 * 4  # store page, three order pages (web, android, ios), reference


def test_hidden_values_round_trip_exactly(hostile_site: Path) -> None:
    product = HOSTILE["products"][0]
    for name, rtapp in (("index.html", ""), ("android.html", "android"),
                        ("ios.html", HOSTILE["apps"]["ios_scheme"])):
        page = parse(hostile_site / "hostile" / product["slug"] / name)
        values = form_values(page)
        assert {k: values[k] for k in ("sndStoreName", "sndStoreNameEng", "sndStoreDomain",
                                       "sndStoreCeoName", "sndStoreAddress", "sndGoodname",
                                       "sndReply", "sndRtApp")} == {
            "sndStoreName": HOSTILE["store"]["name"], "sndStoreNameEng": HOSTILE["store"]["name_en"],
            "sndStoreDomain": HOSTILE["store"]["domain"],
            "sndStoreCeoName": HOSTILE["store"]["ceo_name"],
            "sndStoreAddress": HOSTILE["store"]["address"], "sndGoodname": product["name"],
            "sndReply": HOSTILE["reply_url"].replace(
                "#frag", f"&site=hostile&product={product['slug']}#frag"),
            "sndRtApp": rtapp}
        assert {k: v for k, v in values.items() if k.startswith("ECH")} == HOSTILE["echo"]
        assert page.find("h1").get_text() == product["name"]
        form = page.find("form", id="pay-form")
        assert form["data-reply"] == values["sndReply"]


def test_raw_html_in_markdown_is_shown_as_text(hostile_site: Path) -> None:
    page = parse(hostile_site / "hostile" / "index.html")
    notice = page.find("section", class_="notice")
    text = notice.get_text()
    assert "<script>alert('notice')</script>" in text
    assert "<img src=x onerror=alert(1)>" in text
    links = {a.get_text(): a.get("href") for a in notice.find_all("a")}
    assert links["click"] is None and links["tab"] is None and links["ref"] is None
    assert links["ok"] == "https://jeju.example.kr"
    ok = notice.find("a", string="ok")
    assert "onclick" in ok["title"] and set(ok.attrs) == {"href", "rel", "title"}
    assert links["mail@example.kr"] == "mailto:mail@example.kr"
    assert page.find("dl", class_="seller-info").get_text().count(
        "<script>alert('address')</script>") == 1
    description = parse(hostile_site / "hostile" / "carrot-10kg" / "index.html").find(
        "div", class_="description")
    assert "<script>alert('d')</script>" in description.get_text()
    assert description.find("strong").get_text() == "굵게"
    assert description.find("a", string="x").get("href") is None


MARKDOWN_PIECES = [
    "<script>", "</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:x'>",
    "[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))", "[a](https://ok.kr)", "<https://x.kr>",
    "<x@y.kr>", "![i](https://x.kr/i.png)", '"', "'", "`", "**", "_", "*", "\n\n", "\n", "    ",
    "- ", "1. ", "> ", "# ", "[r]: javascript:x", "[r]", "&", "&#x3C;", "&lt;", "\\", "<!--",
    "-->", "<![CDATA[", "<style>", "on", "=", "<", ">", "(", ")", "[", "]", "\t", "\x00",
    "data:text/html,<script>alert(1)</script>", "<svg/onload=alert(1)>", "가",
]


@settings(max_examples=300, deadline=None, database=None)
@given(pieces=st.lists(st.sampled_from(MARKDOWN_PIECES) | st.text(max_size=4), max_size=25))
def test_markdown_output_stays_on_the_allow_list(pieces: list[str]) -> None:
    html = str(markdown_safe.render_markdown("".join(pieces)))
    for parser in ("html5lib", "html.parser"):
        tree = BeautifulSoup(html, parser)
        body = tree.body if parser == "html5lib" else tree
        for tag in body.find_all(True):
            assert tag.name in markdown_safe.ALLOWED_TAGS, html
            allowed = markdown_safe.ALLOWED_ATTRIBUTES.get(tag.name, frozenset())
            assert set(tag.attrs) <= allowed, html
            if tag.has_attr("href"):
                assert markdown_safe.safe_href(tag["href"]) == tag["href"], html


# --- Content-Security-Policy ----------------------------------------------------------

def csp_of(page: BeautifulSoup) -> dict[str, str]:
    metas = page.find_all("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert len(metas) == 1
    return {part.split()[0]: " ".join(part.split()[1:])
            for part in metas[0]["content"].split(";") if part.strip()}


def test_content_security_policy_on_every_page(built: Path, hostile_site: Path) -> None:
    checked = 0
    for out in (built, hostile_site):
        for path in pages(out):
            page = parse(path)
            csp = csp_of(page)
            head = page.head.find_all(True)
            policy = head.index(page.find("meta", attrs={"http-equiv": "Content-Security-Policy"}))
            governed = [i for i, t in enumerate(head) if t.name in ("script", "link", "style")]
            assert policy < min(governed), f"{path}: the policy must come before what it governs"
            assert csp["default-src"] == "'none'"
            assert csp["script-src"] == "'self'"
            assert csp["style-src"] == "'self'"
            assert csp["base-uri"] == "'none'"
            assert "unsafe" not in " ".join(csp.values())
            is_order = page.find("form", id="pay-form") is not None
            assert csp["form-action"] == (f"https://{kspay.KSPAY_HOST}" if is_order else "'none'")
            for form in page.find_all("form"):
                assert form["action"].startswith(f"https://{kspay.KSPAY_HOST}/")
            for script in page.find_all("script"):
                assert script.get("src") and not script.get_text().strip(), path
                assert not re.match(r"[a-z]+:|//", script["src"]), path
            for link in page.find_all("link", rel="stylesheet"):
                assert not re.match(r"[a-z]+:|//", link["href"]), path
            assert not page.find_all("style"), path
            assert not [t for t in page.find_all(True) if t.has_attr("style")], path
            assert not [t for t in page.find_all(True)
                        if any(a.lower().startswith("on") for a in t.attrs)], path
            checked += 1
    assert checked >= 20


# --- paths ------------------------------------------------------------------------------

def build_errors(sites: Path, out: Path) -> list[str]:
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, out)
    assert not out.exists(), "nothing may be written"
    return [e.replace(str(sites) + "/", "") for e in failed.value.errors]


def test_a_merchant_file_that_links_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "secret.yaml"
    outside.parent.mkdir()
    outside.write_text(VALID, encoding="utf-8")
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").symlink_to(outside)
    (sites / "inside.yaml").write_text(VALID, encoding="utf-8")
    (sites / "alias.yaml").symlink_to(sites / "inside.yaml")  # inside the folder: fine
    [error] = build_errors(sites, tmp_path / "_site")
    assert re.fullmatch(r".*shop\.yaml:1:1: a symlink to .*/elsewhere/secret\.yaml, outside "
                        r".*sites; keep merchant files in the sites folder", error), error
    assert [e.replace(str(sites) + "/", "") for e in pipeline.check([sites])[0]] == [error]


def test_two_files_for_one_slug_and_the_generators_own_folders(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    for name in ("shop.yaml", "shop.yml", "static.yaml", "reference.yaml"):
        (sites / name).write_text(VALID, encoding="utf-8")
    errors = build_errors(sites, tmp_path / "_site")
    assert len(errors) == 3
    assert all(re.match(r".*\.ya?ml:1:1: ", e) for e in errors), errors
    assert any("shop.yml" in e and "shop.yaml" in e for e in errors)
    assert any(e.startswith(f"{sites}/static.yaml") or "static.yaml:1:1" in e for e in errors)


@pytest.mark.parametrize("slug", ["../escape", "/etc/passwd", "a/../../b", "..", "UPPER"])
def test_theme_names_cannot_leave_themes(tmp_path: Path, slug: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID + f"theme: {slug!r}\n", encoding="utf-8")
    [error] = config.load_site(path)
    assert error.key == "theme" and "lower-case letters, digits and single hyphens" in error.message


def test_theme_symlinks_to_outside_are_found(tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    outside = tmp_path / "outside"
    (outside / "templates").mkdir(parents=True)
    (outside / "secret.txt").write_text("private", encoding="utf-8")
    themes.mkdir()
    (themes / "linked").symlink_to(outside)
    (themes / "mine" / "static").mkdir(parents=True)
    (themes / "mine" / "static" / "leak.css").symlink_to(outside / "secret.txt")
    assert safety.theme_problems("linked", themes) == [
        f"theme 'linked': {themes / 'linked'} is a symlink to {outside}, outside {themes}"]
    assert safety.theme_problems("mine", themes) == [
        f"theme 'mine': mine/static/leak.css is a symlink to {outside / 'secret.txt'}, outside "
        f"{themes}; copy the file into the theme"]
    assert safety.theme_problems("default", ROOT / "themes") == []


# --- secrets and privacy --------------------------------------------------------------

def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    result = config.load_site(path)
    assert not isinstance(result, config.Site), "expected errors"
    return [str(e).replace(str(path), "shop.yaml") for e in result]


@pytest.mark.parametrize("key", ["password", "admin_password", "passwd", "secret", "api_key",
                                 "apiKey", "private-key", "token", "access_key", "비밀번호"])
def test_a_key_named_like_a_secret_is_an_error(tmp_path: Path, key: str) -> None:
    text = VALID.replace("  name: 케이에스페이(주)\n", f"  name: 케이에스페이(주)\n  {key}: hunter2\n")
    assert errors_of(tmp_path, text) == [
        f"shop.yaml:4:3: store.{key}: looks like a secret; a site config is published, keep "
        "secrets on your server"]


def test_a_secret_key_anywhere(tmp_path: Path) -> None:
    text = VALID + "echo: {ECHA: x, token: abc}\nsecret: {nested: [1, 2]}\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:17: echo.token: looks like a secret; a site config is published, keep "
        "secrets on your server",
        "shop.yaml:10:1: secret: looks like a secret; a site config is published, keep "
        "secrets on your server"]


@pytest.mark.parametrize("value", ["900101-1234567", "900101 - 2234567", "0001013234567",
                                   "고객 주민번호 850505-5123456 확인"])
def test_a_resident_registration_number_is_an_error(tmp_path: Path, value: str) -> None:
    text = VALID + f"echo: {{ECHA: '{value}'}}\n"
    [error] = errors_of(tmp_path, text)
    assert error == ("shop.yaml:9:14: echo.ECHA: looks like a resident registration number "
                     "(주민등록번호); a site config is published, and KSPay pages never carry "
                     "one (sndAllregid is sent empty)")
    assert value not in error


@pytest.mark.parametrize("value", ["900101-9234567", "2024010112345", "KSPAY20240101123456",
                                   "02-1544-6030", "123456-123456"])
def test_look_alikes_of_a_resident_number_pass(tmp_path: Path, value: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID + f"echo: {{ECHA: '{value}'}}\n", encoding="utf-8")
    assert isinstance(config.load_site(path), config.Site)


def test_the_seeds_admin_password_cannot_be_published(tmp_path: Path) -> None:
    text = VALID + "notice: |\n  관리자페이지 테스트상점 아이디 : 2999199999\n  비밀번호 : kspay\n"
    assert errors_of(tmp_path, text) == [
        "shop.yaml:9:9: notice: looks like a password written out; a site config is "
        "published, keep secrets on your server"]


# The seed's test-store password is "kspay": as a value of its own, or after 비밀번호.
SEED_PASSWORD = re.compile(r"(비밀번호|패스워드|password)\s*[:：=]?\s*kspay\b", re.IGNORECASE)
SEED_PASSWORD_ALONE = re.compile(r"(?<![\w./@-])kspay(?![\w./@-])")


def test_the_built_example_site_carries_no_secret(built: Path) -> None:
    scanned = 0
    for path in sorted(p for p in built.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert not safety.RRN_RE.search(text), path
        assert not SEED_PASSWORD.search(text), path
        assert not SEED_PASSWORD_ALONE.search(text), path
        assert not safety.PASSWORD_TEXT_RE.search(text), path
        # Where the admin login page is named, its login is KSNET's to give (the receipt
        # pages on the same host have no login).
        assert "pg_infoc/src/login.jsp" not in text or "로그인 정보는 KSNET에서 안내" in text, path
        scanned += 1
    assert scanned > 20
    for path in SITES.glob("*.yaml"):
        assert not safety.config_problems(yamlload.load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("url", ["http://shop.example.kr/kspay/result",
                                 "http://127.0.0.2/r", "http://localhost.example.kr/r"])
def test_reply_url_must_be_https(tmp_path: Path, url: str) -> None:
    text = VALID.replace("https://shop.example.kr/kspay/result", url)
    assert errors_of(tmp_path, text) == [
        "shop.yaml:4:12: reply_url: must be https://: KSPay sends the payment result to this "
        "page, over http it travels in the clear and browsers block it as mixed content from "
        "an https page (http is accepted only for localhost and 127.0.0.1), "
        f"got {url!r}"]


@pytest.mark.parametrize("url", ["http://localhost/r", "http://127.0.0.1:8000/kspay?x=1",
                                 "http://LOCALHOST:8080/r", "https://shop.example.kr/r"])
def test_reply_url_http_only_for_local_testing(tmp_path: Path, url: str) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(VALID.replace("https://shop.example.kr/kspay/result", url), encoding="utf-8")
    assert isinstance(config.load_site(path), config.Site)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("products[0].name", 'a"b', "must not contain \""),
    ("reply_url", "javascript:alert(1)", "must be an absolute http:// or https:// URL"),
    ("reply_url", 'https://a.kr/"><script>', "must be an absolute http:// or https:// URL"),
    ("store.domain", "javascript:alert(1)//", "must start with http:// or https://"),
    ("apps.ios_scheme", "javascript://%0aalert(1)", "javascript: is not an app's URL scheme"),
    ("apps.ios_scheme", "data://text/html,x", "data: is not an app's URL scheme"),
    ("store.name", "가게\u0007", "control characters"),
])
def test_hostile_values_kspay_refuses_get_a_clean_error(tmp_path: Path, key: str, value: str,
                                                      expected: str) -> None:
    data = {"store": {"id": "2999199999", "name": "가게"}, "reply_url": "https://a.kr/r",
            "products": [{"slug": "p", "name": "상품", "amount": 1000}]}
    parts = re.findall(r"[a-z_]+|\[\d+\]", key)
    target = data
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target.setdefault(part, {})
    target[parts[-1]] = value
    [error] = config.load_site(write_site(tmp_path, "shop", data))
    assert config.key_path(tuple(int(p[1:-1]) if p.startswith("[") else p for p in parts)) == error.key
    assert expected in error.message, error.message


# --- reproducible builds --------------------------------------------------------------

def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = tmp_path / "one" / "_site"
    pipeline.build(SITES, first)
    second = tmp_path / "two" / "public"
    # Another process, another hash seed, another working folder: nothing may depend on them.
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--sites", str(SITES),
                    "--out", str(second), "--jobs", "1"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    one, two = tree(first), tree(second)
    assert sorted(one) == sorted(two)
    assert [name for name in one if one[name] != two[name]] == []
    comparison = filecmp.dircmp(first, second)
    assert not comparison.diff_files and not comparison.left_only and not comparison.right_only
    assert len(one) > 20


def test_a_theme_with_a_symlink_to_outside_stops_the_build(tmp_path: Path) -> None:
    import shutil
    themes = tmp_path / "themes"
    shutil.copytree(ROOT / "themes" / "default", themes / "default")
    secret = tmp_path / "secret.css"
    secret.write_text("/* private */", encoding="utf-8")
    (themes / "default" / "static" / "extra.css").symlink_to(secret)
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(sites, tmp_path / "_site", themes_dir=themes)
    [error] = failed.value.errors
    assert "default/static/extra.css is a symlink to" in error and "outside" in error
    assert not (tmp_path / "_site").exists()
    assert any("extra.css is a symlink" in e for e in pipeline.check([sites], themes_dir=themes)[0])


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"))), st.text("<>&'\" a"))
def test_hidden_inputs_give_back_every_value_exactly(first: str, second: str) -> None:
    """Whatever a value holds, the form has exactly its inputs and each value reads back."""
    from bs4 import BeautifulSoup

    from generator import form

    fields = [("sndGoodname", first), ("sndStoreName", second), ("sndAmount", "1003")]
    inputs = BeautifulSoup(str(form.hidden_inputs(fields)), "html.parser").find_all("input")
    assert [(i["type"], i["name"], i["value"]) for i in inputs] == [
        ("hidden", name, value) for name, value in fields]
