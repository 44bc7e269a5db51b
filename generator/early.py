"""Helper processes forked at the start of a build, so that the renderer's imports overlap.

Importing pydantic (with PyYAML) and jinja2 (with Markdown) takes about 0.3 s together,
longer than deciding what changed among 10,000 merchants. A build in a fresh process
forks two helpers first (the command line does so before it imports the build itself):
the validator imports `sitecheck` (pydantic) while the renderer imports `sitebuild`
(jinja2) and compiles the default theme, each on its own core, while the build plans.
The few changed merchants are then validated by one and rendered by the other. A
build with nothing to do kills them unused. Plain pipes and pickle: `multiprocessing`
alone would cost the build 15 ms of imports.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
from typing import IO, Any


class Helper:
    """One forked process that imports `module` and runs its functions on request."""

    def __init__(self, module: str, nice: int = 0) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper: never return into the parent's code
            status = 1
            try:
                if nice:
                    os.nice(nice)
                os.close(request_write)
                os.close(reply_read)
                with os.fdopen(request_read, "rb") as requests, \
                        os.fdopen(reply_write, "wb") as replies:
                    _serve(module, requests, replies)
                status = 0
            finally:
                os._exit(status)
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "wb")
        self._replies = os.fdopen(reply_read, "rb")

    def call(self, name: str, *args: Any) -> Any:
        """Run `<module>.<name>(*args)` in the helper and return its result."""
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
            value.add_note(f"in the helper process:\n{trace}")
            raise value
        raise RuntimeError(f"the helper process failed:\n{trace}")

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


class EarlyHelpers:
    """The validator (`sitecheck`) and the renderer (`sitebuild`) of one build."""

    def __init__(self) -> None:
        self.validator = Helper("generator.sitecheck")
        # Three busy processes on two cores: the build plans and the validator imports at
        # full speed, the renderer (its work is shorter) takes what they leave. Unniced,
        # it made a build with nothing to do take 0.27 s instead of 0.15 s at 10,000
        # merchants; once the build waits, it has a core of its own.
        self.renderer = Helper("generator.sitebuild", nice=19)

    @classmethod
    def start(cls) -> EarlyHelpers | None:
        """Helpers, where they help: not once the renderer is imported in this process."""
        if "generator.sitebuild" in sys.modules or not hasattr(os, "fork"):
            return None
        return cls()

    @property
    def alive(self) -> bool:
        """Not yet closed (a build with many changes closes them for its process pool)."""
        return self.renderer.pid != 0

    def close(self) -> None:
        self.validator.close()
        self.renderer.close()


def _serve(module_name: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    import pickle
    import traceback

    gc.disable()  # importing makes many objects and no garbage: no passes over them
    try:
        module = importlib.import_module(module_name)  # the slow part, while the parent plans
        if hasattr(module, "warm_up"):
            module.warm_up()
        failed = None
    except BaseException as exc:  # noqa: BLE001 - every request is answered with it
        failed = ("error", exc, traceback.format_exc())
    gc.enable()
    while True:
        try:
            name, args = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = failed or ("ok", getattr(module, name)(*args), "")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
            reply = ("error", exc, traceback.format_exc())
        try:
            data = pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
            data = pickle.dumps(("error", None, reply[2]), pickle.HIGHEST_PROTOCOL)
        replies.write(data)
        replies.flush()
