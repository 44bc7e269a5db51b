"""The small values a build passes around: options in, a report or errors out.

Named tuples, not dataclasses: a rebuild with nothing to do imports this module, and
`dataclasses` (with `inspect`) costs every such build about 20 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

THEMES_DIR = Path(__file__).resolve().parent.parent / "themes"


class BuildFailed(Exception):
    def __init__(self, errors: list) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = [str(e) for e in errors]


class BuildOptions(NamedTuple):
    """How the dev server changes a build; the defaults are the site as published."""

    form_action: str | None = None  # every order form posts here (the local sandbox window)
    reply_url: str | None = None  # replaces every reply_url (the dev server's payments service)
    live_reload: str | None = None  # src of the dev server's reload script

    def product_reply(self, site_slug: str, configured: str, product_slug: str) -> str:
        """sndReply as the order page starts it: the merchant and product on its query."""
        from .kspay import reply_for_product

        return reply_for_product(self.reply_url or configured, site_slug, product_slug)


PUBLISHED = BuildOptions()


class ConfigError(NamedTuple):
    """A problem at a place in a merchant file: `file:line:col: key: message`."""

    file: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class SiteOutcome(NamedTuple):
    slug: str
    errors: tuple[str, ...] = ()
    yaml_digest: str = ""
    theme: str = ""
    name: str = ""
    products: int = 0
    pages: int = 0


class Report(NamedTuple):
    sites: int  # merchant files in the build
    rebuilt: int  # units rendered this time (site folders, index, reference, static)
    pages: int  # HTML pages rendered this time
    written: int  # files whose bytes changed or are new
    kept: int  # staged files identical to the published ones
    removed: int  # units removed (deleted merchants)
    seconds: float

    def summary(self, out_dir: Path) -> str:
        if not self.rebuilt and not self.removed:
            return (f"built {self.sites} site(s) into {out_dir} in {self.seconds:.2f} s: "
                    "nothing changed")
        return (f"built {self.sites} site(s) into {out_dir} in {self.seconds:.2f} s: "
                f"{self.pages} page(s) rendered, {self.written} file(s) written, "
                f"{self.kept} unchanged, {self.removed} removed")
