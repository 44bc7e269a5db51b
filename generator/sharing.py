"""What a page tells search engines and messengers: its summary, icon and, with a base
URL, its canonical address, Open Graph tags, the sitemaps and robots.txt.

Absolute URLs need to know where the site is published (`build --base-url`); without
it the pages carry only what works anywhere (the meta description and the favicon).
Sitemaps are one per unit (`<slug>/sitemap.xml`, `reference/sitemap.xml`) behind an
index (`sitemap.xml`): a sitemap may list at most 50,000 addresses, which 10,000
merchants pass, and each merchant's is rebuilt only with its own pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit  # imported by pathlib already

# Not xml.sax.saxutils.escape: its import costs a build with nothing to do 70 ms or more
# (it imports urllib.request); markupsafe comes with jinja2.
from markupsafe import Markup, escape

SUMMARY_MAX = 80  # characters of a meta description: a messenger's card shows about two lines
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ROBOTS_FILE = "robots.txt"
SITEMAP_FILE = "sitemap.xml"


def base_url_problem(url: str) -> str | None:
    """Why `url` cannot be the address the site is published at, or None."""
    example = "such as https://pay.example.kr/"
    if not url.isascii() or not url.isprintable() or " " in url:
        return f"must be an absolute https:// URL {example} (ASCII, no spaces), got {url!r}"
    parts = urlsplit(url)
    if parts.scheme == "http":
        return (f"must be https://: messengers and search engines would link customers to "
                f"order pages over http, got {url!r}")
    if parts.scheme != "https" or not parts.hostname:
        return f"must be an absolute https:// URL {example}, got {url!r}"
    if parts.username is not None or parts.password is not None:
        return f"must not carry a user name or password, got {url!r}"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return f"must not have a query (?) or fragment (#), got {url!r}"
    if not url.endswith("/"):
        return (f"must end with / (the folder _site/ is published at), "
                f"got {url!r}: use {url + '/'!r}")
    return None


@dataclass(frozen=True)
class Head:
    """The <head> tags of one page that are not its title, styles or scripts."""

    summary: str  # the meta description (and og:description)
    favicon: str  # a URL relative to the page
    favicon_type: str  # image/svg+xml, image/png
    canonical: str | None = None  # absolute: only with a base URL
    image: str | None = None  # og:image, absolute


def plain(html: Markup) -> str:
    """Markdown's HTML as one line of text."""
    return " ".join(html.striptags().split())


def summary(text: str) -> str:
    """One line of at most SUMMARY_MAX characters: the meta description."""
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1].rstrip() + "…"


def sitemap(base_url: str, paths: list[str]) -> bytes:
    """A sitemap of pages given by their paths under the base URL ("shop/" for
    shop/index.html)."""
    rows = "".join(f"<url><loc>{escape(base_url + p)}</loc></url>\n" for p in paths)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'
            f"{rows}</urlset>\n").encode()


def sitemap_index(base_url: str, sitemaps: list[str]) -> bytes:
    rows = "".join(f"<sitemap><loc>{escape(base_url + p)}</loc></sitemap>\n" for p in sitemaps)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
            f"{rows}</sitemapindex>\n").encode()


def robots(base_url: str) -> bytes:
    """Every page may be crawled; the sitemap index says where they are. A robots.txt
    applies to its host's root, so one published below it (https://host/pay/) is read
    only where the host serves it as /robots.txt."""
    return f"User-agent: *\nAllow: /\nSitemap: {base_url}{SITEMAP_FILE}\n".encode()
