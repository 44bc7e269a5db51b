"""The build, as a recipe: load and validate every site, render, stage, publish, report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import kspay, reference_pages, render
from .config import ConfigError, Site, load_sites
from .form import customer_inputs, hidden_fields, variants
from .markup import render_markdown
from .output import Stager
from .reference import load_reference
from .render import Asset, Theme

SITE_SUFFIXES = (".yaml", ".yml")


class BuildFailed(Exception):
    def __init__(self, errors: list[ConfigError] | list[str]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = [str(e) for e in errors]


@dataclass(frozen=True)
class BuildOptions:
    """How the dev server changes a build; the defaults are the site as published."""

    form_action: str | None = None  # every order form posts here (the local sandbox window)
    reply_base: str | None = None  # sndReply becomes <reply_base><site>/<product>
    live_reload: str | None = None  # src of the dev server's reload script

    def reply_url(self, site: Site, product_slug: str) -> str:
        if self.reply_base is None:
            return site.config.reply_url
        return f"{self.reply_base}{site.slug}/{product_slug}"


PUBLISHED = BuildOptions()


@dataclass(frozen=True)
class Report:
    sites: int
    pages: int
    written: int
    kept: int
    seconds: float

    def summary(self, out_dir: Path) -> str:
        return (f"built {self.sites} site(s), {self.pages} page(s) into {out_dir} "
                f"in {self.seconds:.2f} s ({self.written} written, {self.kept} unchanged)")


def site_files(paths: list[Path]) -> list[Path]:
    """Merchant files named on the command line: files as given, folders' *.yaml sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SITE_SUFFIXES))
        else:
            found.append(path)
    return found


def check(paths: list[Path], themes_dir: Path = render.THEMES_DIR) -> list[str]:
    """Validate merchant files without writing anything; every error, in order."""
    sites, errors = load_sites(site_files(paths))
    return [str(e) for e in errors] + _theme_errors(sites, themes_dir)


def build(sites_dir: Path, out_dir: Path, themes_dir: Path = render.THEMES_DIR,
          options: BuildOptions = PUBLISHED) -> Report:
    started = time.perf_counter()
    paths = site_files([sites_dir])
    if not paths:
        raise BuildFailed([f"{sites_dir}: no merchant files (*.yaml) to build"])
    sites, errors = load_sites(paths)
    problems = [str(e) for e in errors] + _theme_errors(sites, themes_dir)
    if problems:
        raise BuildFailed(problems)

    pages = 0
    with Stager(out_dir) as stage:
        site_assets = {}
        for theme_name in sorted({s.config.theme for s in sites}):
            theme = render.load_theme(theme_name, themes_dir)
            site_assets[theme_name] = _write_assets(stage, theme)
        for site in sites:
            theme = render.load_theme(site.config.theme, themes_dir)
            pages += _render_site(stage, site, theme, site_assets[site.config.theme], options)
        default = render.load_theme("default", themes_dir)
        default_assets = site_assets.get("default") or _write_assets(stage, default)
        pages += _render_directory(stage, sites, default, default_assets, options)
        pages += _render_reference(stage, default, default_assets, options)
        stage.commit()
    seconds = time.perf_counter() - started
    return Report(len(sites), pages, stage.written, stage.kept, seconds)


def _theme_errors(sites: list[Site], themes_dir: Path) -> list[str]:
    problems = []
    for site in sites:
        try:
            render.load_theme(site.config.theme, themes_dir)
        except render.ThemeError as exc:
            problems.append(f"{site.source}: theme: {exc}")
    return problems


def _write_assets(stage: Stager, theme: Theme) -> dict[str, Asset]:
    found = render.assets(theme)
    for asset in found.values():
        if asset.path not in stage.paths:
            stage.write(asset.path, asset.data)
    return found


def _page(theme: Theme, template: str, depth: int, assets: dict[str, Asset],
          options: BuildOptions, form_action: str | None = None, **context: object) -> bytes:
    root = "../" * depth or "./"
    if form_action and options.form_action:
        form_action = "'self'"
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
           + ("connect-src 'self'; " if options.live_reload else "")
           + f"form-action {form_action or chr(39) + 'none' + chr(39)}; base-uri 'none'")
    html = theme.render(template, root=root, csp=csp, live_reload=options.live_reload,
                        asset=lambda name: root + assets[name].path, **context)
    return html.encode("utf-8")


def _render_site(stage: Stager, site: Site, theme: Theme, assets: dict[str, Asset],
                 options: BuildOptions) -> int:
    config = site.config
    window = kspay.WINDOWS[config.window]
    page_variants = variants(config)
    stage.write(f"{site.slug}/index.html", _page(
        theme, "store.html", 1, assets, options, site=site, config=config,
        notice=render_markdown(config.notice), variants=page_variants))
    count = 1
    inputs = customer_inputs()
    for product in config.products:
        description = render_markdown(product.description)
        reply_url = options.reply_url(site, product.slug)
        for variant in page_variants:
            hidden = hidden_fields(config, product, variant, reply_url)
            if variant is page_variants[0]:
                _guard(site, product.slug, hidden)  # the variants differ only in sndRtApp
            elif problem := kspay.check("sndRtApp", variant.rtapp):
                raise BuildFailed([f"{site.source}: apps: {problem.english()}"])
            stage.write(f"{site.slug}/{product.slug}/{variant.filename}", _page(
                theme, "order.html", 2, assets, options,
                form_action=f"https://{kspay.KSPAY_HOST}", site=site, config=config,
                product=product, description=description, variant=variant, window=window,
                action=options.form_action or window.action, reply_url=reply_url, inputs=inputs,
                hidden=hidden,
                paymethods=[kspay.PAYMETHOD_LABELS[m] for m in config.paymethods],
                installments=kspay.installment_string(config.installments, product.amount)))
            count += 1
    return count


# What the customer and the page script add at pay time, as KSPay's own examples.
_PAY_TIME = {f.name: f.example for f in kspay.FIELDS
             if f.set_by in ("customer", "order_prefix (page script)")}


def _guard(site: Site, product_slug: str, hidden: list[tuple[str, str]]) -> None:
    """Never write a form that KSPay would refuse: the config checks should make this
    unreachable; if they miss a case, the build stops here instead of a customer."""
    problems = kspay.form_problems({**dict(hidden), **_PAY_TIME})
    if problems:
        raise BuildFailed([f"{site.source}: products.{product_slug}: the order form would be "
                           f"refused by KSPay: {p.english()}" for p in problems])


def _render_directory(stage: Stager, sites: list[Site], theme: Theme,
                      assets: dict[str, Asset], options: BuildOptions) -> int:
    stage.write("index.html", _page(theme, "directory.html", 0, assets, options, sites=sites))
    return 1


def _render_reference(stage: Stager, theme: Theme, assets: dict[str, Asset],
                      options: BuildOptions) -> int:
    ref = load_reference()
    pages = reference_pages.table_pages(ref)
    stage.write("reference/index.html", _page(theme, "reference/index.html", 1, assets,
                                              options, pages=pages))
    for page in pages:
        stage.write(f"reference/{page.slug}/index.html", _page(
            theme, "reference/table.html", 2, assets, options, page=page,
            display=reference_pages.display))
        stage.write(f"reference/{page.slug}.json", reference_pages.json_twin(page))
    stage.write("reference/faq/index.html", _page(
        theme, "reference/faq.html", 2, assets, options, faq=render_markdown(ref.faq_markdown)))
    return len(pages) + 2
