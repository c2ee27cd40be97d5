"""Broken backends for the Process API claims (specs/process-api.md).

Each is the real fork implementation with one defect in the API the page names beyond
start/join: a name set later, the daemon flag, close(), and terminate()/kill() once the
child has ended.
"""

from __future__ import annotations

import errno
import signal
from multiprocessing import process as _process_module
from typing import Any, Optional

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process


class NameSetNotPassed(_Real):
    """A name assigned after construction is only shown in the parent: the child still
    runs under the name the object had when it was made."""

    @property
    def name(self) -> str:
        shown: Optional[str] = self.__dict__.get("_shown_name")
        return shown if shown is not None else str(self._name)

    @name.setter
    def name(self, value: str) -> None:
        self.__dict__["_shown_name"] = value

    def run(self) -> None:
        self.__dict__.pop("_shown_name", None)  # the child: a copy made from the launch data
        super().run()


class DaemonSettableAfterStart(_Real):
    """``daemon`` can be assigned at any time (the started child is not affected)."""

    @property
    def daemon(self) -> bool:
        return bool(self._config.get("daemon", False))

    @daemon.setter
    def daemon(self, value: bool) -> None:
        self._config["daemon"] = value


class DaemonsOutliveParent(_Real):
    """Daemon children are not tracked once started, so the interpreter's exit handler,
    which terminates the daemon children it knows, leaves them running."""

    def start(self) -> None:
        super().start()
        if self.daemon:
            _process_module._children.discard(self)  # type: ignore[attr-defined]


class DaemonsHaveChildren(_Real):
    """A daemon child forgets that it is one before running its target, so it may start
    children of its own."""

    def run(self) -> None:
        self._config["daemon"] = False
        super().run()


class CloseIgnored(_Real):
    """``close()`` does nothing: the object stays usable, and a running child is no error."""

    def close(self) -> None:
        pass


class CloseStopsRunning(_Real):
    """``close()`` on a running child kills it (and closes) instead of refusing."""

    def close(self) -> None:
        if self._popen is not None and self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait(5.0)
        super().close()


def _ended(proc: Any) -> bool:
    return proc._popen is not None and proc._popen.poll() is not None


class StopAfterEndRaises(_Real):
    """``terminate()``/``kill()`` signal the child's pid without asking whether it has been
    reaped: on an ended child they fail as ``os.kill`` of a gone pid does (simulated: no
    signal is sent, as the pid may belong to another process by now)."""

    def terminate(self) -> None:
        if _ended(self):
            raise ProcessLookupError(errno.ESRCH, "No such process")
        super().terminate()

    def kill(self) -> None:
        if _ended(self):
            raise ProcessLookupError(errno.ESRCH, "No such process")
        super().kill()


class StopAfterEndRewritesExitcode(_Real):
    """``terminate()``/``kill()`` record the signal as the exit code, even when the child
    had already ended by itself."""

    def terminate(self) -> None:
        if _ended(self):
            self._popen.returncode = -signal.SIGTERM
            return
        super().terminate()

    def kill(self) -> None:
        if _ended(self):
            self._popen.returncode = -signal.SIGKILL
            return
        super().kill()


def _control(name: str, defect: str, process_class: Any, breaks: set[str]) -> Control:
    return backend_control(name, defect, process_class, breaks, _BASE)


CONTROLS = [
    _control("name-set-not-passed", "a name assigned after construction does not reach "
             "the child", NameSetNotPassed, {"API-001"}),
    _control("daemon-settable-after-start", "daemon can be assigned after start()",
             DaemonSettableAfterStart, {"API-002"}),
    _control("daemons-outlive-parent", "daemon children are not terminated at the "
             "parent's exit", DaemonsOutliveParent, {"API-003"}),
    _control("daemons-have-children", "a daemon process may start children",
             DaemonsHaveChildren, {"API-004"}),
    _control("close-ignored", "close() does nothing", CloseIgnored, {"API-005", "API-006"}),
    _control("close-stops-running", "close() on a running child kills it instead of "
             "refusing", CloseStopsRunning, {"API-006"}),
    _control("stop-after-end-raises", "terminate()/kill() on an ended child raise "
             "ProcessLookupError", StopAfterEndRaises, {"API-007", "API-008"}),
    _control("stop-after-end-rewrites-exitcode", "terminate()/kill() on an ended child "
             "overwrite its exit code", StopAfterEndRewritesExitcode,
             {"API-007", "API-008"}),
]
