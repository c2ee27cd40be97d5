"""Beyond one child (specs/lifecycle.md): a child that creates a grandchild, and a whole
program whose main code finishes while its child still works (run with
:func:`harness.supervise.run_program`, ended with its session). Records only."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

from harness import limits, mailbox, patience
from harness.backends import Backend
from harness.child import targets
from harness.supervise import Call, Observed, attempt, supervised
from harness.supervise.programs import exit_watch, run_program
from harness.supervise.slack import patience_env


@dataclass(frozen=True)
class Grandchild:
    """A child with a default name creates a process of the same class."""

    child_name: Observed
    start: Call
    reported: Optional[dict]
    exitcode: Observed


def child_creates_grandchild(backend: Backend) -> Grandchild:
    with mailbox.Mailbox() as box, supervised(backend.name) as session:
        path = box.slot("names")
        proc = backend.Process(target=targets.report_grandchild_name,
                               args=(path, backend.name))
        child_name = attempt(lambda: proc.name)
        start = session.start(proc, report=path)
        if start.returned:
            session.join(proc)
            session.settle()
        return Grandchild(child_name=child_name, start=start, reported=mailbox.read(path),
                          exitcode=attempt(lambda: proc.exitcode))


@dataclass(frozen=True)
class ProgramRun:
    """A separate interpreter whose main code ends while its child still works."""

    child_seconds: float
    returncode: Optional[int]
    timed_out: bool
    hung_at_exit: Optional[str]
    """Why the harness ended the program: it had not exited ``slack`` s after its child had
    finished (its exit handler's ``join()`` did not return); None when it exited."""
    events: tuple[tuple[str, float], ...]
    """``(event, time.monotonic())`` lines the program printed, in output order."""
    stderr: str

    def saw(self, event: str) -> bool:
        return any(name == event for name, _ in self.events)


def run_program_whose_main_finishes_first(backend: Backend,
                                          child_seconds: float) -> ProgramRun:
    """Run ``python -m harness.child.early_main`` in its own session. It is ended (with its whole
    session) when it has not exited ``slack`` s after its child finished and no process of
    it runs any more, or after the grace."""
    cmd = [sys.executable, "-m", "harness.child.early_main", backend.name, repr(child_seconds)]
    give_up = exit_watch(
        backend.name, lambda out: "child done" in out and "interpreter exit" not in out,
        "its child ended")

    timeout = child_seconds + patience.grace(backend.name, limits.JOIN_GRACE, "end")
    run = run_program(cmd, timeout=timeout, env=patience_env(backend.name), give_up=give_up,
                      end_group=True)
    events = []
    for line in run.stdout.splitlines():
        event, _, stamp = line.rpartition(" ")
        try:
            events.append((event, float(stamp)))
        except ValueError:
            events.append((line, float("nan")))
    return ProgramRun(child_seconds=child_seconds, returncode=run.returncode,
                      timed_out=run.timed_out, hung_at_exit=run.gave_up,
                      events=tuple(events), stderr=run.stderr[-2000:])
