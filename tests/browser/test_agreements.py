"""The agreements before paying, in Chromium at 360 px: Pay posts nothing until every
required box is checked, 전체 동의 checks them all, the keyboard works, and the footer
with the seller information fits the phone."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from .conftest import PHONE, Phone
from .helpers import fill_customer, tap_pay

pytestmark = pytest.mark.browser

PATH = "jeju-orchard/hallabong-5kg/index.html"
WINDOW = re.compile(r"^https://kspay\.ksnet\.to/")
REQUIRED = ["agree-purchase", "agree-privacy", "agree-third-party"]
MESSAGE = "결제하려면 [필수] 항목에 모두 동의해 주세요."


def boxes(page) -> dict[str, bool]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        "#agreements input[type=checkbox]")].map((box) => [box.id, box.checked]))""")


def state(page) -> dict[str, object]:
    return page.evaluate("""() => ({
        active: document.activeElement ? document.activeElement.id : null,
        message: document.getElementById("agree-error").textContent,
        invalid: [...document.querySelectorAll("#agreements [aria-invalid=true]")].map((b) => b.id),
    })""")


@pytest.mark.parametrize("checked", [[], ["agree-purchase", "agree-privacy"], ["agree-privacy"]])
def test_pay_posts_nothing_until_every_required_box_is_checked(phone: Phone,
                                                                checked: list[str]) -> None:
    page = phone.open(PATH)
    url = page.url
    fill_customer(page, "김토끼", "kspay@carrot.do.kr", "010-1234-5678", agree=False)
    for box in checked:
        page.check(f"#{box}")
    tap_pay(page)
    page.wait_for_timeout(300)
    unchecked = [box for box in REQUIRED if box not in checked]
    assert (page.url, phone.posted) == (url, [])
    assert state(page) == {"active": unchecked[0], "message": MESSAGE, "invalid": unchecked}
    assert page.locator("#agree-error").is_visible()
    assert not boxes(page)["agree-all"]

    for box in unchecked:  # the last one checked clears the message and checks 전체 동의
        page.check(f"#{box}")
    assert state(page)["message"] == "" and boxes(page)["agree-all"]
    tap_pay(page)
    page.wait_for_url(WINDOW)
    assert len(phone.posted) == 1
    posted = dict(parse_qsl(phone.posted[0].body.decode("ascii")))
    assert not [name for name in posted if "agree" in name]  # agreements are not posted
    assert posted["sndAmount"] == "59000"


def test_agree_all_checks_and_unchecks_every_box(phone: Phone) -> None:
    page = phone.open(PATH)
    page.check("#agree-all")
    assert boxes(page) == {"agree-all": True, **{box: True for box in REQUIRED}}
    page.uncheck("#agree-privacy")
    assert boxes(page) == {"agree-all": False, "agree-purchase": True, "agree-privacy": False,
                           "agree-third-party": True}
    page.check("#agree-privacy")
    assert boxes(page)["agree-all"]
    page.uncheck("#agree-all")
    assert boxes(page) == {"agree-all": False, **{box: False for box in REQUIRED}}


def test_the_keyboard_reaches_and_checks_every_box(phone: Phone) -> None:
    page = phone.open(PATH)
    page.focus("#ECH_MEMO")  # the last input before the agreements (the goods ship)
    seen = []
    for _ in range(8):  # Tab through: the boxes and their links, in order
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => document.activeElement.id || "
                                  "document.activeElement.tagName"))
        if seen[-1] == "agree-all":
            page.keyboard.press("Space")
    assert seen[:7] == ["agree-all", "agree-purchase", "A", "agree-privacy", "A",
                        "agree-third-party", "A"]
    assert all(boxes(page).values())


def test_footer_and_agreements_at_360_px(phone: Phone, tmp_path: Path) -> None:
    page = phone.open(PATH)
    fill_customer(page, "김토끼", "", "", agree=False)
    tap_pay(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    for selector in ("#agreements", "footer .seller"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # The agreement rows are tap targets of 44 px or more.
    heights = page.eval_on_selector_all("#agreements .check", "rows => rows.map((r) => "
                                        "r.getBoundingClientRect().height)")
    assert len(heights) == 4 and min(heights) >= 44
    shots = []
    for name, selector in (("agreements", "#agreements"), ("footer", "footer")):
        path = tmp_path / f"order-{name}-360.png"
        page.locator(selector).screenshot(path=str(path))
        shots.append(path)
    copy_to = os.environ.get("KSPAY_SCREENSHOTS")
    if copy_to:
        Path(copy_to).mkdir(parents=True, exist_ok=True)
        for path in shots:
            shutil.copy2(path, Path(copy_to) / path.name)
