"""Broken backends for the join-timing claims (specs/join-timing.md).

Each is the real fork implementation with one defect in how children are started, run or
joined. The serializing ones hide their defect in different places, because a check that
only timed the ``join()`` calls would miss serialization inside ``start()``. The join
claims calibrate their bounds per start method, so each start method has a serializing
control: serialized inside ``start()`` also on spawn (``serial-start-spawn``), children
taking turns on a lock also on forkserver (``lock-serialized-forkserver``). Both defects
on both methods were measured exact too (controls proof, 2026-12-06); each costs the proof
a suite run of 2.5-5 min of test time on those methods, so one per method is kept.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import tempfile
import threading
import time
from typing import Any, Optional

from harness import limits
from harness.controls import Control
from harness.controls._base import backend_control, base_context

_BASE = base_context("fork")
_Real: Any = _BASE.Process
#: The other start methods' real contexts (spawn where the platform lacks forkserver).
_OTHER_BASES = {"spawn": base_context("spawn"), "forkserver": base_context("forkserver")}
_SpawnProcess: Any = _OTHER_BASES["spawn"].Process
_ForkServerProcess: Any = _OTHER_BASES["forkserver"].Process

#: How late the "late" controls return (seconds): beyond every prompt bound procspec uses.
LATENESS = 0.5


class _SerialStartDefect:
    """start() runs the child to its end before it returns (serialized inside start())."""

    def start(self) -> None:
        super().start()  # type: ignore[misc]
        super().join(limits.LONG_SLEEP + limits.JOIN_GRACE)  # type: ignore[misc]  # bounded


class SerialStart(_SerialStartDefect, _Real):
    """start() runs the child to its end before it returns (serialized inside start())."""


class SerialStartSpawn(_SerialStartDefect, _SpawnProcess):
    """SerialStart on spawn."""


_lock_files: list[str] = []


def _lock_path(k: int) -> str:
    path = os.path.join(tempfile.gettempdir(), f"procspec-join-lock-{os.getpid()}-{k}")
    if path not in _lock_files:
        if not _lock_files:
            atexit.register(_remove_lock_files, os.getpid())
        _lock_files.append(path)
    return path


def _remove_lock_files(owner: int) -> None:
    if os.getpid() != owner:
        return
    for path in _lock_files:
        try:
            os.unlink(path)
        except OSError:
            pass


class _LockDefect:
    """start() returns at once, but every child holds one of ``LANES`` file locks (flock)
    while it runs (the paths travel with the process object, under every start method)."""

    LANES = 1

    def start(self) -> None:
        self._lock_paths = [_lock_path(k) for k in range(self.LANES)]
        super().start()  # type: ignore[misc]

    def run(self) -> None:
        fd = _acquire_lane(self._lock_paths)
        try:
            super().run()  # type: ignore[misc]
        finally:
            os.close(fd)


class LockSerialized(_LockDefect, _Real):
    """start() returns at once, but every child holds one file lock (flock) while it runs."""


class LockSerializedForkserver(_LockDefect, _ForkServerProcess):
    """LockSerialized on forkserver."""


class PoolOfTwo(LockSerialized):
    """Children run at most two at a time (two lock files: a two-worker pool)."""

    LANES = 2


def _acquire_lane(paths: list[str]) -> int:
    while True:
        for path in paths:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                os.close(fd)
        time.sleep(0.002)


class JoinEarly(_Real):
    """join() gives up after 10 ms: it returns before its child ends."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(0.01 if timeout is None else min(timeout, 0.01))


#: How long ``join-gives-up`` waits: an internal constant of the kind a real implementation
#: might have (every drawn child of the join and lifecycle claims ends well before it).
GIVES_UP_AFTER = 1.0


