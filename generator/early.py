"""A renderer process forked before the build plans, so the renderer's imports overlap.

Importing pydantic, jinja2 and Markdown takes about 0.3 s, longer than deciding what
changed among 10,000 merchants. A build in a fresh process forks this helper first;
the helper imports the renderer while the build plans, then renders the few changed
units it is sent. A build with nothing to do kills it unused.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from multiprocessing import Pipe
from typing import Any


class EarlyRenderer:
    def __init__(self) -> None:
        self._conn, child = Pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper: never return into the parent's code
            status = 1
            try:
                self._conn.close()
                _serve(child)
                status = 0
            finally:
                os._exit(status)
        child.close()

    @classmethod
    def start(cls) -> EarlyRenderer | None:
        """A helper, where it helps: not once the renderer is imported in this process."""
        if "generator.sitebuild" in sys.modules or not hasattr(os, "fork"):
            return None
        return cls()

    def call(self, name: str, *args: Any) -> Any:
        """Run `sitebuild.<name>(*args)` in the helper and return its result."""
        self._conn.send((name, args))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"the renderer process failed:\n{value}")
        return value

    def close(self) -> None:
        """Stop the helper now: done, or not needed (it may still be importing)."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0
            self._conn.close()


def _serve(conn: Any) -> None:
    from . import sitebuild  # the slow part, while the parent plans

    while True:
        try:
            name, args = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", getattr(sitebuild, name)(*args)))
        except BaseException:  # noqa: BLE001 - reported to the parent, which raises
            conn.send(("error", traceback.format_exc()))
