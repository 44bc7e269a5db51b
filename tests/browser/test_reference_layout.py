"""The reference tables on a wide screen (1280 px): a wide table uses the screen's width
instead of the 40rem text column, and nothing scrolls sideways."""

from __future__ import annotations

import pytest

from .conftest import Browser

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}


@pytest.mark.parametrize("path", ["reference/parameters/", "reference/cards/",
                                  "reference/results/"])
def test_wide_tables_use_the_width_of_the_screen(browser: Browser, site_url: str,
                                                  path: str) -> None:
    context = browser.new_context(viewport=WIDE, locale="ko-KR")
    local = site_url.rstrip("/")
    context.route("**/*", lambda route, request: route.continue_()
                  if request.url.startswith(local) else route.abort())
    try:
        page = context.new_page()
        assert page.goto(site_url + path).status == 200
        box = page.evaluate("""() => {
            const wrap = document.querySelector('.table-wrap').getBoundingClientRect();
            const text = document.querySelector('main > p').getBoundingClientRect();
            const root = document.documentElement;
            return {left: wrap.left, right: wrap.right, width: wrap.width,
                    textWidth: text.width, textLeft: text.left,
                    scrollWidth: root.scrollWidth, clientWidth: root.clientWidth};
        }""")
        assert box["textWidth"] <= 640  # the prose keeps its column
        assert box["width"] >= 1200, box  # the table does not
        assert box["left"] >= 0 and box["right"] <= box["clientWidth"], box
        assert box["scrollWidth"] == box["clientWidth"], box  # no sideways scrolling
        # Centred on the text column: as much beyond it on the left as on the right.
        center = box["textLeft"] + box["textWidth"] / 2
        assert abs((box["left"] + box["right"]) / 2 - center) <= 1, box
    finally:
        context.close()
