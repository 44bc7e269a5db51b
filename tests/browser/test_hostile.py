"""Hostile merchant strings in a real browser: no dialog opens, no script runs, on any page.

The site carries HTML, attribute-breaking quotes, </script> and javascript: URLs in every
string the validator accepts (tests/test_hardening.py's HOSTILE). Each page is opened,
every link and button is tried, and the order form is submitted to the routed KSPay
window; any alert/confirm/prompt, console error from a blocked script, or request off
the machine fails the test.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import Browser

from .conftest import KSPAY_ROUTE, PHONE, QuietHandler
from generator import pipeline
from test_hardening import HOSTILE, hostile_config, write_site

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("hostile-browser")
    write_site(root / "sites", "hostile", hostile_config())
    out = root / "_site"
    pipeline.build(root / "sites", out)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", out
    finally:
        server.shutdown()
        server.server_close()


def test_no_dialog_and_no_script_on_any_hostile_page(browser: Browser,
                                                     hostile_url: tuple[str, Path]) -> None:
    base, out = hostile_url
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    dialogs: list[str] = []
    errors: list[str] = []
    offsite: list[str] = []
    posted: list[bytes] = []

    def local_only(route, request) -> None:  # noqa: ANN001 (Playwright callback)
        if request.url.startswith(base):
            route.continue_()
        else:
            offsite.append(request.url)
            route.abort()

    def kspay(route, request) -> None:  # noqa: ANN001
        posted.append(request.post_data_buffer or b"")
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>ok</title>")

    context.route("**/*", local_only)
    context.route(KSPAY_ROUTE, kspay)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    paths = sorted(str(p.relative_to(out)) for p in out.rglob("*.html"))
    try:
        for path in paths:
            page.goto(base + path)
            for link in page.locator("main a").all():  # javascript: links must go nowhere
                href = link.get_attribute("href")
                if href is None or not href.startswith(("http", "./", "../", "#")):
                    link.click(timeout=2000)
                    page.wait_for_timeout(50)
            page.mouse.move(10, 10)
            page.mouse.move(200, 400)
        page.goto(base + "hostile/carrot-10kg/index.html")
        page.fill("#sndOrdername", "김토끼")
        page.click("button[type=submit]")
        page.wait_for_url("https://kspay.ksnet.to/**")
    finally:
        context.close()
    assert len(paths) >= 10
    assert dialogs == []
    assert errors == []
    assert offsite == []
    assert len(posted) == 1
    fields = dict(parse_qsl(posted[0].decode("ascii"), keep_blank_values=True))
    assert {k: v for k, v in fields.items() if k.startswith("ECH")} == HOSTILE["echo"]
    assert fields["sndStoreAddress"] == HOSTILE["store"]["address"]
