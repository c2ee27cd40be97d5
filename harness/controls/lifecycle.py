"""Broken backends for the lifecycle claims (specs/lifecycle.md).

Each is the real fork implementation with one defect, so that it fails the claims about
that defect and, as far as possible, only those.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
from typing import Any, Callable, Optional

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process


class TerminateDoesNothing(_Real):
    def terminate(self) -> None:
        pass


class TerminateKills(_Real):
    def terminate(self) -> None:
        self.kill()


class KillDoesNothing(_Real):
    def kill(self) -> None:
        pass


class PidLies(_Real):
    """Reports the parent's own pid as the child's."""

    @property
    def pid(self) -> Optional[int]:
        return None if self._popen is None else os.getpid()


class PidForgotten(_Real):
    """Forgets the pid once the child has been joined."""

    @property
    def pid(self) -> Optional[int]:
        if self._popen is None or self._popen.returncode is not None:
            return None
        return self._popen.pid


class NameIgnored(_Real):
    """Drops the name it is given and keeps the default one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("name", None)
        super().__init__(*args, **kwargs)




class NamesUncounted(_Real):
    """Every default name ends in -1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kwargs.get("name") is None:
            self._name = f"{type(self).__name__}-1"


class FlatNames(_Real):
    """Default names keep only the last counter: a child's child looks like a first child."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kwargs.get("name") is None:
            self._name = f"{type(self).__name__}-{self._identity[-1]}"


class ExitcodeUnset(_Real):
    """Never reports an exit code."""

    @property
    def exitcode(self) -> Optional[int]:
        return None


class ExitcodeZero(_Real):
    """Reports every ended child as a success."""

    @property
    def exitcode(self) -> Optional[int]:
        real = super().exitcode
        return None if real is None else 0


class UnstartedExitcodeZero(_Real):
    """Claims an exit code of 0 for a process that was never started."""

    @property
    def exitcode(self) -> Optional[int]:
        return 0 if self._popen is None else super().exitcode


class BilliardExitcodes(_Real):
    """Maps ``sys.exit()`` to 1 and ``sys.exit(text)`` to 0, as billiard 4.3 does."""

    def run(self) -> None:
        try:
            super().run()
        except SystemExit as exc:
            if exc.code is None:
                raise SystemExit(1) from None
            if not isinstance(exc.code, int):
                raise SystemExit(0) from None
            raise


class NeverAlive(_Real):
    def is_alive(self) -> bool:
        return False


class AlwaysAlive(_Real):
    """Still "alive" after the child has ended and been joined."""

    def is_alive(self) -> bool:
        super().is_alive()
        return self._popen is not None


class NoMisuseErrors(_Real):
    """Ignores join() before start() and a second start() instead of refusing them."""

    def start(self) -> None:
        if self._popen is None:
            super().start()

    def join(self, timeout: Optional[float] = None) -> None:
        if self._popen is not None:
            super().join(timeout)


class JoinIgnoresTimeout(_Real):
    """join(timeout) returns at once instead of waiting up to the timeout."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(0 if timeout is not None else None)


class JoinHangs(_Real):
    """join() never returns, whatever its timeout: a hung implementation."""

    def join(self, timeout: Optional[float] = None) -> None:
        while True:
            time.sleep(1)


class DaemonByDefault(_Real):
    """Children are daemons unless told otherwise: the interpreter kills them at exit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("daemon") is None:
            kwargs["daemon"] = True
        super().__init__(*args, **kwargs)


_thread_counter = itertools.count(1)


class ThreadProcess:
    """A thread dressed up as a process: right names and exit codes, shared memory."""

    def __init__(self, group: None = None, target: Optional[Callable[..., Any]] = None,
                 name: Optional[str] = None, args: tuple = (), kwargs: Optional[dict] = None,
                 *, daemon: Optional[bool] = None) -> None:
        self._target, self._args, self._kwargs = target, tuple(args), dict(kwargs or {})
        self.name = name or f"{type(self).__name__}-{next(_thread_counter)}"
        self.daemon = bool(daemon)
        self._thread: Optional[threading.Thread] = None
        self._exitcode: Optional[int] = None

    def _run(self) -> None:
        code = 0
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                code = 1
        except BaseException:
            code = 1
        self._exitcode = code

    def start(self) -> None:
        assert self._thread is None, "cannot start a process twice"
        # A child owns the descriptors it is given (a process gets its own copies), so the
        # disguise gives its thread its own copy of each socket argument: its one defect is
        # the memory it shares, not a descriptor the parent may close under it.
        self._args = tuple(arg.dup() if isinstance(arg, socket.socket) else arg
                           for arg in self._args)
        # daemon: a thread cannot be stopped, so never let one keep the runner alive
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def join(self, timeout: Optional[float] = None) -> None:
        assert self._thread is not None, "can only join a started process"
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def terminate(self) -> None:
        pass  # a thread cannot be terminated

    def kill(self) -> None:
        pass

    @property
    def pid(self) -> Optional[int]:
        return None if self._thread is None else os.getpid()

    ident = pid

    @property
    def exitcode(self) -> Optional[int]:
        return self._exitcode


