"""Validating merchant files for rendering: the half of a site's build that needs pydantic.

A build with few changed sites runs this in one helper process and the rendering
(`sitebuild`, jinja2) in another, so that their imports overlap; what passes between
them is a `CheckedSite` of plain objects.
"""

from __future__ import annotations

from pathlib import Path

from .buildtypes import CheckedSite
from .config import Site, load_site, plain
from .manifest import digest


def check_site(path: Path) -> CheckedSite:
    loaded = load_site(path)
    if not isinstance(loaded, Site):
        return CheckedSite(path.stem, path, errors=tuple(str(e) for e in loaded))
    return CheckedSite(loaded.slug, loaded.source, plain(loaded.config), (),
                       digest(loaded.data), loaded.error(("theme",), ""))


def check_sites(paths: list[Path]) -> list[CheckedSite]:
    return [check_site(path) for path in paths]
