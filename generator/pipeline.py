"""The build, as a recipe: list, plan, render (in parallel when it pays), publish, report.

Planning reads the manifest of the published site and fingerprints each unit's inputs;
a unit whose fingerprint is unchanged is not rendered (`force` renders everything).
Rendering writes straight into a staging folder; an error anywhere publishes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import kspay
from .cache import (
    DIRECTORY_TEMPLATES,
    REFERENCE_TEMPLATES,
    SITE_TEMPLATES,
    ImageEntry,
    Manifest,
    SiteEntry,
    digest,
    generator_fingerprint,
    reference_fingerprint,
    static_fingerprint,
    theme_fingerprint,
)
from .output import Stager, finish_interrupted_commit, hold, remove_leftovers
from .sharing import ROBOTS_FILE, SITEMAP_FILE, base_url_problem
from .theme import THEMES_DIR, ThemeError, forget_changed_themes, forget_themes, load_theme

__all__ = ["BuildFailed", "BuildOptions", "PUBLISHED", "Report", "build", "check", "site_files"]

SITE_SUFFIXES = (".yaml", ".yml")
RESERVED = ("static", "reference")  # the generator's own folders in the output
PARALLEL_FROM = 48  # fewer changed sites than this render in-process
CHUNK = 40  # sites per task sent to a worker


class BuildFailed(Exception):
    def __init__(self, errors: list) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = [str(e) for e in errors]


@dataclass(frozen=True)
class BuildOptions:
    """What the pages depend on besides their files: where the site is published, and how
    the dev server changes a build. The defaults are the site as published, with no
    address of its own."""

    form_action: str | None = None  # every order form posts here (the local sandbox window)
    reply_url: str | None = None  # replaces every reply_url (the dev server's payments service)
    live_reload: str | None = None  # src of the dev server's reload script
    reference: bool = True  # publish the reference appendix (build --no-reference: not)
    # Where _site/ is published (https://pay.example.kr/): canonical links, Open Graph
    # tags, sitemaps, robots.txt and the QR codes need absolute URLs.
    base_url: str | None = None

    def product_reply(self, site_slug: str, configured: str, product_slug: str) -> str:
        """sndReply as the order page starts it: the merchant and product on its query."""
        return kspay.reply_for_product(self.reply_url or configured, site_slug, product_slug)


PUBLISHED = BuildOptions()


@dataclass(frozen=True)
class Report:
    sites: int  # merchant files in the build
    rebuilt: int  # units rendered this time (site folders, index, reference, static)
    pages: int  # HTML pages rendered this time
    written: int  # files whose bytes changed or are new
    kept: int  # staged files identical to the published ones
    removed: int  # units removed (deleted merchants)
    seconds: float
    warnings: tuple[str, ...] = ()  # of every site, rendered now or before
    base_url: str | None = None

    def summary(self, out_dir: Path) -> str:
        where = f" for {self.base_url}" if self.base_url else ""
        left_out = "" if self.base_url else (
            " (no --base-url: no canonical links, Open Graph tags, sitemap.xml, robots.txt "
            "or QR codes)")
        done = f"built {self.sites} site(s) into {out_dir}{where} in {self.seconds:.2f} s{left_out}: "
        if not self.rebuilt and not self.removed:
            return done + "nothing changed"
        return done + (f"{self.pages} page(s) rendered, {self.written} file(s) written, "
                       f"{self.kept} unchanged, {self.removed} removed")


def folder_files(folder: Path) -> list[str]:
    """The names of a folder's merchant files (*.yaml, *.yml), sorted."""
    return sorted(name for name in os.listdir(folder) if name.endswith(SITE_SUFFIXES))


def site_files(paths: list[Path]) -> list[Path]:
    """Merchant files named on the command line: files as given, folders' files listed."""
    found: list[Path] = []
    for path in paths:
        found.extend([path / name for name in folder_files(path)] if path.is_dir() else [path])
    return found


def slug_of(name: str) -> str:
    """The output folder of a merchant file: its name without the suffix."""
    return name.rpartition(".")[0] or name


def check(paths: list[Path], themes_dir: Path = THEMES_DIR) -> tuple[list[str], list[str]]:
    """Validate merchant files without writing anything: every error and every warning,
    in order."""
    from . import pages  # validation: pydantic, only where a file is read

    files = site_files(paths)
    forget_themes()  # read afresh
    problems = _name_problems([(str(path), path.name) for path in files])
    warnings: list[str] = []
    for path in files:
        found, site_warnings = pages.check_site(path, themes_dir)
        problems.extend(found)
        warnings.extend(site_warnings)
    return problems, warnings


