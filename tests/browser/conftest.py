"""Browser fixtures: the built example sites served on 127.0.0.1, Debian's Chromium.

Every test here carries the `browser` marker. Without Chromium at /usr/bin/chromium (or
without Playwright for Python) they are skipped with the reason; with
KSPAY_REQUIRE_BROWSER=1 (set by .ci/run) a skipped browser test is a failure instead.
Nothing leaves the machine: requests to the KSPay window are answered by the test, and
every other request that is not to the local server is aborted and recorded.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Debian's Chromium; KSPAY_CHROMIUM only lets test_require_browser.py point elsewhere.
CHROMIUM = Path(os.environ.get("KSPAY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 360, "height": 740}
KSPAY_ROUTE = "https://kspay.ksnet.to/**"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRE_ENV = "KSPAY_REQUIRE_BROWSER"

try:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Route
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the [test] extra installs it
    sync_playwright = None  # type: ignore[assignment]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}"
    if sync_playwright is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


# --- skip, or fail when the browser is required -----------------------------------

_skipped: list[str] = []
_summaries: list[str] = []  # what tests record with record_property("summary", ...)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_missing()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        _summaries.extend(v for k, v in report.user_properties if k == "summary")
    if not report.skipped or item.get_closest_marker("browser") is None:
        return
    if hasattr(report, "wasxfail"):  # an expected failure, reported as skipped: not a skip
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    _skipped.append(f"{item.nodeid}: {reason}")
    if browser_required():
        report.outcome = "failed"
        report.longrepr = (f"{REQUIRE_ENV}=1 and this browser test was skipped: {reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if browser_required() and _skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _summaries:
        terminalreporter.write_sep("-", "browser tests")
        for line in _summaries:
            terminalreporter.write_line(line)
    if not _skipped:
        return
    verdict = "FAILED the run" if browser_required() else "skipped"
    terminalreporter.write_sep("=", f"browser tests {verdict}", yellow=True, bold=True)
    for line in sorted(set(_skipped)):
        terminalreporter.write_line(f"  {line}")
    if not browser_required():
        terminalreporter.write_line(f"  (set {REQUIRE_ENV}=1 to make this a failure, as .ci/run does)")


# --- the site, served ---------------------------------------------------------------

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def site_url(built: Path) -> Iterator[str]:
    """Base URL (ending in /) of the built example sites, served from 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(built))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- the browser --------------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    reason = browser_missing()
    if reason is not None:
        pytest.skip(reason)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class Posted:
    """A request that reached the KSPay window (answered here, never sent)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Phone:
    """A phone-sized browser tab and what it tried to send off the machine."""

    page: Page
    context: BrowserContext
    site_url: str
    posted: list[Posted] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    kspay_other: list[str] = field(default_factory=list)  # e.g. a favicon of the answer page

    def open(self, path: str) -> Page:
        response = self.page.goto(self.site_url + path)
        assert response is not None and response.status == 200, path
        return self.page


KSPAY_ANSWER = ("<!doctype html><html lang='ko'><head><meta charset='utf-8'>"
                "<title>KSPay (test)</title></head><body><p>test</p></body></html>")


def _phone(browser: Browser, site_url: str, **options: Any) -> Iterator[Phone]:
    context = browser.new_context(
        viewport=PHONE, screen=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
        locale="ko-KR", timezone_id="Asia/Seoul", service_workers="block", **options)
    page = context.new_page()
    phone = Phone(page, context, site_url)
    local = site_url.rstrip("/")

    def guard(route: Route, request: Request) -> None:
        if request.url.startswith(local + "/") or request.url == local:
            route.continue_()
        else:
            phone.blocked.append(request.url)
            route.abort()

    def kspay(route: Route, request: Request) -> None:
        if request.resource_type != "document":
            phone.kspay_other.append(request.url)
            route.fulfill(status=404, body="")
            return
        phone.posted.append(Posted(request.method, request.url, dict(request.headers),
                                   request.post_data_buffer or b""))
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=KSPAY_ANSWER)

    # The route added last is tried first: the KSPay window, then everything else.
    context.route("**/*", guard)
    context.route(KSPAY_ROUTE, kspay)
    try:
        yield phone
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, site_url: str) -> Iterator[Phone]:
    yield from _phone(browser, site_url)


@pytest.fixture
def phone_no_csp(browser: Browser, site_url: str) -> Iterator[Phone]:
    """For injecting axe-core: the pages' CSP allows only their own scripts."""
    yield from _phone(browser, site_url, bypass_csp=True)


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS.relative_to(ROOT)} is missing: run `make test` (it runs npm ci) "
                    "or `npm ci` in the repository root")
    return AXE_JS
