"""Broken backends for what interpreter a child runs (specs/isolation.md ISO-016, ISO-017;
process-api.md API-014): its parent's flags, the unguarded main script, the executable
``set_executable()`` names. Spawn, since each defect is in how a new interpreter is
started (a fork child cannot help running its parent's interpreter with its flags).
"""

from __future__ import annotations

from multiprocessing import popen_spawn_posix, util
from typing import Any

from harness.controls import Control
from harness.controls._base import backend_control, base_context

_SPAWN = base_context("spawn")
_RealSpawn: Any = _SPAWN.Process


class _FlaglessPopen(popen_spawn_posix.Popen):
    """Starts the child's interpreter without the parent's flags."""

    def _launch(self, process_obj: Any) -> None:
        real = util._args_from_interpreter_flags
        util._args_from_interpreter_flags = lambda: []  # type: ignore[assignment]
        try:
            super()._launch(process_obj)
        finally:
            util._args_from_interpreter_flags = real  # type: ignore[assignment]


class SpawnDropsFlags(_RealSpawn):
    """Spawn leaves out the parent's interpreter flags (``-E -S -O``) from the child's
    command line."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _FlaglessPopen(process_obj)


def _control(name: str, defect: str, process_class: Any, breaks: set[str]) -> Control:
    return backend_control(name, defect, process_class, breaks, _SPAWN)


CONTROLS = [
    _control("spawn-drops-flags", "spawn starts a child without its parent's interpreter "
             "flags", SpawnDropsFlags, {"ISO-016"}),
]