def _name_problems(files: list[tuple[str, str]]) -> list[str]:
    """Output paths two files would share, and names the generator keeps for itself;
    `files` are (path as shown, file name)."""
    problems = []
    first: dict[str, str] = {}
    for shown, name in files:
        slug = slug_of(name)
        if slug in RESERVED:
            problems.append(f"{shown}:1:1: the name {slug!r} is the generator's own "
                            f"folder in the output; rename the file")
        elif slug in first:
            problems.append(f"{shown}:1:1: {first[slug]} and {name} would both be "
                            f"published at /{slug}/; keep one")
        first.setdefault(slug, name)
    return problems


def build(sites_dir: Path, out_dir: Path, themes_dir: Path = THEMES_DIR,
          options: BuildOptions = PUBLISHED, force: bool = False, jobs: int | None = None,
          start_method: str | None = None, wait: bool = True, strict: bool = False) -> Report:
    """Build `sites_dir` into `out_dir`. `start_method` is how worker processes start
    (multiprocessing's default when None); a process with threads running (the dev
    server) passes "forkserver", because forking it could copy a held lock. `wait`:
    whether to wait for another build that is writing `out_dir` (else `OutputBusy`).
    `strict` makes every warning an error (nothing is published)."""
    started = time.perf_counter()
    if options.base_url is not None and (problem := base_url_problem(options.base_url)):
        raise BuildFailed([f"--base-url: {problem}"])
    out = out_dir.resolve()
    with hold(out, wait):  # the only build writing `out`, until it returns
        # Finish the swaps of a build that stopped while publishing, before anything is
        # read; a journal that cannot be finished leaves a manifest not to trust.
        force = not finish_interrupted_commit(out) or force
        remove_leftovers(out)  # of killed builds, whether anything changed or not

        # List the merchant files; names two files would share stop the build here, with
        # every other file's errors.
        names = folder_files(sites_dir)
        if not names:
            raise BuildFailed([f"{sites_dir}: no merchant files (*.yaml) to build"])
        if _name_problems([(os.path.join(sites_dir, n), n) for n in names]):
            raise BuildFailed(check([sites_dir], themes_dir)[0])

        # Plan: which published units are still current, from the manifest.
        plan = make_plan(sites_dir, names, out, themes_dir, options, force)

        stage = Stager(out)  # nothing is made until something is staged
        try:
            # Validate and render the changed sites, in worker processes when there are many.
            rendered = render_sites(plan, stage, out, themes_dir, options, jobs, start_method)
            # Render the directory, reference and static units whose inputs changed.
            rendered += render_shared_units(plan, stage, out, themes_dir, options)
            warnings = tuple(w for slug in sorted(plan.new.sites)
                             for w in plan.new.sites[slug].warnings)
            if strict and warnings:
                raise BuildFailed(list(warnings))
            # Publish: swap the staged units in, remove deleted merchants, save the
            # manifest. Once its journal is written, a failure leaves the swap to the
            # next build (the staging folder is no longer the stage's to discard).
            if plan.rebuilt or plan.removed or plan.new != plan.old:
                stage.commit(plan.removed, plan.new.to_bytes())
                plan.new.published(out)
        except BaseException:
            stage.discard()
            raise
    return Report(len(names), plan.rebuilt, rendered, stage.written, stage.kept,
                  len(plan.removed), time.perf_counter() - started, warnings, options.base_url)


@dataclass
class Plan:
    """What planning found, and the manifest the build fills in as it renders."""

    old: Manifest  # of the published site; empty when it cannot be trusted
    new: Manifest  # starts with the published sites that are still current
    todo: list[Path]  # merchant files to validate and render
    stats: dict[str, tuple[int, int]]  # slug -> (mtime_ns, size) of each, before it is read
    removed: list[str]  # slugs published before and gone now
    site_theme: Callable[[str], str]  # theme name -> fingerprint of its site templates
    theme_fingerprint: Callable[[str, tuple[str, ...]], str]  # (name, templates) -> it
    rebuilt: int = 0  # units rendered so far


