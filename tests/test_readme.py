"""What a new user reads first: the README's commands are the ones that work."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_says_where_make_build_puts_the_command() -> None:
    venv = re.search(r"^VENV := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"`{venv}/bin/kspay-pages check sites/`" in README
    assert f"`source {venv}/bin/activate`" in README


def test_readme_says_sites_holds_examples_and_how_to_publish_only_the_shops() -> None:
    assert "The files in `sites/` are examples" in README
    assert "delete them\nor replace them with your own merchant files" in README
    assert "`build --no-reference`" in README
    help_text = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--no-reference" in help_text


def test_readme_explains_accept_charset_on_mb2_pages() -> None:
    assert 'An mb2 merchant\'s order form carries `accept-charset="EUC-KR"`' in README
    assert "The Nu\nHTML checker reports it as an error" in README
