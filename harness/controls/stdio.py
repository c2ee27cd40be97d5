"""Broken backends for the stdio claims (specs/stdio.md).

Each is the real implementation with one defect in a child's standard streams or the
descriptors it gets: fork for the streams, spawn for the descriptors (only spawn and
forkserver promise a child none of its parent's).
"""

from __future__ import annotations

import os
import sys
from multiprocessing import popen_spawn_posix
from typing import Any

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process
_SPAWN = base_context("spawn")
_RealSpawn: Any = _SPAWN.Process


class StdinClosed(_Real):
    """The child's stdin is closed, not replaced (reading it raises ValueError)."""

    def run(self) -> None:
        if sys.stdin is not None:
            sys.stdin.close()
        super().run()


class StdStreamsFlushedUnguarded(_Real):
    """At the child's end, stdout and stderr are flushed without a guard: a stream that is
    None or closed makes the exit code 1."""

    def _bootstrap(self, *args: Any, **kwargs: Any) -> int:
        code = int(super()._bootstrap(*args, **kwargs))
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (AttributeError, ValueError):
            return 1
        return code


_SpawnPopen: Any = popen_spawn_posix.Popen


class _PassInheritable(_SpawnPopen):
    """Spawn's launcher that passes on every descriptor marked inheritable (as a
    ``close_fds=False`` spawn would)."""

    def _launch(self, process_obj: Any) -> None:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                if fd > 2 and os.get_inheritable(fd):
                    self._fds.append(fd)
            except OSError:
                continue
        super()._launch(process_obj)


class SpawnPassesInheritable(_RealSpawn):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - the stdlib's name
        return _PassInheritable(process_obj)


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             base: Any = _BASE) -> Control:
    return backend_control(name, defect, process_class, breaks, base)


CONTROLS = [
    _control("stdin-closed", "a child's stdin is closed, not replaced", StdinClosed,
             {"STDIO-001"}),
    _control("std-streams-flushed-unguarded", "a child flushes a None or closed stdout or "
             "stderr at its end and exits 1", StdStreamsFlushedUnguarded, {"STDIO-002"}),
    _control("spawn-passes-inheritable-descriptors", "spawn passes every inheritable descriptor "
             "of the parent to the child (and a spawn child cannot start one of its own)",
             SpawnPassesInheritable, {"STDIO-003", "KIDS-015"}, _SPAWN),
]
