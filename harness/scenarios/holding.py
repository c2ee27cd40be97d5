"""A child held running: started, seen running (it reported), and waiting for the parent's
go-ahead. Scenarios that act on a running child (a timed join, ``close()``) start it here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import mailbox
from harness.backends import Backend
from harness.child import targets
from harness.supervise import Call, Session


@dataclass(frozen=True)
class Held:
    proc: Any
    start: Call
    running: bool
    """``start()`` returned and the child reported that it runs (bounded wait)."""
    release: str
    """The slot to post the go-ahead to."""
    released: str
    """The slot the child reports to once it took the go-ahead."""


def start_held(backend: Backend, box: mailbox.Mailbox, session: Session) -> Held:
    """Start a child that reports, then waits (bounded) for a go-ahead (``targets.hold``)."""
    started, release, released = (box.slot("started"), box.slot("release"),
                                  box.slot("released"))
    proc = backend.Process(target=targets.hold, args=(started, release, backend.name, released))
    start = session.start(proc, report=started)
    running = start.returned and session.wait_for(started)
    return Held(proc, start, running, release, released)
