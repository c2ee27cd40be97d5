"""Broken backends for the exit claims (specs/exit.md).

Each is the real implementation with one defect in how a child ends: what reaches its
stderr, its threads, its exit code after a signal, its atexit handlers. Fork, but for
``atexit-skipped``: before Python 3.13 fork children skip their atexit handlers anyway,
so that control breaks spawn.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, Optional

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process
_SPAWN = base_context("spawn")
_RealSpawn: Any = _SPAWN.Process


class ExitReasonNotPrinted(_Real):
    """``sys.exit(reason)`` with a reason that is not an int ends the child with exit code 1
    and prints nothing."""

    def run(self) -> None:
        try:
            super().run()
        except SystemExit as exc:
            if exc.code is not None and not isinstance(exc.code, int):
                raise SystemExit(1) from None
            raise


class TracebackNotPrinted(_Real):
    """An uncaught exception ends the child with exit code 1, its traceback unprinted."""

    def run(self) -> None:
        try:
            super().run()
        except Exception:
            raise SystemExit(1) from None


class ThreadsNotWaited(_Real):
    """Once the target returned, the child ends without waiting for its non-daemon threads
    (as if it left with ``os._exit`` straight away)."""

    def run(self) -> None:
        super().run()
        threading._shutdown = lambda: None  # type: ignore[attr-defined]


class SignalExitcodeAsShell(_Real):
    """A child ended by signal N reads as exit code 128 + N (a shell's convention), not
    -N."""

    @property
    def exitcode(self) -> Optional[int]:
        code = _Real.exitcode.fget(self)
        return 128 - code if code is not None and code < 0 else code


class AtexitSkipped(_RealSpawn):
    """The child drops its atexit handlers once its target returned."""

    def run(self) -> None:
        super().run()
        atexit._clear()


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             base: Any = _BASE) -> Control:
    return backend_control(name, defect, process_class, breaks, base)


CONTROLS = [
    _control("exit-reason-not-printed", "sys.exit(reason) prints no reason",
             ExitReasonNotPrinted, {"EXIT-001"}),
    _control("traceback-not-printed", "an uncaught exception's traceback is not printed",
             TracebackNotPrinted, {"EXIT-002"}),
    _control("threads-not-waited", "a child does not wait for its non-daemon threads",
             ThreadsNotWaited, {"EXIT-003"}),
    _control("signal-exitcode-as-shell", "a death by signal N reads as exit code 128 + N",
             SignalExitcodeAsShell, {"EXIT-004", "LIFE-016", "LIFE-017"}),
    _control("atexit-skipped", "a child's atexit handlers do not run (spawn)",
             AtexitSkipped, {"EXIT-005"}, _SPAWN),
]

