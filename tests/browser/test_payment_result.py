"""The whole payment in Chromium at a phone's size, on this machine: the order page of
the dev server, the sandbox KSPay window, the payments service and its result page.

    order page --tap Pay--> sandbox window --Confirm--> its return page (auto-submits)
        --> POST /kspay/result (the real payments service) --recv_post--> the sandbox
        --> the customer's result page, and the payment as stored

Every outcome the sandbox window offers ends on the result page with the values it must
show, and the stored payment agrees. A customer who lowers sndAmount in the page is
refused. Each result page state is screenshotted at 360 px (and, with KSPAY_SCREENSHOTS=DIR,
copied there), checked for overflow and tap targets, and run through axe-core. Nothing
leaves the machine: every request not to the dev server is aborted and recorded.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from generator import kspay
from generator.devserver import sandbox
from generator.devserver.server import DevServer
from generator.payments.service import RESULT_PATH
from generator.payments.store import (
    ACTION1_FAILED,
    ACTION1_REPLY,
    ACTION3_SENT,
    MISMATCH,
    POST_RECEIVED,
    POST_REPEATED,
    Payment,
)

from .conftest import PHONE
from .helpers import SITES, fill_customer, tap_pay

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Request, Route
except ImportError:  # pragma: no cover - conftest skips (or fails) the browser tests
    pass

KST = ZoneInfo("Asia/Seoul")  # the browser contexts run in Asia/Seoul, as KSNET does
NAME, EMAIL, MOBILE = "김토끼", "kspay@carrot.do.kr", "010-1234-5678"
SCREENSHOTS_ENV = "KSPAY_SCREENSHOTS"
SERIOUS = ("serious", "critical")
MIN_TAP = 44  # px: the smallest button or link a thumb should have to hit
MIN_FONT = 14  # px: the smallest text on these pages (.875rem)
RECV_POST_TIMEOUT = 1  # s: the payments service's recv_post timeout in these tests
FAULT_DELAY = 3  # s: how long the sandbox's "응답 지연" action 1 keeps it waiting

HEADLINES = {
    "approved": "결제가 완료되었습니다",
    "issued": "가상계좌가 발급되었습니다",
    "refused": "결제가 거절되었습니다",
    "cancelled": "결제를 취소했습니다",
    "pending": "결제 확인 중",
    "mismatch": "결제를 확인하지 못했습니다",
}
RETRY_STATES = ("refused", "cancelled")


# --- the dev server, with the sandbox window and the payments service ----------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    sites = tmp_path_factory.mktemp("payment-result") / "sites"
    shutil.copytree(SITES, sites)
    dev = DevServer(sites, port=0, use_sandbox=True, log=lambda line: None)
    assert dev.payments is not None and dev.sandbox is not None
    # The service waits 10 s for recv_post by default; the sandbox's 응답 지연 must outlast
    # the wait for the payment to stay pending, without the test waiting 15 s for it.
    dev.payments.payments.timeout = RECV_POST_TIMEOUT
    dev.sandbox.fault_delay = FAULT_DELAY
    dev.start()
    try:
        assert dev.errors == [], dev.errors
        yield dev
    finally:
        dev.stop()


def site_file(server: DevServer, slug: str) -> dict[str, Any]:
    """The merchant's YAML as the server read it (its copy, not through the generator)."""
    return yaml.safe_load((server.sites_dir / f"{slug}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


# --- a phone whose routing lets the dev server's origin through ----------------------

@dataclass
class Tab:
    """A phone-sized tab on the dev server, and everything it asked for."""

    page: Page
    base: str  # http://127.0.0.1:PORT, the dev server
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, url), in order
    blocked: list[str] = field(default_factory=list)  # not to the dev server: aborted
    csp_violations: list[str] = field(default_factory=list)  # "Refused to ..." in the console
    page_errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page


def _tab(browser: Browser, base: str, **options: Any) -> Iterator[Tab]:
    """As conftest's _phone makes its context, with the dev server's origin allowed."""
    context = browser.new_context(
        viewport=PHONE, screen=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
        locale="ko-KR", timezone_id="Asia/Seoul", service_workers="block", **options)
    page = context.new_page()
    tab = Tab(page, base)

    def guard(route: Route, request: Request) -> None:
        tab.requests.append((request.method, request.url))
        if request.url.startswith(base + "/") or request.url == base:
            route.continue_()
        else:
            tab.blocked.append(request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and message.text.startswith("Refused to") \
                and "Content Security Policy" in message.text:
            tab.csp_violations.append(message.text)

    context.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda exc: tab.page_errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def tab(browser: Browser, server: DevServer) -> Iterator[Tab]:
    yield from _tab(browser, server.base)


@pytest.fixture
def tab_no_csp(browser: Browser, server: DevServer) -> Iterator[Tab]:
    """For injecting axe-core: the result page's CSP allows only its own scripts."""
    yield from _tab(browser, server.base, bypass_csp=True)


# --- the flow: order page, sandbox window, result page --------------------------------

Choice = Callable[[Page], None]


def isp(issuer: str = "01", halbu: str = "0") -> Choice:
    def choose(page: Page) -> None:
        page.check("#outcome-isp")
        page.select_option("#isp_issuer", issuer)
        page.select_option("#halbu", halbu)
    return choose


def approve_card(page: Page) -> None:
    """The first card approval the window offers (ISP, or MPI where ISP is not shown)."""
    page.check("#outcome-isp" if page.locator("#outcome-isp").count() else "#outcome-mpi")


def refuse(code: str, message: str) -> Choice:
    def choose(page: Page) -> None:
        page.check("#outcome-refuse")
        page.fill("#refusal_code", code)
        page.fill("#refusal_message", message)
    return choose


def virtual_account(bank: str) -> Choice:
    def choose(page: Page) -> None:
        page.check("#outcome-va")
        page.select_option("#bank", bank)
    return choose


def mobile(page: Page) -> None:
    page.check("#outcome-mobile")


def cancel(page: Page) -> None:
    page.check("#outcome-cancel")


def with_fault(fault: str, then: Choice) -> Choice:
    def choose(page: Page) -> None:
        then(page)
        page.check(f"#fault-{fault}")
    return choose


@dataclass
class Window:
    """What the sandbox window got from the order page."""

    order: str
    fields: dict[str, str]
    shown_amount: str
    ordered_at: datetime  # the order number's timestamp (the phone's clock, KST)


@dataclass
class Result:
    url: str
    status: str
    headline: str
    shown: dict[str, str]  # dd id -> text
    retry: str | None  # the 다시 결제하기 button's href
    back: str  # the link back to the store
    seconds: float  # from Confirm in the window to the result page


def open_window(tab: Tab, path: str, amount: int | None = None) -> Window:
    """Open the order page, fill it in (and lower sndAmount), tap Pay: the sandbox window."""
    page = tab.open(path)
    prefix = page.get_attribute("#pay-form", "data-order-prefix") or ""
    fill_customer(page, NAME, EMAIL, MOBILE)
    if amount is not None:
        page.evaluate("(amount) => { document.querySelector("
                      "'#pay-form input[type=hidden][name=sndAmount]').value = amount; }",
                      str(amount))
    before = datetime.now(KST).replace(tzinfo=None, microsecond=0)
    tap_pay(page)
    page.wait_for_url(tab.base + sandbox.WINDOW_PATH)
    after = datetime.now(KST).replace(tzinfo=None)
    assert page.locator("#problems").count() == 0, page.locator("#problems").inner_text()
    fields = dict(page.eval_on_selector_all(
        "#fields tbody tr", "rows => rows.map((r) => [r.querySelector('th').textContent,"
        " r.querySelector('td').textContent])"))
    order = fields["sndOrdernumber"]
    assert page.locator("#order").inner_text() == order
    assert page.locator("#buyer").inner_text() == NAME
    assert re.fullmatch(kspay.order_number_pattern(prefix), order), order
    stamp = datetime.strptime(order[len(prefix):len(prefix) + 14], "%Y%m%d%H%M%S")
    assert before <= stamp <= after, (before, order, after)
    return Window(order, fields, page.locator("#amount").inner_text(), stamp)


def confirm(tab: Tab, choose: Choice) -> Result:
    """Choose in the sandbox window and confirm; the result page its return form posts to."""
    page = tab.page
    choose(page)
    started = time.monotonic()
    page.locator("#decide").tap()
    page.wait_for_url(re.compile("^" + re.escape(tab.base + RESULT_PATH + "?")))
    return read_result(tab, time.monotonic() - started)


def read_result(tab: Tab, seconds: float = 0.0) -> Result:
    page = tab.page
    status = page.locator("#status")
    ids = page.eval_on_selector_all(".receipt dd", "dds => dds.map((dd) => dd.id)")
    assert len(ids) == len(set(ids)) and "" not in ids, ids
    shown = dict(page.eval_on_selector_all(
        ".receipt dd", "dds => dds.map((dd) => [dd.id, dd.textContent])"))
    retry = page.locator(".next a.pay-button")
    links = page.locator(".next a:not(.pay-button)")
    assert links.count() == 1
    return Result(
        url=page.url, status=status.get_attribute("data-status") or "",
        headline=status.inner_text(), shown=shown,
        retry=retry.get_attribute("href") if retry.count() else None,
        back=links.get_attribute("href") or "", seconds=seconds)


def pay(server: DevServer, tab: Tab, path: str, choose: Choice,
        amount: int | None = None) -> tuple[Window, Result, Payment]:
    """The whole payment: the window's view, the result page, the stored payment."""
    window = open_window(tab, path, amount)
    result = confirm(tab, choose)
    site, product = path.strip("/").split("/")[:2]
    assert result.url == (f"{server.base}{RESULT_PATH}?site={site}&product={product}"
                          f"&ordno={window.order}")
    assert result.headline == HEADLINES[result.status]
    assert result.back == f"{server.base}/{site}/"
    if result.status in RETRY_STATES:
        assert result.retry == f"{server.base}/{site}/{product}/"
    else:
        assert result.retry is None
    assert tab.page.locator(".next a.pay-button").all_inner_texts() == (
        ["다시 결제하기"] if result.status in RETRY_STATES else [])
    stored = server.payments.payments.store.find(window.order)
    assert stored is not None
    assert (stored.order_number, stored.site, stored.product, stored.state) == (
        window.order, site, product, result.status)
    assert result.shown["order"] == window.order
    assert result.shown["product"] == stored.product_name
    assert result.shown["amount"] == f"{stored.expected_amount:,}원"
    assert tab.blocked == []
    assert tab.csp_violations == [] and tab.page_errors == []
    return window, result, stored


def paid_at(payment: Payment) -> str:
    d, t = payment.trade_date, payment.trade_time
    return f"{d[:4]}-{d[4:6]}-{d[6:]} {t[:2]}:{t[2:4]}:{t[4:]}"


def kinds(server: DevServer, payment: Payment) -> list[str]:
    return [e.kind for e in server.payments.payments.store.events(payment.id)]


def calls(server: DevServer, payment: Payment) -> list[tuple[str, str]]:
    assert payment.conn_id is not None
    return server.sandbox.calls(payment.conn_id)


def won(amount: int) -> str:
    return f"{amount:,}원"


# --- 1. every outcome, end to end ----------------------------------------------------

def test_card_isp_approval(server: DevServer, tab: Tab) -> None:
    window, result, stored = pay(server, tab, "/jeju-orchard/hallabong-5kg/",
                                 isp(issuer="01", halbu="3"))
    assert window.shown_amount == "59,000원"
    assert (window.fields["sndAmount"], window.fields["sndStoreid"]) == ("59000", "2001106001")
    assert result.status == "approved"
    assert result.shown == {
        "product": "한라봉 5kg 선물세트", "order": window.order, "amount": "59,000원",
        "method": "신용카드", "approval": stored.approval_number, "installment": "3개월",
        "paid-at": paid_at(stored)}
    assert re.fullmatch(r"[0-9]{8}", stored.approval_number)
    assert re.fullmatch(r"I[0-9]{11}", stored.transaction_number)
    assert (stored.amount, stored.expected_amount, stored.authyn, stored.method,
            stored.method_label, stored.issuer, stored.installment_months, stored.refusal_code) == (
        59000, 59000, "O", "card", "신용카드", "BC카드", 3, "")
    assert stored.paid and stored.confirmed_at is not None
    assert stored.echo_values == {"ECHA": "app-store"}
    assert kinds(server, stored) == [POST_RECEIVED, ACTION1_REPLY, ACTION3_SENT]
    assert calls(server, stored) == [("1", "59000"), ("3", "59000")]


def test_refusal_with_code_and_message(server: DevServer, tab: Tab) -> None:
    _, result, stored = pay(server, tab, "/kspay-test/carrot-10kg/", refuse("7003", "한도초과"))
    assert result.status == "refused"
    assert result.shown == {
        "product": "당근10kg", "order": stored.order_number, "amount": "1,003원",
        "method": "신용카드", "message": "거절 한도초과", "refusal": "7003"}
    assert (stored.authyn, stored.refusal_code, stored.message, stored.approval_number) == (
        "X", "7003", "거절 한도초과", "")
    assert not stored.paid and stored.confirmed_at is not None  # a refusal is confirmed too
    assert kinds(server, stored) == [POST_RECEIVED, ACTION1_REPLY, ACTION3_SENT]
    assert calls(server, stored) == [("1", "1003"), ("3", "1003")]
    # 다시 결제하기 opens the order page again.
    tab.page.locator(".next a.pay-button").tap()
    tab.page.wait_for_url(f"{server.base}/kspay-test/carrot-10kg/")
    assert tab.page.locator("#pay-form button[type=submit]").is_enabled()


def test_virtual_account_issued(server: DevServer, tab: Tab) -> None:
    window, result, stored = pay(server, tab, "/jeju-orchard/tangerine-10kg/",
                                 virtual_account("26"))
    assert result.status == "issued"
    days = site_file(server, "jeju-orchard").get("virtual_account_days")
    if days:  # the page sent the deadline (sndVirExpDt), the result page shows the same day
        due = window.ordered_at.date() + timedelta(days=days)
        assert (window.fields["sndVirExpDt"], window.fields["sndVirExpTm"]) == (
            due.strftime("%Y%m%d"), "235959")
        deadline = f"{due:%Y-%m-%d} 23:59까지"
    else:
        deadline = "은행에서 보낸 입금 안내를 확인해 주세요"
    assert result.shown == {
        "product": "노지 감귤 10kg", "order": window.order, "amount": "32,000원",
        "method": "가상계좌", "bank": "신한은행", "account": stored.virtual_account,
        "deadline": deadline}
    assert re.fullmatch(r"26[0-9]{12}", stored.virtual_account)
    assert (stored.amount, stored.method, stored.bank_code, stored.bank_name,
            stored.approval_number) == (32000, "virtual_account", "26", "신한은행", "")
    assert not stored.paid and stored.confirmed_at is not None  # issued: paid once deposited
    assert calls(server, stored) == [("1", "32000"), ("3", "32000")]


def test_mobile_payment_on_the_euc_kr_window(server: DevServer, tab: Tab) -> None:
    window, result, stored = pay(server, tab, "/book-academy/sql-ebook/", mobile)
    assert "sndCharSet" not in window.fields  # the mb2 window: the form posted EUC-KR
    assert result.status == "approved"
    # No 할부 row: installments are a card's, not a phone bill's.
    assert result.shown == {
        "product": "SQL 첫걸음 전자책", "order": window.order, "amount": "9,900원",
        "method": "휴대폰", "approval": stored.approval_number, "paid-at": paid_at(stored)}
    assert re.fullmatch(r"[0-9]{8}", stored.approval_number)
    assert (stored.amount, stored.method, stored.method_label, stored.result_code) == (
        9900, "mobile", "휴대폰", "M131")
    assert stored.paid and stored.confirmed_at is not None
    assert calls(server, stored) == [("1", "9900"), ("3", "9900")]


def test_closing_the_window_cancels(server: DevServer, tab: Tab) -> None:
    _, result, stored = pay(server, tab, "/kspay-test/carrot-10kg/", cancel)
    assert result.status == "cancelled"
    assert result.shown == {"product": "당근10kg", "order": stored.order_number,
                            "amount": "1,003원"}
    assert (stored.amount, stored.authyn, stored.confirmed_at) == (None, "", None)
    assert not stored.paid
    assert kinds(server, stored) == [POST_RECEIVED]
    assert calls(server, stored) == []  # a cancel asks recv_post nothing
    tab.page.locator(".next a.pay-button").tap()
    tab.page.wait_for_url(f"{server.base}/kspay-test/carrot-10kg/")


def test_slow_recv_post_leaves_the_payment_pending_until_reconciled(
        server: DevServer, tab: Tab) -> None:
    _, result, stored = pay(server, tab, "/kspay-test/carrot-10kg/",
                            with_fault("timeout", isp()))
    assert result.status == "pending"
    # The service gave up after its own timeout, not after the sandbox's delay.
    assert RECV_POST_TIMEOUT <= result.seconds < FAULT_DELAY, result.seconds
    assert result.shown == {"product": "당근10kg", "order": stored.order_number,
                            "amount": "1,003원"}
    assert (stored.amount, stored.authyn, stored.confirmed_at) == (None, "", None)
    assert not stored.paid
    assert kinds(server, stored) == [POST_RECEIVED, ACTION1_FAILED]
    assert calls(server, stored) == [("1", "1003")]

    # Reloading re-posts the result: the stored row, and no second action 1 ...
    tab.page.reload()
    assert read_result(tab).status == "pending"
    assert kinds(server, stored) == [POST_RECEIVED, ACTION1_FAILED, POST_REPEATED]
    assert calls(server, stored) == [("1", "1003")]
    # ... until reconcile has finished the payment (as `payments reconcile` does for it).
    payments = server.payments.payments
    finished = [after for _, after in payments.reconcile(grace=0) if after.id == stored.id]
    assert [p.state for p in finished] == ["approved"]
    tab.page.reload()
    after = read_result(tab)
    done = payments.store.find(stored.order_number)
    assert after.status == "approved"
    assert after.shown == {
        "product": "당근10kg", "order": stored.order_number, "amount": "1,003원",
        "method": "신용카드", "approval": done.approval_number, "installment": "일시불",
        "paid-at": paid_at(done)}
    assert calls(server, stored) == [("1", "1003"), ("1", "1003"), ("3", "1003")]
    assert tab.blocked == []


def test_paid_at_is_korean_time(server: DevServer, tab: Tab) -> None:
    """KSNET's recv_post answers trddt/trdtm in Korean time, the result page shows them as
    they are: 결제 일시 lies between the order number's time (the phone's clock, KST) and now."""
    window, result, _ = pay(server, tab, "/kspay-test/carrot-10kg/", isp())
    shown = datetime.strptime(result.shown["paid-at"], "%Y-%m-%d %H:%M:%S")
    now = datetime.now(KST).replace(tzinfo=None)
    assert window.ordered_at <= shown <= now, (
        f"결제 일시 {result.shown['paid-at']} for order {window.order} is not Korean time "
        f"(now {now:%Y-%m-%d %H:%M:%S} KST): the sandbox's _reply_values stamps trddt/trdtm "
        f"with time.localtime(), the host's zone (UTC{time.strftime('%z')}), not Asia/Seoul")


# --- 2. the customer lowers sndAmount in the page ---------------------------------------

@pytest.mark.parametrize(("path", "amount", "lowered"), [
    ("/kspay-test/carrot-10kg/", 1003, 1000),  # V1.4, UTF-8
    ("/book-academy/python-course/", 240000, 50000),  # mb2, EUC-KR; still allows installments
])
def test_lowered_snd_amount_is_refused(server: DevServer, tab: Tab, path: str, amount: int,
                                       lowered: int) -> None:
    window, result, stored = pay(server, tab, path, approve_card, amount=lowered)
    assert window.fields["sndAmount"] == str(lowered)  # the window charged what the page said
    assert window.shown_amount == won(lowered)
    assert result.status == "refused"
    assert result.shown == {
        "product": stored.product_name, "order": window.order, "amount": won(amount),
        "method": "신용카드", "message": f"금액 불일치 요청 {amount} 결제창 {lowered}",
        "refusal": "AMT1"}
    # recv_post was asked with the merchant's amount, never the page's.
    assert calls(server, stored) == [("1", str(amount)), ("3", str(amount))]
    assert (stored.state, stored.expected_amount, stored.amount, stored.authyn,
            stored.approval_number, stored.refusal_code) == (
        "refused", amount, lowered, "X", "", "AMT1")
    assert not stored.paid
    events = server.payments.payments.store.events(stored.id)
    assert [e.kind for e in events] == [POST_RECEIVED, ACTION1_REPLY, ACTION3_SENT]
    assert events[1].detail.startswith("refused: authyn X")
    assert not any(e.detail.startswith(("approved", "issued")) for e in events)


# --- 3. screenshots, layout and axe-core on every result page state ---------------------

LAYOUT_JS = """() => {
    const width = window.innerWidth;
    const hidden = (el) => el.closest(".skip, .visually-hidden, script, style, noscript");
    const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.classList.length ? "." + [...el.classList].join(".") : "");
    const wide = [], small = [], texts = {};
    for (const el of document.body.querySelectorAll("*")) {
        if (hidden(el)) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (box.left < -0.5 || box.right > width + 0.5) {
            wide.push(`${name(el)}: ${box.left.toFixed(1)}..${box.right.toFixed(1)}`);
        }
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent.trim();
        if (!text || hidden(node.parentElement)) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const lines = new Set();
        for (const box of range.getClientRects()) {
            if (box.left < -0.5 || box.right > width + 0.5) {
                wide.push(`text ${JSON.stringify(text.slice(0, 40))}: `
                          + `${box.left.toFixed(1)}..${box.right.toFixed(1)}`);
            }
            lines.add(Math.round(box.top));
        }
        const size = parseFloat(getComputedStyle(node.parentElement).fontSize);
        if (size < %d) small.push(`${JSON.stringify(text.slice(0, 40))}: ${size}px`);
        const owner = node.parentElement.id;
        if (owner) texts[owner] = lines.size;
    }
    const taps = [...document.querySelectorAll("a, button, input, select")]
        .filter((el) => !hidden(el))
        .map((el) => [name(el), el.getBoundingClientRect().height,
                      el.getBoundingClientRect().bottom]);
    return { scrollWidth: document.documentElement.scrollWidth, width, wide, small,
             lines: texts, taps };
}""" % MIN_FONT

AXE_JS = """async () => {
    const found = await axe.run(document, { resultTypes: ["violations"] });
    return {
        passes: found.passes.length,
        violations: found.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map((n) => n.target.join(" ")),
        })),
    };
}"""


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def screenshot(page: Page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert png_size(path)[0] == PHONE["width"] * 2  # 360 CSS px at device_scale_factor 2
    copy_to = os.environ.get(SCREENSHOTS_ENV)
    if copy_to:
        Path(copy_to).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, Path(copy_to) / path.name)
    return path


def check_layout(page: Page) -> dict[str, Any]:
    layout = page.evaluate(LAYOUT_JS)
    assert layout["width"] == PHONE["width"]
    assert layout["scrollWidth"] <= PHONE["width"], layout["wide"]
    assert layout["wide"] == []
    assert layout["small"] == []
    return layout


def run_axe(page: Page, axe_source: Path) -> tuple[list[str], list[str]]:
    page.add_script_tag(path=str(axe_source))
    found = page.evaluate(AXE_JS)
    assert found["passes"] >= 10, "axe-core checked next to nothing"
    serious, other = [], []
    for v in found["violations"]:
        line = f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'][:3])}"
        (serious if v["impact"] in SERIOUS else other).append(line)
    return serious, other


# name: (order page, the window's choice, the result page's state)
STATES: dict[str, tuple[str, Choice, str]] = {
    "approved-card": ("/jeju-orchard/hallabong-5kg/", isp("01", "3"), "approved"),
    "approved-mobile": ("/book-academy/sql-ebook/", mobile, "approved"),
    "issued": ("/jeju-orchard/tangerine-10kg/", virtual_account("26"), "issued"),
    "refused": ("/kspay-test/carrot-10kg/", refuse("7003", "한도초과"), "refused"),
    "cancelled": ("/kspay-test/carrot-10kg/", cancel, "cancelled"),
    "pending": ("/kspay-test/carrot-10kg/", with_fault("garbage", isp()), "pending"),
    # No sandbox outcome makes a mismatch (it refuses a wrong amount instead): a pending
    # payment is given one as reconcile would store it, and the page reloaded (re-posted).
    "mismatch": ("/kspay-test/carrot-10kg/", with_fault("garbage", isp()), "mismatch"),
}


@pytest.mark.parametrize("name", list(STATES))
def test_result_page_on_a_phone(server: DevServer, tab_no_csp: Tab, axe_source: Path,
                                screenshots: Path, name: str, record_property: Any) -> None:
    path, choose, state = STATES[name]
    tab = tab_no_csp
    _, result, stored = pay(server, tab, path, choose)
    if state == MISMATCH:
        store = server.payments.payments.store
        store.record_reply(stored.id, MISMATCH, {
            "amount": 1300, "authyn": "O", "method": "card", "method_label": "신용카드",
            "problems": f"amount 1300 is not the expected {stored.expected_amount}"},
            b"", "mismatch: made by the test")
        tab.page.reload()
        result = read_result(tab)
        assert result.shown == {"product": "당근10kg", "order": stored.order_number,
                                "amount": "1,003원"}
    assert result.status == state

    shot = screenshot(tab.page, screenshots, f"result-{name}")
    layout = check_layout(tab.page)
    # The order number stays whole, on one line, at 360 px.
    assert layout["lines"]["order"] == 1, layout["lines"]
    for tap, height, _ in layout["taps"]:
        assert height >= MIN_TAP, f"{tap} is {height:.1f} px tall"
    retry = tab.page.locator(".next a.pay-button")
    if state in RETRY_STATES:
        box = retry.bounding_box()
        assert box is not None and box["height"] >= MIN_TAP
        assert box["y"] + box["height"] <= PHONE["height"], "다시 결제하기 is below the fold"
        assert box["width"] >= PHONE["width"] - 2 * 16 - 1  # the column's full width
        assert retry.inner_text() == "다시 결제하기"
    serious, other = run_axe(tab.page, axe_source)
    summary = (f"result page {name}: {shot}; axe-core {len(serious)} serious or critical, "
               f"{len(other)} moderate or minor" + "".join(f"\n    {o}" for o in other))
    record_property("summary", summary)
    assert tab.blocked == []
    assert serious == [], "\n".join(serious)


@pytest.mark.parametrize("path", ["/kspay-test/carrot-10kg/", "/jeju-orchard/tangerine-10kg/"])
def test_order_page_on_a_phone(server: DevServer, tab: Tab, screenshots: Path, path: str,
                               record_property: Any) -> None:
    page = tab.open(path)
    name = "order-" + path.strip("/").replace("/", "-")
    shot = screenshot(page, screenshots, name)
    layout = check_layout(page)
    heights = {tap: height for tap, height, _ in layout["taps"]}
    for control in ("button.pay-button", "input#sndOrdername", "input#sndEmail",
                    "input#sndMobile"):
        assert heights[control] >= MIN_TAP, (control, heights[control])
    record_property("summary", f"order page {path}: {shot}")
    assert tab.blocked == []


# --- 4. the result page asks nothing of any other machine -------------------------------

def test_result_page_makes_no_request_off_the_machine(server: DevServer, tab: Tab) -> None:
    page = tab.page
    styles: list[tuple[int, str]] = []
    page.on("response", lambda r: styles.append((r.status, r.headers.get("content-type", "")))
            if "/kspay/static/" in r.url else None)
    open_window(tab, "/kspay-test/carrot-10kg/")
    start = len(tab.requests)
    result = confirm(tab, isp())
    page.wait_for_load_state("networkidle")
    assert result.status == "approved"
    asked = tab.requests[start:]
    posted = [i for i, (method, url) in enumerate(asked) if url == result.url]
    assert [asked[i][0] for i in posted] == ["POST"]
    from_result = asked[posted[0]:]
    # The result page's subresources: the theme's stylesheet and favicon, from the
    # payments service.
    assert len(from_result) == 3, from_result
    assert [method for method, _ in from_result[1:]] == ["GET", "GET"]
    assert re.fullmatch(re.escape(server.base) + r"/kspay/static/style\.[0-9a-f]+\.css",
                        from_result[1][1]), from_result
    assert re.fullmatch(re.escape(server.base) + r"/kspay/static/favicon\.[0-9a-f]+\.svg",
                        from_result[2][1]), from_result
    assert styles == [(200, "text/css; charset=utf-8"), (200, "image/svg+xml")]
    assert page.evaluate("document.styleSheets.length === 1 && "
                         "document.styleSheets[0].cssRules.length > 20")
    assert all(url.startswith(server.base + "/") for _, url in tab.requests), tab.requests
    assert tab.blocked == []
    # The guard does block and record what is not the dev server.
    with pytest.raises(Error):
        page.goto("https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp")
    assert tab.blocked == ["https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp"]
