"""Rendering the units of the site: a merchant's folder, the directory, the reference, static.

Everything here may run in a build worker process: inputs are paths and plain values,
pages go straight into the staging folder through a `UnitWriter`, and what comes back
is a small picklable summary. Themes and their compiled templates are cached per
process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape

from . import images, kspay, qr, seller, sharing
from .config import POLICIES_FOLDER, Product, Site, SiteConfig, load_site
from .cache import digest
from .form import customer_inputs, hidden_fields, hidden_inputs, shipping_inputs, variants
from .markdown_safe import render_markdown
from .output import UnitWriter, sidecar
from .pipeline import PUBLISHED, BuildFailed, BuildOptions
from .theme import Asset, Theme, ThemeError, kept_with_themes, load_theme
from .theme import assets as hashed_assets


@dataclass(frozen=True)
class SiteOutcome:
    slug: str
    errors: tuple[str, ...] = ()
    yaml_digest: str = ""
    theme: str = ""
    name: str = ""
    products: int = 0
    pages: int = 0
    warnings: tuple[str, ...] = ()
    images: tuple[tuple[str, int, int, str], ...] = ()  # cache.ImageEntry of each image read


@kept_with_themes
def theme_assets(theme_name: str, themes_dir: Path) -> dict[str, Asset]:
    return hashed_assets(load_theme(theme_name, themes_dir))


FAVICON = "favicon.svg"  # the theme's; a store's logo replaces it on the store's pages
_ICON_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


def page(theme: Theme, template: str, path: str, assets: dict[str, Asset],
         options: BuildOptions, *, summary: str, canonical: str | None = None,
         image: str | None = None, favicon: str | None = None,
         form_action: str | None = None, **context: object) -> bytes:
    """One page at `path` (from the site root: shop/carrot/index.html). `canonical` is
    the path of the page it shows, when another (an app variant shows the web page);
    `image` (og:image) and `favicon` are paths from the site root."""
    root = "../" * path.count("/") or "./"
    if form_action and options.form_action:
        form_action = "'self'"
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           + ("connect-src 'self'; " if options.live_reload else "")
           + f"form-action {form_action or chr(39) + 'none' + chr(39)}; base-uri 'none'")
    # Escaped but for ' (harmless inside the double-quoted attribute): 'self', not &#39;self&#39;.
    csp = Markup(str(escape(csp)).replace("&#39;", "'"))
    if favicon is None and FAVICON in assets:
        favicon = assets[FAVICON].path
    base = options.base_url
    head = sharing.Head(
        summary=summary, favicon=root + favicon if favicon else "",
        favicon_type=_ICON_TYPES.get(Path(favicon or "").suffix, ""),
        canonical=base + (canonical or path).removesuffix("index.html") if base else None,
        image=base + image if base and image else None)
    # A store's own pages are at depth 1 (its page), 2 (orders), 3 (policies, posters).
    store_root = "../" * (path.count("/") - 1) or "./"
    return theme.render(template, root=root, store_root=store_root, csp=csp,
                        live_reload=options.live_reload, head=head,
                        asset=lambda name: root + assets[name].path, **context).encode()


@dataclass(frozen=True)
class Picture:
    """An image as the pages show it: its sizes, under `folder` (from the site root)."""

    folder: str  # "shop/_images/"
    variants: tuple[images.Variant, ...]

    @property
    def first(self) -> images.Variant:
        return self.variants[0]

    @property
    def largest(self) -> str:
        return self.folder + self.variants[-1].name


@dataclass(frozen=True)
class SitePictures:
    """A site's images: the store's logo (header size, favicon), each product's photo."""

    logo: Picture | None = None
    photos: dict[str, Picture] = field(default_factory=dict)  # by product slug
    sources: tuple[images.Source, ...] = ()

    def files(self) -> dict[str, bytes]:
        """Every published image file, by its path from the site root."""
        found = {}
        for picture in [self.logo, *self.photos.values()]:
            if picture is not None:
                for variant in picture.variants:
                    found[picture.folder + variant.name] = variant.data
        return found


def _image_keys(site: Site) -> list[tuple[tuple[str | int, ...], str, images.Kind]]:
    """(key path, file as written, kind) of each image the merchant file names."""
    config = site.config
    found: list[tuple[tuple[str | int, ...], str, images.Kind]] = []
    if config.store.logo:
        found.append((("store", "logo"), config.store.logo, "logo"))
    found += [(("products", i, "image"), product.image, "photo")
              for i, product in enumerate(config.products) if product.image]
    return found


