"""Lifecycle claims (specs/lifecycle.md), checked on every backend."""

from __future__ import annotations

import math
import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.scenarios import lifecycle
from harness.supervise import Raised
from harness.verdict import violation
from tests import strategies

pytestmark = pytest.mark.lifecycle


@pytest.mark.claim("LIFE-001")
def test_unstarted_process_has_no_pid_no_exitcode_and_is_not_alive(backend):
    state = lifecycle.observe_unstarted(backend)
    assert (state.pid, state.exitcode, state.alive) == (None, None, False), violation(
        "LIFE-001", "pid None, exitcode None, is_alive() False",
        f"pid {state.pid!r}, exitcode {state.exitcode!r}, is_alive() {state.alive!r}")


@pytest.mark.claim("LIFE-002")
def test_join_before_start_is_refused_with_an_assertion_error(backend):
    refused = lifecycle.observe_misuse(backend).join_before_start
    assert isinstance(refused, Raised) and refused.type_name == "AssertionError", violation(
        "LIFE-002", "join() before start() raises AssertionError", f"join() gave {refused!r}")


@pytest.mark.claim("LIFE-003")
def test_a_second_start_is_refused_with_an_assertion_error(backend):
    refused = lifecycle.observe_misuse(backend).second_start
    assert isinstance(refused, Raised) and refused.type_name == "AssertionError", violation(
        "LIFE-003", "a second start() raises AssertionError",
        f"second start() gave {refused!r}")


@pytest.mark.claim("LIFE-004")
def test_after_start_pid_is_the_childs_own_process_id(backend):
    run = lifecycle.run_and_join(backend)
    assert run.reported is not None, violation(
        "LIFE-004", "the child runs and reports its os.getpid()", "no report from the child")
    pid = run.pid_after_start
    assert isinstance(pid, int) and pid != run.parent_pid and pid == run.reported["pid"], \
        violation("LIFE-004", "pid an int, not the parent's, equal to the child's getpid()",
                  f"pid {pid!r}", parent_pid=run.parent_pid, child_getpid=run.reported["pid"])


@pytest.mark.claim("LIFE-005")
def test_is_alive_while_the_child_runs(backend):
    run = lifecycle.run_and_join(backend)
    assert run.reported is not None and run.alive_while_running is True, violation(
        "LIFE-005", "is_alive() True while the child runs (it has reported and waits)",
        f"is_alive() {run.alive_while_running!r}", child_reported=run.reported is not None)


@pytest.mark.claim("LIFE-009")
def test_after_join_is_alive_is_false(backend):
    run = lifecycle.run_and_join(backend)
    assert run.alive_after_join is False, violation(
        "LIFE-009", "is_alive() False after join() returned", run.alive_after_join)


@pytest.mark.claim("LIFE-019")
def test_pid_and_name_are_unchanged_after_join(backend):
    run = lifecycle.run_and_join(backend)
    assert run.pid_after_join == run.pid_after_start and \
        run.name_after_join == run.name_before_start, violation(
            "LIFE-019", "pid and name unchanged after join()",
            f"pid {run.pid_after_join!r}, name {run.name_after_join!r}",
            pid_after_start=run.pid_after_start, name_before_start=run.name_before_start)


@pytest.mark.claim("LIFE-006")
@given(count=st.integers(min_value=1, max_value=5))
def test_default_names_are_class_name_and_consecutive_counter(backend, count):
    record = lifecycle.default_names(backend, count)
    prefix = f"{record.class_name}-"
    numbers = [name[len(prefix):] for name in record.names]
    assert all(name.startswith(prefix) for name in record.names) and \
        all(n.isdigit() and int(n) > 0 for n in numbers), violation(
            "LIFE-006", f"names of the form {prefix}<N>", list(record.names))
    first = int(numbers[0])
    assert [int(n) for n in numbers] == list(range(first, first + count)), violation(
        "LIFE-006", "consecutive counters for processes created one after another",
        list(record.names))


@pytest.mark.claim("LIFE-007")
def test_a_childs_child_is_named_after_the_childs_counter(backend):
    record = lifecycle.child_creates_grandchild(backend)
    assert record.reported is not None, violation(
        "LIFE-007", "the child reports its grandchild's name", "no report",
        exitcode=record.exitcode)
    expected = f"{record.reported['own_name']}:1"
    assert record.reported["grandchild_name"] == expected, violation(
        "LIFE-007", f"grandchild named {expected!r}", record.reported["grandchild_name"],
        child_name_in_parent=record.child_name)


@pytest.mark.claim("LIFE-008")
@given(name=strategies.process_names)
def test_a_given_name_is_kept_and_seen_by_the_child(backend, name):
    run = lifecycle.run_and_join(backend, name=name)
    assert run.name_before_start == name, violation(
        "LIFE-008", f"p.name == {name!r}", run.name_before_start)
    seen = run.reported and run.reported["name"]
    assert seen == name, violation(
        "LIFE-008", f"the child's current_process().name == {name!r}", seen)


