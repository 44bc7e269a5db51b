"""Themes: a chain of template folders, one jinja2 environment per chain, and assets.

A theme is `themes/<name>/` with `templates/`, `static/` and an optional `theme.yaml`
whose `extends:` names the theme it builds on. A theme, its environment and what is made
from it are kept by the process until a file under the themes folder changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

import jinja2
import yaml

from . import kspay
from .yamlload import load_plain

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"
TEMPLATE_SUFFIX = ".jinja"  # a static file rendered once per build, e.g. order.js.jinja


Function = TypeVar("Function", bound=Callable)
_KEPT: list = []  # every cache of what is made from themes
_READ_FROM: dict[Path, list[tuple[str, int, int]]] = {}  # themes folder -> its files then


class ThemeError(Exception):
    pass


def kept_with_themes(function: Function) -> Function:
    """`functools.cache`, forgotten together with the themes (`forget_themes`)."""
    cached = functools.cache(function)
    _KEPT.append(cached)
    return cached  # type: ignore[return-value]


def forget_themes() -> None:
    for cached in _KEPT:
        cached.cache_clear()
    _READ_FROM.clear()


def forget_changed_themes(themes_dir: Path) -> list[tuple[str, int, int]]:
    """Forget the themes this process read, and all made from them, when any file under
    `themes_dir` changed (name, mtime or size) since a build last looked; a long-running
    process (the dev server) renders with the templates it compiled before otherwise.
    Returns what was found, every file with its mtime and size."""
    found = []
    for folder, _, names in os.walk(themes_dir):
        for name in names:
            stat = os.lstat(path := os.path.join(folder, name))
            found.append((path, stat.st_mtime_ns, stat.st_size))
    found.sort()
    if _READ_FROM.get(themes_dir) != found:
        forget_themes()
        _READ_FROM[themes_dir] = found
    return found


@dataclass(frozen=True)
class Theme:
    name: str
    folders: tuple[Path, ...]  # the theme first, then what it extends
    env: jinja2.Environment

    def render(self, template: str, **context: object) -> str:
        try:
            return self.env.get_template(template).render(**context)
        except jinja2.TemplateNotFound as exc:
            searched = ", ".join(str(f / "templates") for f in self.folders)
            raise ThemeError(f"unable to load {exc.name} from {searched}") from None

    def static_files(self) -> dict[str, Path]:
        """The chain's static files by name; the theme's own override what it extends."""
        files: dict[str, Path] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        files[path.relative_to(static).as_posix()] = path
        return files


def theme_chain(name: str, themes_dir: Path = THEMES_DIR) -> list[Path]:
    """The theme's folder, then those of the themes it extends (`extends:` in theme.yaml)."""
    folders: list[Path] = []
    current: str | None = name
    while current is not None:
        folder = (themes_dir / current).resolve()
        if folder.parent != themes_dir.resolve() or not (folder / "templates").is_dir():
            raise ThemeError(f"theme {current!r} not found: no {themes_dir / current}/templates")
        if folder in folders:
            chain = " -> ".join(f.name for f in folders)
            raise ThemeError(f"theme {name!r} extends itself: {chain} -> {current}")
        folders.append(folder)
        current = extends_of(folder)
    return folders


def extends_of(folder: Path) -> str | None:
    """The theme a theme folder extends (`extends:` in its theme.yaml), if any."""
    path = folder / "theme.yaml"
    try:
        meta = load_plain(path) if path.is_file() else None
    except (yaml.YAMLError, UnicodeError) as exc:
        why = " ".join(str(exc).split())
        raise ThemeError(f"{path}: not a readable theme.yaml ({why})") from None
    extends = meta.get("extends") if isinstance(meta, dict) else None
    if extends is not None and not isinstance(extends, str):
        raise ThemeError(f"{path}: extends: must be the name of a theme, got {extends!r}")
    return extends


@kept_with_themes
def load_theme(name: str, themes_dir: Path = THEMES_DIR) -> Theme:
    folders = theme_chain(name, themes_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f / "templates") for f in folders]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # `forget_changed_themes` starts afresh when files change
        cache_size=-1,
    )
    env.filters["won"] = lambda amount: f"{amount:,}원"
    env.filters["tojson_compact"] = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return Theme(name, tuple(folders), env)


@dataclass(frozen=True)
class Asset:
    logical: str  # "order.js"
    path: str  # "static/order.1a2b3c4d.js"
    data: bytes


def assets(theme: Theme) -> dict[str, Asset]:
    """The theme's static files under content-hashed names."""
    found: dict[str, Asset] = {}
    for logical, path in theme.static_files().items():
        data = path.read_bytes()
        if logical.endswith(TEMPLATE_SUFFIX):
            logical = logical[: -len(TEMPLATE_SUFFIX)]
            template = theme.env.from_string(data.decode("utf-8"))
            data = template.render(rules_json=_rules_json()).encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()[:10]
        pure = PurePosixPath(logical)
        hashed = pure.with_name(f"{pure.stem}.{digest}{pure.suffix}")
        found[logical] = Asset(logical, f"static/{hashed}", data)
    return found


def _rules_json() -> str:
    # Inside a script: "<" escaped so that no value can close the element.
    text = json.dumps(kspay.customer_rules(), ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c")
