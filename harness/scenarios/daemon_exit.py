"""API-003's scenario (specs/process-api.md): a separate interpreter whose main code
finishes while its daemon child sleeps; the OS shows whether the child ended with it.

The program's output goes to files it appends to (a daemon child left running keeps no
pipe of ours open), and while it runs this process is the *child subreaper* of its
descendants (Linux ``PR_SET_CHILD_SUBREAPER``): a child its parent leaves behind comes back
here, and is killed and reaped with the program's whole process group before the function
returns.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

from harness import limits, patience
from harness.backends import Backend
from harness.supervise import gave_up, patience_env, slack_for
from harness.supervise.subreaper import subreaper as _subreaper


@dataclass(frozen=True)
class DaemonAtExit:
    """A separate interpreter whose main code ends while its daemon child sleeps."""

    program_pid: Optional[int]
    child_pid: Optional[int]
    events: tuple[str, ...]
    returncode: Optional[int]
    program_exited: bool
    """The program exited by itself (not ended by the harness)."""
    child_ended: bool
    """The OS showed the child had ended (gone, or a zombie) within the grace."""
    child_end_after_main: Optional[float]
    """Seconds from ``main done`` to the first look that found the child ended."""
    grace: float
    stderr: str

    def saw(self, event: str) -> bool:
        return any(line.startswith(event) for line in self.events)


def _ended(pid: int) -> bool:
    """The OS shows ``pid`` ended: gone, or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return True
    return data[data.rfind(b")") + 2:].split()[:1] in ([b"Z"], [b"X"], [b"x"])


def _child_pid(out: str) -> Optional[int]:
    for line in out.splitlines():
        if line.startswith("child started "):
            with contextlib.suppress(ValueError, IndexError):
                return int(line.split()[2])
    return None


def _end_group(pgid: int, grace: float) -> None:
    """SIGKILL the program's process group; reap those of its processes that came back to
    this process (the subreaper), bounded."""
    import psutil

    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            mine = [p.pid for p in psutil.Process().children()]
        except psutil.Error:
            mine = []
        ours = []
        for pid in mine:
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == pgid:
                    ours.append(pid)
        if not ours:
            return
        for pid in ours:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(limits.POLL_INTERVAL)


def run_program_with_a_daemon_child(backend: Backend) -> DaemonAtExit:
    """Run ``python -m harness.child.daemon_main`` in its own session (its output goes to
    a file: a daemon child left running keeps no pipe of ours open); from ``main done``
    on, watch (bounded: ``grace``) for its daemon child to end. The program is ended with
    its whole group once the child has ended and it has not exited ``RETURN_SLACK`` s
    later, or at the grace; its orphans come back to this process and are reaped."""
    key = f"{backend.name}:daemon-at-exit"  # this wait's own patience: no other wait's
    grace = patience.grace(key, limits.RETURN_SLACK + limits.SIGNAL_GRACE + 3.0)
    overall = 2 * patience.grace(backend.name, limits.JOIN_GRACE, "end")
    exit_slack = slack_for(backend.name, "exit")  # short once such an exit was given up
    cmd = [sys.executable, "-m", "harness.child.daemon_main", backend.name]
    main_done: Optional[float] = None
    child_ended: Optional[float] = None
    child: Optional[int] = None
    subreaper = _subreaper(True)
    try:
        with tempfile.TemporaryDirectory(prefix="procspec-daemon-") as tmp, \
                open(os.path.join(tmp, "out"), "ab") as out, \
                open(os.path.join(tmp, "err"), "ab") as err:
            program = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, start_new_session=True,
                                       env=patience_env(backend.name))
            began = time.monotonic()
            try:
                while True:
                    now = time.monotonic()
                    text = _read(out.name)
                    child = child if child is not None else _child_pid(text)
                    if main_done is None and "main done" in text:
                        main_done = now
                    if child is not None and child_ended is None and main_done is not None \
                            and _ended(child):
                        child_ended = now
                    exited = program.poll() is not None
                    if main_done is None and (exited or now - began >= overall):
                        break  # it never got as far as its exit (or exited without it)
                    if main_done is not None and child_ended is not None and (
                            exited or now - child_ended >= exit_slack):
                        if not exited:  # its exit handler hangs: the program's exit slack
                            gave_up(backend.name, "exit", "the program had not exited "
                                    f"{exit_slack} s after its daemon child ended")
                        break
                    if main_done is not None and now - main_done >= grace:
                        patience.expired(key, "a daemon child outlived its parent's main code")
                        break
                    time.sleep(limits.POLL_INTERVAL)
                exited = program.poll() is not None
            finally:
                _end_group(program.pid, limits.SIGNAL_GRACE + limits.RETURN_SLACK)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    program.wait(limits.SIGNAL_GRACE)
            text, stderr = _read(out.name), _read(err.name)
    finally:
        if subreaper:
            _subreaper(False)
    return DaemonAtExit(
        program_pid=program.pid, child_pid=child,
        events=tuple(line.rpartition(" ")[0] for line in text.splitlines()),
        returncode=program.returncode if exited else None, program_exited=exited,
        child_ended=child_ended is not None,
        child_end_after_main=None if child_ended is None or main_done is None
        else child_ended - main_done,
        grace=grace, stderr=stderr[-2000:])


def _read(path: str) -> str:
    """All the program wrote so far. The program writes in append mode through its own
    descriptors, and this reads through a new one: no shared offset to race for."""
    with open(path, "rb") as fh:
        return fh.read().decode(errors="replace")
