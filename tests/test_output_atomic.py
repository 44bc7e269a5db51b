"""All or nothing: a failed or killed build leaves the published site byte for byte.

The SIGKILL test runs a real build of 300 generated merchants in a subprocess (its own
process group, so the build's worker processes die with it), waits until the staging
folder beside the output holds files, kills the group with SIGKILL and compares.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from generator import output, pipeline

SITE = """\
store:
  id: "2999199999"
  name: 가게{n}
reply_url: https://shop.example.kr/kspay/result
notice: 공지 {version}
products:
"""
PRODUCT = "  - slug: p{i}\n    name: 상품{i} {version}\n    amount: {amount}\n"


def make_sites(folder: Path, count: int, version: str, products: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        text = SITE.format(n=n, version=version) + "".join(
            PRODUCT.format(i=i, version=version, amount=1000 + i) for i in range(products))
        (folder / f"shop-{n:03d}.yaml").write_text(text, encoding="utf-8")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def leftovers(parent: Path) -> list[str]:
    """Staging folders, journals and trash beside the output (the manifest belongs)."""
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith(output.STAGING_PREFIX)
                  or p.name.endswith((".journal.json", ".journal.tmp")))


def wait_for_no_trash(parent: Path, seconds: float = 20) -> None:
    """Replaced units are removed by a detached process; give it time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and leftovers(parent):
        time.sleep(0.05)


def test_a_build_failing_on_one_file_while_rendering_keeps_the_site(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 5, "v1")
    pipeline.build(sites, out)
    before = snapshot(out)
    make_sites(sites, 5, "v2")

    from generator import output as out_module
    real_write = out_module.UnitWriter.write
    calls = {"n": 0}

    def failing_write(self, relpath: str, data: bytes) -> None:  # the disk fills up
        calls["n"] += 1
        if calls["n"] == 12:
            raise OSError(28, "No space left on device", relpath)
        real_write(self, relpath, data)

    monkeypatch.setattr(out_module.UnitWriter, "write", failing_write)
    with pytest.raises(OSError) as failed:  # raised here or in the renderer process
        pipeline.build(sites, out)
    assert (failed.value.errno, failed.value.filename) == (28, "shop-002/p0/index.html")
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_one_bad_file_among_many_keeps_the_site(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 60, "v1", products=1)  # enough to render in worker processes
    pipeline.build(sites, out)
    before = snapshot(out)
    make_sites(sites, 60, "v2", products=1)
    (sites / "shop-059.yaml").write_text("store: {id: 1}\n", encoding="utf-8")
    with pytest.raises(pipeline.BuildFailed):
        pipeline.build(sites, out)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def _start_build(sites: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "build", "--sites", str(sites), "--out", str(out)],
        cwd=out.parent, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def _staging_has_files(parent: Path, pid: int) -> bool:
    for staging in parent.glob(f"{output.STAGING_PREFIX}_site-{pid}-*"):
        if staging.is_dir() and any(p.is_file() for p in staging.rglob("*")):
            return True
    return False


def test_sigkill_while_rendering_leaves_the_site_byte_for_byte(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 300, "v1")
    pipeline.build(sites, out)
    wait_for_no_trash(tmp_path)
    before = snapshot(out)
    assert len(before) > 1_500
    make_sites(sites, 300, "v2")

    build = _start_build(sites, out)
    deadline = time.monotonic() + 60
    try:
        while not _staging_has_files(tmp_path, build.pid):
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never started staging"
            time.sleep(0.002)
        staged = sum(1 for _ in tmp_path.glob(f"{output.STAGING_PREFIX}*/**/*.html"))
        os.killpg(build.pid, signal.SIGKILL)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
    assert build.returncode == -signal.SIGKILL
    assert staged >= 1
    assert snapshot(out) == before, "the killed build changed the published site"
    assert not (tmp_path / f".kspay-{out.name}.journal.json").exists()
    assert [p for p in leftovers(tmp_path) if p.startswith(output.STAGING_PREFIX)], \
        "a killed build cannot clean up: its staging folder is expected here"

    # The next build removes what the killed one left, and publishes v2 whole.
    report = pipeline.build(sites, out)
    wait_for_no_trash(tmp_path)
    assert leftovers(tmp_path) == []
    after = snapshot(out)
    assert sorted(after) == sorted(before)
    assert "상품3 v2" in after["shop-299/p3/index.html"].decode("utf-8")
    assert report.pages == 300 * 5


def test_staging_folders_of_dead_builds_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 2, "v1")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"{output.STAGING_PREFIX}_site-{dead.stdout.strip()}-abc"
    (stale / "shop-000").mkdir(parents=True)
    (stale / "shop-000" / "index.html").write_bytes(b"half")
    # A folder named after a process that runs but does not build there (a reused pid).
    reused = tmp_path / f"{output.STAGING_PREFIX}_site-{os.getpid()}-def"
    reused.mkdir()
    alive = tmp_path / f"{output.STAGING_PREFIX}_site-1-xyz"
    alive.mkdir()
    holder = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDONLY); "
              "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)")
    sleeper = subprocess.Popen([sys.executable, "-c", holder, str(alive)], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert sleeper.stdout.readline() == "locked\n"
        pipeline.build(sites, out)
        assert not stale.exists()
        assert not reused.exists(), "a pid in the name proves nothing: pids are reused"
        assert alive.exists(), "a running build's staging folder must not be touched"
    finally:
        sleeper.kill()
        sleeper.wait()
