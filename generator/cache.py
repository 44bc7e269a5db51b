"""What each published unit of the site was built from, so that a rebuild can skip it.

A unit is one swappable piece of the output: a site's folder `<slug>/`, the directory
page `index.html`, `reference/` and `static/`. Its fingerprint hashes everything its
bytes depend on: the code that renders pages, the build options, the theme files it
uses and its own inputs (a site's YAML, the reference data, the list of stores). The
manifest keeps them beside the output, one JSON file; a file of another version or
shape means "no manifest", and everything is rendered again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import jinja2
from jinja2 import meta

from . import reference
from .output import sidecar
from .theme import Theme

VERSION = 9
GENERATOR_DIR = Path(__file__).resolve().parent
# The modules that turn merchant files, themes and reference data into bytes; not the
# command line, the build's plumbing, the dev server or the payments service.
RENDERING_CODE = ("config.py", "form.py", "images.py", "kspay.py", "markdown_safe.py",
                  "pages.py", "qr.py", "reference.py", "reference_pages.py", "safety.py",
                  "seller.py", "sharing.py", "theme.py", "yamlload.py")

SITE_TEMPLATES = ("store.html", "order.html", "policy.html", "poster.html",
                  "_customer_fields.html")
DIRECTORY_TEMPLATES = ("directory.html",)
REFERENCE_TEMPLATES = ("reference/index.html", "reference/table.html", "reference/faq.html")


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _files_digest(files: dict[str, Path]) -> str:
    """Each file's name and bytes, in the order of the names."""
    return digest(*(f"{name}\0".encode() + path.read_bytes()
                    for name, path in sorted(files.items())))


def generator_fingerprint() -> str:
    return _files_digest({name: GENERATOR_DIR / name for name in RENDERING_CODE})


def reference_fingerprint() -> str:
    return _files_digest({p.name: p for p in reference.DATA_DIR.iterdir() if p.is_file()})


def static_fingerprint(theme: Theme) -> str:
    return _files_digest(theme.static_files())


def _referenced(env: jinja2.Environment, source: str) -> list[str | None]:
    """The template names a template's source refers to (None: one named at render
    time), remembered by source: the dev server fingerprints the same themes each build.
    Every theme's environment parses alike (`theme.py` makes them all the same way)."""
    if (found := _REFERENCES.get(source)) is None:
        try:
            found = list(meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateSyntaxError:  # rendering reports it; its text is the input
            found = []
        _REFERENCES[source] = found
    return found


_REFERENCES: dict[str, list[str | None]] = {}


def theme_fingerprint(theme: Theme, entry_templates: tuple[str, ...]) -> str:
    """The templates reached from `entry_templates` (extends, include, import, as jinja2
    finds them), every static file of the chain and the chain itself."""
    env = theme.env
    seen: dict[str, bytes] = {}
    todo = list(entry_templates)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            source = env.loader.get_source(env, name)[0]
        except jinja2.TemplateNotFound:
            source = "<missing>"
        reached = _referenced(env, source)
        seen[name] = source.encode()
        if None in reached:  # a template named at render time: it may be any of them
            reached = env.list_templates()
        todo.extend(r for r in reached if r is not None)
    parts = [f"T{name}\0".encode() + seen[name] for name in sorted(seen)]
    parts.append(static_fingerprint(theme))
    parts += [f"C{folder.name}" for folder in theme.folders]
    return digest(*parts)


class ImageEntry(NamedTuple):
    """An image file a site's pages were built from (`images.Source`), by its path from
    the sites folder as the merchant file writes it."""

    written: str
    mtime_ns: int
    size: int
    digest: str


class SiteEntry(NamedTuple):
    """A published site folder: built from this YAML and these images with
    `Manifest.themes[theme]`. In the manifest file it is a row of its values, in this
    order."""

    source: str
    mtime_ns: int
    size: int
    digest: str  # of the YAML bytes
    theme: str
    name: str  # store name, for the directory page
    products: int
    warnings: tuple[str, ...]  # shown again by every build, as when it was rendered
    images: tuple[ImageEntry, ...] = ()


@dataclass
class Manifest:
    """Fingerprints of the published units. A site folder is current when its YAML digest,
    its theme's fingerprint, the generator and the options all match."""

    generator: str = ""
    options: str = ""
    sites: dict[str, SiteEntry] = field(default_factory=dict)
    themes: dict[str, str] = field(default_factory=dict)  # site-template fingerprints
    stores: str = ""  # digest of every store's slug, name and product count
    units: dict[str, str] = field(default_factory=dict)  # index.html, reference, static
    # Every file under themes/ (name, mtime, size), and the theme fingerprints made from
    # them: while the files are as they were, a build takes the fingerprints from here
    # instead of parsing every template again.
    themes_state: str = ""
    theme_fingerprints: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def path_for(out_dir: Path) -> Path:
        return sidecar(out_dir, "manifest")

    @classmethod
    def load(cls, out_dir: Path) -> Manifest:
        """The manifest of the published site; empty when there is none to trust."""
        path = cls.path_for(out_dir)
        try:
            if not out_dir.is_dir():
                return cls()
            stat = os.stat(path)
            on_disk = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if (kept := _PUBLISHED_BY_US.get(path)) and kept[0] == on_disk:
                return kept[1]
            data = json.loads(path.read_bytes())
            if data.pop("version") != VERSION:
                return cls()
            sites = {slug: SiteEntry(*row[:-2], tuple(row[-2]), tuple(
                         ImageEntry(*image) for image in row[-1]) if row[-1] else ())
                     for slug, row in data.pop("sites").items()}
            return cls(sites=sites, **data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def to_bytes(self) -> bytes:
        # The fingerprints in the order of their names: the same published site gives
        # the same bytes, whatever order the build made them in.
        data = {**vars(self), "theme_fingerprints": dict(sorted(self.theme_fingerprints.items()))}
        return json.dumps({"version": VERSION, **data},
                          ensure_ascii=False, separators=(",", ":")).encode()

    def published(self, out_dir: Path) -> None:
        """This manifest is now the one beside `out_dir`: a later build in this process
        (the dev server's) uses it as it is instead of reading the file back, for as long
        as the file is the one written (same inode, mtime and size)."""
        stat = os.stat(self.path_for(out_dir))
        _PUBLISHED_BY_US[self.path_for(out_dir)] = (
            (stat.st_ino, stat.st_mtime_ns, stat.st_size), self)


_PUBLISHED_BY_US: dict[Path, tuple[tuple[int, int, int], Manifest]] = {}
