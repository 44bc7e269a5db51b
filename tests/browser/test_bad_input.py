"""Bad input in the browser: a Korean message next to the field, the field focused and
marked invalid, and nothing posted. Two quick taps on Pay post once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest

from .conftest import Phone
from .helpers import fill_customer, tap_pay

pytestmark = pytest.mark.browser

PATH = "kspay-test/carrot-10kg/index.html"
OK_NAME, OK_EMAIL, OK_MOBILE = "김토끼", "kspay@carrot.do.kr", "010-1234-5678"
WINDOW = re.compile(r"^https://kspay\.ksnet\.to/")

CASES = {
    "empty name": ("sndOrdername", {"name": ""}, "이름을 입력해 주세요."),
    "blank name": ("sndOrdername", {"name": " \t "}, "이름을 입력해 주세요."),
    "name of 22 bytes": ("sndOrdername", {"name": "가나다라마바사아자차카"},
                         "이름이 너무 깁니다: 22바이트, 최대 20바이트입니다 "
                         "(한글 2바이트, 영문·숫자 1바이트)."),
    "name of 21 bytes": ("sndOrdername", {"name": "가나다라마바사아자차k"},
                         "이름이 너무 깁니다: 21바이트, 최대 20바이트입니다 "
                         "(한글 2바이트, 영문·숫자 1바이트)."),
    "emoji in name": ("sndOrdername", {"name": "김토끼😀"},
                      "‘😀’ 문자는 결제창에서 쓸 수 없습니다."),
    "malformed e-mail": ("sndEmail", {"email": "kspay@carrot"},
                         "이메일 주소 형식이 아닙니다. 예: name@example.kr"),
    "e-mail without @": ("sndEmail", {"email": "kspay.carrot.do.kr"},
                         "이메일 주소 형식이 아닙니다. 예: name@example.kr"),
    "letters in mobile": ("sndMobile", {"mobile": "010-1234-abcd"},
                          "휴대폰 번호는 숫자만 입력해 주세요."),
}


def field_state(page, field: str) -> dict[str, object]:
    return page.evaluate("""(name) => {
        const input = document.getElementById(name);
        const error = document.getElementById(name + "-error");
        return {
            active: document.activeElement ? document.activeElement.id : null,
            invalid: input.getAttribute("aria-invalid"),
            message: error.textContent,
            describedBy: input.getAttribute("aria-describedby").split(" "),
            sameField: error.parentElement === input.parentElement,
        };
    }""", field)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_shows_a_message_focuses_and_posts_nothing(phone: Phone, case: str) -> None:
    field, bad, message = CASES[case]
    values = {"name": OK_NAME, "email": OK_EMAIL, "mobile": OK_MOBILE} | bad
    page = phone.open(PATH)
    url = page.url
    fill_customer(page, **values)

    tap_pay(page)

    state = field_state(page, field)
    assert state == {"active": field, "invalid": "true", "message": message,
                     "describedBy": [f"{field}-help", f"{field}-error"], "sameField": True}
    assert page.locator(f"#{field}-error").is_visible()
    for other in ("sndOrdername", "sndEmail", "sndMobile"):
        if other != field:
            assert field_state(page, other)["invalid"] is None
            assert field_state(page, other)["message"] == ""
    assert page.url == url
    assert phone.posted == []

    # Typing clears the message; a good value then posts, and only that once.
    page.locator(f"#{field}").press_sequentially("x")
    assert field_state(page, field)["message"] == ""
    assert field_state(page, field)["invalid"] is None
    fill_customer(page, OK_NAME, OK_EMAIL, OK_MOBILE)
    tap_pay(page)
    page.wait_for_url(WINDOW)
    assert len(phone.posted) == 1
    posted = dict(parse_qsl(phone.posted[0].body.decode("ascii"), keep_blank_values=True))
    assert (posted["sndOrdername"], posted["sndEmail"], posted["sndMobile"]) == (
        OK_NAME, OK_EMAIL, "01012345678")
    assert phone.blocked == []


def test_first_bad_field_gets_the_focus_and_every_bad_field_a_message(phone: Phone) -> None:
    page = phone.open(PATH)
    fill_customer(page, "", "not-an-address", "010-12ab")
    tap_pay(page)
    assert field_state(page, "sndOrdername")["active"] == "sndOrdername"
    assert [field_state(page, f)["message"] for f in ("sndOrdername", "sndEmail", "sndMobile")] == [
        "이름을 입력해 주세요.",
        "이메일 주소 형식이 아닙니다. 예: name@example.kr",
        "휴대폰 번호는 숫자만 입력해 주세요.",
    ]
    assert [field_state(page, f)["invalid"] for f in ("sndOrdername", "sndEmail", "sndMobile")] \
        == ["true", "true", "true"]
    assert phone.posted == []


def test_two_quick_taps_post_once(phone: Phone) -> None:
    page = phone.open(PATH)
    fill_customer(page, OK_NAME, OK_EMAIL, OK_MOBILE)
    page.locator("#pay-form button[type=submit]").scroll_into_view_if_needed()
    box = page.locator("#pay-form button[type=submit]").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)
    page.wait_for_url(WINDOW)
    assert len(phone.posted) == 1
    assert phone.blocked == []


def test_a_second_submit_before_the_window_opens_is_refused(phone: Phone) -> None:
    """The page's own guard, apart from the disabled button: submit twice in one go."""
    page = phone.open(PATH)
    fill_customer(page, OK_NAME, OK_EMAIL, OK_MOBILE)
    outcome = page.evaluate("""() => {
        const form = document.getElementById("pay-form");
        const seen = [];
        // Runs after the page's own handler: record it, then keep the page here.
        document.addEventListener("submit", (event) => {
            seen.push({ prevented: event.defaultPrevented,
                        order: form.elements.sndOrdernumber.value });
            event.preventDefault();
        });
        form.requestSubmit();
        form.requestSubmit();
        return { seen, disabled: form.querySelector("button[type=submit]").disabled };
    }""")
    assert outcome["disabled"] is True
    assert [s["prevented"] for s in outcome["seen"]] == [False, True]
    assert outcome["seen"][0]["order"] == outcome["seen"][1]["order"]
    assert phone.posted == []
