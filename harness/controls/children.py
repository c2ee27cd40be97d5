"""Broken backends for the children claims (specs/children.md).

Each is the real fork implementation with one defect in what the parent knows of its
children (``active_children()``, ``daemon``'s default, ``sentinel``, ``ident``,
``authkey``) or a child of its parent (``parent_process()``). The standard library's own
list of children (which the interpreter's exit walks: LIFE-020, API-003) is left alone
unless the defect is in it.
"""

from __future__ import annotations

import os
import weakref
from multiprocessing import process as _process_module
from typing import Any, Optional

from harness.child.broken_fork_server import ForkServerNotRestarted
from harness.controls import Control
from harness.controls._base import ControlContext, backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process


# --- active_children() -----------------------------------------------------------------

class _Asked(_Real):
    """Remembers the children the parent has joined or polled."""

    asked: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def join(self, timeout: Optional[float] = None) -> None:
        _Asked.asked.add(self)
        super().join(timeout)

    def is_alive(self) -> bool:
        _Asked.asked.add(self)
        return bool(super().is_alive())


class ListsOnlyAskedContext(ControlContext):
    """``active_children()`` lists only the children the parent has joined or polled at
    least once (a child it never asked about is missing)."""

    def active_children(self) -> list:
        return [p for p in self._base.active_children() if p in _Asked.asked]


class _Started(_Real):
    """Remembers every child started (until the object is let go)."""

    started: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def start(self) -> None:
        super().start()
        _Started.started.add(self)


class KeepsEndedContext(ControlContext):
    """``active_children()`` lists every child ever started and not closed, ended or
    not."""

    def active_children(self) -> list:
        live = list(self._base.active_children())
        return live + [p for p in list(_Started.started)
                       if not getattr(p, "_closed", False) and p not in live]


class TimedJoinForgetsChild(_Real):
    """A ``join(timeout)`` that times out, and ``is_alive()``, drop the child from the
    list of children, though it still runs."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        if timeout is not None:
            _process_module._children.discard(self)  # type: ignore[attr-defined]

    def is_alive(self) -> bool:
        alive = bool(super().is_alive())
        _process_module._children.discard(self)  # type: ignore[attr-defined]
        return alive


# --- daemon, sentinel, ident, authkey, parent_process() ---------------------------------

class DaemonDefaultNone(_Real):
    """``daemon`` reads None when it was never set (the constructor's default, kept)."""

    @property
    def daemon(self) -> Any:
        return self._config.get("daemon")

    @daemon.setter
    def daemon(self, value: bool) -> None:
        _Real.daemon.fset(self, value)


class DaemonNotInherited(_Real):
    """A process created without ``daemon`` is never a daemon, whatever its creator is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kwargs.get("daemon") is None:
            self._config.pop("daemon", None)


_ALWAYS_READY: list[int] = []


def _always_ready() -> int:
    """A descriptor that is always readable (os.devnull), opened once per process."""
    if not _ALWAYS_READY:
        _ALWAYS_READY.append(os.open(os.devnull, os.O_RDONLY))
    return _ALWAYS_READY[0]


class SentinelAlwaysReady(_Real):
    """``sentinel`` is a descriptor that is ready at once, while the child still runs."""

    @property
    def sentinel(self) -> int:
        _Real.sentinel.fget(self)  # the same refusals (not started, closed)
        return _always_ready()


class IdentUnset(_Real):
    """``ident`` stays None after ``start()``."""

    @property
    def ident(self) -> None:
        return None


class AuthkeyFreshInChild(_Real):
    """The child draws a fresh authkey of its own instead of inheriting its creator's."""

    def run(self) -> None:
        self.authkey = os.urandom(32)
        super().run()


class ParentIsSelfContext(ControlContext):
    """``parent_process()`` returns the current process itself."""

    def parent_process(self) -> Any:
        return self._base.current_process()


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             context_class: type = ControlContext) -> Control:
    return backend_control(name, defect, process_class, breaks, _BASE,
                           context_class=context_class)


CONTROLS = [
    _control("active-children-lists-asked-only", "active_children() lists only the children the "
             "parent has joined or polled at least once", _Asked, {"KIDS-001"},
             ListsOnlyAskedContext),
    _control("active-children-keeps-ended", "active_children() lists every child ever "
             "started, ended ones included", _Started, {"KIDS-002"}, KeepsEndedContext),
    _control("timed-join-forgets-child", "a timed-out join() or is_alive() drops a running "
             "child from the list of children", TimedJoinForgetsChild, {"KIDS-003"}),
    _control("daemon-default-none", "daemon reads None unless set", DaemonDefaultNone,
             {"KIDS-004"}),
    _control("daemon-not-inherited", "a process created in a daemon process is not a "
             "daemon", DaemonNotInherited, {"KIDS-004"}),
    _control("sentinel-always-ready", "sentinel is ready while the child runs",
             SentinelAlwaysReady, {"KIDS-005"}),
    _control("ident-unset", "ident stays None after start()", IdentUnset, {"KIDS-006"}),
    _control("authkey-fresh-in-child", "a child draws an authkey of its own",
             AuthkeyFreshInChild, {"KIDS-007", "API-016"}),
    _control("parent-process-is-self", "parent_process() returns the current process",
             _Real, {"KIDS-008"}, ParentIsSelfContext),
]


# --- the fork server (KIDS-009) ----------------------------------------------------------

_FORKSERVER = base_context("forkserver")

CONTROLS.append(Control(
    name="fork-server-not-restarted", defect="start() fails once the fork server died",
    breaks=frozenset({"KIDS-009"}),
    context=ControlContext(ForkServerNotRestarted, _FORKSERVER),
    start_method=_FORKSERVER.get_start_method()))
