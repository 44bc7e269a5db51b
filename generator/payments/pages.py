"""The customer's result page, rendered by the merchant's theme (`result.html`).

The page is the theme's, with the theme's own styles: the service serves the theme's
hashed static files itself under `/kspay/static/`, so the result page needs nothing
from the static host. Links back to the store and to the order page are made from
`pages_url`, where the merchant publishes `_site/`.
"""

from __future__ import annotations

import mimetypes
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import kspay, seller, sharing
from .. import theme as render
from ..theme import THEMES_DIR
from ..config import SiteConfig
from .store import Payment

STATIC_PREFIX = "/kspay/static/"
# The page's own <meta> policy (frame-ancestors works only as a header: service.py).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'none'; base-uri 'none'")


@dataclass(frozen=True)
class ResultView:
    """What the result page shows, worked out once here rather than in the template."""

    state: str  # approved | refused | issued | cancelled | pending | mismatch
    order_number: str
    product_name: str
    amount: int  # the amount the merchant's file expects (the one charged when paid)
    method_label: str
    approval_number: str
    installment: str  # 일시불 / 3개월 / ""
    refusal_code: str
    message: str
    bank_name: str
    virtual_account: str
    deposit_deadline: str
    transaction_number: str
    paid_at: str


def _installment(months: int | None) -> str:
    if months is None:
        return ""
    return "일시불" if months == 0 else f"{months}개월"


def _paid_at(payment: Payment) -> str:
    try:
        moment = datetime.strptime(payment.trade_date + payment.trade_time, "%Y%m%d%H%M%S")
    except ValueError:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _deadline(payment: Payment, config: SiteConfig) -> str:
    """The virtual account's deposit deadline, worked out as the page sent it."""
    made = kspay.order_time(payment.order_number, config.order_prefix)
    if config.virtual_account_days is None or made is None:
        return ""
    day, closes = kspay.deposit_deadline(made, config.virtual_account_days)
    return f"{day[:4]}-{day[4:6]}-{day[6:]} {closes[:2]}:{closes[2:4]}까지"


def view_of(payment: Payment, config: SiteConfig) -> ResultView:
    return ResultView(
        state=payment.state, order_number=payment.order_number,
        product_name=payment.product_name, amount=payment.expected_amount,
        method_label=payment.method_label, approval_number=payment.approval_number,
        # Installments are a card's: a mobile payment has none, whatever halbu says.
        installment=_installment(payment.installment_months) if payment.method == "card" else "",
        refusal_code=payment.refusal_code, message=payment.message,
        bank_name=payment.bank_name, virtual_account=payment.virtual_account,
        deposit_deadline=_deadline(payment, config), transaction_number=payment.transaction_number,
        paid_at=_paid_at(payment))


class ResultPages:
    def __init__(self, pages_url: str = "/", themes_dir: Path = THEMES_DIR) -> None:
        self.pages_url = pages_url if pages_url.endswith("/") else pages_url + "/"
        self.themes_dir = themes_dir
        self._lock = threading.Lock()
        self._static: dict[str, bytes] = {}  # hashed file name -> bytes, of every theme used
        self._assets: dict[str, dict[str, render.Asset]] = {}

    def _theme(self, name: str) -> tuple[render.Theme, dict[str, render.Asset]]:
        theme = render.load_theme(name, self.themes_dir)
        with self._lock:
            found = self._assets.get(name)
        if found is None:
            found = render.assets(theme)
            with self._lock:
                self._assets[name] = found
                for asset in found.values():
                    self._static[asset.path.removeprefix("static/")] = asset.data
        return theme, found

    def render(self, payment: Payment, config: SiteConfig) -> bytes:
        theme, assets = self._theme(config.theme)
        site_url = f"{self.pages_url}{payment.site}/"

        def url(name: str) -> str:
            return STATIC_PREFIX + assets[name].path.removeprefix("static/")

        icon = "favicon.svg"  # the theme's: the service does not serve the store's images
        head = sharing.Head(sharing.summary(f"{config.store.name} 결제 결과"),
                            url(icon) if icon in assets else "", "image/svg+xml")
        html = theme.render(
            "result.html", csp=CSP, live_reload=None, root=self.pages_url, head=head,
            asset=url,
            config=config, result=view_of(payment, config), store_url=site_url,
            retry_url=f"{site_url}{payment.product}/", site={"slug": payment.site},
            store_root=site_url,
            seller=seller.footer(config), policies=seller.policy_pages(config),
            test_store=config.store.id == kspay.TEST_STORE_ID)
        return html.encode("utf-8")

    def static(self, name: str) -> tuple[bytes, str] | None:
        """A theme file by its hashed name, once a page of that theme was rendered."""
        with self._lock:
            data = self._static.get(name)
        if data is None:
            return None
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        return data, kind

    def warm(self, theme_names: set[str]) -> None:
        """Load the themes now, so their static files are served before any payment."""
        for name in sorted(theme_names):
            try:
                self._theme(name)
            except render.ThemeError:
                pass  # `build` reports a broken theme; a result page says it again
