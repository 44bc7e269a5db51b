"""Shared fixtures: the example sites built once into a temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator import pipeline

# Compiled templates go to a folder of this test run, not to the user's ~/.cache.
os.environ.setdefault("KSPAY_CACHE_DIR", tempfile.mkdtemp(prefix="kspay-test-cache-"))

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "sites"

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