def _assert_exitcode(claim_id, ending, expected):
    assert ending.target_ran, violation(claim_id, "the target ran", "it never reported",
                                        exitcode=ending.exitcode)
    assert ending.alive_after_join is False and ending.exitcode == expected, violation(
        claim_id, f"after join(): dead, exitcode {expected}",
        f"is_alive() {ending.alive_after_join!r}, exitcode {ending.exitcode!r}",
        target_ended_with=f"{ending.kind}({ending.value!r})")


@pytest.mark.claim("LIFE-010")
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=10)))
def test_a_target_that_returns_gives_exitcode_0(backend, value):
    _assert_exitcode("LIFE-010", lifecycle.run_to_end(backend, "return", value), 0)


@pytest.mark.claim("LIFE-011")
def test_an_uncaught_exception_gives_exitcode_1(backend):
    _assert_exitcode("LIFE-011", lifecycle.run_to_end(backend, "raise", "boom"), 1)


@pytest.mark.claim("LIFE-012")
@given(status=strategies.exit_statuses)
def test_sys_exit_with_an_int_gives_that_exitcode(backend, status):
    _assert_exitcode("LIFE-012", lifecycle.run_to_end(backend, "sys.exit", status),
                     int(status))


@pytest.mark.claim("LIFE-013")
@pytest.mark.parametrize("kind", ["sys.exit()", "sys.exit"])  # no argument; None
def test_sys_exit_without_a_status_gives_exitcode_0(backend, kind):
    _assert_exitcode("LIFE-013", lifecycle.run_to_end(backend, kind, None), 0)


@pytest.mark.claim("LIFE-014")
@given(obj=strategies.non_int_exit_objects)
def test_sys_exit_with_a_non_int_object_gives_exitcode_1(backend, obj):
    _assert_exitcode("LIFE-014", lifecycle.run_to_end(backend, "sys.exit", obj), 1)


@pytest.mark.claim("LIFE-015")
@given(status=st.integers(min_value=0, max_value=255))
def test_os_exit_gives_that_exitcode(backend, status):
    _assert_exitcode("LIFE-015", lifecycle.run_to_end(backend, "os._exit", status), status)


@pytest.mark.claim("LIFE-016")
@given(moment=strategies.stop_moments())
def test_terminate_then_join_leaves_a_dead_child_with_exitcode_minus_sigterm(
        backend, moment):
    _assert_stopped("LIFE-016", backend, "terminate", moment, -signal.SIGTERM)


@pytest.mark.claim("LIFE-017")
@given(moment=strategies.stop_moments())
def test_kill_then_join_leaves_a_dead_child_with_exitcode_minus_sigkill(backend, moment):
    _assert_stopped("LIFE-017", backend, "kill", moment, -signal.SIGKILL)


def _assert_stopped(claim_id, backend, method, moment, expected):
    delay, wait_for_start = moment
    stopped = lifecycle.run_and_stop(backend, method, delay, wait_for_start)
    assert stopped.has_method, violation(claim_id, f"the process has {method}()",
                                         "no such method")
    assert stopped.alive_after_join is False and stopped.exitcode == expected, violation(
        claim_id, f"after {method}() and join(): dead, exitcode {expected}",
        f"is_alive() {stopped.alive_after_join!r}, exitcode {stopped.exitcode!r}",
        join_seconds=round(stopped.join_seconds, 3), call_result=stopped.call_result,
        delay=delay, waited_for_start=wait_for_start)


@pytest.mark.claim("LIFE-018")
@given(timeout=strategies.join_timeouts)
def test_join_with_a_timeout_waits_at_least_the_timeout_and_leaves_the_child_running(
        backend, timeout):
    record = lifecycle.join_running_child(backend, timeout)
    assert record.child_was_running, violation(
        "LIFE-018", "the child was running before join(timeout)", "it never reported")
    assert record.returned_after >= timeout, violation(
        "LIFE-018", f"join({timeout}) returns no earlier than {timeout} s",
        f"returned after {record.returned_after:.4f} s")
    assert (record.join_result, record.alive_after, record.exitcode_after) == \
        (None, True, None), violation(
            "LIFE-018", "join() returns None; then is_alive() True, exitcode None",
            f"join() -> {record.join_result!r}, is_alive() {record.alive_after!r}, "
            f"exitcode {record.exitcode_after!r}")


@pytest.mark.claim("LIFE-020")
def test_a_program_waits_for_its_non_daemon_child_before_exiting(backend):
    run = lifecycle.run_program_whose_main_finishes_first(backend, child_seconds=0.3)
    order = [event for event, _ in run.events]
    assert not run.timed_out and run.returncode == 0, violation(
        "LIFE-020", "the program exits by itself with status 0",
        f"timed out {run.timed_out}, status {run.returncode}", stderr=run.stderr)
    assert order == ["main done", "child done", "interpreter exit"], violation(
        "LIFE-020", "output order: main done, child done, interpreter exit", order,
        stderr=run.stderr)
    stamps = dict(run.events)
    assert not math.isnan(stamps["interpreter exit"]) and \
        stamps["interpreter exit"] >= stamps["child done"], violation(
            "LIFE-020", "the interpreter's last exit handler runs after the child is done",
            f"exit at {stamps['interpreter exit']}, child done at {stamps['child done']}")