def _control(name: str, defect: str, process_class: Any, breaks: set[str]) -> Control:
    return backend_control(name, defect, process_class, breaks, _BASE)


CONTROLS = [
    _control("terminate-noop", "terminate() does nothing", TerminateDoesNothing,
             {"LIFE-016", "API-005"}),
    _control("terminate-kills", "terminate() sends SIGKILL, not SIGTERM", TerminateKills,
             {"LIFE-016"}),
    _control("kill-noop", "kill() does nothing", KillDoesNothing, {"LIFE-017", "API-005"}),
    _control("pid-lies", "pid is the parent's own pid", PidLies, {"LIFE-004", "API-005"}),
    _control("pid-forgotten", "pid is None once the child has been joined", PidForgotten,
             {"LIFE-019", "API-005"}),
    _control("name-ignored", "a given name is dropped for the default one", NameIgnored,
             {"LIFE-008"}),
    _control("names-uncounted", "every default name ends in -1", NamesUncounted,
             {"LIFE-006", "LIFE-007"}),
    _control("flat-names", "a child's child is named like a first-generation child",
             FlatNames, {"LIFE-007"}),
    _control("exitcode-unset", "exitcode stays None after join", ExitcodeUnset,
             {"LIFE-010", "LIFE-011", "LIFE-012", "LIFE-013", "LIFE-014", "LIFE-015",
              "LIFE-016", "LIFE-017", "API-005", "API-010"}),
    _control("exitcode-zero", "every ended child reports exitcode 0", ExitcodeZero,
             {"LIFE-011", "LIFE-012", "LIFE-014", "LIFE-015", "LIFE-016", "LIFE-017",
              "EXIT-004"}),
    _control("unstarted-exitcode-zero", "an unstarted process reports exitcode 0",
             UnstartedExitcodeZero, {"LIFE-001", "API-005"}),
    _control("billiard-exitcodes", "sys.exit() gives 1 and sys.exit(text) gives 0",
             BilliardExitcodes, {"LIFE-013", "LIFE-014", "EXIT-001"}),
    _control("never-alive", "is_alive() is always False", NeverAlive,
             {"LIFE-005", "API-005", "KIDS-018"}),
    _control("always-alive", "is_alive() stays True after the child ended", AlwaysAlive,
             {"LIFE-009", "KIDS-018"}),
    _control("no-misuse-errors", "join() before start() and a second start() pass silently",
             NoMisuseErrors, {"LIFE-002", "LIFE-003", "API-005", "API-012"}),
    _control("join-timeout-ignored", "join(timeout) returns at once", JoinIgnoresTimeout,
             {"LIFE-018"}),
    _control("join-hangs", "join() never returns (the run must not hang)", JoinHangs,
             {"LIFE-002", "LIFE-009", "JOIN-003", "JOIN-004", "JOIN-006", "JOIN-007",
              "API-012"}),
    _control("daemon-by-default", "children are daemons unless told otherwise",
             DaemonByDefault, {"LIFE-020", "KIDS-004"}),
    _control("thread", "a thread dressed up as a process: one memory for both", ThreadProcess,
             {"LIFE-004", "LIFE-007", "LIFE-008", "LIFE-016", "LIFE-017", "LIFE-020",
              "ISO-001", "ISO-002", "ISO-003", "ISO-004", "ISO-005", "ISO-009", "ISO-010",
              "ECHO-007", "API-001", "API-002", "API-004", "API-005", "API-006",
              "API-009", "API-013", "API-015", "API-016", "API-018", "API-020", "KIDS-001",
              "KIDS-003", "KIDS-005", "KIDS-007", "KIDS-008"}),
]
