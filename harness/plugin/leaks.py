"""Nothing outlives a test: the per-test leak guard, and SIGTERM treated like SIGINT.

Leak guard: after each test, no new descendant of the test process may remain, running or
unreaped; the implementations' own helpers (a fork server, a resource tracker: see
:mod:`harness.helper_processes`) are exempt, their children are not. Leftovers are killed
and the test errors in teardown (an *inconclusive* result; a verdict the test already
reached stays its failure).

SIGTERM (what CI systems and ``timeout`` send): the first one raises KeyboardInterrupt,
exactly like Ctrl-C, so every fixture and ``with`` block tears down (servers ended,
children reaped); an xdist controller first passes it on to its workers. Later SIGTERMs
are ignored so that they cannot interrupt that teardown (SIGKILL still ends everything).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType
from typing import Callable, Iterator, Optional

import psutil
import pytest

from harness.helper_processes import is_helper
from harness.plugin.items import is_procspec_item
from harness.supervise import descendants


def _descendants() -> dict[int, psutil.Process]:
    # The children files of this process's tree (harness.supervise.descendants), not
    # psutil's children(recursive=True), which reads the stat file of every process on the
    # machine: 13 ms a call with 140 processes here, twice per test (0.06 ms this way).
    found: dict[int, psutil.Process] = {}
    for pid in descendants(os.getpid()):
        try:
            found[pid] = psutil.Process(pid)
        except psutil.Error:
            continue  # gone (reaped) between the two looks
    return found


def leftovers(before: set[int], grace: float) -> list[psutil.Process]:
    """New descendants still there (running, or zombies nobody reaped) after ``grace``."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for pid, p in _descendants().items()
                if pid not in before and not is_helper(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def _describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid} ({proc.status()}): {' '.join(proc.cmdline())[:120]}"
    except psutil.Error:
        return f"pid {proc.pid}"


def kill_and_reap(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)  # also reaps those that are our own children


@pytest.fixture(autouse=True)
def no_leaked_children(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a child process behind, running or unreaped (kill it first)."""
    if request.config.getoption("--no-leak-check") or not is_procspec_item(request.node):
        yield
        return
    before = set(_descendants())
    yield
    leaked = leftovers(before, grace=2.0)
    if leaked:
        described = [_describe(p) for p in leaked]
        kill_and_reap(leaked)
        pytest.fail("child processes left behind by this test (now killed):\n  "
                    + "\n  ".join(described), pytrace=False)


# --- SIGTERM ---------------------------------------------------------------------------

def _workers() -> list[psutil.Process]:
    """The xdist workers of this controller (its direct children)."""
    try:
        return psutil.Process().children()
    except psutil.Error:
        return []


def _make_handler(forward: bool) -> Callable[[int, Optional[FrameType]], None]:
    def on_sigterm(signum: int, frame: Optional[FrameType]) -> None:
        if os.getpid() not in _installed_in:  # a forked child: die as without us
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: never interrupt the teardown
        if forward:
            for worker in _workers():
                try:
                    worker.send_signal(signal.SIGTERM)
                except psutil.Error:
                    pass
        raise KeyboardInterrupt(f"SIGTERM to pytest (pid {os.getpid()})")
    return on_sigterm


_installed_in: set[int] = set()
"""The pids whose SIGTERM handler is ours (a child forked from a thread other than the
main one still inherits it; there the handler gives SIGTERM its default action back and
re-sends it)."""

_around_fork: list[object] = []


def _before_fork() -> None:
    """A child forked by a test (fork start method) must be born with SIGTERM's default
    action, so that ``terminate()`` ends it with -15 at once. An inherited Python-level
    handler loses a SIGTERM that arrives while the child is still inside ``fork()``
    (CPython clears pending signals there): measured, ``terminate()`` straight after
    ``start()`` then left the child running in about 1 run of 3. So the handler is
    lifted for the instant of each fork and put back in the parent."""
    if os.getpid() in _installed_in and threading.current_thread() is threading.main_thread():
        _around_fork.append(signal.signal(signal.SIGTERM, signal.SIG_DFL))


def _after_fork_in_parent() -> None:
    if _around_fork:
        signal.signal(signal.SIGTERM, _around_fork.pop())  # type: ignore[arg-type]


def _after_fork_in_child() -> None:
    _around_fork.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


def pytest_configure(config: pytest.Config) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, None):
        return  # somebody else handles it
    controller = not hasattr(config, "workerinput") and bool(
        getattr(config.option, "numprocesses", None))
    config.stash[_PREVIOUS] = signal.signal(signal.SIGTERM, _make_handler(forward=controller))
    _installed_in.add(os.getpid())


_PREVIOUS = pytest.StashKey[object]()


def pytest_unconfigure(config: pytest.Config) -> None:
    previous = config.stash.get(_PREVIOUS, None)
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
        _installed_in.discard(os.getpid())
