"""Descriptor scenarios (specs/descriptors.md): a parent's open file descriptors before and
after its children, read from Linux's /proc.

The implementation's own helpers (a fork server, a resource tracker:
:func:`harness.helper_processes.is_helper`) are started on first use and keep a pipe or
socket to the parent for the parent's whole life. Those descriptors are set aside *by
measurement*: a descriptor of the parent that refers to the very same open pipe or socket
(``/proc/PID/fd`` link, e.g. ``pipe:[123]``) as a descriptor of one of the parent's helper
processes is the helper's. Nothing is set aside by fd number or by guess.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass
from typing import Optional

from harness import limits, patience
from harness.backends import Backend
from harness.child import targets
from harness.echo import observe
from harness.echo.observe import RunningServer
from harness.scenarios.echo import Waits
from harness.supervise import Call, attempt, children, fd_table, supervised


def helper_links(parent: Optional[int] = None) -> dict[str, int]:
    """``link -> helper pid`` for every pipe or socket held by a helper process (fork
    server, resource tracker) whose parent is ``parent`` (default: this process)."""
    import psutil

    from harness.helper_processes import is_helper

    owner = os.getpid() if parent is None else parent
    links: dict[str, int] = {}
    for pid in children(owner):
        try:
            helper = is_helper(psutil.Process(pid))
        except psutil.Error:
            helper = False
        if helper:
            for link in fd_table(pid).values():
                if link.startswith(("pipe:", "socket:")):
                    links[link] = pid
    return links


@dataclass(frozen=True)
class Difference:
    """Descriptors that appeared (or changed) and went, the helpers' set aside."""

    new: dict[int, str]
    gone: dict[int, str]
    set_aside: dict[int, str]
    """New descriptors shared with a helper process (the helper's pid in the text)."""


def compare(before: dict[int, str], after: dict[int, str],
            helpers: dict[str, int]) -> Difference:
    new = {fd: link for fd, link in after.items() if before.get(fd) != link}
    aside = {fd: f"{link} (shared with helper pid {helpers[link]})"
             for fd, link in new.items() if link in helpers}
    return Difference(new={fd: link for fd, link in new.items() if fd not in aside},
                      gone={fd: link for fd, link in before.items()
                            if after.get(fd) != link and link not in helpers},
                      set_aside=aside)


@dataclass(frozen=True)
class ChildrenRun:
    count: int
    started: int
    """How many ``start()`` calls returned."""
    joined: int
    """How many ``join()`` calls returned."""
    ended: bool
    """The OS showed every process of the scenario ended."""
    difference: Difference
    before: int
    after: int


def start_and_join(backend: Backend, count: int) -> ChildrenRun:
    """Start ``count`` no-op children, join each (bounded), let the process objects go
    (no reference left; garbage collected), and compare the descriptor tables.

    What existed before the scenario is frozen (``gc.freeze``) while it runs: whatever it
    holds stays held, so it cannot show as new, and the collection after the scenario
    looks only at the scenario's own objects, not at the whole test process (two full
    collections per example were a fortieth of a verify run's CPU time). PyPy has no
    ``gc.freeze``: there everything is collected before the first look too."""
    freeze, unfreeze = getattr(gc, "freeze", gc.collect), getattr(gc, "unfreeze", None)
    freeze()
    try:
        before = fd_table()
        with supervised(backend.name) as session:
            procs = [backend.Process(target=targets.noop) for _ in range(count)]
            starts: list[Call] = [session.start(proc) for proc in procs]
            joins = [session.join(proc) for proc, call in zip(procs, starts) if call.returned]
            ended = session.settle()
            started = sum(call.returned for call in starts)
            joined = sum(call.returned for call in joins)
            # Once the OS shows every child ended, the implementation may drop what it
            # still keeps of them (multiprocessing's registry of children forgets a child
            # at join(), or at active_children() when its join() returned early: JOIN-001's
            # defect, not a leak). A process object the implementation keeps for good
            # still shows.
            if ended:
                attempt(getattr(backend.context, "active_children", lambda: None))
        del procs, session, starts, joins
        gc.collect()
        after = fd_table()
    finally:
        if unfreeze is not None:
            unfreeze()
    return ChildrenRun(count=count, started=started, joined=joined, ended=ended,
                       difference=compare(before, after, helper_links()),
                       before=len(before), after=len(after))


# --- the echo server ---------------------------------------------------------------------

def listening_process(server: RunningServer) -> Optional[int]:
    """The process of the server's tree that holds its listening socket."""
    return observe.listener(server.pid, server.port)