class JoinGivesUp(_Real):
    """join() without a timeout waits at most a fixed second: longer children still run."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(GIVES_UP_AFTER if timeout is None else timeout)


class JoinLate(_Real):
    """join() returns half a second after it should (its child's end, or the timeout)."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        time.sleep(LATENESS)


class JoinZeroBlocks(_Real):
    """join(0) is taken as "no timeout": it blocks until the child ends."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(None if timeout == 0 else timeout)


class JoinTimeoutTwice(_Real):
    """join(timeout) on a running child waits the timeout twice."""

    def join(self, timeout: Optional[float] = None) -> None:
        super().join(timeout)
        if timeout is not None and self.exitcode is None:
            super().join(timeout)


_started: list[Any] = []
_registry_lock = threading.Lock()


class JoinWaitsForYounger(_Real):
    """join() also waits for every child started after this one (as if each child held
    the sentinel of every older sibling: an inherited-descriptor bug)."""

    def start(self) -> None:
        super().start()
        with _registry_lock:
            _started[:] = _started[-255:] + [self]  # start order; bounded, never pruned early

    def join(self, timeout: Optional[float] = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        super().join(timeout)
        with _registry_lock:
            younger = _started[_started.index(self) + 1:] if self in _started else []
        for proc in younger:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            _Real.join(proc, left)


_pending: list[Any] = []


class LazyStart(_Real):
    """start() only queues the child; join(p) launches every queued child up to p (in start
    order), so children joined in start order run one after another."""

    def start(self) -> None:
        assert self._popen is None and self not in _pending, "cannot start a process twice"
        with _registry_lock:
            _pending.append(self)

    def _launch_through(self) -> None:
        with _registry_lock:
            if self not in _pending:
                return
            upto = _pending.index(self) + 1
            batch, _pending[:upto] = _pending[:upto], []
        for proc in batch:
            _Real.start(proc)

    def join(self, timeout: Optional[float] = None) -> None:
        self._launch_through()
        super().join(timeout)

    def is_alive(self) -> bool:
        self._launch_through()
        return bool(super().is_alive())


def _control(name: str, defect: str, process_class: Any, breaks: set[str],
             base: Any = _BASE) -> Control:
    return backend_control(name, defect, process_class, breaks, base)


#: Serializing defects on other start methods than fork: the fork control's name -> its
#: class on another method (the control is named ``<name>-<method>``).
_ON_OTHER_METHODS = {
    "serial-start": {"spawn": SerialStartSpawn},
    "lock-serialized": {"forkserver": LockSerializedForkserver},
}


CONTROLS = [
    _control("serial-start", "start() waits for the child to end (serial inside start())",
             SerialStart, {"JOIN-002", "ECHO-005", "ECHO-006"}),
    _control("lock-serialized", "start() returns at once; children take turns on a flock",
             LockSerialized, {"JOIN-002", "ECHO-005", "ECHO-006"}),
    _control("pool-of-two", "children run at most two at a time", PoolOfTwo,
             {"JOIN-002", "ECHO-005"}),
    _control("lazy-start", "children start only when joined, each with the ones before it",
             LazyStart, {"JOIN-002", "JOIN-005", "LIFE-004", "ISO-009", "ECHO-011", "API-004",
                         "API-005"}),
    _control("join-early", "join() returns after 10 ms, before its child ends", JoinEarly,
             {"JOIN-001", "LIFE-009", "LIFE-018", "LIFE-020"}),
    _control("join-gives-up", f"join() without a timeout gives up after {GIVES_UP_AFTER:g} s",
             JoinGivesUp, {"JOIN-001", "LIFE-009"}),
    _control("join-late", f"join() returns {LATENESS} s late", JoinLate,
             {"JOIN-003", "JOIN-004", "JOIN-006", "JOIN-007"}),
    _control("join-waits-for-younger", "join() also waits for every younger sibling",
             JoinWaitsForYounger, {"JOIN-003", "FD-001", "FD-002", "API-021"}),
    _control("join-timeout-twice", "join(timeout) waits twice the timeout",
             JoinTimeoutTwice, {"JOIN-006"}),
    _control("join-zero-blocks", "join(0) blocks until the child ends", JoinZeroBlocks,
             {"JOIN-007"}),
]
#: The serializing controls of the load meta-test: the fork ones and their variants on the
#: other start methods.
SERIALIZING = tuple(
    name for fork in _ON_OTHER_METHODS
    for name in [fork, *(f"{fork}-{method}" for method in _ON_OTHER_METHODS[fork])])
CONTROLS += [
    _control(f"{fork.name}-{method}", f"{fork.defect}, on {method}", process_class,
             set(fork.breaks), _OTHER_BASES[method])
    for fork in CONTROLS if fork.name in _ON_OTHER_METHODS
    for method, process_class in _ON_OTHER_METHODS[fork.name].items()]
