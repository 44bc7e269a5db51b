"""HTML of the dev server's own pages (sandbox window, build errors, example result)."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_URL = "/__kspay/static/"
# The dev pages' own policy: their scripts and styles only; forms may post anywhere,
# since the sandbox posts back to whatever sndReply the order page sent.
CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'"


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render_page(template: str, **context: object) -> str:
    return _env().get_template(template).render(static=STATIC_URL, **context)
