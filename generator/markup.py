"""Merchant Markdown -> safe HTML for the store and product pages.

Raw HTML in Markdown is shown as text, never passed through; link targets keep only
http, https, mailto, tel and in-page anchors; images become their alt text, because an
order page makes no request but the KSPay form post.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

import markdown
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "#")


class _SafeLinks(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    span = etree.Element("span")
                    span.text = child.get("alt", "")
                    span.tail = child.tail
                    parent.remove(child)
                    parent.insert(index, span)
                elif child.tag == "a":
                    href = child.get("href", "")
                    if not href.strip().lower().startswith(SAFE_SCHEMES):
                        del child.attrib["href"]
                    else:
                        child.set("rel", "nofollow noopener")


class _SafeMarkdown(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "kspay_safe_links", 5)


_MD = markdown.Markdown(extensions=[_SafeMarkdown()], output_format="html")


def render_markdown(text: str) -> Markup:
    _MD.reset()
    return Markup(_MD.convert(text))  # noqa: S704 - raw HTML is escaped by _SafeMarkdown
