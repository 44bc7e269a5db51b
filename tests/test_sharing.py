"""What pages tell search engines and messengers: a meta description and a favicon on
every page; with `build --base-url`, canonical links, Open Graph tags, the sitemaps and
robots.txt, and without it none of them, as the summary line says."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import html5lib
import pytest

from conftest import BASE_URL, ROOT, SITES, VALID, soup
from generator import pipeline

LEFT_OUT = ("(no --base-url: no canonical links, Open Graph tags, sitemap.xml, robots.txt "
            "or QR codes)")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def head_of(path: Path) -> dict[str, str | None]:
    page = soup(path)

    def meta(**attrs: str) -> str | None:
        found = page.find("meta", attrs=attrs)
        return found["content"] if found else None

    canonical = page.find("link", rel="canonical")
    return {"description": meta(name="description"),
            "canonical": canonical["href"] if canonical else None,
            "og:title": meta(property="og:title"),
            "og:description": meta(property="og:description"),
            "og:url": meta(property="og:url"), "og:image": meta(property="og:image")}


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def test_every_page_has_a_description_and_a_favicon_and_nothing_absolute_without_a_base_url(
        built: Path) -> None:
    pages = html_pages(built)
    assert len(pages) == 30
    for path in pages:
        page = soup(path)
        head = head_of(path)
        assert head["description"], path
        assert [v for k, v in head.items() if k != "description"] == [None] * 5, path
        icon = page.find("link", rel="icon")
        assert (path.parent / icon["href"]).resolve().is_file(), path
        assert "https://pay.example.kr" not in path.read_text(encoding="utf-8")
    for absent in ("sitemap.xml", "robots.txt", "jeju-orchard/sitemap.xml",
                   "reference/sitemap.xml", "jeju-orchard/hallabong-5kg/qr"):
        assert not (built / absent).exists(), absent
    assert soup(built / "jeju-orchard" / "index.html").find("img", class_="qr") is None


def test_without_a_base_url_the_summary_line_says_what_is_left_out(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    first = run("build", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert first.stdout.startswith(f"built 3 site(s) into {out} in ")
    assert f" s {LEFT_OUT}: 30 page(s) rendered" in first.stdout
    again = run("build", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert again.stdout.endswith(f" s {LEFT_OUT}: nothing changed\n")
    shared = run("build", "--sites", str(SITES), "--out", str(out), "--base-url", BASE_URL,
                 cwd=tmp_path)
    [line] = shared.stdout.splitlines()
    assert line.startswith(f"built 3 site(s) into {out} for {BASE_URL} in ")
    assert "no --base-url" not in line


def test_descriptions_say_what_each_page_is(built: Path) -> None:
    def description(path: str) -> str | None:
        return head_of(built / path)["description"]

    assert description("jeju-orchard/hallabong-5kg/index.html") == (
        "59,000원 · 껍질이 얇고 당도 13브릭스 이상만 골랐습니다.")
    assert description("jeju-orchard/hallabong-10kg/index.html") == "89,000원 · 제주한라봉농원"
    # The notice as plain text, cut at 80 characters.
    assert description("jeju-orchard/index.html") == (
        "수확 후 다음 날 발송합니다. 50,000원 이상 주문하시면 배송비가 없습니다. 가상계좌는 발급 후 "
        "3일 안에 입금해 주세요. 문의: 농원 홈…")
    assert description("kspay-test/index.html") == (
        "KSNET 테스트 상점입니다. 테스트 결제는 3~5분 뒤 자동으로 취소됩니다.")
    assert description("book-academy/index.html") == (
        "한빛온라인아카데미: 파이썬 입문 12주 과정, SQL 첫걸음 전자책")  # no notice: the products
    assert description("jeju-orchard/policies/refund/index.html") == (
        "제주한라봉농원 청약철회·교환·환불")
    assert description("index.html") == "KSPay Pages로 만든 상점 3곳의 주문 페이지"
    assert description("reference/faq/index.html") == (
        "KSPay 스마트폰 결제창 연동 참고 자료: 자주 묻는 질문")


def test_a_long_description_is_cut_at_80_characters(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "shop.yaml").write_text(VALID + "    description: " + "가나다라마바사 " * 20 + "\n",
                                     encoding="utf-8")
    pipeline.build(sites, tmp_path / "_site")
    text = head_of(tmp_path / "_site" / "shop" / "carrot-10kg" / "index.html")["description"]
    assert text == "1,003원 · " + ("가나다라마바사 " * 9)[:70].rstrip() + "…"
    assert len(text) == 80


def test_with_a_base_url_pages_have_canonical_links_and_open_graph_tags(built_shared: Path) -> None:
    photo = soup(built_shared / "jeju-orchard" / "hallabong-5kg" / "index.html").find(
        "img", class_="photo")
    largest = photo["srcset"].split(", ")[-1].split()[0].removeprefix("../../")
    order = {
        "description": "59,000원 · 껍질이 얇고 당도 13브릭스 이상만 골랐습니다.",
        "canonical": "https://pay.example.kr/jeju-orchard/hallabong-5kg/",
        "og:title": "한라봉 5kg 선물세트 주문 · 제주한라봉농원",
        "og:description": "59,000원 · 껍질이 얇고 당도 13브릭스 이상만 골랐습니다.",
        "og:url": "https://pay.example.kr/jeju-orchard/hallabong-5kg/",
        "og:image": f"https://pay.example.kr/{largest}"}
    assert head_of(built_shared / "jeju-orchard" / "hallabong-5kg" / "index.html") == order
    # The app variants are the same page for a search engine or a messenger.
    for variant in ("android.html", "ios.html"):
        assert head_of(built_shared / "jeju-orchard" / "hallabong-5kg" / variant) == order
    assert (built_shared / largest).is_file()
    assert head_of(built_shared / "jeju-orchard" / "index.html")["og:image"] == order["og:image"]
    assert head_of(built_shared / "jeju-orchard" / "tangerine-10kg" / "index.html")["og:image"] is None
    notice = "KSNET 테스트 상점입니다. 테스트 결제는 3~5분 뒤 자동으로 취소됩니다."
    assert head_of(built_shared / "kspay-test" / "index.html") == {
        "description": notice, "canonical": "https://pay.example.kr/kspay-test/",
        "og:title": "케이에스페이(주)", "og:description": notice,
        "og:url": "https://pay.example.kr/kspay-test/", "og:image": None}
    assert head_of(built_shared / "index.html")["canonical"] == "https://pay.example.kr/"
    assert head_of(built_shared / "reference" / "cards" / "index.html")["canonical"] == (
        "https://pay.example.kr/reference/cards/")
    for path in html_pages(built_shared):
        head = head_of(path)
        assert head["canonical"] and head["canonical"] == head["og:url"], path
        assert head["og:title"] == soup(path).title.get_text(), path
        assert head["og:description"] == head["description"], path


def test_sitemaps_list_every_page_and_robots_txt_points_at_them(built_shared: Path) -> None:
    assert (built_shared / "robots.txt").read_text(encoding="utf-8") == (
        "User-agent: *\nAllow: /\nSitemap: https://pay.example.kr/sitemap.xml\n")
    assert (built_shared / "sitemap.xml").read_text(encoding="utf-8") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        "<sitemap><loc>https://pay.example.kr/reference/sitemap.xml</loc></sitemap>\n"
        "<sitemap><loc>https://pay.example.kr/book-academy/sitemap.xml</loc></sitemap>\n"
        "<sitemap><loc>https://pay.example.kr/jeju-orchard/sitemap.xml</loc></sitemap>\n"
        "<sitemap><loc>https://pay.example.kr/kspay-test/sitemap.xml</loc></sitemap>\n"
        "</sitemapindex>\n")
    assert (built_shared / "jeju-orchard" / "sitemap.xml").read_text(encoding="utf-8") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>https://pay.example.kr/jeju-orchard/{p}</loc></url>\n" for p in (
            "", "hallabong-5kg/", "tangerine-10kg/", "hallabong-10kg/", "policies/privacy/",
            "policies/refund/", "policies/third-party/"))
        + "</urlset>\n")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = set()
    for sitemap in ElementTree.parse(built_shared / "sitemap.xml").getroot():
        path = sitemap.find("s:loc", ns).text.removeprefix(BASE_URL)
        for url in ElementTree.parse(built_shared / path).getroot():
            loc = url.find("s:loc", ns).text
            assert loc.startswith(BASE_URL + path.removesuffix("sitemap.xml"))  # its own folder
            listed.add(loc.removeprefix(BASE_URL))
    # Every page but the directory (for the people who run the stores), the app variants
    # (their canonical page is listed) and the QR posters (print).
    pages = {p.relative_to(built_shared).as_posix().removesuffix("index.html")
             for p in html_pages(built_shared)}
    assert listed == {p for p in pages if p and not p.endswith(("android.html", "ios.html", "/qr/"))}


def test_the_order_page_with_everything_stays_under_10_kib(built_shared: Path) -> None:
    # The page of goods that ship, sold by quantity, with every agreement, the seller
    # block, a logo, a photo and the Open Graph tags: at most 10 KiB of HTML.
    order_pages = [p for p in built_shared.glob("*/*/*.html")
                   if p.parts[-3] not in ("reference", "policies")]
    assert len(order_pages) == 12
    largest = max(order_pages, key=lambda p: p.stat().st_size)
    assert largest.relative_to(built_shared).as_posix() == "jeju-orchard/tangerine-10kg/ios.html"
    assert largest.stat().st_size < 10 * 1024


@pytest.mark.parametrize(("url", "message"), [
    ("http://pay.example.kr/", "must be https://: messengers and search engines would link "
     "customers to order pages over http, got 'http://pay.example.kr/'"),
    ("https://pay.example.kr", "must end with / (the folder _site/ is published at), got "
     "'https://pay.example.kr': use 'https://pay.example.kr/'"),
    ("https://pay.example.kr/shop", "must end with / (the folder _site/ is published at), got "
     "'https://pay.example.kr/shop': use 'https://pay.example.kr/shop/'"),
    ("pay.example.kr/", "must be an absolute https:// URL such as https://pay.example.kr/, "
     "got 'pay.example.kr/'"),
    ("https:///", "must be an absolute https:// URL such as https://pay.example.kr/, got 'https:///'"),
    ("https://pay.example.kr/?utm=1", "must not have a query (?) or fragment (#), got "
     "'https://pay.example.kr/?utm=1'"),
    ("https://pay.example.kr/#top/", "must not have a query (?) or fragment (#), got "
     "'https://pay.example.kr/#top/'"),
    ("https://admin:pw@pay.example.kr/", "must not carry a user name or password, got "
     "'https://admin:pw@pay.example.kr/'"),
    ("https://결제.example.kr/", "must be an absolute https:// URL such as "
     "https://pay.example.kr/ (ASCII, no spaces), got 'https://결제.example.kr/'"),
])
def test_a_bad_base_url_is_a_clear_error_and_nothing_is_written(tmp_path: Path, url: str,
                                                                message: str) -> None:
    result = run("build", "--sites", str(SITES), "--out", str(tmp_path / "_site"),
                 "--base-url", url, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"--base-url: {message}\n1 error(s); nothing was written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_base_url_below_the_hosts_root(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    pipeline.build(SITES, out, options=pipeline.BuildOptions(base_url="https://example.kr/pay/"))
    assert head_of(out / "kspay-test" / "carrot-10kg" / "index.html")["canonical"] == (
        "https://example.kr/pay/kspay-test/carrot-10kg/")
    assert (out / "robots.txt").read_text(encoding="utf-8").endswith(
        "Sitemap: https://example.kr/pay/sitemap.xml\n")


def test_adding_and_dropping_the_base_url_adds_and_removes_what_needs_it(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    plain = pipeline.build(SITES, out)
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    shared = pipeline.build(SITES, out, options=pipeline.BuildOptions(base_url=BASE_URL))
    assert shared.rebuilt == 8  # 3 sites, directory, reference, static; sitemap.xml, robots.txt
    with_base = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert with_base - files == {
        "sitemap.xml", "robots.txt", "reference/sitemap.xml",
        *(f"{site}/sitemap.xml" for site in ("book-academy", "jeju-orchard", "kspay-test")),
        *(f"{site}/{product}/qr/{name}" for site, product in (
            ("book-academy", "python-course"), ("book-academy", "sql-ebook"),
            ("jeju-orchard", "hallabong-5kg"), ("jeju-orchard", "tangerine-10kg"),
            ("jeju-orchard", "hallabong-10kg"), ("kspay-test", "carrot-10kg"))
          for name in ("index.html", "qr.svg"))}
    assert files - with_base == set()
    dropped = pipeline.build(SITES, out)
    assert dropped.removed == 2  # sitemap.xml and robots.txt; the site folders are rebuilt
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == files
    assert (plain.pages, dropped.pages) == (30, 30)


def test_a_no_op_build_loads_neither_pillow_nor_segno(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    pipeline.build(SITES, out, options=pipeline.BuildOptions(base_url=BASE_URL))
    probe = ("import sys\nfrom generator import cli\n"
             f"code = cli.main(['build', '--sites', {str(SITES)!r}, '--out', {str(out)!r}, "
             f"'--base-url', {BASE_URL!r}])\n"
             "print(code, 'PIL' in sys.modules, 'segno' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 False False", done.stderr
    assert done.stdout.splitlines()[0].endswith(": nothing changed")


def test_every_page_built_with_a_base_url_is_valid_html(built_shared: Path) -> None:
    pages = html_pages(built_shared)
    assert len(pages) == 36  # the 30 pages and 6 posters
    failures = []
    for page in pages:
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            parser.parse(page.read_bytes(), transport_encoding="utf-8")
        except html5lib.html5parser.ParseError as exc:
            failures.append(f"{page.relative_to(built_shared)}: {exc}")
    assert failures == []
