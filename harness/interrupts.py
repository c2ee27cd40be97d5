"""SIGINT and SIGTERM to the command people run reach the pytest runs it started.

``timeout``, tox and CI runners signal the process they started: ``procspec-kit verify`` or
``python -m harness verify``, not its pytest. The command line (:mod:`harness.__main__`)
calls :func:`install` first; every pytest it starts then runs in a session of its own
(:func:`call`, or :func:`harness.supervise.run_program`, which registers its programs
here), so that a terminal's Ctrl-C reaches it once, through the wrapper, not twice. On the
first SIGINT or SIGTERM the wrapper:

- sends the same signal to every registered program (pytest's plugin turns SIGTERM into
  KeyboardInterrupt and passes it to its xdist workers: every fixture tears down, servers
  and children are ended: :mod:`harness.plugin.leaks`);
- starts no program after that (a ``controls`` run does not go on to its next batch);
- waits for their teardown at most :data:`TEARDOWN_GRACE` s, then kills what is left of
  each program's session; a second signal kills them at once;
- exits with ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM), saying so on
  stderr (:func:`exit_status`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Mapping, Optional, Sequence

#: How long the runs may take to tear down after the wrapper passed a signal on (s).
#: Measured on a 2-core machine under load (load average 6-20): ``verify -m echo`` under
#: fork, signalled with a server under test, exited 4.3 s after SIGTERM and 4.6 s after
#: SIGINT; ``controls`` 2.5 s after SIGTERM. The per-test leak guard waits up to 2 s, a
#: server's end up to 5 s. The meta-test (tests/meta/test_interrupts.py) holds the whole
#: command to 30 s.
TEARDOWN_GRACE = 20.0

_lock = threading.Lock()
_programs: set[subprocess.Popen] = set()
_received: list[int] = []
_signalled_at: list[float] = []
_installed = False


def install() -> None:
    """Handle SIGINT and SIGTERM in this (the wrapper's) process (main thread only)."""
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _on_signal)
    _installed = True


def installed() -> bool:
    return _installed


def interrupted() -> Optional[int]:
    """The first signal received, or None."""
    return _received[0] if _received else None


def _on_signal(signum: int, frame: Optional[FrameType]) -> None:
    first = not _received
    _received.append(signum)
    with _lock:
        running = [p for p in _programs if p.poll() is None]
    if first:
        _signalled_at.append(time.monotonic())
        for proc in running:
            _send(proc, signum)
        if running:
            threading.Thread(target=_reaper, args=(running,), daemon=True).start()
    else:  # asked again: no more waiting
        for proc in running:
            kill_session(proc)


def _send(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.kill(proc.pid, signum)
    except OSError:
        pass


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL to the program's whole session (its process group: it leads its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def _reaper(running: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + TEARDOWN_GRACE
    for proc in running:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"procspec: pid {proc.pid} still tearing down {TEARDOWN_GRACE:.0f} s after "
                  "the signal: killed", file=sys.stderr, flush=True)
            kill_session(proc)


def register(proc: subprocess.Popen) -> None:
    """Pass the wrapper's signals on to ``proc`` (started with ``start_new_session``); a
    program registered after a signal is ended at once."""
    with _lock:
        _programs.add(proc)
    if _received:
        _send(proc, _received[0])


def unregister(proc: subprocess.Popen) -> None:
    with _lock:
        _programs.discard(proc)


def call(cmd: Sequence[str], cwd: Optional[str] = None,
         env: Optional[Mapping[str, str]] = None) -> int:
    """Run ``cmd`` (its output straight to ours) in its own session, passing the
    wrapper's signals on; its exit status (never starts once the wrapper was signalled)."""
    if _received:
        return 128 + _received[0]
    import uuid

    from harness.run_tag import RUN_TAG, kill_tagged

    tag = uuid.uuid4().hex
    environ = dict(os.environ if env is None else env)
    environ[RUN_TAG] = tag
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=environ, start_new_session=True)
    register(proc)
    try:
        while True:
            try:
                status = proc.wait(0.5)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        unregister(proc)
    if _received:  # whatever the run left behind goes with it
        kill_session(proc)
        for left in kill_tagged(tag, grace=1.0):
            print(f"procspec: killed a process the interrupted run left: {left}",
                  file=sys.stderr, flush=True)
    return status


def exit_status(status: int) -> int:
    """The wrapper's exit status: ``128 + signal`` when it was interrupted (said on
    stderr, with how long the runs took to end), else ``status``."""
    signum = interrupted()
    if signum is None:
        return status
    took = time.monotonic() - _signalled_at[0] if _signalled_at else 0.0
    print(f"procspec: interrupted by {signal.Signals(signum).name}; the runs it started "
          f"ended {took:.1f} s later", file=sys.stderr, flush=True)
    return 128 + signum
