"""All or nothing: a failed or killed build leaves the published site byte for byte.

The SIGKILL test runs a real build of 300 generated merchants in a subprocess (its own
process group, so the build's worker processes die with it), waits until the staging
folder beside the output holds files, kills the group with SIGKILL and compares.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, SITES
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


def leftovers(out: Path) -> list[str]:
    """What builds left beside the output: staging folders, journals, temporary files;
    the manifest, the lock file and the image cache belong there."""
    kept = {f".kspay-{out.name}.manifest", f".kspay-{out.name}.lock", f".kspay-{out.name}.images"}
    return sorted(p.name for p in out.parent.iterdir()
                  if p.name.startswith((f".kspay-{out.name}.", ".staging-"))
                  and p.name not in kept)


def staging_folders(out: Path, pid: int | str = "") -> list[Path]:
    return [p for p in out.parent.iterdir()
            if p.name.startswith(f".kspay-{out.name}.staging-{pid}") and p.is_dir()]


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
    assert leftovers(out) == []


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
    assert leftovers(out) == []


def _start_build(sites: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "build", "--sites", str(sites), "--out", str(out)],
        cwd=out.parent, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def _staging_has_files(out: Path, pid: int) -> bool:
    return any(p.is_file() for staging in staging_folders(out, f"{pid}-")
               for p in staging.rglob("*"))


def test_sigkill_while_rendering_leaves_the_site_byte_for_byte(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 300, "v1")
    pipeline.build(sites, out)
    before = snapshot(out)
    assert len(before) > 1_500
    make_sites(sites, 300, "v2")

    build = _start_build(sites, out)
    deadline = time.monotonic() + 60
    try:
        while not _staging_has_files(out, build.pid):
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never started staging"
            time.sleep(0.002)
        staged = sum(1 for folder in staging_folders(out) for _ in folder.rglob("*.html"))
        os.killpg(build.pid, signal.SIGKILL)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
    assert build.returncode == -signal.SIGKILL
    assert staged >= 1
    assert snapshot(out) == before, "the killed build changed the published site"
    assert not (tmp_path / f".kspay-{out.name}.journal.json").exists()
    assert staging_folders(out), "a killed build cannot clean up: its staging folder stays"

    # The next build removes what the killed one left, and publishes v2 whole.
    report = pipeline.build(sites, out)
    assert leftovers(out) == []
    after = snapshot(out)
    assert sorted(after) == sorted(before)
    assert "상품3 v2" in after["shop-299/p3/index.html"].decode("utf-8")
    assert report.pages == 300 * 5


# --- publishing: a swap that fails or is interrupted at any step ---------------------

def exactly_built(sites: Path, out: Path, tmp_path: Path) -> None:
    """`out` and its manifest are byte for byte what a first build of `sites` makes,
    nothing is left beside it, and another build finds nothing to do."""
    fresh = tmp_path / "fresh" / out.name
    if fresh.parent.exists():
        shutil.rmtree(fresh.parent)
    pipeline.build(sites, fresh)
    assert snapshot(out) == snapshot(fresh)
    assert manifest(out) == manifest(fresh)
    assert leftovers(out) == []
    again = pipeline.build(sites, out)
    assert (again.rebuilt, again.removed) == (0, 0)


def manifest(out: Path) -> bytes:
    return (out.parent / f".kspay-{out.name}.manifest").read_bytes()


def journal(out: Path) -> Path:
    return out.parent / f".kspay-{out.name}.journal.json"


def publish_v1_and_write_v2(sites: Path, out: Path) -> None:
    """v1 is published; v2 changes four merchants, deletes one and adds one, so that its
    swap exchanges four folders and the directory page, moves a folder in, removes one."""
    make_sites(sites, 5, "v1", products=1)
    pipeline.build(sites, out)
    make_sites(sites, 4, "v2", products=1)
    (sites / "shop-004.yaml").unlink()
    (sites / "shop-new.yaml").write_text(
        SITE.format(n="new", version="v2") + PRODUCT.format(i=0, version="v2", amount=1000),
        encoding="utf-8")


class FailingStep:
    """Makes the `fail_at`-th step of a commit fail as a full disk or a refusal would:
    each write (half written, then ENOSPC), rename, exchange and unlink that
    `Stager.commit` makes counts as one step. With `kill`, the process is SIGKILLed
    there instead (after half of a write)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int, kill: bool = False) -> None:
        self.fail_at, self.kill, self.steps, self.active = fail_at, kill, 0, False
        self.failed: str | None = None
        real_commit = output.Stager.commit

        def commit(stager, *args, **kwargs):
            self.active = True
            try:
                return real_commit(stager, *args, **kwargs)
            finally:
                self.active = False

        monkeypatch.setattr(output.Stager, "commit", commit)
        for owner, name in ((Path, "write_bytes"), (Path, "write_text")):
            monkeypatch.setattr(owner, name, self._write(getattr(owner, name), name))
        for owner, name in ((os, "replace"), (output, "_exchange"), (Path, "unlink")):
            monkeypatch.setattr(owner, name, self._step(getattr(owner, name), name))

    def _due(self, name: str) -> bool:
        if not self.active:
            return False
        self.steps += 1
        if self.steps != self.fail_at:
            return False
        self.failed = name
        return True

    def _fail(self, error: OSError) -> None:
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise error

    def _write(self, real, name: str):
        def write(path, data, *args, **kwargs):
            if self._due(name):
                real(path, data[:len(data) // 2], *args, **kwargs)
                self._fail(OSError(errno.ENOSPC, "No space left on device", str(path)))
            return real(path, data, *args, **kwargs)
        return write

    def _step(self, real, name: str):
        def step(*args, **kwargs):
            if self._due(name):
                self._fail(OSError(errno.EPERM, "Operation not permitted", str(args[0])))
            return real(*args, **kwargs)
        return step


@pytest.mark.parametrize("then", ["v2 again", "back to v1"])
def test_a_swap_failing_at_any_step_leaves_the_old_site_or_the_next_build_the_new_one(
        tmp_path: Path, then: str) -> None:
    failures: dict[str, int] = {}
    fail_at = 0
    while True:
        fail_at += 1
        case = tmp_path / str(fail_at)
        sites, out = case / "sites", case / "_site"
        publish_v1_and_write_v2(sites, out)
        old_site, old_manifest = snapshot(out), manifest(out)
        v2 = case / "v2" / "_site"
        pipeline.build(sites, v2)
        with pytest.MonkeyPatch.context() as monkeypatch:
            step = FailingStep(monkeypatch, fail_at)
            try:
                pipeline.build(sites, out)
            except OSError as exc:
                assert exc.errno in (errno.ENOSPC, errno.EPERM) and step.failed
            else:
                assert step.failed is None
                break  # every step of the commit has failed once
        failures[step.failed] = failures.get(step.failed, 0) + 1
        if not journal(out).exists():  # failed before the swaps: the old site, nothing else
            assert (snapshot(out), manifest(out)) == (old_site, old_manifest), fail_at
            assert leftovers(out) == [], fail_at
        if manifest(out) != old_manifest:  # the manifest never claims what is not on disk
            assert (manifest(out), snapshot(out)) == (manifest(v2), snapshot(v2)), fail_at
        if then == "back to v1":
            make_sites(sites, 5, "v1", products=1)
            (sites / "shop-new.yaml").unlink()
        pipeline.build(sites, out)
        exactly_built(sites, out, case)
    # The staged manifest and the journal written, the journal's rename, the directory
    # page and four folders exchanged, a new folder moved in, a deleted merchant's folder
    # moved out, the manifest's rename, the journal's unlink.
    assert failures == {"write_bytes": 1, "write_text": 1, "replace": 4, "_exchange": 5,
                        "unlink": 1}, failures


KILLED_AT_STEP = """\
import sys
import pytest
sys.path.insert(0, sys.argv.pop(1))
from test_output_atomic import FailingStep
from generator import cli
FailingStep(pytest.MonkeyPatch(), int(sys.argv.pop(1)), kill=True)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_build_killed_at_any_step_of_the_swap_leaves_the_old_site_or_the_next_build_the_new_one(
        tmp_path: Path) -> None:
    kill_at = 0
    while True:
        kill_at += 1
        case = tmp_path / str(kill_at)
        sites, out = case / "sites", case / "_site"
        publish_v1_and_write_v2(sites, out)
        old_site = snapshot(out)
        build = subprocess.run(
            [sys.executable, "-c", KILLED_AT_STEP, str(ROOT / "tests"), str(kill_at), "build",
             "--sites", str(sites), "--out", str(out)],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60)
        if build.returncode == 0:
            break  # killed once at every step
        assert build.returncode == -signal.SIGKILL, build.stderr
        if not journal(out).exists():
            assert snapshot(out) == old_site, kill_at
        pipeline.build(sites, out)
        exactly_built(sites, out, case)
    assert kill_at == 13


FINISHING = "{out}: finishing the publishing of a build that stopped part way"


def _chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", flag, str(path)], check=True, capture_output=True)


def _immutable_works(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        _chattr("+i", probe)
    except (OSError, subprocess.CalledProcessError):
        return False
    _chattr("-i", probe)
    return True


def cli_build(capsys: pytest.CaptureFixture[str], sites: Path, out: Path,
              *args: str) -> tuple[int, str, str]:
    from generator import cli

    code = cli.main(["build", "--sites", str(sites), "--out", str(out), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("target", ["_site/kspay-test", "_site/book-academy", "_site/index.html",
                                    "_site", ".kspay-_site.manifest"])
def test_an_immutable_target_stops_the_swap_and_the_build_after_the_fix_finishes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    """The red team's case: make one thing the swap must replace immutable (a merchant's
    folder, a deleted merchant's folder, the directory page, the output folder, the
    manifest) and build a change of two merchants and a deletion."""
    if not _immutable_works(tmp_path):
        pytest.skip("chattr +i needs root and a file system that supports it (ext4)")
    sites, out = tmp_path / "sites", tmp_path / "_site"
    shutil.copytree(SITES, sites)
    assert cli_build(capsys, sites, out)[0] == 0
    for name, old, new in (("jeju-orchard", "제주한라봉농원", "제주감귤농원"),
                           ("kspay-test", "당근10kg", "당근 10kg")):
        path = sites / f"{name}.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    (sites / "book-academy.yaml").unlink()
    locked = tmp_path / target
    _chattr("+i", locked)
    try:
        for attempt in range(2):  # the build after a failure fails the same way
            code, stdout, stderr = cli_build(capsys, sites, out)
            assert (code, stdout) == (1, ""), attempt
            lines = stderr.splitlines()
            if attempt:
                assert lines.pop(0) == FINISHING.format(out=out)
            error, last = lines
            assert error.startswith(f"{out}: cannot write the site: Operation not permitted (")
            assert str(locked) in error
            assert last == "1 error(s); publishing stopped part way: " \
                           "fix the cause and build again to finish it"
            assert journal(out).exists()
    finally:
        _chattr("-i", locked)
    code, stdout, stderr = cli_build(capsys, sites, out)
    assert (code, stderr) == (0, FINISHING.format(out=out) + "\n")
    assert stdout.endswith(": nothing changed\n")  # what the journal held was the build
    assert not (out / "book-academy").exists()
    assert "당근 10kg" in (out / "kspay-test" / "index.html").read_text(encoding="utf-8")
    exactly_built(sites, out, tmp_path)


def test_a_failure_before_the_swap_says_nothing_was_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    publish_v1_and_write_v2(sites, out)
    before = snapshot(out)
    FailingStep(monkeypatch, 2)  # the journal: half written, then the disk is full
    code, stdout, stderr = cli_build(capsys, sites, out)
    assert (code, stdout) == (1, "")
    assert stderr.splitlines()[-1] == "1 error(s); nothing was written"
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_a_journal_whose_staging_folder_is_gone_renders_everything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone deleted what the journal points at: the swaps it lists cannot be finished,
    and the manifest may describe units that were swapped already."""
    sites, out = tmp_path / "sites", tmp_path / "_site"
    publish_v1_and_write_v2(sites, out)
    with pytest.MonkeyPatch.context() as patch:
        FailingStep(patch, 5)  # the journal is written, some units are swapped
        with pytest.raises(OSError):
            pipeline.build(sites, out)
    [staging] = [p for p in leftovers(out) if ".staging-" in p]
    shutil.rmtree(tmp_path / staging)
    make_sites(sites, 5, "v1", products=1)
    (sites / "shop-new.yaml").unlink()
    report = pipeline.build(sites, out)
    assert report.pages == 5 * 2 + 8  # every site, the directory and the reference
    exactly_built(sites, out, tmp_path)


# --- one build at a time into an output ----------------------------------------------

# A build whose swaps are slow (each unit takes 0.3 s), so that another one can start
# while it swaps: the window the red team hit 1 time in 52 at normal speed.
SLOW_SWAPS = """\
import sys, time
from generator import cli, output
exchange = output._exchange
def slow(a, b):
    time.sleep(0.3)
    return exchange(a, b)
output._exchange = slow
sys.exit(cli.main(sys.argv[1:]))
"""


def _cli(sites: Path, out: Path, *args: str, code: str | None = None) -> subprocess.Popen:
    command = ["-c", code] if code else [str(ROOT / "build.py")]
    return subprocess.Popen(
        [sys.executable, *command, "build", "--sites", str(sites), "--out", str(out), *args],
        cwd=out.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def _start_slow_swap(sites: Path, out: Path) -> subprocess.Popen:
    """A build of v2 over v1, returned once it is swapping."""
    make_sites(sites, 6, "v1", products=1)
    pipeline.build(sites, out)
    make_sites(sites, 6, "v2", products=1)
    first = _cli(sites, out, code=SLOW_SWAPS)
    deadline = time.monotonic() + 60
    while not journal(out).exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the build never started swapping"
        time.sleep(0.002)
    return first


def test_a_second_build_into_the_same_output_waits_for_the_first(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    first = _start_slow_swap(sites, out)
    second = _cli(sites, out)
    second_out, second_err = second.communicate(timeout=120)
    first_out, first_err = first.communicate(timeout=120)
    assert (first.returncode, first_err) == (0, "")
    assert first_out.endswith("12 page(s) rendered, 12 file(s) written, 0 unchanged, 0 removed\n")
    assert (second.returncode, second_err) == (0, f"{out}: another build is writing it; "
                                                  "waiting until it ends\n")
    assert second_out.endswith(": nothing changed\n"), "it planned before the first published"
    exactly_built(sites, out, tmp_path)


def test_no_wait_refuses_while_another_build_writes_the_output(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    first = _start_slow_swap(sites, out)
    second = _cli(sites, out, "--no-wait")
    second_out, second_err = second.communicate(timeout=120)
    assert (second.returncode, second_out) == (1, "")
    assert second_err == (f"{out}: another build is writing it; not waiting (--no-wait)\n"
                          "1 error(s); nothing was written\n")
    assert first.wait(timeout=120) == 0
    exactly_built(sites, out, tmp_path)


# --- what builds leave -----------------------------------------------------------------

# Killed right after it published: the manifest is in place, the journal deleted, and
# the staging folder (the old units) not yet removed.
KILLED_BEFORE_CLEANUP = """\
import os, shutil, signal, sys
from generator import cli
shutil.rmtree = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_build_with_nothing_to_do_removes_what_a_killed_build_left(tmp_path: Path) -> None:
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 3, "v1", products=1)
    pipeline.build(sites, out)
    make_sites(sites, 3, "v2", products=1)
    killed = _cli(sites, out, code=KILLED_BEFORE_CLEANUP)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert [p for p in leftovers(out) if ".staging-" in p], "the killed build left its staging"
    report = pipeline.build(sites, out)
    assert (report.rebuilt, report.removed) == (0, 0)
    exactly_built(sites, out, tmp_path)


def test_workers_that_outlive_a_killed_build_do_not_hold_the_output(tmp_path: Path) -> None:
    """SIGKILL to the build alone (not its group): its worker processes live on, and the
    lock must not live on in them."""
    sites, out = tmp_path / "sites", tmp_path / "_site"
    make_sites(sites, 60, "v1", products=1)  # enough to render in worker processes
    pipeline.build(sites, out)
    make_sites(sites, 60, "v2", products=1)
    build = _start_build(sites, out)
    try:
        deadline = time.monotonic() + 60
        while not _staging_has_files(out, build.pid):
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never started staging"
            time.sleep(0.002)
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
        pipeline.build(sites, out, wait=False)  # OutputBusy if a worker kept the lock
    finally:
        with contextlib.suppress(ProcessLookupError):  # the workers, in the build's group
            os.killpg(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
    pipeline.build(sites, out)
    exactly_built(sites, out, tmp_path)
