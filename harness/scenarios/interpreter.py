"""What interpreter a child runs (specs/isolation.md ISO-016, ISO-017; process-api.md
API-014): its parent's interpreter flags, in a program started with ``-E -S -O``; a main
script without the ``__main__`` guard; ``set_executable()``. Records only; every program
runs in its own session and is ended with its whole process group.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Optional

import harness
from harness import limits, patience
from harness.backends import Backend
from harness.supervise import patience_env, run_program

#: The flags the program is started with (CPython's ``TestFlags.test_flags``).
FLAGS = ("-E", "-S", "-O")


@dataclass(frozen=True)
class FlagsRun:
    returncode: Optional[int]
    timed_out: bool
    record: Optional[dict]
    """``{"main", "child", "grandchild"}``: each ``{"pid", "flags"}`` or None."""
    stdout: str
    stderr: str


def _kit_root() -> str:
    """The directory that holds the ``harness`` package (checkout or site-packages)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(harness.__file__)))


def flags_of_children(backend: Backend) -> FlagsRun:
    """Run ``python -E -S -O -m harness.child.flags_main BACKEND PATHS`` and read its
    record (its child's and grandchild's ``sys.flags``)."""
    paths = [os.path.abspath(p) for p in sys.path if p]
    cmd = [sys.executable, *FLAGS, "-m", "harness.child.flags_main", backend.name,
           json.dumps(paths)]
    timeout = 2 * patience.grace(backend.name, limits.JOIN_GRACE, "end")
    run = run_program(cmd, timeout=timeout, cwd=_kit_root(), env=patience_env(backend.name),
                      end_group=True)
    record = None
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
    return FlagsRun(returncode=run.returncode, timed_out=run.timed_out, record=record,
                    stdout=run.stdout[-2000:], stderr=run.stderr[-2000:])
