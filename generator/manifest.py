"""What each published unit of the site was built from, so a rebuild can skip it.

A unit is one swappable piece of the output: a site's folder `<slug>/`, the directory
page `index.html`, `reference/` and `static/`. Its fingerprint hashes everything its
bytes depend on: the generator's code, the build options, the theme files it uses
(templates reached by extends/include/import and the assets they name) and its own
inputs (a site's YAML; the reference data; the list of stores). Only the standard
library is used here, so a rebuild with nothing to do never imports the renderer.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from pathlib import Path
from typing import NamedTuple

GENERATOR_DIR = Path(__file__).resolve().parent
REFERENCE_DIR = GENERATOR_DIR / "reference"
# The manifest is a cache of this build's own making, read on every build: marshal, not
# JSON, because for 10,000 sites it reads and writes in a third of the time. A file of
# another format, version or shape means "no manifest": everything is rendered again.
MAGIC = b"kspay-pages manifest 4\n"

_TEMPLATE_REF = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")
_ASSET_REF = re.compile(r"""asset\(\s*["']([^"']+)["']\s*\)""")

SITE_TEMPLATES = ("store.html", "order.html", "_customer_fields.html")
DIRECTORY_TEMPLATES = ("directory.html",)
REFERENCE_TEMPLATES = ("reference/index.html", "reference/table.html", "reference/faq.html")


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _files_digest(paths: list[Path], root: Path) -> str:
    return digest(*(f"{p.relative_to(root)}\0".encode() + p.read_bytes() for p in sorted(paths)))


def generator_fingerprint() -> str:
    """The code that turns inputs into bytes (the dev server and bench are not in it)."""
    return _files_digest(list(GENERATOR_DIR.glob("*.py")), GENERATOR_DIR)


def reference_fingerprint() -> str:
    return _files_digest([p for p in REFERENCE_DIR.iterdir() if p.is_file()], REFERENCE_DIR)


class ThemeFiles:
    """Reads a theme chain's files once per build for the units' fingerprints."""

    def __init__(self, themes_dir: Path, chain: list[str]) -> None:
        self.folders = [themes_dir / name for name in chain]
        self._cache: dict[str, str] = {}

    def _find(self, kind: str, name: str) -> Path | None:
        for folder in self.folders:
            for candidate in (folder / kind / name, folder / kind / f"{name}.jinja"):
                if candidate.is_file():
                    return candidate
        return None

    def fingerprint(self, entry_templates: tuple[str, ...]) -> str:
        key = "\n".join(entry_templates)
        if key not in self._cache:
            self._cache[key] = self._compute(entry_templates)
        return self._cache[key]

    def _compute(self, entry_templates: tuple[str, ...]) -> str:
        seen: dict[str, bytes] = {}
        assets: set[str] = set()
        todo = list(entry_templates)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            path = self._find("templates", name)
            source = path.read_bytes() if path else b"<missing>"
            seen[name] = source
            text = source.decode("utf-8", errors="replace")
            todo.extend(_TEMPLATE_REF.findall(text))
            assets.update(_ASSET_REF.findall(text))
        parts = [f"T{name}\0".encode() + seen[name] for name in sorted(seen)]
        for name in sorted(assets):
            path = self._find("static", name)
            parts.append(f"A{name}\0".encode() + (path.read_bytes() if path else b"<missing>"))
        for folder in self.folders:  # what extends what
            meta = folder / "theme.yaml"
            parts.append(meta.read_bytes() if meta.is_file() else b"")
        return digest(*parts)

    def static_fingerprint(self) -> str:
        files = []
        for folder in self.folders:
            static = folder / "static"
            if static.is_dir():
                files += [p for p in static.rglob("*") if p.is_file()]
        return digest(*(f"{p}\0".encode() + p.read_bytes() for p in sorted(files)))


def theme_parent(folder: Path) -> str | None:
    """The theme that `folder/theme.yaml` extends: its one `extends: NAME` line, read
    without a YAML parser so that a rebuild with nothing to do imports none."""
    meta = folder / "theme.yaml"
    if not meta.is_file():
        return None
    match = re.search(r"^extends:\s*['\"]?([A-Za-z0-9_-]+)", meta.read_text("utf-8"), re.M)
    return match.group(1) if match else None


def theme_chain(themes_dir: Path, name: str) -> list[str]:
    """Theme names from `name` up what it extends (a cycle ends the list)."""
    chain: list[str] = []
    current: str | None = name
    while current is not None and current not in chain:
        chain.append(current)
        current = theme_parent(themes_dir / current)
    return chain


class SiteEntry(NamedTuple):
    """A published site folder: built from this YAML with `Manifest.themes[theme]`."""

    source: str
    mtime_ns: int
    size: int
    digest: str  # of the YAML bytes
    theme: str
    name: str  # store name, for the directory page
    products: int


class Manifest:
    """Fingerprints of the published units. A site folder is current when its YAML digest,
    its theme's fingerprint, the generator and the options all match."""

    def __init__(self, generator: str = "", options: str = "",
                 sites: dict[str, SiteEntry] | None = None, themes: dict[str, str] | None = None,
                 stores: str = "", units: dict[str, str] | None = None) -> None:
        self.generator = generator
        self.options = options
        self.sites = sites if sites is not None else {}
        self.themes = themes if themes is not None else {}  # site-template fingerprints
        self.stores = stores  # digest of every store's slug, name and product count
        self.units = units if units is not None else {}  # index.html, reference, static

    def _fields(self) -> tuple:
        return (self.generator, self.options, self.sites, self.themes, self.stores, self.units)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Manifest) and self._fields() == other._fields()

    @staticmethod
    def path_for(out_dir: Path) -> Path:
        return out_dir.parent / f".kspay-{out_dir.name}.manifest"

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        """The manifest of the published site; empty when there is none to trust."""
        if not out_dir.is_dir():
            return cls()
        try:
            data = cls.path_for(out_dir).read_bytes()
            if not data.startswith(MAGIC):
                return cls()
            generator, options, themes, stores, units, rows = marshal.loads(data[len(MAGIC):])
            make = SiteEntry._make  # a row of another length: TypeError
            sites = {slug: make(row) for slug, row in rows.items()}
            return cls(generator, options, sites, dict(themes), stores, dict(units))
        except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
            return cls()

    def to_bytes(self) -> bytes:
        rows = {slug: tuple(entry) for slug, entry in self.sites.items()}
        return MAGIC + marshal.dumps((self.generator, self.options, self.themes, self.stores,
                                      self.units, rows))