@dataclass(frozen=True)
class ServerRun:
    clients: int
    server_pid: Optional[int]
    """The process that holds the listening socket (None: none found)."""
    handlers_ended: bool
    """After every client, its handler had ended (bounded) before the next one came."""
    before: int
    after: int
    """Descriptors of the serving process (its helpers' set aside), after a first client
    and after all the others; ``after`` is the lowest count seen while it settled."""
    new: dict[int, str]
    set_aside: dict[int, str]
    settle_grace: float


def _handlers_end(server: RunningServer, waits: Waits) -> bool:
    deadline = time.monotonic() + waits.eof()
    while observe.live_workers(server):
        if time.monotonic() >= deadline:
            waits.expire("a handler still ran after its client had closed")
            return False
        time.sleep(limits.OS_POLL_INTERVAL)
    return True


def _look(pid: int) -> tuple[dict[int, str], dict[str, int]]:
    """The serving process's table and its helpers' links, at one moment."""
    return fd_table(pid), helper_links(pid)


def _own(table: dict[int, str], stable: set[str]) -> dict[int, str]:
    """The serving process's own descriptors: those shared with a helper at both looks
    (``stable``) are the helper's. A fork server also holds the other end of a handler's
    sentinel pipe until it has reported the handler's exit: that pipe is the handler's,
    shared for a moment only, so it counts."""
    return {fd: link for fd, link in table.items() if link not in stable}


@dataclass(frozen=True)
class _Looks:
    """The first look and a later one, compared."""

    first: tuple[dict[int, str], dict[str, int]]
    later: tuple[dict[int, str], dict[str, int]]

    @property
    def stable(self) -> set[str]:
        return set(self.first[1]) & set(self.later[1])

    @property
    def before(self) -> dict[int, str]:
        return _own(self.first[0], self.stable)

    @property
    def after(self) -> dict[int, str]:
        return _own(self.later[0], self.stable)

    @property
    def grew(self) -> bool:
        return len(self.after) > len(self.before)


#: Clients sent after the N, one at a time, while the serving process holds more than it
#: did: a handler that had ended but whose status had not yet reached its process object
#: (under forkserver the fork server reports it a moment later) is let go at the next
#: ``start()`` (the standard library's cleanup of finished children), so one more client
#: releases it; a leak grows with each.
SETTLING_CLIENTS = 3


def clients_one_after_another(server: RunningServer, count: int) -> ServerRun:
    """A first client (its handler may start the implementation's helpers), then ``count``
    more, one at a time; each sends a short message, reads the reply (not judged) and
    closes, and its handler is waited for (bounded) before the next. The serving process's
    descriptors are counted after the first and after the last (given a short while to
    close its copy of the connection, and up to SETTLING_CLIENTS more clients)."""
    waits = Waits(server)
    pid = listening_process(server)
    if pid is None:
        return ServerRun(clients=count, server_pid=None, handlers_ended=False, before=0,
                         after=0, new={}, set_aside={}, settle_grace=0.0)
    waits.round_trip(b"first client")
    ended = _handlers_end(server, waits)
    first = _look(pid)
    for i in range(count):
        waits.round_trip(f"client {i}".encode())
        ended = _handlers_end(server, waits) and ended
    grace = patience.grace(f"{server.name}:descriptors", limits.RETURN_SLACK)
    looks = _settled(pid, first, grace)
    for i in range(SETTLING_CLIENTS):
        if not looks.grew:
            break
        waits.round_trip(f"settling client {i}".encode())
        ended = _handlers_end(server, waits) and ended
        looks = _settled(pid, first, grace)
    if looks.grew:
        patience.expired(f"{server.name}:descriptors",
                         "the serving process held more descriptors")
    helpers = looks.later[1]
    return ServerRun(clients=count, server_pid=pid, handlers_ended=ended,
                     before=len(looks.before), after=len(looks.after),
                     new=compare(looks.before, looks.after, {}).new,
                     set_aside={fd: f"{link} (shared with helper pid {helpers[link]})"
                                for fd, link in looks.later[0].items()
                                if link in looks.stable},
                     settle_grace=grace)


def _settled(pid: int, first: tuple[dict[int, str], dict[str, int]], grace: float
             ) -> _Looks:
    """A later look that does not hold more than the first, else the one closest to it
    within ``grace``."""
    deadline = time.monotonic() + grace
    best = _Looks(first, _look(pid))
    while best.grew and time.monotonic() < deadline:
        time.sleep(limits.OS_POLL_INTERVAL)
        now = _Looks(first, _look(pid))
        if len(now.after) - len(now.before) < len(best.after) - len(best.before):
            best = now
    return best
