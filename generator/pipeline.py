"""The build, as a recipe: plan what changed, render it (in parallel), publish, report.

1. List the merchant files and check their names (slugs, collisions) from names alone.
2. Read the manifest of the published site and fingerprint each unit's inputs; a unit
   whose fingerprint is unchanged is not rendered (`force` renders everything).
3. Validate and render the changed sites, in worker processes when there are many,
   straight into a staging folder. Any error anywhere: nothing is published.
4. Render the directory, reference and static units if their inputs changed.
5. Publish: swap the staged units in, remove deleted merchants, save the manifest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .output import Stager, finish_interrupted_commit
from .cache import (
    DIRECTORY_TEMPLATES,
    REFERENCE_TEMPLATES,
    SITE_TEMPLATES,
    Manifest,
    SiteEntry,
    digest,
    generator_fingerprint,
    reference_fingerprint,
    static_fingerprint,
    theme_fingerprint,
)
from .render import THEMES_DIR, ThemeError, load_theme
from .sitebuild import PUBLISHED, BuildFailed, BuildOptions

__all__ = ["BuildFailed", "BuildOptions", "PUBLISHED", "Report", "build", "check", "site_files"]

SITE_SUFFIXES = (".yaml", ".yml")
RESERVED = ("static", "reference")  # the generator's own folders in the output
PARALLEL_FROM = 48  # fewer changed sites than this render in-process
CHUNK = 40  # sites per task sent to a worker


@dataclass(frozen=True)
class Report:
    sites: int  # merchant files in the build
    rebuilt: int  # units rendered this time (site folders, index, reference, static)
    pages: int  # HTML pages rendered this time
    written: int  # files whose bytes changed or are new
    kept: int  # staged files identical to the published ones
    removed: int  # units removed (deleted merchants)
    seconds: float

    def summary(self, out_dir: Path) -> str:
        done = f"built {self.sites} site(s) into {out_dir} in {self.seconds:.2f} s: "
        if not self.rebuilt and not self.removed:
            return done + "nothing changed"
        return done + (f"{self.pages} page(s) rendered, {self.written} file(s) written, "
                       f"{self.kept} unchanged, {self.removed} removed")


def site_files(paths: list[Path]) -> list[Path]:
    """Merchant files named on the command line: files as given, folders' *.yaml sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            names = sorted(n for n in os.listdir(path) if n.endswith(SITE_SUFFIXES))
            found.extend(path / name for name in names)  # sorting strings: 10,000 files
        else:
            found.append(path)
    return found


def check(paths: list[Path], themes_dir: Path = THEMES_DIR) -> list[str]:
    """Validate merchant files without writing anything; every error, in order."""
    from .sitebuild import reset, validate

    files = site_files(paths)
    reset()
    problems = _name_problems([_merchant_file(str(p)) for p in files])
    for path in files:
        if isinstance(found := validate(path, themes_dir), list):
            problems.extend(found)
    return problems


def _merchant_file(path: str) -> tuple[str, str, str]:
    """`sites/shop.yaml` -> (the path, `shop.yaml`, `shop`), on strings: per merchant."""
    name = path.rpartition("/")[2]
    return path, name, name.rpartition(".")[0]


def _name_problems(files: list[tuple[str, str, str]]) -> list[str]:
    """Output paths two files would share, and names the generator keeps for itself.
    `files` are (path, file name, slug) strings: this runs for every merchant."""
    problems = []
    first: dict[str, str] = {}
    for path, name, slug in files:
        if slug in RESERVED:
            problems.append(f"{path}:1:1: the name {slug!r} is the generator's own folder "
                            f"in the output; rename the file")
        elif slug in first:
            problems.append(f"{path}:1:1: {first[slug]} and {name} would both be "
                            f"published at /{slug}/; keep one")
        first.setdefault(slug, name)
    return problems


