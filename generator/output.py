"""Writing the site: all or nothing, and unchanged files untouched.

A build writes the units it rebuilds (a site's folder `<slug>/`, `index.html`,
`reference/`, `static/`) into a staging folder beside the output; the published site
is not touched while pages render. A staged file whose bytes equal the published one is
hard-linked from it instead of written, so its inode and mtime stay as they were.

Publishing swaps each staged unit into place (renameat2 RENAME_EXCHANGE on Linux:
readers never see a unit missing) after writing a journal of the swaps. A build killed
while it renders leaves the published site exactly as it was; one killed during the
swaps leaves a journal, and the next build finishes those swaps before it does anything
else (`finish_interrupted_commit`). Staging folders of dead builds are removed by the next
build.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
STAGING_PREFIX = ".staging-"


def sidecar(out_dir: Path, kind: str) -> Path:
    """A file the build keeps beside the output: `.kspay-<out>.manifest`, `.journal.json`."""
    return out_dir.parent / f".kspay-{out_dir.name}.{kind}"


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
    raise OSError(err, os.strerror(err), str(a))


def _lock(folder: Path) -> int | None:
    """Hold an exclusive lock on `folder` (its open descriptor), or None if another
    process holds it. A running build keeps its staging folder locked; the lock dies
    with the process, so a folder nobody locks is a leftover, whatever pid its name has
    (pids are reused, and in a container every build may be pid 1)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


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
        self.parent = self.out_dir.parent
        self.journal = sidecar(self.out_dir, "journal.json")
        self._root: Path | None = None
        self._lock_fd: int | None = None
        self.written = 0  # files new or changed, summed over the UnitWriters of the build
        self.kept = 0  # files identical to the published ones

    @property
    def root(self) -> Path:
        if self._root is None:
            import tempfile

            self.parent.mkdir(parents=True, exist_ok=True)
            self._remove_stale_staging()
            self._root = Path(tempfile.mkdtemp(prefix=f"{self._prefix()}{os.getpid()}-",
                                               dir=self.parent))
            self._lock_fd = _lock(self._root)
        return self._root

    def _prefix(self) -> str:
        return f"{STAGING_PREFIX}{self.out_dir.name}-"

    def _remove_stale_staging(self) -> None:
        for stale in self.parent.glob(self._prefix() + "*"):
            if stale.is_dir() and not stale.is_symlink() and (fd := _lock(stale)) is not None:
                shutil.rmtree(stale, ignore_errors=True)  # nobody builds in it any more
                os.close(fd)

    def add_counts(self, written: int, kept: int) -> None:
        """Files a `UnitWriter` (in a worker or here) wrote into this staging folder."""
        self.written += written
        self.kept += kept

    def commit(self, remove: list[str] = (), extra: dict[Path, bytes] | None = None) -> None:
        """Swap every staged unit into the output, remove `remove` units, then write
        `extra` files beside it (the manifest) — all recorded first in a journal."""
        units = sorted(p.name for p in self.root.iterdir())
        extras = []
        for i, (path, data) in enumerate(sorted((extra or {}).items())):
            staged = self.root / f".extra{i}"  # not a unit: listed before it is written
            staged.write_bytes(data)
            extras.append([str(staged), str(path)])
        plan = {"staging": str(self.root), "out": str(self.out_dir), "units": units,
                "inodes": {u: os.lstat(self.root / u).st_ino for u in units},
                "remove": sorted(set(remove) - set(units)), "extras": extras}
        temporary = self.journal.with_suffix(".tmp")
        temporary.write_text(json.dumps(plan), encoding="utf-8")
        os.replace(temporary, self.journal)
        _carry_out(plan)
        self._unlock()

    def discard(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._unlock()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _carry_out(plan: dict) -> None:
    """Do (or finish) a journal's swaps; each step can be repeated safely."""
    root, out = Path(plan["staging"]), Path(plan["out"])
    out.mkdir(parents=True, exist_ok=True)
    for unit in plan["units"]:
        staged = root / unit
        try:
            not_yet = os.lstat(staged).st_ino == plan["inodes"][unit]
        except FileNotFoundError:
            not_yet = False
        if not not_yet:
            continue
        target = out / unit
        if os.path.lexists(target):
            if not _exchange(staged, target):
                old = root / f".old-{unit}"
                os.replace(target, old)
                os.replace(staged, target)
        else:
            os.replace(staged, target)
    for unit in plan["remove"]:
        target = out / unit
        if os.path.lexists(target):
            os.replace(target, root / f".removed-{unit}")
    for staged, path in plan["extras"]:
        if os.path.exists(staged):
            os.replace(staged, path)
    sidecar(out, "journal.json").unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)  # what the swaps replaced


def finish_interrupted_commit(out_dir: Path) -> None:
    """The first step of every build: finish the swaps of a build killed while publishing."""
    journal = sidecar(out_dir, "journal.json")
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except ValueError:
        journal.unlink()  # written before its rename finished: nothing was swapped yet
        return
    _carry_out(plan)
