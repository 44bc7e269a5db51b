"""Images, QR codes and posters in Chromium at phone size: the store page's images are its
only new requests, images keep their place while they load, the QR code Chromium draws
reads back as the order page's URL, and the poster prints on one A4 page."""

from __future__ import annotations

import functools
import http.server
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from conftest import BASE_URL  # tests/conftest.py, as the fixtures
from .conftest import PHONE, Phone, QuietHandler, _phone
from .test_accessibility import check_pages

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shared_url(built_shared: Path) -> Iterator[str]:
    """The example sites built with --base-url, served from 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(built_shared))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="shared-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def shared_phone(browser: Any, shared_url: str) -> Iterator[Phone]:
    yield from _phone(browser, shared_url)


@pytest.fixture
def shared_phone_no_csp(browser: Any, shared_url: str) -> Iterator[Phone]:
    yield from _phone(browser, shared_url, bypass_csp=True)


def requests_of(phone: Phone, path: str) -> list[tuple[str, str]]:
    """(resource type, URL) of every request the page makes, once every image (lazy ones
    too: the page is scrolled to its end) has loaded."""
    asked: list[tuple[str, str]] = []
    phone.page.on("request", lambda r: asked.append((r.resource_type, r.url)))
    page = phone.open(path)
    all_loaded(page)
    return asked


def all_loaded(page: Any) -> None:
    """Scroll to the end (lazy images start), wait until the network is quiet, and check
    every image arrived. (No wait_for_function: the pages' CSP forbids eval.)"""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[...document.images].every((i) => i.complete && i.naturalWidth > 0)")


def test_the_store_pages_images_are_its_only_new_requests(shared_phone: Phone) -> None:
    base = shared_phone.site_url
    asked = requests_of(shared_phone, "jeju-orchard/")
    page = shared_phone.page
    images = page.evaluate("[...document.images].map((i) => i.currentSrc)")
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    style = page.evaluate("document.querySelector('link[rel=stylesheet]').href")
    assert re.fullmatch(re.escape(base) + r"static/style\.[0-9a-f]{10}\.css", style)
    # Before images: the page and its stylesheet. Now each image once, and the favicon.
    assert sorted(asked) == sorted([("document", base + "jeju-orchard/"), ("stylesheet", style),
                                    *(("image", url) for url in images), ("other", icon)])
    assert len(images) == 5  # the logo, one photo, three QR codes
    assert [url.removeprefix(base) for url in images[2:]] == [
        f"jeju-orchard/{p}/qr/qr.svg" for p in ("hallabong-5kg", "tangerine-10kg",
                                                "hallabong-10kg")]
    # A 360 px phone at 2x takes the 720 px photo, not the desktop one.
    srcset = page.evaluate("document.querySelector('img.photo').getAttribute('srcset')")
    phone_size = srcset.split(", ")[0]
    assert phone_size.endswith(" 720w")
    assert images[1] == base + phone_size.removesuffix(" 720w").removeprefix("../")
    assert shared_phone.blocked == []


def test_the_order_pages_requests_are_its_script_styles_and_images(shared_phone: Phone) -> None:
    base = shared_phone.site_url
    asked = requests_of(shared_phone, "jeju-orchard/hallabong-5kg/")
    kinds = sorted(kind for kind, _ in asked)
    assert kinds == ["document", "image", "image", "other", "script", "stylesheet"]
    assert all(url.startswith(base) for _, url in asked)
    assert shared_phone.blocked == []


def test_a_photo_keeps_its_place_while_it_loads(shared_phone: Phone) -> None:
    held: list[Any] = []
    shared_phone.context.route("**/_images/*", lambda route, request: held.append(route))
    page = shared_phone.page
    page.goto(shared_phone.site_url + "jeju-orchard/hallabong-5kg/", wait_until="domcontentloaded")
    box = page.locator("img.photo").bounding_box()
    title = page.locator("h1").bounding_box()
    assert page.evaluate("document.querySelector('img.photo').complete") is False
    # Its width and height attributes give it its box before a byte of it arrives:
    # the column (360 - 2 x 16 px) at the photo's 4:3.
    assert (box["width"], box["height"]) == (328, 246)
    for route in held:
        route.continue_()
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelector('img.photo').naturalWidth") > 0
    assert page.locator("img.photo").bounding_box()["height"] == 246
    assert page.locator("h1").bounding_box()["y"] == title["y"]  # nothing moved


def qr_codes(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png))
    return [found.text for found in zxingcpp.read_barcodes(image)
            if found.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_code_chromium_draws_reads_back_as_the_order_pages_url(shared_phone: Phone) -> None:
    page = shared_phone.open("jeju-orchard/")
    all_loaded(page)
    for product in ("hallabong-5kg", "tangerine-10kg", "hallabong-10kg"):
        code = page.locator(f"a.qr-link[href$='/{product}/qr/'] img")
        assert qr_codes(code.screenshot()) == [f"{BASE_URL}jeju-orchard/{product}/"]


def test_the_poster_prints_on_one_a4_page_with_the_code_at_11_cm(shared_phone: Phone) -> None:
    page = shared_phone.open("jeju-orchard/hallabong-5kg/qr/")
    all_loaded(page)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    boxes = {tuple(round(float(v)) for v in box.split())
             for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)}
    assert (len(pages), boxes) == (1, {(0, 0, 595, 842)})  # A4: 210 x 297 mm in points
    page.emulate_media(media="print")
    code = page.locator("img.poster-qr")
    assert code.bounding_box()["width"] == pytest.approx(110 / 25.4 * 96, abs=0.5)  # 110 mm
    for hidden in (".top", ".bottom", ".screen-only", ".skip"):
        assert page.locator(hidden).first.is_hidden(), hidden
    assert page.locator(".poster-price").inner_text() == "59,000원"
    assert qr_codes(code.screenshot()) == [f"{BASE_URL}jeju-orchard/hallabong-5kg/"]


def test_the_poster_at_phone_size_fits_the_screen(shared_phone: Phone) -> None:
    page = shared_phone.open("kspay-test/carrot-10kg/qr/")
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    box = page.locator("img.poster-qr").bounding_box()
    assert box["width"] == box["height"] and box["x"] >= 16 and box["x"] + box["width"] <= 344


def test_axe_finds_nothing_serious_on_store_order_and_poster_pages_with_images(
        shared_phone_no_csp: Phone, axe_source: Path, record_property: Any) -> None:
    paths = ["jeju-orchard/", "jeju-orchard/hallabong-5kg/", "jeju-orchard/hallabong-5kg/qr/",
             "kspay-test/carrot-10kg/qr/"]
    check_pages(shared_phone_no_csp, axe_source, paths, "image, QR and poster",
                record_property)
