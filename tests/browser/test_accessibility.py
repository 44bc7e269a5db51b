"""Accessibility and validity: axe-core in Chromium on every kind of page, and every
built page through html5lib's strict parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import html5lib
import pytest

from .conftest import ROOT, Phone
from .helpers import SITES, merchant

SITE_FILES = sorted(SITES.glob("*.yaml"))

SERIOUS = ("serious", "critical")
AXE_VERSION = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]


def order_page_count() -> int:
    count = 0
    for path in SITE_FILES:
        site = merchant(path.stem)
        apps = site.get("apps") or {}
        variants = 1 + bool(apps.get("android")) + bool(apps.get("ios_scheme"))
        count += len(site["products"]) * variants
    return count


def policy_page_count() -> int:
    """The merchant's own policy pages, and the third-party page wherever there is one."""
    kinds = [len(merchant(path.stem).get("policies") or {}) for path in SITE_FILES]
    return sum(n + 1 for n in kinds if n)


def pages_of_kind(built: Path, kind: str) -> list[str]:
    """Paths (relative to the site root) of the built pages of one kind."""
    if kind == "directory":
        found = [built / "index.html"]
    elif kind == "reference":
        found = sorted((built / "reference").glob("**/index.html"))
    else:
        stores = sorted(p for p in built.iterdir()
                        if p.is_dir() and p.name not in ("static", "reference"))
        if kind == "store":
            found = [s / "index.html" for s in stores]
        elif kind == "policy":
            found = sorted(p for s in stores for p in s.glob("policies/*/index.html"))
        else:
            found = sorted(p for s in stores for p in s.glob("*/*.html"))
    return [p.relative_to(built).as_posix() for p in found]


def run_axe(phone: Phone, axe_source: Path, path: str) -> list[dict[str, Any]]:
    page = phone.open(path)
    page.add_script_tag(path=str(axe_source))
    result = page.evaluate("""async () => {
        const found = await axe.run(document, { resultTypes: ["violations"] });
        return {
            version: axe.version,
            passes: found.passes.length,
            violations: found.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(" ")),
            })),
        };
    }""")
    assert result["version"] == AXE_VERSION
    assert result["passes"] >= 10, f"axe-core checked next to nothing on {path}"
    return result["violations"]


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["directory", "store", "order", "policy"])
def test_axe_finds_nothing_serious(phone_no_csp: Phone, axe_source: Path, built: Path,
                                   kind: str, record_property: Any) -> None:
    paths = pages_of_kind(built, kind)
    expected = {"directory": 1, "store": len(SITE_FILES), "order": order_page_count(),
                "policy": policy_page_count()}[kind]
    assert len(paths) == expected, paths
    check_pages(phone_no_csp, axe_source, paths, kind, record_property)


@pytest.mark.browser
def test_axe_finds_nothing_serious_on_reference_pages(
        phone_no_csp: Phone, axe_source: Path, built: Path, record_property: Any) -> None:
    paths = pages_of_kind(built, "reference")
    if (built / "reference" / "index.html").exists():
        # The appendix is built: its index and its table pages must all be checked.
        assert len(paths) > 1, paths
    check_pages(phone_no_csp, axe_source, paths, "reference", record_property)


def check_pages(phone: Phone, axe_source: Path, paths: list[str], kind: str,
                record_property: Any) -> None:
    serious: list[str] = []
    other: list[str] = []
    for path in paths:
        for violation in run_axe(phone, axe_source, path):
            line = (f"{path}: {violation['id']} ({violation['impact']}): {violation['help']} "
                    f"at {', '.join(violation['targets'][:3])}")
            (serious if violation["impact"] in SERIOUS else other).append(line)
    summary = (f"axe-core on {len(paths)} {kind} page(s): {len(serious)} serious or critical, "
               f"{len(other)} moderate or minor" + "".join(f"\n    {o}" for o in other))
    print(summary)
    record_property("summary", summary)
    assert phone.blocked == []
    assert serious == [], "\n".join(serious)


def test_every_built_page_is_valid_html(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) >= 18
    failures = []
    for page in pages:
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            parser.parse(page.read_bytes(), transport_encoding="utf-8")
        except html5lib.html5parser.ParseError as exc:
            failures.append(f"{page.relative_to(built)}: {exc}")
    assert failures == []
