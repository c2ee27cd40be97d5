"""What a child starts from (specs/isolation.md, ISO-007, ISO-008, ISO-010): the probe that
finds the start method a backend's children are made by from OS facts about one child
(its one cached answer, beside the declared one, is :mod:`harness.start_method`'s), the
page's main program run as a program of its own, and a printing command.

``python -c 'from harness.scenarios.start_state import measure_start_states as m; m()'``
prints what a child starts from under each standard method.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Optional

from harness import limits, mailbox, patience
from harness.backends import Backend
from harness.child import targets
from harness.scenarios.isolation import child_start_state, child_writes, run_in_session
from harness.supervise import SIGN_OF_LIFE, exit_watch, patience_env, run_program, supervised


@dataclass(frozen=True)
class Origin:
    """How the OS sees a child: made by this process (fork or spawn) or by a server, and
    whether it kept the parent's command line (fork: no exec) or not (spawn: a new
    interpreter, whatever its implementation calls the method: loky's ``'loky'`` is one)."""

    parent_pid: int
    parent_cmdline: Optional[list]
    reported: Optional[dict]

    @property
    def start_method(self) -> Optional[str]:
        """``fork`` | ``spawn`` | ``forkserver`` as far as the OS shows; None when the
        child never reported or shares the parent's pid (then it is no process at all)."""
        if not self.reported or self.reported["pid"] == self.parent_pid:
            return None
        if self.reported["ppid"] != self.parent_pid:
            return "forkserver"  # made by another process on our behalf
        if self.reported["cmdline"] is None or self.parent_cmdline is None:
            return None
        return "fork" if self.reported["cmdline"] == self.parent_cmdline else "spawn"


def find_start_method(backend: Backend) -> Origin:
    """Find out a backend's start method from OS facts about one child, not from the
    module state the start-method claims are about (that would be circular). Run afresh
    on every call: ask :func:`harness.start_method.shown` for the cached answer."""
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("origin")
        run_in_session(session, backend, targets.report_origin, (path,), report=path)
        return Origin(parent_pid=os.getpid(), parent_cmdline=targets.cmdline_of(os.getpid()),
                      reported=mailbox.read(path))


@dataclass(frozen=True)
class MainProgram:
    """``python -m harness.child.isolation_main``: the page's ``n`` in the main script, changed
    to ``value`` under the ``__main__`` guard before ``start()``."""

    value: int
    returncode: Optional[int]
    timed_out: bool
    hung_at_exit: Optional[str]
    """Why the harness ended the program after it had reported (it had not exited ``slack``
    s later: how an interpreter exits is LIFE-020's business); None when it exited."""
    events: tuple
    """``(event, data)`` the program's processes printed, in output order."""
    stderr: str

    def data(self, event: str) -> list:
        return [data for name, data in self.events if name == event]


def run_main_program(backend: Backend, value: int) -> MainProgram:
    """Run the program in its own session; once it has printed its ``parent`` line it gets
    ``slack`` s to exit, then it is ended (with its session); else after the graces."""
    cmd = [sys.executable, "-m", "harness.child.isolation_main", backend.name, str(value)]
    give_up = exit_watch(backend.name, lambda out: '["parent"' in out, "it reported")

    timeout = patience.grace(backend.name, limits.START_GRACE, SIGN_OF_LIFE) + \
        patience.grace(backend.name, limits.JOIN_GRACE, "end")
    run = run_program(cmd, timeout=timeout, env=patience_env(backend.name), give_up=give_up,
                      end_group=True)
    events = []
    for line in run.stdout.splitlines():
        try:
            event, data = json.loads(line)
        except ValueError:
            event, data = "unparsed", line
        events.append((event, data))
    return MainProgram(value=value, returncode=run.returncode, timed_out=run.timed_out,
                       hung_at_exit=run.gave_up, events=tuple(events),
                       stderr=run.stderr[-2000:])


def measure_start_states(names: tuple = ("fork", "spawn", "forkserver")) -> None:
    """Print what a child sees per start method (the table in specs/isolation.md)."""
    from harness.backends import resolve

    changes = (("rebind-global", 0), ("list-append", 1), ("class-setattr", "x"),
               ("delete-global", None))
    for name in names:
        backend = resolve(name)
        page = child_writes(backend, "rebind-global", 0)
        seen = (child_start_state(backend, changes).reported or {}).get("view", {})
        program = run_main_program(backend, 7).data("child")
        print(f"{name}: page exercise child {page.reported and page.reported['before']['n']}"
              f" -> {page.reported and page.reported['after']['n']}, parent after join "
              f"{page.parent_after_join['n']}; on entry after run-time changes "
              f"{ {k: seen.get(k) for k in ('n', 'items', 'Holder.label', 'doomed')} }; "
              f"main script {program}; found out: {find_start_method(backend).start_method}")
