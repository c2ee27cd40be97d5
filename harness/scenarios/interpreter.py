"""What interpreter a child runs (specs/isolation.md ISO-016, ISO-017; process-api.md
API-019): its parent's interpreter flags, in a program started with ``-E -S -O``; a main
script without the ``__main__`` guard; ``set_executable()``. Records only; every program
runs in its own session and is ended with its whole process group.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, Optional

import harness
from harness import limits, mailbox, patience
from harness.backends import Backend
from harness.child import family_targets
from harness.supervise import Call, Observed, attempt, patience_env, run_program, supervised

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


@dataclass(frozen=True)
class UnguardedRun:
    """``python harness/child/unguarded_main.py BACKEND`` run to its end (or ended)."""

    returncode: Optional[int]
    timed_out: bool
    lines: tuple[str, ...]
    """What the script and its processes printed, in order."""
    stderr: str

    def saw(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in self.lines)

    def at_depth(self, what: str, depth: int) -> bool:
        return any(line.startswith(what) and line.endswith(f"depth={depth}")
                   for line in self.lines)


def run_unguarded_script(backend: Backend) -> UnguardedRun:
    """Run the script without a ``__main__`` guard (in its own session, ended with its
    whole group; the kit's root on ``PYTHONPATH``)."""
    root = _kit_root()
    env = patience_env(backend.name)
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("PROCSPEC_UNGUARDED_DEPTH", None)
    script = os.path.join(root, "harness", "child", "unguarded_main.py")
    timeout = 2 * patience.grace(backend.name, limits.JOIN_GRACE, "end")
    run = run_program([sys.executable, script, backend.name], timeout=timeout, cwd=root,
                      env=env, end_group=True)
    return UnguardedRun(returncode=run.returncode, timed_out=run.timed_out,
                        lines=tuple(run.stdout.splitlines()), stderr=run.stderr[-3000:])


#: The forms ``set_executable()`` takes (CPython's ``test_set_executable``).
EXECUTABLE_KINDS = ("str", "bytes", "path-like")


class _PathLike:
    """A path-like object (``os.fspath`` gives its path), as ``os_helper.FakePath``."""

    def __init__(self, path: str) -> None:
        self._path = path

    def __fspath__(self) -> str:
        return self._path

    def __repr__(self) -> str:
        return f"<path-like {self._path!r}>"


@dataclass(frozen=True)
class SetExecutable:
    """A child started after ``set_executable(wrapper)``: ``wrapper`` a new shell script
    that writes its process id to a file and then ``exec``s this interpreter (the process
    id survives the ``exec``, so the file names the child that was started through it)."""

    kind: str
    has_setter: bool
    wrapper: Optional[str]
    set_call: Observed
    start: Optional[Call]
    reported: Optional[dict]
    """What the child posted: its pid and ``sys.executable``."""
    through_wrapper: tuple[int, ...]
    """The process ids the wrapper wrote (every process started through it)."""
    restored: Observed
    """How the previous executable was set again afterwards: None, or what
    ``set_executable(previous)`` raised."""


def _spawn_module(setter: Any) -> Any:
    """The module that holds the executable ``setter`` sets: ``<package>.spawn`` of the
    package the setter is defined in (the standard library, multiprocess, billiard), or
    None."""
    package = (getattr(setter, "__module__", "") or "").rpartition(".")[0]
    module = sys.modules.get(f"{package}.spawn") if package else None
    return module if module is not None and hasattr(module, "_python_exe") else None


def _wrapper(directory: str) -> tuple[str, str]:
    """A shell script in ``directory`` that appends its pid to a file, then runs this
    interpreter in its place; ``(script, file)``."""
    import shlex
    import stat

    script, pids = os.path.join(directory, "python-procspec"), os.path.join(directory, "pids")
    with open(script, "w") as fh:
        fh.write(f"#!/bin/sh\necho $$ >> {shlex.quote(pids)}\n"
                 f"exec {shlex.quote(sys.executable)} \"$@\"\n")
    os.chmod(script, os.stat(script).st_mode | stat.S_IXUSR)
    return script, pids


def _pids(path: str) -> tuple[int, ...]:
    try:
        with open(path) as fh:
            return tuple(int(word) for word in fh.read().split())
    except (OSError, ValueError):
        return ()


def child_after_set_executable(backend: Backend, kind: str) -> SetExecutable:
    """``set_executable()`` of the backend's context with the wrapper script given as
    ``kind``; a child reports its pid; the wrapper's file says which processes it started.
    The previous executable is set again afterwards, whatever happened."""
    setter = getattr(backend.context, "set_executable", None)
    if not callable(setter):
        return SetExecutable(kind=kind, has_setter=False, wrapper=None, set_call=None,
                             start=None, reported=None, through_wrapper=(), restored=None)
    spawn = _spawn_module(setter)
    previous = spawn._python_exe if spawn is not None else sys.executable
    with tempfile.TemporaryDirectory(prefix="procspec-exe-") as tmp:
        wrapper, pids = _wrapper(tmp)
        value = {"str": wrapper, "bytes": os.fsencode(wrapper),
                 "path-like": _PathLike(wrapper)}[kind]
        start = None
        reported = None
        try:
            set_call = attempt(lambda: setter(value))
            with mailbox.Mailbox() as box, supervised(backend.name) as session:
                ran = box.slot("ran")
                proc = backend.Process(target=family_targets.report_executable, args=(ran,))
                start = session.start(proc, report=ran)
                if start.returned and session.wait_for(ran):
                    session.join(proc)
                    reported = mailbox.read(ran)
        finally:
            if spawn is not None:  # exactly as it was (the setter may convert a value)
                spawn._python_exe = previous
                restored: Observed = None
            else:
                restored = attempt(lambda: setter(previous))
        through = _pids(pids)
    return SetExecutable(kind=kind, has_setter=True, wrapper=wrapper, set_call=set_call,
                         start=start, reported=reported, through_wrapper=through,
                         restored=restored)
