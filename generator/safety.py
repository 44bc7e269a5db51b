"""What must never be published, and where files may come from.

A merchant file is published: every value in it may end up in a page anyone can read.
So a key named like a secret, a value that looks like a resident registration number
(주민등록번호) or a password written into text is an error, reported at its position.

Files: a merchant file that is a symlink to somewhere outside its folder, and theme
files that are symlinks to outside `themes/`, are errors too, found before anything is
written. (Two files that would publish to the same folder, and slugs that are the
generator's own folders, are found by `pipeline._name_problems` from the names alone.)
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .yamlload import Document, Mark  # noqa: F401 - Mark: the Found alias below

SECRET_WHY = "looks like a secret; a site config is published, keep secrets on your server"
# Matched against a key lower-cased, with - and spaces read as _.
SECRET_KEY_RE = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api_?key|private_?key|priv_?key|access_?key|"
    r"auth_?key|sign(ing)?_?key|credential|비밀번호|패스워드|암호")
# 6 digits (birth date), a hyphen, then 7 digits whose first tells century and sex:
# 1-4 for Koreans, 5-8 for foreign residents. Without a hyphen (nothing between, or other
# spaces and punctuation: 901231.1234567), 13 digits are only flagged when the first six
# are a real date, so that order or account numbers pass. Matched on `normalized` text.
RRN_RE = re.compile(
    r"(?<![0-9])[0-9]{6}\s*[-‐‑–—]\s*[1-8][0-9]{6}(?![0-9])"
    r"|(?<![0-9])[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[\W_]{0,8}[1-8][0-9]{6}(?![0-9])")
RRN_WHY = ("looks like a resident registration number (주민등록번호); a site config is "
           "published, and KSPay pages never carry one (sndAllregid is sent empty)")
# "비밀번호 : kspay" as in the guide's test-store notes, or "password=..."; or the word, a
# particle and a token of ASCII: with a digit ("비밀번호는 kspay1234"), or before a copula
# ("비밀번호는 kspay 입니다"). Matched on `normalized` text.
_PASSWORD_WORD = "(비밀번호|패스워드|password|passwd|pwd)"
# The word, maybe a particle, space, then ASCII; one way to match each text (no `\s*\s+`).
_PASSWORD_THEN = _PASSWORD_WORD + r"(\s*(은|는|이|가|is))?\s+"
PASSWORD_TEXT_RE = re.compile(
    _PASSWORD_WORD + r"\s*[:：=]\s*\S"
    + "|" + _PASSWORD_THEN + r"(?=[!-~]*[0-9])[!-~]{4,}(?![!-~])(?![가-힣])"
    + "|" + _PASSWORD_THEN + r"[!-~]{4,}(?![!-~])\s*(입니다|이에요|예요|이다|임)", re.IGNORECASE)
PASSWORD_WHY = ("looks like a password written out; a site config is published, keep "
                "secrets on your server")

Found = tuple[tuple[str | int, ...], "Mark", str]


def normalized(text: str) -> str:
    """What the guards read: NFKC (full-width digits and colons become ASCII) without the
    format characters (zero-width spaces, direction marks) that would hide a match."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def secret_key(key: str) -> bool:
    return SECRET_KEY_RE.search(re.sub(r"[-\s]", "_", normalized(key).lower())) is not None


def published_value_problem(text: str) -> str | None:
    text = normalized(text)
    if RRN_RE.search(text):
        return RRN_WHY
    if PASSWORD_TEXT_RE.search(text):
        return PASSWORD_WHY
    return None


def config_problems(doc: Document) -> list[Found]:
    """Keys named like secrets and values that must not be published, with positions."""
    found: list[Found] = []

    def visit(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                where = path + (key,)
                if secret_key(key):
                    found.append((where, doc.mark(where, key=True), SECRET_WHY))
                    continue  # the value is not looked at, nor quoted
                why = published_value_problem(key)
                if why:
                    found.append((where, doc.mark(where, key=True), why))
                    continue
                visit(item, where)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, path + (index,))
        else:
            text = doc.scalar_text.get(path, value if isinstance(value, str) else None)
            why = published_value_problem(text) if text else None
            if why:
                found.append((path, doc.mark(path), why))

    visit(doc.data, ())
    return found


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def symlink_outside(path: Path, folder: Path) -> Path | None:
    """Where `path` really points when that is outside `folder`; None otherwise."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a loop (RuntimeError before Python 3.13): leads nowhere
        return None
    return None if _inside(target, folder.resolve()) else target


def theme_problems(name: str, themes_dir: Path) -> list[str]:
    """Symlinks that leave `themes/` in a theme and in each theme it extends (`extends:`):
    every file of the chain can be rendered or published."""
    from .theme import ThemeError, extends_of

    found: list[str] = []
    chain: list[str] = []
    current: str | None = name
    # A name that is not one folder of themes/, or a loop, is the theme check's to report
    # (`theme_chain`): only folders of themes/ are walked.
    while current and Path(current).name == current and current != ".." \
            and current not in chain and not found:
        chain.append(current)
        found = _theme_folder_problems(current, themes_dir)
        try:
            folder = themes_dir / current
            current = extends_of(folder) if folder.is_dir() else None
        except ThemeError:  # the theme's own check (`load_theme`) says what is wrong
            current = None
    return found


def _theme_folder_problems(name: str, themes_dir: Path) -> list[str]:
    """Symlinks in one theme (its folder, templates, static files) that leave `themes/`."""
    root = themes_dir.resolve()
    folder = themes_dir / name
    outside = symlink_outside(folder, themes_dir)
    if outside is not None:
        return [f"theme {name!r}: {folder} is a symlink to {outside}, outside {themes_dir}"]
    problems = []
    for current, dirs, files in os.walk(folder):
        for entry in sorted(dirs + files):
            path = Path(current) / entry
            target = symlink_outside(path, root)
            if target is not None:
                shown = path.relative_to(themes_dir)
                problems.append(f"theme {name!r}: {shown} is a symlink to {target}, outside "
                                f"{themes_dir}; copy the file into the theme")
    return problems
