"""Python-Markdown, made safe: no raw HTML, allow-listed elements and link targets.

Imported only for text that has Markdown syntax (see `markup`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

import markdown
from markdown import util
from markdown.treeprocessors import Treeprocessor

from .markup import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, SAFE_SCHEMES

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
