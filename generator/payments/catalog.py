"""What a merchant sells, read from the same merchant files the pages were built from.

The payments service never takes an amount from a request: the expected amount, the
store id and the window come from `sites/<slug>.yaml`, validated exactly as `build`
validates it. A file is read again when its size or modification time changes, so an
edited price applies to payments from then on, as it does to pages after a rebuild.
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import kspay
from ..config import Site, SiteConfig, load_site

SLUG_RE = re.compile(kspay.SLUG_PATTERN)


@dataclass(frozen=True)
class Offer:
    """One product of one merchant, as its file says today; `amount` is what an order of
    `quantity` costs, shipping included (`SiteConfig.total`, the order page's sum)."""

    site: str
    product: str
    product_name: str
    amount: int
    config: SiteConfig
    quantity: int = 1

    def ordered(self, echo: dict[str, str]) -> Offer | str:
        """This offer for the order the result post describes (its ECH_QTY; 1 when the
        page has no quantity), or why the post cannot be such an order."""
        product = next(p for p in self.config.products if p.slug == self.product)
        written = echo.get(kspay.ECH_QUANTITY, "1")
        if not (written.isascii() and written.isdigit()) or not (
                1 <= int(written) <= product.max_quantity):
            return (f"{kspay.ECH_QUANTITY} {written[:20]!r} is not a quantity of "
                    f"{self.site}/{self.product}: 1 to {product.max_quantity}")
        order = [name for name in kspay.SHIPPING_FIELDS if self.config.ships(product)]
        for name in order:
            if (problem := kspay.check(name, echo.get(name, ""))) is not None:
                return f"{name}: {problem.english()}"
        quantity = int(written)
        return dataclasses.replace(self, quantity=quantity,
                                   amount=self.config.total(product, quantity))

    @property
    def store_id(self) -> str:
        return self.config.store.id

    @property
    def window(self) -> kspay.Window:
        return kspay.WINDOWS[self.config.window]

    def order_number_ok(self, order_number: str) -> bool:
        """Made by this merchant's order page: its prefix, date-time, random digits."""
        return re.fullmatch(kspay.order_number_pattern(self.config.order_prefix),
                            order_number) is not None


class Catalog:
    def __init__(self, sites_dir: Path) -> None:
        self.sites_dir = sites_dir
        self._lock = threading.Lock()
        self._sites: dict[str, tuple[tuple[int, int], SiteConfig | None]] = {}

    def site(self, slug: str) -> SiteConfig | None:
        """The merchant's validated config; None when there is no such valid file."""
        if SLUG_RE.fullmatch(slug) is None:
            return None
        path = self.sites_dir / f"{slug}.yaml"
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._sites.get(slug)
        if cached is not None and cached[0] == key:
            return cached[1]
        loaded = load_site(path)
        config = loaded.config if isinstance(loaded, Site) else None
        with self._lock:
            self._sites[slug] = (key, config)
        return config

    def offer(self, site_slug: str, product_slug: str) -> Offer | None:
        config = self.site(site_slug)
        if config is None:
            return None
        product = next((p for p in config.products if p.slug == product_slug), None)
        if product is None:
            return None
        return Offer(site_slug, product.slug, product.name, product.amount, config)

    def problems(self) -> list[str]:
        """Every merchant file's errors, for the service to print when it starts."""
        from ..config import load_sites
        from ..pipeline import site_files

        _, errors = load_sites(site_files([self.sites_dir]))
        return [str(e) for e in errors]