def make_plan(sites_dir: Path, names: list[str], out: Path, themes_dir: Path,
              options: BuildOptions, force: bool) -> Plan:
    """Compare the merchant files and their themes with the published manifest. With
    `force`, or other code or options, nothing published is current; what it lists and
    is gone now is removed all the same."""
    published = Manifest.load(out)
    generator, options_key = generator_fingerprint(), repr(options)
    current_code = (published.generator, published.options) == (generator, options_key)
    old = published if current_code and not force else Manifest()
    themes_state = digest(repr(forget_changed_themes(themes_dir)))
    known = old.theme_fingerprints if old.themes_state == themes_state else {}
    made: dict[str, str] = {}

    def fingerprint(name: str, templates: tuple[str, ...]) -> str:
        """A theme's fingerprint over `templates` and what they reach, from the published
        manifest while no file under themes/ changed."""
        key = f"{name}\0{' '.join(templates)}"
        if key not in made:
            made[key] = known.get(key) or theme_fingerprint(load_theme(name, themes_dir),
                                                            templates)
        return made[key]

    @functools.cache
    def site_theme(name: str) -> str:
        try:
            return fingerprint(name, SITE_TEMPLATES)
        except ThemeError:  # the site's validation reports it
            return ""

    todo, current, stats = _unchanged_sites(sites_dir, names, old, site_theme)
    removed = sorted(set(published.sites) - set(current) - set(stats))
    # Shared units an earlier build published and this one does not make: reference/
    # with --no-reference, sitemap.xml and robots.txt without --base-url.
    gone = set(published.units) - set(shared_units(options))
    if not options.reference and (out / "reference").exists():
        gone.add("reference")
    removed += sorted(gone)
    new = Manifest(generator, options_key, current, themes_state=themes_state,
                   theme_fingerprints=made)
    return Plan(old, new, todo, stats, removed, site_theme, fingerprint)


def _unchanged_sites(sites_dir: Path, names: list[str], old: Manifest,
                     site_theme: Callable[[str], str]
                     ) -> tuple[list[Path], dict[str, SiteEntry], dict[str, tuple[int, int]]]:
    """Split the merchant files into those to render and the published entries still
    current; the stat of each file to render is taken now, before a worker reads it."""
    todo: list[Path] = []
    current: dict[str, SiteEntry] = {}
    stats: dict[str, tuple[int, int]] = {}
    folder = os.fspath(sites_dir)
    for name in names:
        slug = slug_of(name)
        try:
            stat = os.stat(os.path.join(folder, name))
        except OSError:  # a symlink that leads nowhere: its validation says so
            todo.append(sites_dir / name)
            stats[slug] = (0, 0)
            continue
        entry = old.sites.get(slug)
        if entry is not None and entry.source == name:
            if (stat.st_mtime_ns, stat.st_size) != (entry.mtime_ns, entry.size):
                if stat.st_size == entry.size and digest(
                        (sites_dir / name).read_bytes()) == entry.digest:
                    entry = entry._replace(mtime_ns=stat.st_mtime_ns)  # touched, not changed
                else:
                    entry = None
            if entry is not None and entry.images:
                entry = _images_unchanged(sites_dir, entry)
            if entry is not None and site_theme(entry.theme) == old.themes.get(entry.theme):
                current[slug] = entry
                continue
        todo.append(sites_dir / name)
        stats[slug] = (stat.st_mtime_ns, stat.st_size)
    return todo, current, stats


def _images_unchanged(sites_dir: Path, entry: SiteEntry) -> SiteEntry | None:
    """The entry, if every image it was built from is as it was (an image only touched
    gets its new mtime); None if one changed or is gone."""
    images = []
    for image in entry.images:
        try:
            stat = os.stat(sites_dir / image.written)
            if (stat.st_mtime_ns, stat.st_size) != (image.mtime_ns, image.size):
                if stat.st_size != image.size or hashlib.sha256(
                        (sites_dir / image.written).read_bytes()).hexdigest() != image.digest:
                    return None
                image = image._replace(mtime_ns=stat.st_mtime_ns)
        except OSError:
            return None
        images.append(image)
    return entry._replace(images=tuple(images))


