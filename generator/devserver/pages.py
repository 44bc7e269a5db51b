"""HTML of the dev server's own pages (sandbox window, build errors, example result)."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from .. import kspay

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_URL = "/__kspay/static/"
# The dev pages' own policy: their scripts and styles only, forms to this server (the
# sandbox's return page: to sndReply's origin, `csp`), never inside another site's frame.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# What the built pages (each with its own policy in a meta element) are served with: no
# more than they allow themselves, the KSPay window as a form target included.
SITE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self'; form-action 'self' https://{kspay.KSPAY_HOST}; "
            "base-uri 'none'; frame-ancestors 'none'")


def csp(form_action: str = "'self'") -> str:
    """The dev pages' policy with forms posting to `form_action` (an origin)."""
    return CSP.replace("form-action 'self'", f"form-action {form_action}")


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render_page(template: str, **context: object) -> str:
    return _env().get_template(template).render(static=STATIC_URL, **context)
