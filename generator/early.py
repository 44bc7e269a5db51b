"""A renderer process forked at the start of a build, so the renderer's imports overlap.

Importing pydantic, jinja2 and PyYAML takes about 0.25 s, longer than deciding what
changed among 10,000 merchants. A build in a fresh process forks this helper first
(the command line does so before it imports the build itself); the helper imports the
renderer while the build plans, then renders the few changed units it is sent. A build
with nothing to do kills it unused. Plain pipes and pickle: `multiprocessing` alone
would cost the build 15 ms of imports.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import IO, Any


class EarlyRenderer:
    def __init__(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper: never return into the parent's code
            status = 1
            try:
                os.close(request_write)
                os.close(reply_read)
                with os.fdopen(request_read, "rb") as requests, \
                        os.fdopen(reply_write, "wb") as replies:
                    _serve(requests, replies)
                status = 0
            finally:
                os._exit(status)
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = os.fdopen(reply_read, "rb")

    @classmethod
    def start(cls) -> EarlyRenderer | None:
        """A helper, where it helps: not once the renderer is imported in this process."""
        if "generator.sitebuild" in sys.modules or not hasattr(os, "fork"):
            return None
        return cls()

    def call(self, name: str, *args: Any) -> Any:
        """Run `sitebuild.<name>(*args)` in the helper and return its result."""
        import pickle

        pickle.dump((name, args), self._requests, pickle.HIGHEST_PROTOCOL)
        self._requests.flush()
        try:
            status, value, trace = pickle.load(self._replies)
        except EOFError:
            status, value, trace = "error", None, "it exited without an answer"
        if status == "ok":
            return value
        if isinstance(value, Exception):  # e.g. OSError: the disk is full
            value.add_note(f"in the renderer process:\n{trace}")
            raise value
        raise RuntimeError(f"the renderer process failed:\n{trace}")

    def close(self) -> None:
        """Stop the helper now: done, or not needed (it may still be importing)."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = 0
            for stream in (self._requests, self._replies):
                try:
                    stream.close()
                except OSError:  # a request left unsent to the killed helper
                    pass


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    import pickle
    import traceback

    gc.disable()  # importing makes many objects and no garbage: no passes over them
    from . import sitebuild  # the slow part, while the parent plans

    gc.enable()

    while True:
        try:
            name, args = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", getattr(sitebuild, name)(*args), "")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
            reply = ("error", exc, traceback.format_exc())
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
            data = pickle.dumps(("error", None, reply[2]), pickle.HIGHEST_PROTOCOL)
        replies.write(data)
        replies.flush()
