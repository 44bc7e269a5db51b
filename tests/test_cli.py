"""The command line as a merchant uses it: check, new, schema, build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, SITES


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_check_examples_are_valid(tmp_path: Path) -> None:
    result = run("check", str(SITES), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3 merchant file(s) valid\n"


def test_check_lists_every_error_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        'store: {id: "1", name: 가게}\nreply_url: https://a.kr/r\n'
        'products: [{slug: x, name: "x`", amount: 5000}]\n', encoding="utf-8")
    (tmp_path / "b.yaml").write_text("store: [\n", encoding="utf-8")
    result = run("check", "a.yaml", "b.yaml", "missing.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "missing.yaml: no such file or folder",
        "a.yaml:1:13: store.id: must be exactly 10 digits, got '1'",
        "a.yaml:3:28: products[0].name: must not contain ` (KSPay refuses ' \" ` ~)",
        "b.yaml:2:1: YAML syntax: did not find expected node content",
        "4 error(s)",
    ]


def test_new_writes_a_starter_that_passes_check(tmp_path: Path) -> None:
    result = run("new", "my-shop", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    starter = tmp_path / "sites" / "my-shop.yaml"
    assert starter.is_file()
    assert "# " in starter.read_text(encoding="utf-8")
    assert run("check", str(starter), cwd=tmp_path).returncode == 0
    again = run("new", "my-shop", cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert run("new", "My_Shop", cwd=tmp_path).returncode == 1


def test_schema_is_json_schema_of_the_config(tmp_path: Path) -> None:
    result = run("schema", cwd=tmp_path)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "KSPay Pages merchant config"
    assert "store" in schema["properties"]


def test_build_prints_one_summary_line(tmp_path: Path) -> None:
    result = run("build", "--sites", str(SITES), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith(f"built 3 site(s) into {tmp_path / 'out'} in ")
    assert line.endswith(" (no --base-url: no canonical links, Open Graph tags, sitemap.xml, "
                         "robots.txt or QR codes): 30 page(s) rendered, 45 file(s) written, "
                         "0 unchanged, 0 removed")  # 45: the 4 images of jeju-orchard, favicon, poster.css
    again = run("build", "--sites", str(SITES), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert again.stdout.endswith(": nothing changed\n")
    assert (tmp_path / "out" / "kspay-test" / "carrot-10kg" / "index.html").is_file()


def test_build_failure_writes_nothing(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "x.yaml").write_text("store: {}\n", encoding="utf-8")
    result = run("build", "--sites", str(sites), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "4 error(s); nothing was written"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_full_disk_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    from generator import cli, output

    def full(self: output.UnitWriter, relpath: str, data: bytes) -> None:
        raise OSError(28, "No space left on device", relpath)

    monkeypatch.setattr(output.UnitWriter, "write", full)
    out = tmp_path / "_site"
    assert cli.main(["build", "--sites", str(SITES), "--out", str(out)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"{out}: cannot write the site: No space left on device (")
    assert lines[1:] == ["1 error(s); nothing was written"]
    assert not out.exists()


def test_errors_from_the_command_line_are_those_of_a_build_in_process(
        tmp_path: Path, monkeypatch) -> None:
    """A config error and a theme error read the same from `kspay-pages build` as from
    `pipeline.build` called in this process."""
    import shutil

    import pytest

    from generator import pipeline

    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    test_file, jeju = sites / "kspay-test.yaml", sites / "jeju-orchard.yaml"
    test_file.write_text(test_file.read_text(encoding="utf-8").replace(
        "amount: 1003", 'amount: "1003"'), encoding="utf-8")
    jeju.write_text(jeju.read_text(encoding="utf-8") + "theme: carrot\n", encoding="utf-8")
    fresh = run("build", "--sites", "sites", "--out", "_site", cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(pipeline.BuildFailed) as failed:
        pipeline.build(Path("sites"), Path("_other"))
    assert fresh.returncode == 1
    assert fresh.stderr.splitlines() == [*failed.value.errors, "2 error(s); nothing was written"]
    assert [e.split(":")[0:3] for e in failed.value.errors] == [
        ["sites/jeju-orchard.yaml", str(jeju.read_text(encoding="utf-8").count("\n")), "8"],
        ["sites/kspay-test.yaml", "25", "13"]]
    assert not (tmp_path / "_site").exists()


def test_new_points_the_file_at_the_schema_for_editors(tmp_path: Path) -> None:
    result = run("new", "my-shop", cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "wrote sites/my-shop.yaml; edit it, then run: kspay-pages check sites/my-shop.yaml",
        "for your editor to check it as you type: kspay-pages schema > kspay-pages.schema.json"]
    first = (tmp_path / "sites" / "my-shop.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../kspay-pages.schema.json"
    schema = run("schema", cwd=tmp_path)
    (tmp_path / "kspay-pages.schema.json").write_text(schema.stdout, encoding="utf-8")
    # Elsewhere, the path still leads from the file to the schema; with it written, no hint.
    deeper = run("new", "other", "--sites", "shops/2026", cwd=tmp_path)
    assert deeper.stdout.splitlines() == [
        "wrote shops/2026/other.yaml; edit it, then run: kspay-pages check shops/2026/other.yaml"]
    written = tmp_path / "shops" / "2026" / "other.yaml"
    line = written.read_text(encoding="utf-8").splitlines()[0]
    target = line.removeprefix("# yaml-language-server: $schema=")
    assert target == "../../kspay-pages.schema.json"
    assert (written.parent / target).resolve() == (tmp_path / "kspay-pages.schema.json").resolve()
    assert run("check", str(written), cwd=tmp_path).returncode == 0


def test_schema_markdown_is_the_readmes_table(tmp_path: Path) -> None:
    from generator import config

    result = run("schema", "--markdown", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == config.readme_table()
    assert result.stdout.startswith("| key | KSPay field | rule |\n| --- | --- | --- |\n| `store` |")


def test_build_no_reference_publishes_only_the_shops(tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = run("build", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    assert (out / "reference" / "cards" / "index.html").is_file()
    shops = run("build", "--no-reference", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert shops.returncode == 0, shops.stderr
    assert shops.stdout.rstrip().endswith(", 1 removed")
    assert sorted(p.name for p in out.iterdir()) == [
        "book-academy", "index.html", "jeju-orchard", "kspay-test", "static"]
    directory = (out / "index.html").read_text(encoding="utf-8")
    assert "reference/" not in directory
    assert 'href="./kspay-test/"' in directory
    again = run("build", "--no-reference", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert again.stdout.endswith(": nothing changed\n")
    fresh = tmp_path / "fresh"
    run("build", "--no-reference", "--sites", str(SITES), "--out", str(fresh), cwd=tmp_path)
    assert not (fresh / "reference").exists()
    back = run("build", "--sites", str(SITES), "--out", str(out), cwd=tmp_path)
    assert back.returncode == 0
    assert (out / "reference" / "cards" / "index.html").is_file()
    assert 'href="./reference/"' in (out / "index.html").read_text(encoding="utf-8")
