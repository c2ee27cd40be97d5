"""A child's standard streams and descriptors (specs/stdio.md): its stdin, its end with a
broken stdout or stderr, the parent's descriptors it does not hold, checked on every
backend.

One claim, one behaviour: when a behaviour another claim owns did not happen (``start()``
did not return, the child never ran its target or did not end), the example is rejected
naming the owner; it never fails for it.

PYTEST_DONT_REWRITE: every verdict here is raised (harness.verdict), never asserted.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness.scenarios import stdio
from harness.supervise import Raised

from . import strategies
from .judging import holds, violated
from .subject import given_that as _given
from .subject import shown_start_method
from .subject import started as _started

pytestmark = pytest.mark.stdio


@pytest.mark.claim("STDIO-001")
def test_reading_a_childs_stdin_gives_end_of_file_at_once(backend):
    record = stdio.read_child_stdin(backend)
    _started(record.start)
    _given(record.reported, "the child never ran its target (LIFE-010)")
    _given(record.in_own_process, "the target ran in the parent's own process "
            "(ISO-001: a child is a process of its own)")
    holds(record.reported == ("value", "")) or violated(backend,
        "STDIO-001", "sys.stdin.read() in the child returns '' (end of file) at once",
        f"{record.reported[0]}: {record.reported[1]!r}")


@pytest.mark.claim("STDIO-002")
@settings(max_examples=2)
@given(broken=strategies.stdio_breaks)
@example(broken=("parent", "stdout", "none"))
@example(broken=("child", "stderr", "closed"))
def test_a_child_with_a_broken_stdout_or_stderr_ends_normally(backend, broken):
    who, stream, how = broken
    record = stdio.end_with_broken_stream(backend, who, stream, how)
    raised = getattr(record.start, "result", None)
    holds(who != "parent" or not isinstance(raised, Raised)) or violated(backend,
        "STDIO-002", f"start() with the parent's sys.{stream} "
        f"{'None' if how == 'none' else 'a closed file'} starts the child", raised)
    _started(record.start)
    _given(record.ran, "the child never ran its target (LIFE-010)")
    _given(record.in_own_process, "the target ran in the parent's own process "
            "(ISO-001: a child is a process of its own)")
    _given(record.ended, "the child did not end (LIFE-010)")
    _given(record.exitcode is not None, "no exit code was read once the child ended "
           "(LIFE-010 owns that)")
    holds(record.exitcode == 0) or violated(backend,
        "STDIO-002", f"exit code 0 for a child whose sys.{stream} is "
        f"{'None' if how == 'none' else 'a closed file'} ({who} broke it) and whose "
        "target returned", record.exitcode)


@pytest.fixture
def fresh_interpreter_backend(backend):
    """The backend, when its children start as fresh interpreters (spawn, forkserver, as
    the OS shows them); else the test skips here, before Hypothesis runs any example (a
    skip raised inside an explicit example is printed as a failing one)."""
    method = shown_start_method(backend)
    if method not in ("spawn", "forkserver"):  # not STDIO-003's scope
        pytest.skip(f"start method {method} (as the OS shows it): only spawn and "
                    "forkserver promise it")
    return backend


@pytest.mark.claim("STDIO-003")
@settings(max_examples=2)
@given(inheritable=st.booleans())
@example(inheritable=True)  # a spawn that keeps inheritable descriptors fails it at once
def test_a_child_does_not_hold_its_parents_descriptors_under_spawn_and_forkserver(
        fresh_interpreter_backend, inheritable):
    backend = fresh_interpreter_backend
    record = stdio.descriptor_in_child(backend, inheritable)
    _started(record.start)
    _given(record.reported, "the child never ran its target (LIFE-010)")
    holds(not record.reported["open"]) or violated(backend,
        "STDIO-003", f"the parent's socket descriptor {record.fd} "
        f"({'inheritable' if inheritable else 'not inheritable'}) is not open in the child",
        "it is open")
