"""Broken backends for the rest of the reference's Process contract (specs/process-api.md,
API-009..018, API-020, API-021).

Each is the real fork implementation with one defect. API-014 (spawn and forkserver
refuse what pickle cannot carry) has no control here: ``says-spawn-but-forks`` (a fork
implementation that declares spawn, harness/controls/isolation.py) breaks it by its one
defect, and a spawn control of its own would cost the controls proof a spawn suite run.
"""

from __future__ import annotations

import sys
import threading
from multiprocessing import process as _process_module
from typing import Any, Optional

from harness.controls import Control
from harness.controls._base import ControlContext, backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process


class GroupAccepted(_Real):
    """The constructor drops a ``group`` instead of refusing one that is not None."""

    def __init__(self, group: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, *args, **kwargs)


class NoTargetFails(_Real):
    """``run()`` without a target exits with status 1 instead of doing nothing."""

    def run(self) -> None:
        if self._target is None:
            sys.exit(1)
        super().run()


class RejoinRefused(_Real):
    """A ``join()`` of a process already joined to its end raises ValueError."""

    def join(self, timeout: Optional[float] = None) -> None:
        if self.__dict__.get("_procspec_joined"):
            raise ValueError("process already joined")
        super().join(timeout)
        if self._popen is not None and self._popen.returncode is not None:
            self.__dict__["_procspec_joined"] = True


class SelfJoinReturns(_Real):
    """``join()`` of the current process returns at once instead of refusing."""

    def join(self, timeout: Optional[float] = None) -> None:
        if self is _process_module.current_process():
            return
        super().join(timeout)


class CloseUnstartedRefused(_Real):
    """``close()`` on a process never started raises ValueError."""

    def close(self) -> None:
        if self._popen is None and not self._closed:
            raise ValueError("cannot close a process that was never started")
        super().close()


class StaleNativeId(_Real):
    """The child's main thread keeps the parent's main thread's ``native_id`` (its threading
    state is not refreshed after the fork)."""

    def start(self) -> None:
        self._procspec_native_id = threading.main_thread().native_id
        super().start()

    def run(self) -> None:
        threading.main_thread()._native_id = self._procspec_native_id  # type: ignore[attr-defined]
        super().run()


class RunOverrideIgnored(_Real):
    """A subclass's own ``run()`` is dropped: the standard one (the target) runs."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            delattr(cls, "run")


class AuthkeySetIgnored(_Real):
    """Assigning ``authkey`` does nothing: the child keeps the inherited key."""

    authkey = property(_process_module.BaseProcess.authkey.fget,  # type: ignore[attr-defined]
                       lambda self, key: None)


class KeepsTarget(_Real):
    """``start()`` keeps the target and its arguments in an attribute of its own (the
    standard library lets them go there: bpo-30775)."""

    def start(self) -> None:
        # read with getattr: a refused start() (a second one, one after close()) must
        # raise what the real one raises, not an AttributeError of this copy
        kept = tuple(getattr(self, name, None) for name in ("_target", "_args", "_kwargs"))
        super().start()
        self._procspec_kept = kept


#: Every process object :class:`ClosedKept` closed: a module-level list nothing empties.
closed_processes: list[Any] = []


class ClosedKept(_Real):
    """``close()`` keeps the closed object in a module-level list, so it is never
    collected."""

    def close(self) -> None:
        super().close()
        closed_processes.append(self)


def _never_alive(self: Any) -> bool:
    """The main process's ``is_alive()`` that asks only a ``Popen`` (it has none)."""
    return False


_main_views: dict[type, type] = {}


class MainReadsEndedContext(ControlContext):
    """``current_process()`` in the main process is a view of the same state whose
    ``is_alive()`` reads False; in a child it is the real one. (The standard library's
    ``_MainProcess`` class is not a module attribute: it is found from the object.)"""

    def current_process(self) -> Any:
        real = self._base.current_process()
        kind = type(real)
        if kind.__name__ != "_MainProcess":
            return real
        view_class = _main_views.setdefault(
            kind, type("MainReadsEnded", (kind,), {"is_alive": _never_alive}))
        view: Any = object.__new__(view_class)
        view.__dict__ = real.__dict__
        return view


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             base: Any = _BASE, context_class: type = ControlContext) -> Control:
    return backend_control(name, defect, process_class, breaks, base,
                           context_class=context_class)


CONTROLS = [
    _control("group-accepted", "a group other than None is accepted", GroupAccepted,
             {"API-009"}),
    _control("no-target-fails", "a process without a target exits 1", NoTargetFails,
             {"API-010"}),
    _control("rejoin-refused", "a second join() of an ended child raises ValueError",
             RejoinRefused, {"API-011"}),
    _control("self-join-returns", "a process's join() of itself returns", SelfJoinReturns,
             {"API-012"}),
    _control("close-unstarted-refused", "close() on a process never started raises "
             "ValueError", CloseUnstartedRefused, {"API-013"}),
    _control("run-override-ignored", "a subclass's run() is ignored: the target runs",
             RunOverrideIgnored, {"API-015"}),
    _control("authkey-set-ignored", "assigning authkey does nothing", AuthkeySetIgnored,
             {"API-016"}),
    _control("stale-native-id", "a child's main thread keeps its parent's native_id",
             StaleNativeId, {"API-018"}),
    _control("keeps-target", "start() keeps the target and its arguments",
             KeepsTarget, {"API-020"}),
    _control("closed-kept", "close() keeps the closed object in a module-level list",
             ClosedKept, {"API-021"}),
    _control("main-reads-ended", "the main process's current_process() reads not alive",
             _Real, {"API-017"}, context_class=MainReadsEndedContext),
]
