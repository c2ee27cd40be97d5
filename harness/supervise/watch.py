"""The OS's view of a scenario's processes, never the implementation's.

What has started and what has ended is read from /proc (:class:`Watch`: the processes that
appeared below this one since the scenario began, the implementation's own helpers
excepted): the implementation's ``pid``, ``is_alive()`` and ``exitcode`` are what the claims
judge, so the harness must not lean on them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from typing import Optional

from harness import limits

# psutil (and harness.helper_processes, which uses it) is imported where it is needed: this
# package is imported by every child a scenario starts under spawn (its targets live beside
# the scenarios), and a child that does not watch processes should not pay for the import.


def _stat(pid: int) -> Optional[tuple[str, int, int]]:
    """(state, ppid, cminflt) of ``pid`` from /proc/PID/stat; None when it is gone.

    ``cminflt`` counts the minor page faults of the children ``pid`` has reaped: every
    process faults when it runs, so it grows with every child reaped. That is how the
    harness learns that a child ended even when it lived too briefly to be seen (a fork
    server reaps its children at once)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    try:
        return fields[0].decode(), int(fields[1]), int(fields[8])
    except (IndexError, ValueError):
        return None


#: How long a process below the root is looked at before "not a helper" is final (a fork
#: server or resource tracker execs within milliseconds of its fork).
HELPER_SETTLE = 0.5

#: Above this many threads in one process, one walk of all of /proc (psutil) is cheaper
#: than a children file per thread (a hung join() leaves its helper thread behind).
_MANY_THREADS = 64


def _children(pid: int) -> Optional[list[int]]:
    """Direct children of ``pid`` (/proc/PID/task/TID/children of each of its threads);
    None when the kernel does not offer those files, or the process has many threads."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    if len(tasks) > _MANY_THREADS:
        return None
    found: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                found += [int(word) for word in fh.read().split()]
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}"):
                continue  # the thread has just ended
            return None
        except OSError:
            continue
    return found


def fd_table(pid: Optional[int] = None) -> dict[int, str]:
    """``fd -> what it refers to`` (the /proc link) for ``pid`` (default: this process)."""
    root = f"/proc/{'self' if pid is None else pid}/fd"
    table: dict[int, str] = {}
    try:
        names = os.listdir(root)
    except OSError:
        return table
    for name in names:
        try:
            table[int(name)] = os.readlink(f"{root}/{name}")
        except (OSError, ValueError):
            continue  # closed meanwhile (the listing's own descriptor, for one)
    return table


def _psutil_children(pid: int, recursive: bool) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=recursive)]
    except psutil.Error:
        return []


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a few /proc reads; psutil's walk of all of /proc,
    several ms with a few hundred processes, when the kernel lacks the children files)."""
    kids = _children(pid)
    return _psutil_children(pid, recursive=False) if kids is None else kids


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (as :func:`children`, level by level)."""
    found: list[int] = []
    todo = [root]
    while todo:
        kids = _children(todo.pop())
        if kids is None:
            return _psutil_children(root, recursive=True)
        found += kids
        todo += kids
    return found


@dataclass(frozen=True)
class Sight:
    """One look at a scenario's processes."""

    live: tuple[int, ...]
    """Processes of the scenario running now (zombies are not running)."""
    ended: bool
    """Some process of the scenario has ended (a zombie, gone, or reaped unseen)."""
    seen: bool
    """Some process of the scenario ever existed (seen, or reaped unseen)."""

    @property
    def settled(self) -> bool:
        """Processes ran, and none runs any more."""
        return not self.live and self.ended

    @property
    def nothing(self) -> bool:
        """No process ever ran for the scenario (a thread in disguise; a start deferred)."""
        return not self.live and not self.seen


