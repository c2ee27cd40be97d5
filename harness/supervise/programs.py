"""Separate programs a scenario or a tool runs: bounded, in their own session, and ended
with their whole process group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO, Any, Callable, Mapping, Optional, Sequence

from harness import limits
from harness.supervise.slack import gave_up, slack_for
from harness.supervise.watch import Watch


def exit_watch(subject: str, ready: Callable[[str], bool],
               what: str) -> Callable[[str, int], Optional[str]]:
    """A ``give_up`` for :func:`run_program`: once the program's output shows ``ready``
    and no process of it runs any more, it gets the exit slack, then it is given up on
    (``the program had not exited ... after {what}``)."""
    slack = slack_for(subject, "exit")
    state: dict[str, Any] = {}

    def give_up(out: str, pid: int) -> Optional[str]:
        if "watch" not in state:
            state["watch"] = Watch(root=pid)
        if not ready(out):
            return None
        now = time.monotonic()
        if state["watch"].scan().live:
            state.pop("quiet", None)
            return None
        quiet = state.setdefault("quiet", now)
        if now - quiet >= slack:
            why = f"the program had not exited {slack} s after {what}"
            gave_up(subject, "exit", why)
            return why
        return None
    return give_up


@dataclass(frozen=True)
class ProgramOutput:
    """A separate program run to its end (or killed with its whole session)."""

    returncode: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str
    gave_up: Optional[str] = None
    """Why the caller's ``give_up`` ended the program early (it was killed), if it did."""


def _drain(stream: IO[str], parts: list[str]) -> None:
    for chunk in iter(stream.readline, ""):
        parts.append(chunk)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def run_program(cmd: Sequence[str], timeout: Optional[float], cwd: Optional[str] = None,
                env: Optional[Mapping[str, str]] = None,
                give_up: Optional[Callable[[str, int], Optional[str]]] = None,
                end_group: bool = False) -> ProgramOutput:
    """Run ``cmd`` in its own session; after ``timeout`` s kill the session, children too.

    ``give_up(stdout so far, pid)``, asked while the program runs, may name a reason to end
    it early (killed with its session). ``end_group`` kills whatever is left of the
    program's process group after it has ended (children it left behind)."""
    from harness import interrupts

    signum = interrupts.interrupted()
    if signum is not None:  # the command line was told to stop: start nothing more
        return ProgramOutput(128 + signum, False, "",
                             "procspec: not started: the command was interrupted")
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True, cwd=cwd,
                            env=dict(env) if env is not None else None)
    if interrupts.installed():  # the command line's signals reach it
        interrupts.register(proc)
    try:
        return _finish(proc, timeout, give_up, end_group)
    finally:
        interrupts.unregister(proc)


def _finish(proc: subprocess.Popen, timeout: Optional[float],
            give_up: Optional[Callable[[str, int], Optional[str]]],
            end_group: bool) -> ProgramOutput:
    if give_up is None and not end_group:
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            out, err = proc.communicate()
        return ProgramOutput(proc.returncode, timed_out, out, err)
    assert proc.stdout is not None and proc.stderr is not None
    out_parts: list[str] = []
    err_parts: list[str] = []
    readers = [threading.Thread(target=_drain, args=(stream, parts), daemon=True)
               for stream, parts in ((proc.stdout, out_parts), (proc.stderr, err_parts))]
    for reader in readers:
        reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    timed_out, why = False, None
    while proc.poll() is None:
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
            break
        if give_up is not None:
            why = give_up("".join(out_parts), proc.pid)
            if why:
                break
        time.sleep(limits.OS_POLL_INTERVAL)
    if timed_out or why:
        _kill_group(proc.pid)
    proc.wait()
    if end_group:
        _kill_group(proc.pid)
    for reader in readers:
        reader.join(limits.SIGNAL_GRACE)
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    return ProgramOutput(proc.returncode, timed_out, "".join(out_parts), "".join(err_parts),
                         gave_up=why)
