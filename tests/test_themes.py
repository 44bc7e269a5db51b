"""Themes: a theme extends another, overrides what it names, and errors say where they looked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT, VALID, form_values, soup
from generator import pipeline


@pytest.fixture()
def themes(tmp_path: Path) -> Path:
    folder = tmp_path / "themes"
    shutil.copytree(ROOT / "themes", folder)
    carrot = folder / "carrot"
    (carrot / "templates").mkdir(parents=True)
    (carrot / "static").mkdir()
    (carrot / "theme.yaml").write_text("extends: default\n", encoding="utf-8")
    store = (folder / "default" / "templates" / "store.html").read_text(encoding="utf-8")
    (carrot / "templates" / "store.html").write_text(
        store.replace("<h1>", '<h1 class="carrot">'), encoding="utf-8")
    (carrot / "static" / "style.css").write_text("body { color: #e86a10; }\n", encoding="utf-8")
    return folder


def build_with(tmp_path: Path, themes: Path, theme: str) -> Path:
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "shop.yaml").write_text(VALID + f"theme: {theme}\n", encoding="utf-8")
    out = tmp_path / "_site"
    pipeline.build(sites, out, themes)
    return out


def test_a_theme_overrides_what_it_has_and_inherits_the_rest(tmp_path: Path, themes: Path) -> None:
    out = build_with(tmp_path, themes, "carrot")
    store = soup(out / "shop" / "index.html")
    assert store.find("h1")["class"] == ["carrot"]
    css = store.find("link", rel="stylesheet")["href"]
    assert (out / "shop" / css).read_text(encoding="utf-8") == "body { color: #e86a10; }\n"
    order = soup(out / "shop" / "carrot-10kg" / "index.html")
    assert order.find("form", id="pay-form") is not None  # default's order.html
    assert order.find("link", rel="stylesheet")["href"] == "../../" + css.removeprefix("../")


def test_a_theme_that_extends_itself_is_an_error(tmp_path: Path, themes: Path) -> None:
    (themes / "default" / "theme.yaml").write_text("extends: carrot\n", encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed) as failed:
        build_with(tmp_path, themes, "carrot")
    [message] = failed.value.errors
    assert message.endswith("theme: theme 'carrot' extends itself: carrot -> default -> carrot")


def test_a_missing_template_names_every_folder_searched(tmp_path: Path, themes: Path) -> None:
    (themes / "default" / "templates" / "order.html").unlink()
    with pytest.raises(pipeline.BuildFailed) as failed:
        build_with(tmp_path, themes, "carrot")
    [message] = failed.value.errors
    assert message.endswith(f"theme: unable to load order.html from {themes.resolve()}/carrot/templates, "
                            f"{themes.resolve()}/default/templates")


APPS = 'apps:\n  android: true\n  ios_scheme: "shop://pay"\n'
VARIANT_PAGES = ("index.html", "android.html", "ios.html")


def order_theme(themes: Path, name: str, order_html: str) -> None:
    """A theme that extends default with its own order.html only (same assets)."""
    folder = themes / name
    (folder / "templates").mkdir(parents=True)
    (folder / "theme.yaml").write_text("extends: default\n", encoding="utf-8")
    (folder / "templates" / "order.html").write_text(order_html, encoding="utf-8")


def build_apps(tmp_path: Path, themes: Path, theme: str) -> Path:
    sites = tmp_path / f"sites-{theme}"
    sites.mkdir()
    (sites / "shop.yaml").write_text(VALID + APPS + f"theme: {theme}\n", encoding="utf-8")
    out = tmp_path / f"_site-{theme}"
    pipeline.build(sites, out, themes)
    return out / "shop" / "carrot-10kg"


def test_a_theme_that_shows_the_variant_gets_each_pages_own(tmp_path: Path, themes: Path) -> None:
    default = (themes / "default" / "templates" / "order.html").read_text(encoding="utf-8")
    order_theme(themes, "labelled", default.replace(
        "<h1>{{ product.name }}</h1>", '<h1>{{ product.name }}</h1><p class="app">{{ variant.label }}</p>'))
    pages = build_apps(tmp_path, themes, "labelled")
    seen = [(soup(pages / name).find("p", class_="app").text,
             form_values(soup(pages / name))["sndRtApp"]) for name in VARIANT_PAGES]
    assert seen == [("모바일 웹", ""), ("Android 앱", "android"), ("iOS 앱", "shop://pay")]
