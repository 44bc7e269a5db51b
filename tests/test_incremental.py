"""Incremental builds: each kind of input change re-renders exactly what depends on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SITES
from generator import cache, pipeline, reference


@pytest.fixture()
def work(tmp_path: Path) -> tuple[Path, Path, Path]:
    sites, themes, out = tmp_path / "sites", tmp_path / "themes", tmp_path / "_site"
    shutil.copytree(SITES, sites)
    shutil.copytree(ROOT / "themes", themes)
    pipeline.build(sites, out, themes)
    return sites, themes, out


def state(out: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.read_bytes())
            for p in out.rglob("*") if p.is_file()}


def changes(before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]) -> dict[str, set[str]]:
    return {
        "added": set(after) - set(before),
        "removed": set(before) - set(after),
        "changed": {p for p in set(before) & set(after) if before[p][1] != after[p][1]},
        "rewritten": {p for p in set(before) & set(after)
                      if before[p][1] == after[p][1] and before[p][0] != after[p][0]},
    }


def rebuild(work: tuple[Path, Path, Path]) -> tuple[pipeline.Report, dict[str, set[str]]]:
    sites, themes, out = work
    before = state(out)
    report = pipeline.build(sites, out, themes)
    return report, changes(before, state(out))


JEJU_PAGES = {f"jeju-orchard/{p}/{v}" for p in ("hallabong-5kg", "tangerine-10kg", "hallabong-10kg")
              for v in ("index.html", "android.html", "ios.html")}


def test_nothing_changed_renders_nothing(work: tuple[Path, Path, Path]) -> None:
    report, diff = rebuild(work)
    assert (report.rebuilt, report.pages, report.written) == (0, 0, 0)
    assert diff == {"added": set(), "removed": set(), "changed": set(), "rewritten": set()}


def test_touching_a_file_without_changing_it_renders_nothing(work: tuple[Path, Path, Path]) -> None:
    (work[0] / "kspay-test.yaml").touch()
    report, _ = rebuild(work)
    assert report.pages == 0


def test_one_merchant_changed_renders_only_its_pages(work: tuple[Path, Path, Path]) -> None:
    path = work[0] / "jeju-orchard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("amount: 59000", "amount: 61000"),
                    encoding="utf-8")
    report, diff = rebuild(work)
    assert (report.rebuilt, report.pages) == (1, 13)  # store, 3 policies, 3 products x 3 variants
    assert diff["changed"] == {"jeju-orchard/index.html", "jeju-orchard/hallabong-5kg/index.html",
                               "jeju-orchard/hallabong-5kg/android.html",
                               "jeju-orchard/hallabong-5kg/ios.html"}
    assert diff["added"] == diff["removed"] == diff["rewritten"] == set()


def test_store_name_change_also_renders_the_directory(work: tuple[Path, Path, Path]) -> None:
    path = work[0] / "kspay-test.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 케이에스페이(주)", "name: 케이에스페이"),
                    encoding="utf-8")
    report, diff = rebuild(work)
    assert report.pages == 3  # store, order page, directory
    assert diff["changed"] == {"index.html", "kspay-test/index.html", "kspay-test/carrot-10kg/index.html"}


def test_a_new_product_also_renders_the_directory(work: tuple[Path, Path, Path]) -> None:
    """The directory shows each store's product count: it changes with it, and only then."""
    path = work[0] / "kspay-test.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "  - slug: carrot-5kg\n    name: 당근5kg\n    amount: 1004\n", encoding="utf-8")
    report, diff = rebuild(work)
    assert report.pages == 4  # store, two order pages, directory
    assert diff["changed"] == {"index.html", "kspay-test/index.html"}
    assert diff["added"] == {"kspay-test/carrot-5kg/index.html"}
    assert "상품 2개" in (work[2] / "index.html").read_text(encoding="utf-8")


