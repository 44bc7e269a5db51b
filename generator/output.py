"""Writing the site: all or nothing, and unchanged files untouched.

A build writes into a staging folder beside the output. A file whose bytes equal the
published one is hard-linked from it instead of written, so its inode and mtime stay
as they were. Only when every page is staged does the staging folder take the output's
place, in one atomic exchange (renameat2 RENAME_EXCHANGE on Linux); a failed or killed
build leaves the published site as it was. Staging folders left by a killed build are
removed by the next one.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
STAGING_PREFIX = ".staging-"


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
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


class Stager:
    """Collects one build's files; `commit()` publishes them together."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir.resolve()
        self.parent = self.out_dir.parent
        self.parent.mkdir(parents=True, exist_ok=True)
        self._remove_stale_staging()
        self.root = Path(tempfile.mkdtemp(prefix=f"{self._prefix()}{os.getpid()}-",
                                          dir=self.parent))
        self.written = 0  # files whose bytes changed or are new
        self.kept = 0  # files identical to the published ones
        self.paths: set[str] = set()

    def _prefix(self) -> str:
        return f"{STAGING_PREFIX}{self.out_dir.name}-"

    def _remove_stale_staging(self) -> None:
        for stale in self.parent.glob(self._prefix() + "*"):
            pid = stale.name[len(self._prefix()):].split("-", 1)[0]
            if not _process_alive(pid):
                shutil.rmtree(stale, ignore_errors=True)

    def write(self, relpath: str, data: bytes) -> None:
        if relpath in self.paths:
            raise ValueError(f"two outputs would be written to {relpath}")
        self.paths.add(relpath)
        target = self.root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        published = self.out_dir / relpath
        try:
            if published.is_file() and not published.is_symlink() \
                    and published.stat().st_size == len(data) and published.read_bytes() == data:
                os.link(published, target)
                self.kept += 1
                return
        except OSError:
            pass  # unreadable or cross-device: write a fresh copy below
        target.write_bytes(data)
        self.written += 1

    @property
    def removed(self) -> int:
        """Published files that this build no longer has."""
        if not self.out_dir.is_dir():
            return 0
        return sum(1 for p in self.out_dir.rglob("*")
                   if p.is_file() and str(p.relative_to(self.out_dir)) not in self.paths)

    def commit(self) -> None:
        if self.out_dir.exists() and _exchange(self.root, self.out_dir):
            shutil.rmtree(self.root)  # now holds the previous site
            return
        if self.out_dir.exists():
            old = self.parent / f"{self._prefix()}{os.getpid()}-old"
            os.replace(self.out_dir, old)
            os.replace(self.root, self.out_dir)
            shutil.rmtree(old)
        else:
            os.replace(self.root, self.out_dir)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Stager":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.discard()


def _process_alive(pid_text: str) -> bool:
    """Whether the build that made a staging folder (its pid is in the name) still runs."""
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