def build(sites_dir: Path, out_dir: Path, themes_dir: Path = THEMES_DIR,
          options: BuildOptions = PUBLISHED, force: bool = False, jobs: int | None = None,
          start_method: str | None = None) -> Report:
    """Build `sites_dir` into `out_dir`. `start_method` is how worker processes start
    (multiprocessing's default when None); a process with threads running (the dev
    server) passes "forkserver", because forking it could copy a held lock."""
    started = time.perf_counter()
    out = out_dir.resolve()
    finish_interrupted_commit(out)
    # Strings, not Path objects: this runs for every merchant on every build.
    folder = str(sites_dir)
    files = [_merchant_file(f"{folder}/{name}")
             for name in sorted(os.listdir(folder)) if name.endswith(SITE_SUFFIXES)]
    if not files:
        raise BuildFailed([f"{sites_dir}: no merchant files (*.yaml) to build"])
    name_problems = _name_problems(files)
    if name_problems:
        raise BuildFailed(name_problems)

    # 2. Plan: what changed since the published build.
    old = Manifest() if force else Manifest.load(out)
    generator, options_key = generator_fingerprint(), repr(options)
    if (old.generator, old.options) != (generator, options_key):
        old = Manifest()
    new = Manifest(generator, options_key)
    from . import sitebuild

    sitebuild.reset()  # themes are read afresh by each build
    themes: dict[str, str] = {}

    def site_theme(name: str) -> str:
        if name not in themes:
            try:
                themes[name] = theme_fingerprint(load_theme(name, themes_dir), SITE_TEMPLATES)
            except ThemeError:  # the site's validation reports it
                themes[name] = ""
        return themes[name]

    todo, new.sites, stats = _unchanged_sites(files, old, site_theme)
    removed = sorted(set(old.sites) - set(new.sites) - set(stats))

    stage: Stager | None = None  # made once there is something to publish
    try:
        # 3. Render the changed sites into the staging folder.
        pages = 0
        if todo:
            stage = Stager(out_dir)
            errors: list[str] = []
            by_slug = {path.stem: path for path in todo}
            for outcome in _render_sites(todo, stage, out, themes_dir, options, jobs,
                                         start_method):
                if outcome.errors:
                    errors.extend(outcome.errors)
                    continue
                mtime_ns, size = stats[outcome.slug]  # as planned: a later edit is a change
                new.sites[outcome.slug] = SiteEntry(by_slug[outcome.slug].name, mtime_ns, size,
                                                    outcome.yaml_digest, outcome.theme,
                                                    outcome.name, outcome.products)
                pages += outcome.pages
            if errors:
                raise BuildFailed(errors)

        # 4. The units every site shares.
        rebuilt = len(todo)
        default = load_theme("default", themes_dir)

        def store_list() -> list[tuple[str, str, int]]:
            return [(slug, new.sites[slug].name, new.sites[slug].products)
                    for slug in sorted(new.sites)]

        # The directory page depends on every store's slug, name and product count:
        # hashing 10,000 of them is skipped when no merchant came or went and none of
        # those rendered changed its name or product count.
        listed_as_before = old.stores and not removed and all(
            (entry := old.sites.get(slug)) is not None
            and (entry.name, entry.products) == (new.sites[slug].name, new.sites[slug].products)
            for slug in stats)
        new.stores = old.stores if listed_as_before else digest(repr(store_list()))
        in_use = _themes_in_use(new)
        shared = {
            "index.html": digest(generator, options_key,
                                 theme_fingerprint(default, DIRECTORY_TEMPLATES), new.stores),
            "reference": digest(generator, options_key,
                                theme_fingerprint(default, REFERENCE_TEMPLATES),
                                reference_fingerprint()),
            "static": digest(generator, *(
                f"{name}\0{static_fingerprint(load_theme(name, themes_dir))}" for name in in_use)),
        }
        new.units = shared
        new.themes = {name: site_theme(name) for name in in_use}
        changed = [unit for unit, fingerprint in shared.items() if old.units.get(unit) != fingerprint]
        if changed:
            stage = stage or Stager(out_dir)
            stores = store_list() if "index.html" in changed else []
            shared_pages, written, kept = sitebuild.render_shared(
                changed, stores, in_use, stage.root, out, themes_dir, options)
            pages += shared_pages
            stage.add_counts(written, kept)
            rebuilt += len(changed)

        # 5. Publish.
        if rebuilt or removed or new != old:
            stage = stage or Stager(out_dir)
            stage.commit(remove=removed, extra={Manifest.path_for(out): new.to_bytes()})
    except BaseException:
        if stage is not None:
            stage.discard()
        raise
    written, kept = (stage.written, stage.kept) if stage else (0, 0)
    return Report(len(files), rebuilt, pages, written, kept, len(removed),
                  time.perf_counter() - started)


def _unchanged_sites(files: list[tuple[str, str, str]], old: Manifest,
                     site_theme: Callable[[str], str]
                     ) -> tuple[list[Path], dict[str, SiteEntry], dict[str, tuple[int, int]]]:
    """Split the merchant files into those to render and the published entries still
    current; the stat of each file to render is taken now, before a worker reads it."""
    todo: list[Path] = []
    current: dict[str, SiteEntry] = {}
    stats: dict[str, tuple[int, int]] = {}
    theme_current: dict[str, bool] = {}  # theme name -> its site templates are unchanged
    published = old.sites
    for full, name, slug in files:
        stat = os.stat(full)
        entry = published.get(slug)
        if entry is not None and entry.source == name:
            if (stat.st_mtime_ns, stat.st_size) != (entry.mtime_ns, entry.size):
                if stat.st_size == entry.size and digest(Path(full).read_bytes()) == entry.digest:
                    entry = entry.touched(stat.st_mtime_ns)  # touched, not changed
                else:
                    entry = None
            if entry is not None:
                fresh = theme_current.get(entry.theme)
                if fresh is None:
                    fresh = theme_current[entry.theme] = \
                        site_theme(entry.theme) == old.themes.get(entry.theme)
                if fresh:
                    current[slug] = entry
                    continue
        todo.append(Path(full))
        stats[slug] = (stat.st_mtime_ns, stat.st_size)
    return todo, current, stats


def _themes_in_use(manifest: Manifest) -> list[str]:
    return sorted({"default"} | {entry.theme for entry in manifest.sites.values()})


def _render_sites(todo: list[Path], stage: Stager, out_dir: Path, themes_dir: Path,
                  options: BuildOptions, jobs: int | None, start_method: str | None) -> list:
    """Validate and render the changed sites: in this process when they are few, in a
    pool of worker processes when there are many (as black's `reformat_many`)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from . import sitebuild

    workers = jobs or os.cpu_count() or 1
    if workers == 1 or len(todo) < PARALLEL_FROM:
        outcomes, written, kept = sitebuild.build_sites(todo, stage.root, out_dir, themes_dir,
                                                        options)
        stage.add_counts(written, kept)
        return outcomes
    chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
    context = get_context(start_method) if start_method else None
    outcomes = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(sitebuild.build_sites, chunk, stage.root, out_dir, themes_dir,
                               options) for chunk in chunks]
        for future in futures:
            chunk_outcomes, written, kept = future.result()
            outcomes.extend(chunk_outcomes)
            stage.add_counts(written, kept)
    return outcomes
