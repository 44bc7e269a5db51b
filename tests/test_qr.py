"""QR codes: every published qr.svg, drawn and read back by a decoder, is its order page's
absolute URL; the store page and the poster page show it; without a base URL there is
none.

The SVG is drawn here with Pillow from its own path, not by an SVG library: segno writes
one path of horizontal strokes (M, m, h: one unit a module), so drawing it takes a
few lines and no system library, and any other command fails the test by name instead
of drawing something wrong. The browser tests read the code as Chromium draws it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from conftest import BASE_URL, soup

SVG = "{http://www.w3.org/2000/svg}"
PIXELS_PER_MODULE = 8
PRODUCTS = [("book-academy", "python-course"), ("book-academy", "sql-ebook"),
            ("jeju-orchard", "hallabong-5kg"), ("jeju-orchard", "tangerine-10kg"),
            ("jeju-orchard", "hallabong-10kg"), ("kspay-test", "carrot-10kg")]


def rasterise(svg: bytes) -> Image.Image:
    """The SVG's dark modules as black squares on white."""
    root = ElementTree.fromstring(svg)
    x0, y0, width, height = (int(v) for v in root.get("viewBox").split())
    assert (x0, y0) == (0, 0) and width == height
    image = Image.new("L", (width * PIXELS_PER_MODULE,) * 2, 255)
    draw = ImageDraw.Draw(image)
    strokes = [p for p in root.iter(f"{SVG}path") if p.get("stroke")]
    assert [p.get("stroke") for p in strokes] == ["#000"]
    x = y = 0.0
    for command, numbers in re.findall(r"([A-Za-z])([^A-Za-z]*)", strokes[0].get("d")):
        values = [float(n) for n in numbers.replace(",", " ").split()]
        if command in "Mm":
            dx, dy = values
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            # A stroke of width 1 along y (a module's middle, y + 0.5) covers whole modules.
            [length] = values
            draw.rectangle([x * PIXELS_PER_MODULE, (y - 0.5) * PIXELS_PER_MODULE,
                            (x + length) * PIXELS_PER_MODULE - 1,
                            (y + 0.5) * PIXELS_PER_MODULE - 1], fill=0)
            x += length
        else:
            pytest.fail(f"path command {command!r} is not one this test draws")
    return image


def read_qr(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)
            if found.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize(("site", "product"), PRODUCTS)
def test_each_qr_code_reads_back_as_its_order_pages_url(built_shared: Path, site: str,
                                                        product: str) -> None:
    svg = (built_shared / site / product / "qr" / "qr.svg").read_bytes()
    assert b"<script" not in svg and svg.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert read_qr(rasterise(svg)) == [f"{BASE_URL}{site}/{product}/"]


def test_the_rasteriser_reads_nothing_from_a_blank_code(built_shared: Path) -> None:
    """The decoder reads what is drawn, not the file: a code with its strokes gone is none."""
    svg = (built_shared / "kspay-test" / "carrot-10kg" / "qr" / "qr.svg").read_bytes()
    blank = re.sub(rb'(stroke="#000" d=")[^"]*', rb"\1M0 0", svg)
    assert read_qr(rasterise(blank)) == []


def test_the_store_page_shows_each_products_code_and_links_its_poster(built_shared: Path) -> None:
    page = soup(built_shared / "jeju-orchard" / "index.html")
    links = page.select("ul.products a.qr-link")
    assert [(a["href"], a.img["src"], a.img["alt"], a.img["width"], a.img["height"],
             a.img.get("loading"), a.get_text(strip=True)) for a in links] == [
        (f"../jeju-orchard/{p}/qr/", f"../jeju-orchard/{p}/qr/qr.svg", f"{name} 주문 QR 코드",
         "88", "88", lazy, "인쇄용 QR 포스터")
        for p, name, lazy in (("hallabong-5kg", "한라봉 5kg 선물세트", None),
                              ("tangerine-10kg", "노지 감귤 10kg", "lazy"),
                              ("hallabong-10kg", "한라봉 10kg 가정용", "lazy"))]


def test_the_poster_shows_store_product_price_code_and_address(built_shared: Path) -> None:
    path = built_shared / "jeju-orchard" / "hallabong-5kg" / "qr" / "index.html"
    page = soup(path)
    poster = page.find("article", class_="poster")
    assert [(t.name, t.get("class"), t.get_text(strip=True)) for t in poster.find_all(True)] == [
        ("p", ["poster-store"], "제주한라봉농원"),
        ("h1", ["poster-product"], "한라봉 5kg 선물세트"),
        ("p", ["poster-price"], "59,000원"),
        ("img", ["poster-qr"], ""),
        ("p", ["poster-hint"], "휴대폰 카메라로 QR 코드를 비추면 주문 페이지가 열립니다."),
        ("p", ["poster-url"], "https://pay.example.kr/jeju-orchard/hallabong-5kg/")]
    img = poster.find("img")
    assert (img["src"], img["alt"]) == ("qr.svg", "한라봉 5kg 선물세트 주문 QR 코드")
    assert not page.find_all("script")
    css = [link["href"] for link in page.find_all("link", rel="stylesheet")]
    poster_css = (path.parent / css[-1]).read_text(encoding="utf-8")
    assert "@page { size: A4 portrait; margin: 15mm; }" in poster_css
    assert ".poster-qr { width: 110mm; height: 110mm; }" in poster_css
    download = page.find("a", download=True)
    assert (download["href"], download["download"]) == ("qr.svg", "jeju-orchard-hallabong-5kg-qr.svg")


def test_without_a_base_url_there_are_no_codes_and_no_posters(built: Path) -> None:
    assert list(built.rglob("qr.svg")) == [] and list(built.glob("*/*/qr")) == []
    assert soup(built / "jeju-orchard" / "index.html").select("a.qr-link, img.qr") == []
