"""The dev server: serves on 127.0.0.1, rebuilds on change, shows and recovers from errors."""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import SITES
from generator.devserver.server import HOST, DevServer


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as rsp:
            return rsp.status, rsp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture()
def dev(tmp_path: Path) -> Iterator[tuple[DevServer, Path, list[str]]]:
    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    lines: list[str] = []
    server = DevServer(sites, port=0, log=lines.append)
    server.start()
    yield server, sites, lines
    server.stop()


def test_serves_the_built_site_on_loopback_with_live_reload(dev: tuple[DevServer, Path, list[str]]) -> None:
    server, _, lines = dev
    assert server.base.startswith(f"http://{HOST}:")
    status, html = get(server.base + "/kspay-test/carrot-10kg/")
    assert status == 200
    assert '<script src="/__kspay/static/reload.js" defer></script>' in html
    assert 'action="https://kspay.ksnet.to/store/KSPayMobileV1.4/KSPayPWeb.jsp"' in html
    assert get(server.base + "/__kspay/static/reload.js")[0] == 200
    assert get(server.base + "/../../etc/passwd")[0] == 404
    assert lines[0].startswith("built 3 site(s) into ")
    assert lines[0].endswith(": 30 page(s) rendered, 45 file(s) written, 0 unchanged, 0 removed")


def test_rebuilds_on_change_and_recovers_from_an_error(dev: tuple[DevServer, Path, list[str]]) -> None:
    server, sites, lines = dev
    version = int(get(server.base + "/__kspay/version")[1])
    path = sites / "kspay-test.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("name: 당근10kg", "name: 당근10kg 햇당근"), encoding="utf-8")
    wait_for(lambda: int(get(server.base + "/__kspay/version")[1]) == version + 1)
    assert "당근10kg 햇당근" in get(server.base + "/kspay-test/carrot-10kg/")[1]

    path.write_text(good.replace('id: "2999199999"', 'id: "29991"'), encoding="utf-8")
    wait_for(lambda: get(server.base + "/kspay-test/")[0] == 500)
    status, html = get(server.base + "/jeju-orchard/")
    assert status == 500
    assert "store.id: must be exactly 10 digits, got &#39;29991&#39;" in html
    assert '<script src="/__kspay/static/reload.js" defer></script>' in html
    assert any(line.endswith("store.id: must be exactly 10 digits, got '29991'") for line in lines)

    path.write_text(good, encoding="utf-8")
    wait_for(lambda: get(server.base + "/kspay-test/")[0] == 200)
    assert "당근10kg 햇당근" not in get(server.base + "/kspay-test/carrot-10kg/")[1]


def test_template_change_rebuilds(tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    shutil.copytree(Path(__file__).resolve().parents[1] / "themes", themes)
    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    server = DevServer(sites, port=0, themes_dir=themes, log=lambda line: None)
    server.start()
    try:
        footer = themes / "default" / "templates" / "base.html"
        footer.write_text(footer.read_text(encoding="utf-8").replace(
            "결제는 KSNET KSPay 결제창에서 진행됩니다.", "테스트 문구"), encoding="utf-8")
        wait_for(lambda: "테스트 문구" in get(server.base + "/")[1])
    finally:
        server.stop()


def test_sigterm_stops_serve_and_removes_its_temporary_folder(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    serve = subprocess.Popen(
        [sys.executable, str(ROOT / "build.py"), "serve", "--port", "0", "--sites", str(sites)],
        cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp)}, stderr=subprocess.PIPE, text=True)
    try:
        lines = [serve.stderr.readline(), serve.stderr.readline()]
        assert lines[1].startswith("serving "), lines
        [folder] = tmp.glob("kspay-serve-*")
        assert (folder / "_site" / "index.html").is_file()
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=20) == 0
        assert serve.stderr.read() == "stopped\n"
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert list(tmp.iterdir()) == []


def test_stop_waits_for_a_rebuild_in_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild still running when the server stops would make the temporary folder
    again after it was removed: stop() lets it finish first."""
    import tempfile
    import threading

    from generator.devserver import server as server_module

    real = server_module.pipeline.build
    calls: list[int] = []
    rebuilding, finished = threading.Event(), threading.Event()

    def slow_second_build(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the watcher's rebuild, after the edit below
            rebuilding.set()
            time.sleep(0.5)  # stop() is called meanwhile
        try:
            return real(*args, **kwargs)
        finally:
            if len(calls) == 2:
                finished.set()

    monkeypatch.setattr(server_module.pipeline, "build", slow_second_build)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    sites = tmp_path / "sites"
    shutil.copytree(SITES, sites)
    server = DevServer(sites, port=0, log=lambda line: None)
    server.start()
    path = sites / "kspay-test.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("당근10kg", "햇당근"), encoding="utf-8")
    assert rebuilding.wait(10)
    server.stop()
    assert finished.wait(10)
    assert list(tmp.iterdir()) == []