def image_errors(site: Site) -> list[str]:
    """Each image that cannot be published, as an error at its key (`check`)."""
    errors = []
    for where, written, _ in _image_keys(site):
        try:
            images.check(images.read(site.source, written))
        except images.ImageProblem as exc:
            errors.append(str(site.error(where, str(exc))))
    return errors


def site_pictures(site: Site, cache: Path) -> SitePictures:
    """Every image of the site, read and made into its published sizes (from `cache`
    when made before); BuildFailed with an error at the key of each that cannot be."""
    folder = f"{site.slug}/{images.FOLDER}/"
    sources: dict[str, images.Source] = {}
    made: dict[tuple[str | int, ...], Picture] = {}
    errors = []
    for where, written, kind in _image_keys(site):
        try:
            if written not in sources:
                sources[written] = images.read(site.source, written)
            made[where] = Picture(folder, images.variants(sources[written], kind, cache))
        except images.ImageProblem as exc:
            errors.append(str(site.error(where, str(exc))))
    if errors:
        raise BuildFailed(errors)
    photos = {product.slug: made[("products", i, "image")]
              for i, product in enumerate(site.config.products) if product.image}
    return SitePictures(made.get(("store", "logo")), photos, tuple(sources.values()))


def validate(path: Path, themes_dir: Path) -> Site | list[str]:
    """One merchant file checked as `check` and `build` both check it: the site, or every
    problem found (the config's, else its theme's)."""
    site = load_site(path)
    if not isinstance(site, Site):
        return [str(e) for e in site]
    # The directory and reference pages use the default theme, whatever the sites use.
    if problem := theme_problem(site.config.theme, themes_dir) or theme_problem("default",
                                                                              themes_dir):
        return [str(site.error(("theme",), problem))]
    return site


def check_site(path: Path, themes_dir: Path) -> tuple[list[str], list[str]]:
    """What `build` would refuse in one merchant file, without rendering (its validation,
    then the guard every order form of it meets: what `check` accepts builds), and its
    warnings."""
    site = validate(path, themes_dir)
    if not isinstance(site, Site):
        return site, []
    errors = image_errors(site)
    for index, product in enumerate(site.config.products):
        reply_url = PUBLISHED.product_reply(site.slug, site.config.reply_url, product.slug)
        try:
            guard_product(site, index, product, reply_url)
        except BuildFailed as exc:
            errors.extend(exc.errors)
    return errors, [str(w) for w in site.warnings]


def build_site(path: Path, writer: UnitWriter, themes_dir: Path, options: BuildOptions,
               image_cache: Path) -> SiteOutcome:
    """Validate one merchant file and stage its folder; its errors instead if it has any."""
    site = validate(path, themes_dir)
    if not isinstance(site, Site):
        return SiteOutcome(path.stem, tuple(site))
    config = site.config
    try:
        pictures = site_pictures(site, image_cache)
        theme = load_theme(config.theme, themes_dir)
        pages = render_site(writer, site, theme, theme_assets(theme.name, themes_dir), options,
                            pictures)
    except ThemeError as exc:
        return SiteOutcome(site.slug, (str(site.error(("theme",), str(exc))),))
    except BuildFailed as exc:
        return SiteOutcome(site.slug, tuple(exc.errors))
    return SiteOutcome(site.slug, (), digest(site.data), config.theme, config.store.name,
                       len(config.products), pages, tuple(map(str, site.warnings)),
                       tuple((s.written, s.mtime_ns, s.size, s.digest) for s in pictures.sources))


def build_sites(paths: list[Path], staging: Path, out_dir: Path, themes_dir: Path,
                options: BuildOptions) -> tuple[list[SiteOutcome], int, int]:
    """A worker's share of the sites, validated and rendered here: outcomes and the
    files written and kept."""
    writer = UnitWriter(staging, out_dir)
    image_cache = sidecar(out_dir, "images")  # beside the output, kept between builds
    outcomes = [build_site(path, writer, themes_dir, options, image_cache) for path in paths]
    return outcomes, writer.written, writer.kept


