"""Writing the site: all or nothing, one build at a time, unchanged files untouched.

A build publishes in these steps:

1. `hold(out)`: take the output's lock (`.kspay-<out>.lock` beside it) for the whole
   build; a second build into the same output waits for it, or is refused.
2. `finish_interrupted_commit(out)`: a build that stopped while it swapped (killed, or a
   swap that failed) left a journal; its swaps are finished before anything is read.
3. `remove_leftovers(out)`: the staging folders of builds that were killed.
4. A `Stager` makes this build's staging folder beside the output and pages are written
   into it (`UnitWriter`); a file whose bytes equal the published one is hard-linked
   from it instead, so its inode and mtime stay as they were.
5. `Stager.commit()` writes the journal (units to swap in, units to remove, the
   manifest), then carries it out: each unit is swapped into place (renameat2
   RENAME_EXCHANGE on Linux: readers never see a unit missing), deleted merchants are
   moved out, the manifest is put in place last, then the journal and the staging
   folder (holding what was replaced) are deleted.

A failure before the journal is written publishes nothing (`discard()`). From the
journal on, the swap is owed: a failure or a kill leaves the journal and the staging
folder, and step 2 of the next build finishes them. So the manifest never describes
units that are not on disk, and each step of the swap can be repeated safely.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def sidecar(out_dir: Path, kind: str) -> Path:
    """A file the build keeps beside the output: `.kspay-<out>.manifest`, `.lock`,
    `.journal.json`, the image cache `.images/` and the staging folders
    `.kspay-<out>.staging-<pid>-<random>`."""
    return out_dir.parent / f".kspay-{out_dir.name}.{kind}"


UNFINISHED = ".tmp"  # in the image cache: files being written, moved in when whole


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


class OutputBusy(Exception):
    """Another build is writing the output, and this one was told not to wait."""


_HELD: set[int] = set()  # descriptors of the output locks this process holds


def _close_held_locks() -> None:
    # A worker forked during a build inherits the lock's descriptor; without closing it,
    # a worker that outlives a killed build would hold the lock for good.
    for fd in _HELD:
        os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held_locks)


@contextlib.contextmanager
def hold(out_dir: Path, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive lock of `out_dir` (an flock, released when the process ends,
    killed or not); if another build holds it, wait, saying so on stderr, or with
    `wait=False` raise `OutputBusy`."""
    path = sidecar(out_dir, "lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise OutputBusy(f"{out_dir}: another build is writing it; "
                                 "not waiting (--no-wait)") from None
            print(f"{out_dir}: another build is writing it; waiting until it ends",
                  file=sys.stderr, flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _HELD.add(fd)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)


def remove_leftovers(out_dir: Path) -> None:
    """Delete the staging folders of killed builds and the image files they were writing.
    Call it holding the output's lock and after `finish_interrupted_commit`: then none
    of them is in use."""
    prefix = sidecar(out_dir, "staging-").name
    for name in os.listdir(out_dir.parent):
        if name.startswith(prefix):
            shutil.rmtree(out_dir.parent / name, ignore_errors=True)
    if os.path.isdir(unfinished := sidecar(out_dir, "images") / UNFINISHED):
        shutil.rmtree(unfinished, ignore_errors=True)


class UnitWriter:
    """Writes staged files; plain paths only, so build workers in other processes use it."""

    def __init__(self, root: Path, out_dir: Path) -> None:
        self.written = 0  # new or changed files
        self.kept = 0  # identical to the published ones (hard-linked)
        self.root = root
        self.out_dir = out_dir if out_dir.is_dir() else None
        self._folders: set[Path] = set()  # made already: each once

    def write(self, relpath: str, data: bytes) -> None:
        target = self.root / relpath
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        if self.out_dir is not None and self._link_if_same(self.out_dir / relpath, target, data):
            self.kept += 1
            return
        with open(target, "xb") as f:
            f.write(data)
        self.written += 1

    @staticmethod
    def _link_if_same(published: Path, target: Path, data: bytes) -> bool:
        try:
            if os.stat(published).st_size != len(data):
                return False
            with open(published, "rb") as f:
                if f.read() != data:
                    return False
            os.link(published, target)
            return True
        except OSError:
            return False  # absent, unreadable or on another device: write a fresh copy


class Stager:
    """One build's staged units, in a staging folder made when the first is staged;
    `commit()` publishes them, `discard()` forgets them."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir.resolve()
        self._root: Path | None = None
        self.written = 0  # files new or changed, summed over the UnitWriters of the build
        self.kept = 0  # files identical to the published ones

    @property
    def root(self) -> Path:
        if self._root is None:
            self.out_dir.parent.mkdir(parents=True, exist_ok=True)
            self._root = Path(tempfile.mkdtemp(
                prefix=sidecar(self.out_dir, f"staging-{os.getpid()}-").name,
                dir=self.out_dir.parent))
        return self._root

    def add_counts(self, written: int, kept: int) -> None:
        """Files a `UnitWriter` (in a worker or here) wrote into this staging folder."""
        self.written += written
        self.kept += kept

    def commit(self, remove: list[str], manifest: bytes) -> None:
        """Swap every staged unit into the output, remove the `remove` units, then put
        `manifest` in place: all recorded first in the journal."""
        root = self.root
        units = sorted(os.listdir(root))
        (root / ".manifest").write_bytes(manifest)
        plan = {"staging": str(root), "out": str(self.out_dir), "units": units,
                "inodes": {u: os.lstat(root / u).st_ino for u in units},
                "remove": sorted(set(remove) - set(units))}
        (root / ".journal").write_text(json.dumps(plan), encoding="utf-8")
        os.replace(root / ".journal", sidecar(self.out_dir, "journal.json"))
        self._root = None  # the journal owns the staging folder now: never discarded
        _carry_out(plan)

    def discard(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


def _carry_out(plan: dict) -> None:
    """Do (or finish) a journal's swaps; each step can be repeated safely."""
    root, out = Path(plan["staging"]), Path(plan["out"])
    out.mkdir(parents=True, exist_ok=True)
    for unit in plan["units"]:
        staged, target = root / unit, out / unit
        try:
            if os.lstat(staged).st_ino != plan["inodes"][unit]:
                continue  # swapped already: this is the unit it replaced
        except FileNotFoundError:
            continue  # moved in already
        if not os.path.lexists(target):
            os.replace(staged, target)
        elif not _exchange(staged, target):
            os.replace(target, root / f".old-{unit}")
            os.replace(staged, target)
    for unit in plan["remove"]:
        if os.path.lexists(out / unit):
            os.replace(out / unit, root / f".removed-{unit}")
    if os.path.lexists(root / ".manifest"):
        os.replace(root / ".manifest", sidecar(out, "manifest"))
    sidecar(out, "journal.json").unlink()
    shutil.rmtree(root, ignore_errors=True)  # what the swaps replaced


def finish_interrupted_commit(out_dir: Path) -> bool:
    """Finish the swaps of a build that stopped while publishing. False when its journal
    cannot be carried out (its staging folder was deleted, or the journal is torn):
    then the manifest may describe units that were not swapped, and must not be trusted."""
    journal = sidecar(out_dir, "journal.json")
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return True
    except ValueError:
        plan = None
    if plan is None or not os.path.isdir(plan["staging"]):
        journal.unlink()
        return False
    print(f"{out_dir}: finishing the publishing of a build that stopped part way",
          file=sys.stderr, flush=True)
    _carry_out(plan)
    return True
