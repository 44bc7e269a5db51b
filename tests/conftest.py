"""Shared fixtures: the example sites built once into a temporary folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator import pipeline


ROOT = Path(__file__).resolve().parents[1]
# The example merchants as the tests know them: a copy, so that what a merchant keeps in
# sites/ (a file of their own, an edited example) never changes what the tests see.
SITES = ROOT / "tests" / "fixtures" / "sites"

# The smallest valid merchant file; tests add or change one thing at a time.
VALID = """\
store:
  id: "2999199999"
  name: 케이에스페이(주)
reply_url: https://shop.example.kr/kspay/result
products:
  - slug: carrot-10kg
    name: 당근10kg
    amount: 1003
"""


@pytest.fixture(scope="session", autouse=True)
def no_serve_folders_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Temporary files of this run go to a folder of its own, and a `kspay-serve-*`
    folder that a dev server left there fails the run (other runs on the machine use
    /tmp as well, so it is not looked at)."""
    import tempfile

    folder = tmp_path_factory.mktemp("tmpdir")
    previous = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)  # for the servers the tests start as processes
    yield
    tempfile.tempdir = previous[0]
    if previous[1] is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = previous[1]
    left = sorted(p.name for p in folder.glob("kspay-serve-*"))
    assert left == [], f"dev servers left their temporary folders in {folder}: {left}"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "_site"
    pipeline.build(SITES, out)
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def form_values(page: BeautifulSoup) -> dict[str, str]:
    form = page.find("form", id="pay-form")
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") == "hidden"}


# --- the payment store: SQLite always, PostgreSQL where one is given ----------------
#
# KSPAY_TEST_POSTGRES is a database the tests may empty (.ci/run makes one). With
# KSPAY_REQUIRE_POSTGRES=1 (set by .ci/run) a skipped PostgreSQL test is a failure.

POSTGRES_ENV = "KSPAY_TEST_POSTGRES"
REQUIRE_POSTGRES_ENV = "KSPAY_REQUIRE_POSTGRES"
_postgres_skipped: list[str] = []


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def empty_postgres(url: str) -> str:
    """The test database with no kspay tables left from an earlier test."""
    from generator.payments.store import PaymentStore, metadata

    store = PaymentStore(url)
    metadata.drop_all(store.engine)
    store.engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty payment store: each storage test runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'payments.sqlite3'}"
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL: set {POSTGRES_ENV}=postgresql://... (.ci/run does)")
    return empty_postgres(url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or "postgresql" not in item.nodeid or hasattr(report, "wasxfail"):
        return
    _postgres_skipped.append(item.nodeid)
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_POSTGRES_ENV}=1 and this PostgreSQL test was skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(REQUIRE_POSTGRES_ENV) == "1" and _postgres_skipped and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# The example sites as published at an address of their own (build --base-url): with
# canonical links, Open Graph tags, sitemaps, robots.txt, QR codes and posters.
BASE_URL = "https://pay.example.kr/"


@pytest.fixture(scope="session")
def built_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build-shared") / "_site"
    pipeline.build(SITES, out, options=pipeline.BuildOptions(base_url=BASE_URL))
    return out