def render_site(writer: UnitWriter, site: Site, theme: Theme, assets: dict[str, Asset],
                options: BuildOptions, pictures: SitePictures = SitePictures()) -> int:
    config = site.config
    slug = site.slug
    window = kspay.WINDOWS[config.window]
    page_variants = variants(config)
    policies = seller.policy_pages(config)
    posters = options.base_url is not None  # a QR code needs the order page's address
    for path, data in pictures.files().items():
        writer.write(path, data)
    logo = pictures.logo
    store = dict(site=site, config=config, seller=seller.footer(config), policies=policies,
                 test_store=config.store.id == kspay.TEST_STORE_ID, logo=logo,
                 favicon=logo.folder + logo.variants[1].name if logo else None)
    notice = render_markdown(config.notice)
    photos = pictures.photos
    writer.write(f"{slug}/index.html", page(
        theme, "store.html", f"{slug}/index.html", assets, options,
        summary=sharing.summary(sharing.plain(notice) or f"{config.store.name}: " + ", ".join(
            p.name for p in config.products)),
        image=next((photos[p.slug].largest for p in config.products if p.slug in photos), None),
        notice=notice, variants=page_variants, photos=photos, posters=posters, **store))
    count = 1
    customer_items = [i.label for i in customer_inputs()]  # what the third-party page lists
    for kind, title in policies:
        body = "" if kind == seller.THIRD_PARTY else getattr(config.policies, kind)
        writer.write(f"{slug}/{POLICIES_FOLDER}/{kind}/index.html", page(
            theme, "policy.html", f"{slug}/{POLICIES_FOLDER}/{kind}/index.html", assets,
            options, summary=sharing.summary(f"{config.store.name} {title}"), kind=kind,
            title=title, body=render_markdown(body),
            customer_items=customer_items, **store))
        count += 1
    customer = customer_fields(theme)
    order = dict(shipping_fields=shipping_fields(theme), shipping=config.shipping,
                 installment_rules=(kspay.installment_string(config.installments,
                                                              kspay.INSTALLMENT_MIN_AMOUNT),
                                    kspay.interest_string(config.interest_free,
                                                          kspay.INSTALLMENT_MIN_AMOUNT)),
                 form_action=f"https://{kspay.KSPAY_HOST}", customer_fields=customer,
                 agreements=agreements(policies),
                 refund_summary=render_markdown(first_paragraph(config.policies.refund)),
                 paymethods=[kspay.PAYMETHOD_LABELS[m] for m in config.paymethods],
                 installment_min=kspay.INSTALLMENT_MIN_AMOUNT, window=window, **store)
    for index, product in enumerate(config.products):
        reply_url = options.product_reply(slug, config.reply_url, product.slug)
        first, most = guard_product(site, index, product, reply_url)
        description = render_markdown(product.description)
        folder = f"{slug}/{product.slug}/"
        photo = photos.get(product.slug)
        for variant in page_variants:
            fields = first if variant is page_variants[0] else hidden_fields(
                config, product, variant, reply_url)
            posted = dict(fields)  # what the page says of the payment is what it posts
            writer.write(folder + variant.filename, page(
                theme, "order.html", folder + variant.filename, assets, options,
                summary=sharing.summary(f"{product.amount:,}원 · " + (
                    sharing.plain(description) or config.store.name)),
                canonical=folder, image=photo.largest if photo else None, variant=variant,
                hidden_fields=hidden_inputs(fields), product=product, photo=photo,
                description=description,
                action=options.form_action or window.action, reply_url=reply_url,
                installment_views=installment_views(posted, most),
                total=int(posted["sndAmount"]), ships=config.ships(product),
                escrow=posted["sndEscrow"] == "1", **order))
            count += 1
        if posters:
            count += render_poster(writer, theme, assets, options, config, product, store)
    if options.base_url:
        paths = [f"{slug}/", *(f"{slug}/{p.slug}/" for p in config.products),
                 *(f"{slug}/{POLICIES_FOLDER}/{kind}/" for kind, _ in policies)]
        writer.write(f"{slug}/{sharing.SITEMAP_FILE}", sharing.sitemap(options.base_url, paths))
    return count


POSTER = "qr"  # <slug>/<product>/qr/: the printable poster, and qr.svg beside it


