"""`kspay-pages serve`: build into a temporary folder, serve it on 127.0.0.1, rebuild on change.

Open pages reload themselves after each rebuild (a small polling script that only dev
builds carry). A failed build shows its errors in the terminal and, in the browser, as
an error page that reloads once the file is fixed. With `--sandbox` the order forms post
to the local sandbox window and sndReply points at the payments service (the real one,
`generator.payments`, over a temporary SQLite store, with the sandbox as recv_post), so
a whole payment runs on this machine through the code that runs in production.
"""

from __future__ import annotations

import mimetypes
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .. import pipeline
from ..theme import THEMES_DIR
from ..reference import DATA_DIR as REFERENCE_DIR
from . import sandbox
from .pages import CSP, SITE_CSP, STATIC, STATIC_URL, render_page

if TYPE_CHECKING:
    from ..payments.service import PaymentsApp

HOST = "127.0.0.1"
# The names this machine's browser may use for the server. A page elsewhere can point
# its own host name at 127.0.0.1 (DNS rebinding): its requests carry that name.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# No path on disk holds a control character; pathlib refuses a NUL outright.
_CONTROL = re.compile("[\x00-\x1f\x7f]")
VERSION_PATH = "/__kspay/version"
RELOAD_PATH = STATIC_URL + "reload.js"

StartResponse = Callable[..., object]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass


def _snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.rglob("*"):
                try:
                    stat = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