def render_sites(plan: Plan, stage: Stager, out: Path, themes_dir: Path,
                 options: BuildOptions, jobs: int | None, start_method: str | None) -> int:
    """Stage the changed sites and enter each in the new manifest: the pages rendered.
    Any site's errors stop the build, with every error of every site."""
    if not plan.todo:
        return 0
    errors: list[str] = []
    rendered = 0
    sources = {path.stem: path.name for path in plan.todo}
    for outcome in _site_outcomes(plan.todo, stage, out, themes_dir, options, jobs,
                                  start_method):
        if outcome.errors:
            errors.extend(outcome.errors)
            continue
        mtime_ns, size = plan.stats[outcome.slug]  # as planned: a later edit is a change
        plan.new.sites[outcome.slug] = SiteEntry(sources[outcome.slug], mtime_ns, size,
                                                 outcome.yaml_digest, outcome.theme,
                                                 outcome.name, outcome.products,
                                                 outcome.warnings,
                                                 tuple(ImageEntry(*i) for i in outcome.images))
        rendered += outcome.pages
    if errors:
        raise BuildFailed(errors)
    plan.rebuilt += len(plan.todo)
    return rendered


def render_shared_units(plan: Plan, stage: Stager, out: Path, themes_dir: Path,
                        options: BuildOptions) -> int:
    """Fingerprint the units every site shares and stage those that changed: the pages
    rendered."""
    old, new = plan.old, plan.new
    # The directory page depends on every store's slug, name and product count:
    # hashing all of them is skipped when no merchant came or went and none of
    # those rendered changed its name or product count.
    listed_as_before = old.stores and not plan.removed and all(
        (entry := old.sites.get(slug)) is not None
        and (entry.name, entry.products) == (new.sites[slug].name, new.sites[slug].products)
        for slug in plan.stats)
    new.stores = old.stores if listed_as_before else digest(repr(_store_list(new)))
    in_use = sorted({"default"} | {entry.theme for entry in new.sites.values()})
    new.units = {
        "index.html": digest(new.generator, new.options,
                             plan.theme_fingerprint("default", DIRECTORY_TEMPLATES), new.stores),
        "static": digest(new.generator, *(
            f"{name}\0{static_fingerprint(load_theme(name, themes_dir))}" for name in in_use)),
    }
    if options.reference:
        new.units["reference"] = digest(new.generator, new.options,
                                        plan.theme_fingerprint("default", REFERENCE_TEMPLATES),
                                        reference_fingerprint())
    if options.base_url:  # the index lists every store's sitemap: it follows the stores
        new.units[SITEMAP_FILE] = digest(new.generator, new.options, new.stores)
        new.units[ROBOTS_FILE] = digest(new.generator, new.options)
    new.themes = {name: plan.site_theme(name) for name in in_use}
    changed = [unit for unit, fingerprint in new.units.items()
               if old.units.get(unit) != fingerprint]
    if not changed:
        return 0
    from . import pages

    stores = _store_list(new) if {"index.html", SITEMAP_FILE} & set(changed) else []
    rendered, written, kept = pages.render_shared(changed, stores, in_use, stage.root, out,
                                                  themes_dir, options)
    stage.add_counts(written, kept)
    plan.rebuilt += len(changed)
    return rendered


def shared_units(options: BuildOptions) -> tuple[str, ...]:
    """The units every site shares (the reference unless --no-reference); with a base
    URL, the sitemap index and robots.txt too."""
    units = ("index.html", *(("reference",) if options.reference else ()), "static")
    return units + (SITEMAP_FILE, ROBOTS_FILE) if options.base_url else units


def _store_list(manifest: Manifest) -> list[tuple[str, str, int]]:
    return [(slug, manifest.sites[slug].name, manifest.sites[slug].products)
            for slug in sorted(manifest.sites)]


def _site_outcomes(todo: list[Path], stage: Stager, out_dir: Path, themes_dir: Path,
                   options: BuildOptions, jobs: int | None, start_method: str | None) -> list:
    """Validate and render the changed sites: in this process when they are few, in a
    pool of worker processes when there are many (as black's `reformat_many`)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from . import pages

    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(todo) < PARALLEL_FROM:
        outcomes, written, kept = pages.build_sites(todo, stage.root, out_dir, themes_dir,
                                                        options)
        stage.add_counts(written, kept)
        return outcomes
    chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
    context = get_context(start_method) if start_method else None
    outcomes = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(pages.build_sites, chunk, stage.root, out_dir, themes_dir,
                               options) for chunk in chunks]
        for future in futures:
            chunk_outcomes, written, kept = future.result()
            outcomes.extend(chunk_outcomes)
            stage.add_counts(written, kept)
    return outcomes