class Watch:
    """The processes that appeared below ``root`` (default: this process) since the watch
    began, seen from the OS, minus the root's own helpers (the fork server and resource
    tracker it started: :func:`harness.helper_processes.is_helper`; a helper started by one
    of the scenario's children is the scenario's, and is ended with it)."""

    def __init__(self, root: Optional[int] = None) -> None:
        self.root = os.getpid() if root is None else root
        self._helpers: dict[int, tuple[bool, float, bool]] = {}
        present = descendants(self.root)
        self.before = set(present) if root is None else set()
        self.seen: set[int] = set()
        self.reaped: dict[int, int] = {}
        """pid -> wait status of each zombie this watch reaped itself (:meth:`end_all`)."""
        self._faults0 = self._faults(present)

    def _is_helper(self, pid: int) -> bool:
        """A helper of the root. A "no" is final only when a look made HELPER_SETTLE s or
        more after the first one still says no: a helper is started by fork and exec, and
        until the exec it shows its parent's command line. (Finalizing a first "no" after
        that time without a last look made, under load, a fork server first seen before its
        exec count as the scenario's own process: ended with the scenario, and every later
        forkserver start() of that worker failed.)"""
        now = time.monotonic()
        known, since, final = self._helpers.get(pid, (False, now, False))
        if known or final:
            return known
        stat = _stat(pid)
        helper = False
        if stat is not None and stat[1] == self.root:
            import psutil

            from harness.helper_processes import is_helper

            try:
                helper = is_helper(psutil.Process(pid))
            except psutil.Error:
                helper = False
        self._helpers[pid] = (helper, since, now - since >= HELPER_SETTLE)
        if helper:
            self.seen.discard(pid)
        return helper

    def mark_helper(self, pid: int) -> None:
        """Count ``pid`` as a helper of the root from now on (a scenario that knows better,
        e.g. a fork server it saw make a child)."""
        self._helpers[pid] = (True, time.monotonic(), True)
        self.seen.discard(pid)

    def _faults(self, present: list[int]) -> dict[int, int]:
        """Reaped-children fault counts of the root and of its helpers (a fork server reaps
        the children it forks)."""
        counts = {}
        for pid in [self.root] + [p for p in present if self._is_helper(p)]:
            stat = _stat(pid)
            counts[pid] = 0 if stat is None else stat[2]
        return counts

    def _ours(self, present: list[int]) -> list[int]:
        return [pid for pid in present if pid not in self.before and not self._is_helper(pid)]

    def ours(self) -> list[int]:
        """The scenario's processes present now (running or zombie)."""
        return self._ours(descendants(self.root))

    def scan(self) -> Sight:
        present = descendants(self.root)
        live: list[int] = []
        ended = False
        found = set()
        for pid in self._ours(present):
            found.add(pid)
            self.seen.add(pid)
            stat = _stat(pid)
            if stat is None or stat[0] in ("Z", "X", "x"):
                ended = True
            else:
                live.append(pid)
        if self.seen - found:
            ended = True
        if not ended and not live:
            ended = any(count > self._faults0.get(pid, 0)
                        for pid, count in self._faults(present).items())
        return Sight(live=tuple(live), ended=ended, seen=bool(self.seen) or ended)

    def new_since(self, known: set[int]) -> bool:
        """A process of the scenario appeared (or ended unseen) that ``known`` lacks."""
        sight = self.scan()
        return bool(self.seen - known) or (not known and sight.ended)

    def end_all(self, grace: float) -> list[str]:
        """SIGKILL every process of the scenario still running, reap this process's own
        zombies among them, and wait (bounded) until none is left. Returns a description of
        those still there after ``grace``."""
        deadline = time.monotonic() + grace
        me = os.getpid()
        while True:
            left = self.ours()
            if not left:
                return []
            for pid in left:
                stat = _stat(pid)
                if stat is None:
                    continue
                with contextlib.suppress(OSError):
                    if stat[0] != "Z":
                        os.kill(pid, signal.SIGKILL)
                    elif stat[1] == me:
                        done, status = os.waitpid(pid, os.WNOHANG)
                        if done == pid:
                            self.reaped[pid] = status
            if time.monotonic() >= deadline:
                return [_describe(pid) for pid in self.ours()]
            time.sleep(limits.POLL_INTERVAL)


def _describe(pid: int) -> str:
    import psutil

    try:
        proc = psutil.Process(pid)
        return f"pid {pid} ({proc.status()}): {' '.join(proc.cmdline())[:100]}"
    except psutil.Error:
        return f"pid {pid}"
