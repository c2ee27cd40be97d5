"""Broken backends for what interpreter a child runs (specs/isolation.md ISO-016, ISO-017;
process-api.md API-019): its parent's flags, the unguarded main script, the executable
``set_executable()`` names. Spawn, since each defect is in how a new interpreter is
started (a fork child cannot help running its parent's interpreter with its flags).
"""

from __future__ import annotations

from multiprocessing import popen_spawn_posix
from multiprocessing import util as _util_module
from typing import Any

from harness.controls import Control
from harness.controls._base import ControlContext, backend_control, base_context

_SPAWN = base_context("spawn")
_RealSpawn: Any = _SPAWN.Process
_SpawnPopen: Any = popen_spawn_posix.Popen
util: Any = _util_module  # its private helpers are what the defects patch


class _FlaglessPopen(_SpawnPopen):
    """Starts the child's interpreter without the parent's flags."""

    def _launch(self, process_obj: Any) -> None:
        real = util._args_from_interpreter_flags
        util._args_from_interpreter_flags = lambda: []
        try:
            super()._launch(process_obj)
        finally:
            util._args_from_interpreter_flags = real


class SpawnDropsFlags(_RealSpawn):
    """Spawn leaves out the parent's interpreter flags (``-E -S -O``) from the child's
    command line."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _FlaglessPopen(process_obj)


def unguarded_spawn_main(pipe_handle: int, parent_pid: Any = None,
                         tracker_fd: Any = None) -> None:
    """The standard library's ``spawn_main`` (POSIX), but the main module is imported
    without the ``_inheriting`` mark: a ``start()`` its top level makes is not refused."""
    import os
    import pickle
    import sys
    from multiprocessing import resource_tracker, spawn

    tracker: Any = resource_tracker._resource_tracker
    tracker._fd = tracker_fd
    parent_sentinel = os.dup(pipe_handle)
    with os.fdopen(pipe_handle, "rb", closefd=True) as from_parent:
        spawn.prepare(pickle.load(from_parent))
        process_obj = pickle.load(from_parent)
    sys.exit(process_obj._bootstrap(parent_sentinel))


def _unguarded_command_line(**kwds: Any) -> list:
    from multiprocessing import spawn

    prog = ("from harness.controls.interpreter import unguarded_spawn_main; "
            "unguarded_spawn_main(%s)" % ", ".join("%s=%r" % item for item in kwds.items()))
    return [spawn.get_executable(), *util._args_from_interpreter_flags(), "-c", prog,
            "--multiprocessing-fork"]


class _UnguardedPopen(_SpawnPopen):
    """Starts the child with :func:`unguarded_spawn_main`."""

    def _launch(self, process_obj: Any) -> None:
        from multiprocessing import spawn as _spawn

        spawn: Any = _spawn
        real = spawn.get_command_line
        spawn.get_command_line = _unguarded_command_line
        try:
            super()._launch(process_obj)
        finally:
            spawn.get_command_line = real


class SpawnUnguardedMainRecurses(_RealSpawn):
    """A spawn child imports the main script without the mark that refuses a ``start()``
    during its bootstrapping: an unguarded script starts a new generation each time."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _UnguardedPopen(process_obj)


class SetExecutableIgnoredContext(ControlContext):
    """``set_executable()`` accepts any path and changes nothing."""

    def set_executable(self, executable: Any) -> None:
        return None


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             context_class: type = ControlContext) -> Control:
    return backend_control(name, defect, process_class, breaks, _SPAWN,
                           context_class=context_class)


CONTROLS = [
    _control("spawn-drops-flags", "spawn starts a child without its parent's interpreter "
             "flags", SpawnDropsFlags, {"ISO-016"}),
    _control("spawn-unguarded-main-recurses", "spawn does not refuse a start() made while "
             "a child imports the main script", SpawnUnguardedMainRecurses, {"ISO-017"}),
    _control("set-executable-ignored", "spawn: set_executable() changes nothing", _RealSpawn,
             {"API-019"}, SetExecutableIgnoredContext),
]
