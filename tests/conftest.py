"""Shared fixtures: the example sites built once into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator import pipeline

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "sites"


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