def render_poster(writer: UnitWriter, theme: Theme, assets: dict[str, Asset],
                  options: BuildOptions, config: SiteConfig, product: Product,
                  store: dict) -> int:
    """The order page's QR code (qr.svg, of its absolute URL) and the poster page that
    prints it."""
    folder = f"{store['site'].slug}/{product.slug}/"
    order_url = f"{options.base_url}{folder}"
    writer.write(f"{folder}{POSTER}/qr.svg", qr.svg(order_url))
    writer.write(f"{folder}{POSTER}/index.html", page(
        theme, "poster.html", f"{folder}{POSTER}/index.html", assets, options,
        summary=sharing.summary(f"{config.store.name} {product.name} "
                                f"{product.amount:,}원 주문 QR 코드"),
        product=product, order_url=order_url, **store))
    return 1


def agreements(policies: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The order page's required agreements, when the store has policy pages: (input id,
    label, the policy page it links to or "")."""
    if not policies:
        return []
    kinds = {kind for kind, _ in policies}
    purchase = next((k for k in ("refund", "terms") if k in kinds), "")
    return [("agree-purchase", "구매조건 확인 및 결제 진행 동의", purchase),
            ("agree-privacy", "개인정보 수집·이용 동의", "privacy" if "privacy" in kinds else ""),
            ("agree-third-party", "개인정보 제3자 제공 동의 (KSNET)", seller.THIRD_PARTY)]


def first_paragraph(text: str) -> str:
    """The first paragraph of Markdown that is not a heading: the refund terms' summary."""
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", text)]
    return next((b for b in blocks if b and not b.startswith("#")), "")


def installment_views(posted: dict[str, str], most: dict[str, str]) -> list[tuple[str, str, str]]:
    """What the page says of installments: (when, months, interest-free text) for the
    form it posts ("below"), and, when a larger quantity reaches 50,000 won and changes
    them, for that form too ("above": the page script shows it from then on)."""
    views = [(when, form["sndInstallmenttype"],
              interest_free_text(form["sndInstallmenttype"], form["sndInteresttype"]))
             for when, form in (("below", posted), ("above", most))]
    return views if views[1][1:] != views[0][1:] else views[:1]


def interest_free_text(installments: str, interest: str) -> str:
    """sndInteresttype as the customer reads it: "2·3개월 무이자"; "" without installments."""
    if installments == "0" or interest == "NONE":
        return ""
    return "할부 전 개월 무이자" if interest == "ALL" else "·".join(interest.split(":")) + "개월 무이자"


# What the customer and the page script add at pay time, as KSPay's own examples.
_PAY_TIME = {f.name: f.example for f in kspay.FIELDS
             if f.set_by in ("customer", "order_prefix (page script)")}


def guard(site: Site, index: int, hidden: list[tuple[str, str]]) -> None:
    """Never write a form that KSPay would refuse: the config checks should make this
    unreachable; if they miss a case, the build (and `check`) stops here instead of a
    customer, at the product's place in the file and naming the field KSPay would refuse."""
    problems = kspay.form_problems({**dict(hidden), **_PAY_TIME})
    if problems:
        raise BuildFailed([str(site.error(("products", index), refused(p))) for p in problems])


