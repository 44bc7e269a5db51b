"""Merchant Markdown -> safe HTML for the store and product pages (Python-Markdown, made safe).

Raw HTML in Markdown is shown as text, never passed through; link targets keep only
http, https, mailto, tel and in-page anchors; images become their alt text, because an
order page makes no request but the KSPay form post. After Markdown has built its tree,
every element is checked against an allow-list of tags and attributes, so a construct
that a future Markdown release adds cannot bring markup of its own.

The config converts each text once, when it validates it (`MarkdownText` keeps the HTML);
the pages take that HTML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

import markdown
from markdown import util
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup, escape

from . import markdown_cost

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "#")
# What Python-Markdown's core syntax produces; anything else becomes a plain <span>.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
    "pre", "code", "em", "strong", "a", "span",
})
ALLOWED_ATTRIBUTES = {"a": frozenset({"href", "title", "rel"}), "ol": frozenset({"start"})}
# Longer Markdown is refused by the config (a mobile page); so is Markdown that would
# cost Python-Markdown more than linear time (`markdown_cost`).
MAX_MARKDOWN_CHARS = 10_000
NESTED_TOO_DEEPLY = "Markdown nested too deeply (lists or quotes inside each other)"

# Automatic mail links hide the address as &#NN; entities behind a placeholder.
_STASHED_ENTITY = re.compile(re.escape(util.AMP_SUBSTITUTE) + r"#([0-9]+);")
# Browsers drop these from the start of a URL before reading its scheme.
_URL_LEADING_JUNK = re.compile("^[\\u0000-\\u0020\\u007f]+")


def safe_href(href: str) -> str | None:
    """The link target if it is on the allow-list, else None."""
    plain = _STASHED_ENTITY.sub(lambda m: chr(int(m.group(1))), href)
    plain = _URL_LEADING_JUNK.sub("", plain)
    if re.search("[\\u0000-\\u001f\\u007f]", plain):
        return None  # a tab or newline inside "java\tscript:" is dropped by browsers
    return plain if plain.lower().startswith(SAFE_SCHEMES) else None


class _SafeTree(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    span = etree.Element("span")
                    span.text = child.get("alt", "")
                    span.tail = child.tail
                    parent.remove(child)
                    parent.insert(index, span)
        for element in root.iter():
            if element is root:
                continue
            if element.tag not in ALLOWED_TAGS:
                element.tag = "span"
            allowed = ALLOWED_ATTRIBUTES.get(element.tag, frozenset())
            for name in list(element.attrib):
                if name not in allowed:
                    del element.attrib[name]
            if element.tag == "a":
                href = safe_href(element.get("href", ""))
                if href is None:
                    element.attrib.pop("href", None)
                    element.attrib.pop("rel", None)
                else:
                    element.set("href", href)
                    element.set("rel", "nofollow noopener")


class _SafeMarkdown(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeTree(md), "kspay_safe_tree", 5)


def _new_markdown() -> markdown.Markdown:
    return markdown.Markdown(extensions=[_SafeMarkdown()], output_format="html")


_MD = _new_markdown()


def convert(text: str) -> str | None:
    """Markdown's HTML for `text`; None when it nests too deeply for Python's stack."""
    global _MD
    _MD.reset()
    try:
        return _MD.convert(text)
    except RecursionError:
        _MD = _new_markdown()  # an interrupted conversion leaves the instance unusable
        return None
    finally:
        _MD.reset()


class MarkdownText(str):
    """Merchant text that passed `markdown_problem`, with the HTML it converted to."""

    html: str

    def __new__(cls, text: str, html: str) -> MarkdownText:
        self = super().__new__(cls, text)
        self.html = html
        return self

    def __reduce__(self) -> tuple:
        return MarkdownText, (str(self), self.html)


def markdown_problem(text: str, tally: markdown_cost.Tally | None = None) -> str | None:
    """Why `text` cannot be converted, found without converting it; None if it can be
    (`convert` may still find it nested too deeply for Python's stack). `tally` holds
    what the file's texts before it cost."""
    if len(text) > MAX_MARKDOWN_CHARS:
        return (f"{len(text):,} characters, the limit is {MAX_MARKDOWN_CHARS:,} "
                "(a mobile page; longer Markdown also slows the build)")
    return markdown_cost.problem(text, tally)


def render_markdown(text: str) -> Markup:
    html = text.html if isinstance(text, MarkdownText) else convert(text)
    if html is None:  # config.py refuses such text; should it get here, show it as text
        return Markup(f"<p>{escape(text)}</p>")
    return Markup(html)  # noqa: S704 - raw HTML is escaped, elements allow-listed above