class DevServer:
    def __init__(self, sites_dir: Path, port: int = 8000, use_sandbox: bool = False,
                 themes_dir: Path = THEMES_DIR, log: Callable[[str], None] | None = None) -> None:
        self.sites_dir = sites_dir
        self.themes_dir = themes_dir
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._tmp = tempfile.TemporaryDirectory(prefix="kspay-serve-")
        self.out_dir = Path(self._tmp.name) / "_site"
        self.sandbox = sandbox.Sandbox() if use_sandbox else None
        self.httpd = make_server(HOST, port, self.app, server_class=_ThreadingServer,
                                 handler_class=_QuietHandler)
        self.base = f"http://{HOST}:{self.httpd.server_port}"
        self.hosts = {f"{name}:{self.httpd.server_port}" for name in LOOPBACK_NAMES}
        self.payments: PaymentsApp | None = None
        reply_url = None
        if use_sandbox:  # imported only here: the service needs the [payments] extra
            from ..payments.service import RESULT_PATH, build_app
            from ..payments.store import PaymentStore

            store = PaymentStore(f"sqlite:///{Path(self._tmp.name) / 'payments.sqlite3'}")
            self.payments = build_app(sites_dir, store, sandbox.recv_post_url(self.base),
                                      pages_url=self.base + "/", themes_dir=themes_dir,
                                      notify=False)
            reply_url = self.base + RESULT_PATH
        self.options = pipeline.BuildOptions(
            form_action=self.base + sandbox.WINDOW_PATH if use_sandbox else None,
            reply_url=reply_url, live_reload=RELOAD_PATH)
        self.version = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []  # the watcher and the HTTP server

    # --- building -----------------------------------------------------------------

    def rebuild(self) -> bool:
        try:
            report = pipeline.build(self.sites_dir, self.out_dir, self.themes_dir, self.options,
                                    start_method="forkserver")  # threads run here
        except pipeline.BuildFailed as exc:
            errors = exc.errors
        except Exception as exc:  # a broken template must not stop the server
            errors = [f"{type(exc).__name__}: {exc}"]
        else:
            errors = []
            for line in report.warnings:
                self.log(line)
            self.log(report.summary(self.out_dir))
        with self._lock:
            self.errors = errors
            self.version += 1
        for line in errors:
            self.log(line)
        if errors:
            self.log(f"{len(errors)} error(s); fix the file and the page reloads")
        return not errors

    def _watched(self) -> list[Path]:
        return [self.sites_dir, self.themes_dir, REFERENCE_DIR]

    def watch(self, seen: dict[str, tuple[int, int]], interval: float = 0.25,
              settle: float = 0.2) -> None:
        """Rebuild whenever the watched files differ from `seen` (taken before the build
        it belongs to, so that an edit made during that build is not missed)."""
        folders = self._watched()
        while not self._stop.wait(interval):
            now = _snapshot(folders)
            if now == seen:
                continue
            while not self._stop.wait(settle):  # debounce: wait until editors finish writing
                again = _snapshot(folders)
                if again == now:
                    break
                now = again
            seen = now
            self.rebuild()

    def start(self) -> None:
        seen = _snapshot(self._watched())
        self.rebuild()
        self._threads = [threading.Thread(target=self.watch, args=(seen,), daemon=True),
                         threading.Thread(target=self.httpd.serve_forever, daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop serving and watching, then remove the temporary folder. A rebuild in
        progress is waited for: it would make the folder again after it was removed."""
        self._stop.set()
        if self._threads:  # shutdown() waits for a serve_forever that has started
            self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join()
        if self.payments is not None:
            self.payments.payments.store.engine.dispose()
        self._tmp.cleanup()

    # --- serving --------------------------------------------------------------------

    def app(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if environ.get("HTTP_HOST", "").lower() not in self.hosts:
            return _send(start_response, "421 Misdirected Request",
                         f"this server answers only as {self.base}/\n".encode(),
                         "text/plain; charset=utf-8")
        if _CONTROL.search(path):
            return _send(start_response, "400 Bad Request", b"a control character in the path\n",
                         "text/plain; charset=utf-8")
        if path == VERSION_PATH:
            with self._lock:
                body = str(self.version).encode()
            return _send(start_response, "200 OK", body, "text/plain; charset=utf-8")
        if path.startswith(STATIC_URL):
            return self._file(STATIC, path[len(STATIC_URL):], start_response)
        if self.sandbox is not None and self.sandbox.handles(path):
            return self.sandbox(environ, start_response)
        if self.payments is not None and path.startswith("/kspay/"):
            return self.payments(environ, start_response)
        with self._lock:
            errors = list(self.errors)
        if errors and (path.endswith("/") or path.endswith(".html")):
            page = render_page("build_error.html", errors=errors, reload=RELOAD_PATH)
            return _send(start_response, "500 Internal Server Error", page.encode("utf-8"),
                         "text/html; charset=utf-8")
        return self._file(self.out_dir, path.lstrip("/"), start_response, SITE_CSP)

    def _file(self, root: Path, relpath: str, start_response: StartResponse,
              csp: str = CSP) -> Iterable[bytes]:
        missing = (start_response, "404 Not Found", "페이지가 없습니다.".encode(),
                   "text/plain; charset=utf-8")
        try:
            base = root.resolve()
            target = (root / relpath).resolve()
            if not target.is_relative_to(base):
                return _send(*missing)
            if target.is_dir():
                if relpath and not relpath.endswith("/"):
                    # To the folder as it is on disk: what was asked for may hold .. or a
                    # backslash, which a browser reads as // (another host).
                    inside = target.relative_to(base).as_posix()
                    where = "/" if inside == "." else f"/{quote(inside)}/"
                    start_response("301 Moved Permanently", [
                        ("Location", where), ("Content-Length", "0"),
                        ("Content-Security-Policy", CSP)])
                    return [b""]
                target = target / "index.html"
            if not target.is_file():
                return _send(*missing)
            body = target.read_bytes()
        except (OSError, ValueError, RuntimeError):  # a name too long, a loop of links
            return _send(*missing)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        return _send(start_response, "200 OK", body, kind, csp)

    def serve_forever(self) -> None:
        # SIGTERM (kill, a service manager) stops the server as Ctrl+C does, so that the
        # temporary folder is removed either way.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.start()
            mode = " with the sandbox KSPay window" if self.sandbox else ""
            self.log(f"serving {self.sites_dir} at {self.base}/{mode}; Ctrl+C stops")
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.log("stopped")
        finally:
            self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _send(start_response: StartResponse, status: str, body: bytes, content_type: str,
          csp: str = CSP) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
                            ("Content-Security-Policy", csp)])
    return [body]
