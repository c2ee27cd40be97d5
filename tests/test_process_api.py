"""Process API claims (specs/process-api.md): name set later, daemon, close(), and
terminate()/kill() on an ended process, checked on every backend.

One claim, one behaviour: when a behaviour another claim owns did not happen (``start()``
did not return, the child never ran its target, ``join()`` did not return), the test is
skipped naming the owner; it never fails for it.

PYTEST_DONT_REWRITE: every assert here carries its own verdict (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from harness import start_method as start_methods
from harness.scenarios import daemon_exit, interpreter, process_api
from harness.supervise import Raised

from . import strategies
from .judging import holds, premise, violated
from .judging import require_started as _started

pytestmark = pytest.mark.api





def _raised(observed: object, type_name: str) -> bool:
    return isinstance(observed, Raised) and observed.type_name == type_name


@pytest.mark.claim("API-001")
@given(name=strategies.process_names)
def test_a_name_assigned_after_construction_is_kept_and_seen_by_the_child(backend, name):
    record = process_api.name_set_after_construction(backend, name)
    holds(record.assigned is None and record.name_after_set == name) or violated(backend,
        "API-001", f"after p.name = {name!r}: p.name == {name!r}",
        f"assignment gave {record.assigned!r}, p.name {record.name_after_set!r}")
    _started(record.start)
    holds(record.name_after_start == name) or violated(backend,
        "API-001", f"after start(): p.name == {name!r}", record.name_after_start)
    premise(record.reported, "the child never ran its target (LIFE-010)")
    holds(record.reported["name"] == name) or violated(backend,
        "API-001", f"the child's current_process().name == {name!r} (set before start())",
        record.reported["name"])


@pytest.mark.claim("API-002")
@given(initial=st.booleans())
def test_daemon_cannot_be_changed_after_start(backend, initial):
    record = process_api.change_daemon_after_start(backend, initial)
    _started(record.start)
    premise(record.child_was_running, "the child never ran its target (LIFE-010)")
    holds(_raised(record.change, "AssertionError")) or violated(backend,
        "API-002", f"p.daemon = {not initial} after start() raises AssertionError",
        f"it gave {record.change!r}")
    holds(record.daemon_after is initial) or violated(backend,
        "API-002", f"p.daemon still {initial} after the refused change",
        record.daemon_after)


@pytest.mark.claim("API-003")
def test_a_daemon_child_is_terminated_when_its_parents_interpreter_exits(backend):
    run = daemon_exit.run_program_with_a_daemon_child(backend)
    premise(not run.saw("start did not return"),
                 "start() did not return in the program (JOIN-002 times it)")
    premise(run.saw("child started") and run.child_pid is not None,
                 "the program's child never ran its target (LIFE-010)")
    premise(run.child_pid != run.program_pid,
                 "the child is the program's own process (LIFE-004)")
    premise(run.saw("main done"), f"the program's main code did not finish "
                 f"(stderr: {run.stderr[-300:]!r})")
    holds(run.child_ended and not run.saw("child done")) or violated(backend,
        "API-003", "the daemon child has ended (before its own work was done) within "
        f"{run.grace:g} s of its parent's main code finishing",
        "it still ran" if not run.child_ended else "it finished its own work",
        program_exited=run.program_exited, returncode=run.returncode,
        events=list(run.events))


@pytest.mark.claim("API-004")
def test_a_daemon_process_cannot_start_children(backend):
    record = process_api.daemon_starts_a_child(backend)
    _started(record.start)
    premise(record.reported, "the daemon child never ran its target (LIFE-010)")
    refused = record.reported["refused"]
    holds(refused is not None and refused[0] == "AssertionError") or violated(backend,
        "API-004", "start() inside a daemon process raises AssertionError",
        "it started a child" if refused is None else f"{refused[0]}({refused[1]!r})",
        daemon_flag_inside=record.reported["daemon"])


@pytest.mark.claim("API-005")
def test_after_close_every_use_raises_value_error(backend):
    record = process_api.use_after_close(backend)
    _started(record.start)
    premise(record.join is not None and record.join.returned,
                 "join() did not return (LIFE-009)")
    premise(record.ended, "the child did not end (LIFE-010)")
    holds(record.close is None) or violated(backend,
        "API-005", "close() on an ended, joined process returns None", record.close)
    wrong = {use: str(result) if isinstance(result, Raised) else repr(result)
             for use, result in record.uses if not _raised(result, "ValueError")}
    holds(not wrong) or violated(backend,
        "API-005", "after close(), every use raises ValueError", wrong)


@pytest.mark.claim("API-006")
def test_close_on_a_running_process_raises_value_error_and_leaves_it_running(backend):
    record = process_api.close_running(backend)
    _started(record.start)
    premise(record.child_was_running, "the child never ran its target (LIFE-010)")
    holds(_raised(record.close, "ValueError")) or violated(backend,
        "API-006", "close() on a running process raises ValueError",
        f"it gave {record.close!r}")
    holds(record.still_running) or violated(backend,
        "API-006", "the child still runs after the refused close() (it takes the go-ahead "
        "posted after it)", "it did not take the go-ahead")


def _assert_stop_after_end(claim_id, backend, method, status):
    record = process_api.stop_after_end(backend, method, status)
    _started(record.start)
    premise(record.target_ran, "the target never ran (LIFE-010)")
    premise(record.ended, "the child did not end, or join() did not return "
                 "(LIFE-009, LIFE-010)")
    holds(record.has_method) or violated(backend, claim_id, f"the process has {method}()",
                                         "no such method")
    holds(not isinstance(record.call, Raised)) or violated(backend,
        claim_id, f"{method}() on an ended, joined process raises nothing", record.call,
        exit_status=status)
    holds(record.exitcode_after == record.exitcode_before) or violated(backend,
        claim_id, f"exitcode unchanged by {method}(): {record.exitcode_before!r}",
        f"exitcode {record.exitcode_after!r}", exit_status=status)


@pytest.mark.claim("API-007")
@given(status=strategies.api_exit_statuses)
def test_terminate_on_an_ended_process_changes_nothing(backend, status):
    _assert_stop_after_end("API-007", backend, "terminate", status)


@pytest.mark.claim("API-008")
@given(status=strategies.api_exit_statuses)
def test_kill_on_an_ended_process_changes_nothing(backend, status):
    _assert_stop_after_end("API-008", backend, "kill", status)


@pytest.mark.claim("API-019")
@settings(phases=[Phase.explicit])
@given(kind=st.sampled_from(interpreter.EXECUTABLE_KINDS))
@example(kind="str")
@example(kind="bytes")
@example(kind="path-like")
def test_a_child_started_after_set_executable_runs_that_interpreter(backend, kind):
    method, how = start_methods.rule(backend)
    if method != "spawn":
        pytest.skip(f"a spawn rule; {backend.name} starts children by {method} ({how})")
    record = interpreter.child_after_set_executable(backend, kind)
    if not record.has_setter:
        pytest.skip(f"{backend.name} has no set_executable()")
    holds(not isinstance(record.set_call, Raised)) or violated(backend,
        "API-019", f"set_executable() takes a {kind} path", record.set_call)
    _started(record.start)
    premise(record.reported is not None, "the child never ran its target (LIFE-010)")
    holds(record.reported["pid"] in record.through_wrapper) or violated(backend,
        "API-019", f"a child started after set_executable({kind} path) was started "
        f"through that executable (a script that records its pid, then execs Python)",
        f"child pid {record.reported['pid']}, started through it: "
        f"{list(record.through_wrapper)}", executable=record.reported["executable"])
