"""The skip-or-fail contract of this folder's conftest, run in a small pytest of its own:
no Chromium means a skip with the reason, unless KSPAY_REQUIRE_BROWSER=1 says the
browser tests must run (CI), where it is a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MISSING = "/nonexistent/chromium"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = -ra -p no:cacheprovider\nmarkers =\n    browser: needs Chromium\n")
    (tmp_path / "test_page.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.browser\ndef test_in_browser():\n    pass\n\n"
        "def test_plain():\n    pass\n")
    return tmp_path


def run(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "KSPAY_REQUIRE_BROWSER"}
    environ.update(KSPAY_CHROMIUM=MISSING, COLUMNS="300", **env)
    return subprocess.run([sys.executable, "-m", "pytest", str(project)], cwd=project,
                          env=environ, capture_output=True, text=True, timeout=120)


def test_without_chromium_browser_tests_are_skipped_with_the_reason(project: Path) -> None:
    result = run(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SKIPPED [1] test_page.py:3: Chromium not found at {MISSING}" in result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "browser tests skipped" in result.stdout


def test_with_the_browser_required_a_skip_fails_the_run(project: Path) -> None:
    result = run(project, KSPAY_REQUIRE_BROWSER="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (f"KSPAY_REQUIRE_BROWSER=1 and this browser test was skipped: "
            f"Chromium not found at {MISSING}") in result.stdout
    assert "1 passed, 1 error" in result.stdout  # failed in setup: an error
    assert "browser tests FAILED the run" in result.stdout