def test_order_template_change_renders_order_and_store_pages_only(work: tuple[Path, Path, Path]) -> None:
    template = work[1] / "default" / "templates" / "order.html"
    template.write_text(template.read_text(encoding="utf-8").replace(
        '<h1>{{ product.name }}</h1>', '<h1 class="product">{{ product.name }}</h1>'), encoding="utf-8")
    report, diff = rebuild(work)
    order_pages = {p for p in state(work[2]) if p.count("/") == 2 and p.endswith(".html")
                   and not p.startswith(("reference", "static"))}
    assert report.pages == 22  # every site unit: 3 store, 7 policy and 12 order pages
    assert diff["changed"] == order_pages
    assert diff["rewritten"] == set()


def test_reference_template_change_renders_the_reference_only(work: tuple[Path, Path, Path]) -> None:
    template = work[1] / "default" / "templates" / "reference" / "faq.html"
    template.write_text(template.read_text(encoding="utf-8").replace("<h1>", '<h1 class="faq">'),
                        encoding="utf-8")
    report, diff = rebuild(work)
    assert report.pages == 7
    assert diff["changed"] == {"reference/faq/index.html"}


def test_reference_data_change_renders_the_reference_only(work: tuple[Path, Path, Path],
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "reference-data"
    shutil.copytree(reference.DATA_DIR, data)
    monkeypatch.setattr(reference, "DATA_DIR", data)
    reference.load_reference.cache_clear()
    try:
        phone = data / "smartphone.yaml"
        phone.write_text(phone.read_text(encoding="utf-8").replace(
            "30만원이상가능", "20만원이상가능", 1), encoding="utf-8")
        report, diff = rebuild(work)
    finally:
        reference.load_reference.cache_clear()
    assert report.pages == 7
    assert diff["changed"] == {"reference/smartphone/index.html", "reference/smartphone.json"}


def test_stylesheet_change_renders_every_page(work: tuple[Path, Path, Path]) -> None:
    css = work[1] / "default" / "static" / "style.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.new { color: red; }\n", encoding="utf-8")
    before = state(work[2])
    report = pipeline.build(work[0], work[2], work[1])
    after = state(work[2])
    diff = changes(before, after)
    html = {p for p in after if p.endswith(".html")}
    assert report.pages == 30
    assert diff["changed"] == html
    [old_css] = [p for p in diff["removed"] if p.startswith("static/style.")]
    [new_css] = [p for p in diff["added"] if p.startswith("static/style.")]
    assert old_css != new_css


def test_deleted_merchant_is_removed(work: tuple[Path, Path, Path]) -> None:
    (work[0] / "book-academy.yaml").unlink()
    report, diff = rebuild(work)
    assert report.removed == 1
    assert {p.split("/")[0] for p in diff["removed"]} == {"book-academy"}
    assert diff["changed"] == {"index.html"}
    assert not (work[2] / "book-academy").exists()


@pytest.mark.parametrize("why", ["force", "other code"])
def test_deleted_merchant_is_removed_when_everything_is_rendered(
        work: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, why: str) -> None:
    """`--force` and a new generator trust no fingerprint, yet prune like any build."""
    sites, themes, out = work
    (sites / "book-academy.yaml").unlink()
    if why == "other code":
        monkeypatch.setattr(pipeline, "generator_fingerprint", lambda: "another version")
    before = state(out)
    report = pipeline.build(sites, out, themes, force=why == "force")
    assert (report.pages, report.removed) == (23, 1)
    assert {p.split("/")[0] for p in changes(before, state(out))["removed"]} == {"book-academy"}
    assert sorted(p.name for p in out.iterdir()) == [
        "index.html", "jeju-orchard", "kspay-test", "reference", "static"]
    again = pipeline.build(sites, out, themes)
    assert (again.rebuilt, again.removed) == (0, 0)


def test_new_merchant_is_added(work: tuple[Path, Path, Path]) -> None:
    text = (work[0] / "kspay-test.yaml").read_text(encoding="utf-8")
    (work[0] / "second-shop.yaml").write_text(text, encoding="utf-8")
    report, diff = rebuild(work)
    assert report.pages == 3
    assert diff["added"] == {"second-shop/index.html", "second-shop/carrot-10kg/index.html"}
    assert diff["changed"] == {"index.html"}


