"""What the browser tests share: the built pages read with BeautifulSoup, the form
encoding a browser uses, and the order page's inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup

SITES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"  # as conftest.SITES
CUSTOMER_FIELDS = ("sndOrdername", "sndEmail", "sndMobile")
# application/x-www-form-urlencoded bytes that a browser leaves as they are (WHATWG URL).
_URLENCODED_SAFE = frozenset(b"*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def merchant(slug: str) -> dict[str, Any]:
    """The merchant's YAML as written (not through the generator)."""
    return yaml.safe_load((SITES / f"{slug}.yaml").read_text(encoding="utf-8"))


def page_form(built: Path, path: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The order form's attributes and its hidden fields, in document order."""
    soup = BeautifulSoup((built / path).read_text(encoding="utf-8"), "html.parser")
    form = soup.find("form", id="pay-form")
    assert form is not None, path
    hidden = [(i["name"], i.get("value", "")) for i in form.find_all("input")
              if i.get("type") == "hidden"]
    attrs = {k: v if isinstance(v, str) else " ".join(v) for k, v in form.attrs.items()}
    return attrs, hidden


def urlencode_form(pairs: list[tuple[str, str]], encoding: str) -> bytes:
    """The body a browser posts for these fields (WHATWG urlencoded serializer)."""
    def encode(text: str) -> str:
        out = []
        for byte in text.encode(encoding):
            if byte == 0x20:
                out.append("+")
            elif byte in _URLENCODED_SAFE:
                out.append(chr(byte))
            else:
                out.append(f"%{byte:02X}")
        return "".join(out)
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs).encode("ascii")


# Where the goods go, as a customer types it (the page sends the phone without hyphens).
ADDRESS = {"ECH_NAME": "김받는", "ECH_TEL": "010-1234-5678", "ECH_ZIP": "63535",
           "ECH_ADDR": "제주특별자치도 서귀포시 남원읍 한라로 1", "ECH_ADDR2": "감귤창고 2층",
           "ECH_MEMO": "부재 시 문 앞에 놓아 주세요"}


def fill_customer(page: Any, name: str = "", email: str = "", mobile: str = "",
                  agree: bool = True, address: dict[str, str] | None = None) -> None:
    """Type the customer's inputs, the address where the goods ship (`address`, else
    ADDRESS) and, where the store asks for them, agree to its terms with the 전체 동의 box
    (as a customer who means to pay does)."""
    page.fill("#sndOrdername", name)
    page.fill("#sndEmail", email)
    page.fill("#sndMobile", mobile)
    if page.locator("#ECH_NAME").count():
        for field, value in (ADDRESS if address is None else address).items():
            page.fill(f"#{field}", value)
    if agree and page.locator("#agree-all").count():
        page.check("#agree-all")


def tap_pay(page: Any) -> None:
    page.locator("#pay-form button[type=submit]").tap()
