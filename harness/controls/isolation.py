"""Broken backends for the isolation claims (specs/isolation.md).

Ways a parent could end up seeing its child's writes (or a child its parent's), and ways a
backend could misstate what its children start from. Each is the real implementation with
one defect. (The thread in disguise, whose children share the parent's memory, is the
lifecycle controls' ``thread``: one control, every claim it breaks.)
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Optional

from harness import mailbox
from harness.child import isolation_state
from harness.controls import Control
from harness.controls._base import backend_control, base_context

_FORK = base_context("fork")
_SPAWN = base_context("spawn")
_Fork: Any = _FORK.Process
_Spawn: Any = _SPAWN.Process

ALL_WRITES = {"ISO-001", "ISO-002", "ISO-003", "ISO-004"}


class JoinCopiesStateBack(_Fork):
    """The child posts its module state when its target ends; join() copies it into the
    parent (a naive "keep the globals in sync" implementation)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fd, self._sync_path = tempfile.mkstemp(prefix="procspec-sync-")
        os.close(fd)
        os.remove(self._sync_path)

    def run(self) -> None:
        try:
            super().run()
        finally:
            mailbox.post(self._sync_path, isolation_state.view())

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        synced = mailbox.read(self._sync_path)
        if synced is not None:
            os.remove(self._sync_path)
            isolation_state.restore(synced)


class TargetAlsoInParent(_Fork):
    """join() runs the target once more, in the parent (as if "to collect its result")."""

    _call: Any = None

    def start(self) -> None:
        # start() deletes the target and its arguments from the parent's object; keep them
        if self._popen is None and self._call is None:
            self._call = (self._target, self._args, self._kwargs)
        super().start()

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        if self.exitcode is not None and self._call is not None:
            target, args, kwargs = self._call
            self._call = None
            try:
                if target is not None:
                    target(*args, **kwargs)
            except BaseException:  # the parent's run is a defect, not the test's business
                pass


class StartsOnJoin(_Fork):
    """start() only records the wish; the child is forked at the first join() or
    is_alive(), from the parent's state at that moment."""

    _deferred = False

    def start(self) -> None:
        assert self._popen is None and not self._deferred, "cannot start a process twice"
        self._deferred = True

    def _really_start(self) -> None:
        if self._deferred:
            self._deferred = False
            super().start()

    def join(self, timeout: Optional[float] = None) -> None:
        self._really_start()
        super().join(timeout)

    def is_alive(self) -> bool:
        self._really_start()
        return super().is_alive()


class ArgumentsViaJson(_Fork):
    """Arguments travel as JSON (anything JSON lacks becomes its repr): tuples arrive as
    lists, bytes and sets as strings, int dict keys as str."""

    def __init__(self, group: None = None, target: Any = None, name: Optional[str] = None,
                 args: tuple = (), kwargs: Optional[dict] = None, **more: Any) -> None:
        args = tuple(json.loads(json.dumps(list(args), default=repr)))
        kwargs = json.loads(json.dumps(dict(kwargs or {}), default=repr))
        super().__init__(group, target, name, args, kwargs, **more)


def _control(name: str, defect: str, process_class: Any, base: Any, breaks: set[str],
             declared: Optional[str] = None) -> Control:
    return backend_control(name, defect, process_class, breaks, base, declared=declared)


CONTROLS = [
    _control("join-copies-state-back", "join() copies the child's module state into the "
             "parent", JoinCopiesStateBack, _FORK, ALL_WRITES),
    _control("target-also-in-parent", "join() runs the target again in the parent",
             TargetAlsoInParent, _FORK,
             ALL_WRITES | {"ISO-005", "ISO-010", "JOIN-003", "JOIN-004", "API-005"}),
    _control("starts-on-join", "start() defers the fork to the first join()/is_alive()",
             StartsOnJoin, _FORK, {"ISO-009", "LIFE-004", "JOIN-002", "ECHO-011", "API-004",
                                   "API-005"}),
    _control("arguments-via-json", "arguments are passed as JSON", ArgumentsViaJson, _FORK,
             {"ISO-006", "ECHO-011"}),
    _control("says-spawn-but-forks", "declares start method spawn, but forks", _Fork, _FORK,
             {"ISO-008", "ISO-010", "API-014"}, declared="spawn"),
    _control("says-fork-but-spawns", "declares start method fork, but spawns", _Spawn, _SPAWN,
             {"ISO-007", "ISO-010"}, declared="fork"),
]