def test_generator_change_renders_everything_but_rewrites_nothing(
        work: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "generator_fingerprint", lambda: "another version")
    report, diff = rebuild(work)
    assert report.pages == 30
    assert report.written == 0
    assert diff["rewritten"] == set() and diff["changed"] == set()


def test_force_renders_everything(work: tuple[Path, Path, Path]) -> None:
    sites, themes, out = work
    report = pipeline.build(sites, out, themes, force=True)
    assert (report.pages, report.written) == (30, 0)


def test_a_failing_change_publishes_nothing(work: tuple[Path, Path, Path]) -> None:
    sites, themes, out = work
    before = state(out)
    (sites / "jeju-orchard.yaml").write_text("store: {}\n", encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        pipeline.build(sites, out, themes)
    assert state(out) == before


def test_parallel_build_equals_serial_build(tmp_path: Path) -> None:
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import PAGES_PER_MERCHANT, write_sites

    sites = tmp_path / "sites"
    write_sites(sites, 60)
    serial = pipeline.build(sites, tmp_path / "serial", jobs=1)
    parallel = pipeline.build(sites, tmp_path / "parallel", jobs=2)
    assert serial.pages == parallel.pages == 60 * PAGES_PER_MERCHANT + 8
    a, b = tmp_path / "serial", tmp_path / "parallel"
    files = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_a_touched_file_is_recorded_so_the_next_build_does_not_hash_it(work: tuple[Path, Path, Path]) -> None:
    sites, themes, out = work
    path = sites / "kspay-test.yaml"
    path.touch()
    pipeline.build(sites, out, themes)
    [entry] = [e for s, e in cache.Manifest.load(out.resolve()).sites.items() if s == "kspay-test"]
    assert entry.mtime_ns == path.stat().st_mtime_ns


def test_a_template_edit_of_the_same_size_is_seen_by_the_next_build_in_this_process(
        work: tuple[Path, Path, Path]) -> None:
    # The dev server builds again and again in one process: what it compiled before
    # must give way to what the files say now.
    template = work[1] / "default" / "templates" / "order.html"
    text = template.read_text(encoding="utf-8")
    edited = text.replace("<h1>{{ product.name }}</h1>", "<h2>{{ product.name }}</h2>")
    assert len(edited) == len(text) and edited != text
    template.write_text(edited, encoding="utf-8")
    report, diff = rebuild(work)
    page = (work[2] / "jeju-orchard" / "hallabong-5kg" / "index.html").read_text(encoding="utf-8")
    assert report.pages == 22
    assert "<h2>한라봉 5kg 선물세트</h2>" in page and "<h1>" not in page


def test_theme_fingerprints_are_taken_from_the_manifest_while_themes_are_unchanged(
        work: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # As a new process would: nothing this one read or wrote is remembered.
    from generator import theme

    sites, themes, out = work
    theme.forget_themes()
    cache._PUBLISHED_BY_US.clear()
    real, parsed = pipeline.theme_fingerprint, []

    def counted(*args: object) -> str:
        parsed.append(args[1])
        return real(*args)

    monkeypatch.setattr(pipeline, "theme_fingerprint", counted)
    assert pipeline.build(sites, out, themes).pages == 0
    assert parsed == []  # every template unread: the manifest's fingerprints
    template = themes / "default" / "templates" / "order.html"
    template.write_text(template.read_text(encoding="utf-8").replace(
        "<h1>{{ product.name }}</h1>", "<h2>{{ product.name }}</h2>"), encoding="utf-8")
    theme.forget_themes()
    cache._PUBLISHED_BY_US.clear()
    assert pipeline.build(sites, out, themes).pages == 22  # every site unit again
    assert sorted(parsed) == sorted([cache.SITE_TEMPLATES, cache.DIRECTORY_TEMPLATES,
                                     cache.REFERENCE_TEMPLATES])
