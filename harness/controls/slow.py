"""Broken backends of the slow kind: defects that, met with waits alone, cost a grace per
wait (and again for every example Hypothesis replays while it shrinks).

The verdict issue measured a forkserver-based ``Process`` whose children die before
running their target: ``-m "lifecycle or join or isolation"`` had not finished after
400-600 s, every example waiting out the grace for a report that could not come. procspec
must see such a defect from the OS (the child has ended; the call has not returned) and
give its verdict in seconds. These controls are of that kind, and not the same
implementations as the ones the issue met.
"""

from __future__ import annotations

import os
from typing import Any

from harness.controls import Control
from harness.controls._base import ControlContext, base_context

_FORKSERVER = base_context("forkserver")
_ForkServerProcess: Any = _FORKSERVER.Process

#: The status a child that dies before its target exits with (as a crash in start-up would).
DIED = 1


class DiesBeforeTarget(_ForkServerProcess):
    """The fork server forks the child, and the child exits before it runs its target."""

    def run(self) -> None:
        os._exit(DIED)


def _control(name: str, defect: str, process_class: Any, base: Any,
             breaks: set[str]) -> Control:
    return Control(name=name, defect=defect, breaks=frozenset(breaks),
                   context=ControlContext(process_class, base),
                   start_method=base.get_start_method())


CONTROLS = [
    _control("dies-before-target", "forkserver: each child exits (status 1) before it runs "
             "its target", DiesBeforeTarget, _FORKSERVER, {"LIFE-010", "ECHO-011"}),
]
