"""Merchant Markdown -> safe HTML for the store and product pages.

Raw HTML in Markdown is shown as text, never passed through; link targets keep only
http, https, mailto, tel and in-page anchors; images become their alt text, because an
order page makes no request but the KSPay form post. After Markdown has built its tree,
every element is checked against an allow-list of tags and attributes, so a construct
that a future Markdown release adds cannot bring markup of its own (`markdown_safe`).

Text with no Markdown syntax at all, most merchants' text, takes a fast path here and
never imports Python-Markdown: a build of one changed merchant saves its 20 ms import.
"""

from __future__ import annotations

import functools
import re

from markupsafe import Markup, escape

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "#")
# What Python-Markdown's core syntax produces; anything else becomes a plain <span>.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
    "pre", "code", "em", "strong", "a", "span",
})
ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "title", "rel"}), "ol": frozenset({"start"})}
# Longer Markdown is refused by the config (see config.py): Python-Markdown is quadratic
# on some inputs (10,000 characters of `[` take seconds) and recursive on nested lists.
MAX_MARKDOWN_CHARS = 10_000
# Text in which Markdown can find no syntax: no markup characters, no line that starts
# with a space or digit (indented code, ordered lists) or ends with one (line breaks), no
# control characters or other white space. Python-Markdown makes exactly <p>lines</p> per paragraph of it,
# at a hundredth of the cost; tests/test_markup_fast_path.py holds the two together.
_MAYBE_SYNTAX = re.compile(
    r"[\\`*_\[\]<>#!&|~=+{}\x00-\x09\x0b-\x1f\x7f-]|[^\S \n]|^[ 0-9]| $", re.MULTILINE)


def _plain_paragraphs(text: str) -> str | None:
    if _MAYBE_SYNTAX.search(text):
        return None
    paragraphs = [p.strip("\n") for p in re.split("\n{2,}", text.strip("\n"))]
    return "\n".join(f"<p>{p}</p>" for p in paragraphs if p)


@functools.lru_cache(maxsize=4096)  # the config check renders each text once already
def _convert(text: str) -> str | None:
    """Markdown's HTML for `text`; None when it nests too deeply for Python's stack."""
    plain = _plain_paragraphs(text)
    if plain is not None:
        return plain
    from .markdown_safe import convert

    return convert(text)


def render_markdown(text: str) -> Markup:
    html = _convert(text)
    if html is None:  # config.py refuses such text; should it get here, show it as text
        return Markup(f"<p>{escape(text)}</p>")
    return Markup(html)  # noqa: S704 - raw HTML is escaped, elements allow-listed above


def markdown_problem(text: str) -> str | None:
    """Why `text` cannot be shown as Markdown, or None."""
    if len(text) > MAX_MARKDOWN_CHARS:
        return (f"{len(text):,} characters, the limit is {MAX_MARKDOWN_CHARS:,} "
                "(a mobile page; longer Markdown also slows the build)")
    if _convert(text) is None:
        return "Markdown nested too deeply (lists or quotes inside each other)"
    return None
