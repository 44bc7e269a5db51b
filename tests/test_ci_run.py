"""`.ci/run` on a machine where Chromium is there and its CJK fonts are not: it installs
them. Run with every command it calls stubbed (PATH holds only the stubs and a few plain
tools), so it touches no package, database or test run of this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

REAL_TOOLS = ("dirname", "grep", "seq", "sleep")
STUBS = {
    # Installed or not, as the test says.
    "dpkg-query": 'if [ "$FONTS" = yes ]; then printf "install ok installed"; '
                  'else echo "dpkg-query: no packages found matching $4" >&2; exit 1; fi',
    "apt-get": 'echo "apt-get $*" >> "$LOG"',
    "pg_lsclusters": "echo '15  main    5432 online postgres /var/lib/postgresql/15/main x'",
    "pg_ctlcluster": "exit 0",
    "pg_createcluster": 'echo "pg_createcluster $*" >> "$LOG"',
    "su": 'cat > /dev/null; echo "su $1" >> "$LOG"',
    "make": 'echo "make $* browser=$KSPAY_REQUIRE_BROWSER" >> "$LOG"',
}


def ci_run(tmp_path: Path, fonts_installed: bool) -> list[str]:
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in REAL_TOOLS:
        (stubs / name).symlink_to(shutil.which(name))
    for name, body in STUBS.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (stubs / name).chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {"PATH": str(stubs), "LOG": str(log), "FONTS": "yes" if fonts_installed else "no"}
    result = subprocess.run(["/bin/bash", str(ROOT / ".ci" / "run")], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return log.read_text(encoding="utf-8").splitlines()


def expected_install(fonts_installed: bool) -> list[str]:
    """What apt-get must install here: besides the fonts, what this machine lacks."""
    missing = [] if os.path.exists("/usr/bin/chromium") else ["chromium"]
    missing += [] if fonts_installed else ["fonts-noto-cjk"]
    missing += [] if os.path.exists("/usr/lib/postgresql/15/bin/postgres") else ["postgresql"]
    if not missing:
        return []
    return ["apt-get update -qq",
            "apt-get install -y -qq --no-install-recommends " + " ".join(missing)]


@pytest.mark.parametrize("fonts_installed", [False, True], ids=["no-fonts", "fonts"])
def test_ci_installs_the_cjk_fonts_whenever_they_are_missing(tmp_path: Path,
                                                              fonts_installed: bool) -> None:
    log = ci_run(tmp_path, fonts_installed)
    installs = [line for line in log if line.startswith("apt-get")]
    assert installs == expected_install(fonts_installed)
    assert log[-1] == "make test browser=1"