def guard_product(site: Site, index: int, product: Product, reply_url: str
                  ) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Guard every order form of a product: the first page variant's (the others differ
    only in sndRtApp, checked on its own) and the largest order's, whose total may reach
    50,000 won and switch the installment fields (the page script does). Returns the
    first variant's fields and the largest order's: the order page says what it offers."""
    config = site.config
    page_variants = variants(config)
    first = hidden_fields(config, product, page_variants[0], reply_url)
    guard(site, index, first)
    for variant in page_variants[1:]:
        if problem := kspay.check("sndRtApp", variant.rtapp):
            raise BuildFailed([str(site.error(("apps",), refused(problem)))])
    if product.max_quantity == 1:
        return first, dict(first)
    most = hidden_fields(config, product, page_variants[0], reply_url, product.max_quantity)
    guard(site, index, most)
    return first, dict(most)


def refused(problem: kspay.Problem | kspay.FormProblem) -> str:
    return (f"the order form would be refused by KSPay: {problem.field_name}: "
            f"{problem.english()}")


@dataclass(frozen=True)
class StoreLink:
    """What the directory page shows of a store (kept in the manifest between builds)."""

    slug: str
    name: str
    products: int


def render_shared(changed: list[str], stores: list[tuple[str, str, int]], theme_names: list[str],
                  staging: Path, out_dir: Path, themes_dir: Path,
                  options: BuildOptions) -> tuple[int, int, int]:
    """Stage the shared units named in `changed`: pages rendered, files written and kept."""
    writer = UnitWriter(staging, out_dir)
    pages = 0
    if "index.html" in changed:
        pages += render_directory(writer, [StoreLink(*s) for s in stores], themes_dir, options)
    if "reference" in changed:
        pages += render_reference(writer, themes_dir, options)
    if "static" in changed:
        write_static(writer, theme_names, themes_dir)
    if options.base_url and sharing.SITEMAP_FILE in changed:
        writer.write(sharing.SITEMAP_FILE, sharing.sitemap_index(options.base_url, [
            f"reference/{sharing.SITEMAP_FILE}",
            *(f"{slug}/{sharing.SITEMAP_FILE}" for slug, _, _ in stores)]))
    if options.base_url and sharing.ROBOTS_FILE in changed:
        writer.write(sharing.ROBOTS_FILE, sharing.robots(options.base_url))
    return pages, writer.written, writer.kept


def render_directory(writer: UnitWriter, stores: list[StoreLink], themes_dir: Path,
                     options: BuildOptions) -> int:
    theme = load_theme("default", themes_dir)
    writer.write("index.html", page(
        theme, "directory.html", "index.html", theme_assets("default", themes_dir), options,
        summary=f"KSPay Pages로 만든 상점 {len(stores):,}곳의 주문 페이지", stores=stores,
        reference=options.reference))
    return 1


def render_reference(writer: UnitWriter, themes_dir: Path, options: BuildOptions) -> int:
    # Imported here: a rebuild of changed merchants does not need the reference tables.
    from . import reference_pages
    from .reference import load_reference

    theme = load_theme("default", themes_dir)
    assets = theme_assets("default", themes_dir)
    ref = load_reference()
    pages = reference_pages.table_pages(ref)
    about = "KSPay 스마트폰 결제창 연동 참고 자료"
    writer.write("reference/index.html", page(
        theme, "reference/index.html", "reference/index.html", assets, options,
        summary=f"{about}: 카드사·은행 코드, 결과 코드, 파라미터 표", pages=pages))
    for ref_page in pages:
        writer.write(f"reference/{ref_page.slug}/index.html", page(
            theme, "reference/table.html", f"reference/{ref_page.slug}/index.html", assets,
            options, summary=sharing.summary(f"{about}: {ref_page.title}"), page=ref_page,
            display=reference_pages.display))
        writer.write(f"reference/{ref_page.slug}.json", reference_pages.json_twin(ref_page))
    writer.write("reference/faq/index.html", page(
        theme, "reference/faq.html", "reference/faq/index.html", assets, options,
        summary=f"{about}: 자주 묻는 질문", faq=render_markdown(ref.faq_markdown)))
    if options.base_url:
        paths = ["reference/", *(f"reference/{p.slug}/" for p in pages), "reference/faq/"]
        writer.write(f"reference/{sharing.SITEMAP_FILE}",
                     sharing.sitemap(options.base_url, paths))
    return len(pages) + 2


def write_static(writer: UnitWriter, theme_names: list[str], themes_dir: Path) -> None:
    written: set[str] = set()
    for name in theme_names:
        for asset in theme_assets(name, themes_dir).values():
            if asset.path not in written:
                writer.write(asset.path, asset.data)
                written.add(asset.path)


@kept_with_themes
def customer_fields(theme: Theme) -> Markup:
    """The customer's inputs, identical on every order page of a theme: rendered once."""
    return Markup(theme.render("_customer_fields.html", inputs=customer_inputs(),
                               legend="주문하는 분"))


@kept_with_themes
def shipping_fields(theme: Theme) -> Markup:
    """The address inputs of goods that ship, rendered once per theme as well."""
    return Markup(theme.render("_customer_fields.html", inputs=shipping_inputs(),
                               legend="받는 분"))


@kept_with_themes
def theme_problem(theme_name: str, themes_dir: Path) -> str | None:
    """Why a site cannot use this theme; asked once per theme and build, not per site."""
    from .safety import theme_problems

    if outside := theme_problems(theme_name, themes_dir):  # symlinks leaving themes/
        return "; ".join(outside)
    try:
        load_theme(theme_name, themes_dir)
    except ThemeError as exc:
        return str(exc)
    return None
