"""Lifecycle claims (specs/lifecycle.md), checked on every backend.

One claim, one behaviour: a test judges only its own claim. When a behaviour that another
claim owns did not happen (``start()`` did not return, the child never ran its target, the
child did not end), the test cannot check its claim and is skipped with the reason, naming
the owner; it never fails for it.

PYTEST_DONT_REWRITE: every assert here carries its own verdict (tests/conftest.py).
"""

from __future__ import annotations

import math
import signal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.scenarios import lifecycle
from harness.supervise import Raised

from . import strategies
from .judging import holds, premise, violated
from .judging import require_started as _started

pytestmark = pytest.mark.lifecycle






@pytest.mark.claim("LIFE-001")
def test_unstarted_process_has_no_pid_no_exitcode_and_is_not_alive(backend):
    state = lifecycle.observe_unstarted(backend)
    holds((state.pid, state.exitcode, state.alive) == (None, None, False)) or violated(backend,
        "LIFE-001", "pid None, exitcode None, is_alive() False",
        f"pid {state.pid!r}, exitcode {state.exitcode!r}, is_alive() {state.alive!r}")


@pytest.mark.claim("LIFE-002")
def test_join_before_start_is_refused_with_an_assertion_error(backend):
    call = lifecycle.join_before_start(backend)
    holds(call.returned) or violated(backend,
        "LIFE-002", "join() before start() raises AssertionError at once",
        f"join() had not returned after {call.seconds:.2f} s")
    refused = call.result
    holds(isinstance(refused, Raised) and refused.type_name == "AssertionError") or violated(
        backend,
        "LIFE-002", "join() before start() raises AssertionError",
        f"join() gave {refused!r}")


@pytest.mark.claim("LIFE-003")
def test_a_second_start_is_refused_with_an_assertion_error(backend):
    record = lifecycle.second_start(backend)
    _started(record.first)
    second = record.second
    holds(second is not None and second.returned) or violated(backend,
        "LIFE-003", "a second start() raises AssertionError at once",
        f"the second start() had not returned after {second and second.seconds:.2f} s")
    refused = second.result
    holds(isinstance(refused, Raised) and refused.type_name == "AssertionError") or violated(
        backend,
        "LIFE-003", "a second start() raises AssertionError",
        f"second start() gave {refused!r}")


@pytest.mark.claim("LIFE-004")
def test_after_start_pid_is_the_childs_own_process_id(backend):
    run = lifecycle.run_and_join(backend)
    _started(run.start)
    pid = run.pid_after_start
    holds(isinstance(pid, int) and pid != run.parent_pid) or violated(backend,
        "LIFE-004", "straight after start(), pid is an int other than the parent's",
        f"pid {pid!r}", parent_pid=run.parent_pid)
    premise(run.reported, "the child never ran its target (LIFE-010)")
    holds(pid == run.reported["pid"]) or violated(backend,
        "LIFE-004", "pid equal to the os.getpid() the child reports", f"pid {pid!r}",
        parent_pid=run.parent_pid, child_getpid=run.reported["pid"])


@pytest.mark.claim("LIFE-005")
def test_is_alive_while_the_child_runs(backend):
    run = lifecycle.run_and_join(backend)
    _started(run.start)
    premise(run.reported_while_running,
                 "the child did not report that it runs (LIFE-010)")
    holds(run.alive_while_running is True) or violated(backend,
        "LIFE-005", "is_alive() True while the child runs (it has reported and waits)",
        f"is_alive() {run.alive_while_running!r}")


#: How long LIFE-009's long child runs after its go-ahead (seconds): past any fixed wait
#: an implementation's join() might have (one second and more) and the harness's own slack
#: (``limits.RETURN_SLACK``). The other run ends at once: one long example, cheap.
LONG_LINGER = 1.5


@pytest.mark.claim("LIFE-009")
@pytest.mark.parametrize("linger", [0.0, LONG_LINGER], ids=["at-once", "long-child"])
def test_after_join_is_alive_is_false(backend, linger):
    run = lifecycle.run_and_join(backend, judge_join=True, linger=linger)
    _started(run.start)
    premise(run.ended, "the child did not end after its go-ahead")
    holds(run.join_returned) or violated(backend,
        "LIFE-009", "join() returns once its child has ended",
        run.join.why if run.join else "not called", linger=linger)
    holds(run.alive_straight_after_join is False) or violated(backend,
        "LIFE-009", "is_alive() False as soon as join() returned",
        run.alive_straight_after_join, linger=linger,
        join_seconds=round(run.join.seconds, 3) if run.join else None)
    holds(run.alive_after_join is False) or violated(backend,
        "LIFE-009", "is_alive() False after join() returned and the child ended",
        run.alive_after_join, linger=linger)


@pytest.mark.claim("LIFE-019")
def test_pid_and_name_are_unchanged_after_join(backend):
    run = lifecycle.run_and_join(backend)
    _started(run.start)
    premise(isinstance(run.pid_after_start, int), "no pid after start() (LIFE-004)")
    holds(run.pid_after_join == run.pid_after_start and \
        run.name_after_join == run.name_before_start) or violated(backend,
            "LIFE-019", "pid and name unchanged after join()",
            f"pid {run.pid_after_join!r}, name {run.name_after_join!r}",
            pid_after_start=run.pid_after_start, name_before_start=run.name_before_start,
            join_returned=run.join_returned)


@pytest.mark.claim("LIFE-006")
@given(count=st.integers(min_value=1, max_value=5))
def test_default_names_are_class_name_and_consecutive_counter(backend, count):
    record = lifecycle.default_names(backend, count)
    prefix = f"{record.class_name}-"
    numbers = [name[len(prefix):] for name in record.names]
    holds(all(name.startswith(prefix) for name in record.names) and \
        all(n.isdigit() and int(n) > 0 for n in numbers)) or violated(backend,
            "LIFE-006", f"names of the form {prefix}<N>", list(record.names))
    first = int(numbers[0])
    holds([int(n) for n in numbers] == list(range(first, first + count))) or violated(backend,
        "LIFE-006", "consecutive counters for processes created one after another",
        list(record.names))


@pytest.mark.claim("LIFE-007")
def test_a_childs_child_is_named_after_the_childs_counter(backend):
    record = lifecycle.child_creates_grandchild(backend)
    _started(record.start)
    premise(record.reported, "the child never ran its target (LIFE-010)")
    expected = f"{record.reported['own_name']}:1"
    holds(record.reported["grandchild_name"] == expected) or violated(backend,
        "LIFE-007", f"grandchild named {expected!r}", record.reported["grandchild_name"],
        child_name_in_parent=record.child_name)


@pytest.mark.claim("LIFE-008")
@given(name=strategies.process_names)
@example(name="nul\x00in the name").via("a name is any str, NUL included")
def test_a_given_name_is_kept_and_seen_by_the_child(backend, name):
    run = lifecycle.run_and_join(backend, name=name)
    holds(run.name_before_start == name) or violated(backend,
        "LIFE-008", f"p.name == {name!r}", run.name_before_start)
    # The name is this claim's subject: a start() that refuses it is this claim's verdict.
    refused = run.start.result if run.start.returned else None
    holds(not isinstance(refused, Raised)) or violated(backend,
        "LIFE-008", f"start() accepts the name {name!r}", f"start() raised {refused}")
    _started(run.start)
    premise(run.reported, "the child never ran its target (LIFE-010)")
    seen = run.reported["name"]
    holds(seen == name) or violated(backend,
        "LIFE-008", f"the child's current_process().name == {name!r}", seen)


def _assert_exitcode(claim_id, backend, kind, value, expected):
    ending = lifecycle.run_to_end(backend, kind, value)
    _started(ending.start)
    if claim_id == "LIFE-010":  # the owner of "the target runs, and the child then ends"
        holds(ending.target_ran) or violated(backend,
            claim_id, "the target ran", "it never reported", exitcode=ending.exitcode)
        holds(ending.ended) or violated(backend,
            claim_id, "the child ends once its target has returned", "it still ran")
    else:
        premise(ending.target_ran, "the target never ran (LIFE-010)")
        premise(ending.ended, "the child did not end after its target (LIFE-010)")
    # A join() the harness gave up on (LIFE-009's) may still be reaping the child in its
    # thread: with no exit code stored yet there is nothing to judge (seen once, with the
    # machine's load at 30: a false verdict on a healthy exit code).
    premise(ending.exitcode is not None or ending.join is None or ending.join.returned,
            "join() did not return and no exit code was stored yet (LIFE-009)")
    holds(ending.exitcode == expected) or violated(backend,
        claim_id, f"once the child has ended (after join()), exitcode {expected}",
        f"exitcode {ending.exitcode!r}", target_ended_with=f"{ending.kind}({ending.value!r})",
        join_returned=bool(ending.join and ending.join.returned))


@pytest.mark.claim("LIFE-010")
@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=10)))
def test_a_target_that_returns_gives_exitcode_0(backend, value):
    _assert_exitcode("LIFE-010", backend, "return", value, 0)


@pytest.mark.claim("LIFE-011")
def test_an_uncaught_exception_gives_exitcode_1(backend):
    _assert_exitcode("LIFE-011", backend, "raise", "boom", 1)


@pytest.mark.claim("LIFE-012")
@given(status=strategies.exit_statuses)
def test_sys_exit_with_an_int_gives_that_exitcode(backend, status):
    _assert_exitcode("LIFE-012", backend, "sys.exit", status, int(status))


@pytest.mark.claim("LIFE-013")
@pytest.mark.parametrize("kind", ["sys.exit()", "sys.exit"])  # no argument; None
def test_sys_exit_without_a_status_gives_exitcode_0(backend, kind):
    _assert_exitcode("LIFE-013", backend, kind, None, 0)


@pytest.mark.claim("LIFE-014")
@given(obj=strategies.non_int_exit_objects)
def test_sys_exit_with_a_non_int_object_gives_exitcode_1(backend, obj):
    _assert_exitcode("LIFE-014", backend, "sys.exit", obj, 1)


@pytest.mark.claim("LIFE-015")
@given(status=st.integers(min_value=0, max_value=255))
def test_os_exit_gives_that_exitcode(backend, status):
    _assert_exitcode("LIFE-015", backend, "os._exit", status, status)


@pytest.mark.claim("LIFE-016")
@given(moment=strategies.stop_moments())
@example(moment=(0.0, True))
def test_terminate_then_join_leaves_a_dead_child_with_exitcode_minus_sigterm(
        backend, moment):
    _assert_stopped("LIFE-016", backend, "terminate", moment, -signal.SIGTERM)


@pytest.mark.claim("LIFE-017")
@given(moment=strategies.stop_moments())
@example(moment=(0.0, True))
def test_kill_then_join_leaves_a_dead_child_with_exitcode_minus_sigkill(backend, moment):
    _assert_stopped("LIFE-017", backend, "kill", moment, -signal.SIGKILL)


def _assert_stopped(claim_id, backend, method, moment, expected):
    delay, wait_for_start = moment
    stopped = lifecycle.run_and_stop(backend, method, delay, wait_for_start)
    _started(stopped.start)
    holds(stopped.has_method) or violated(backend, claim_id, f"the process has {method}()",
                                         "no such method")
    if wait_for_start:
        premise(stopped.reported_before_stop,
                     "the child never ran its (long) target (LIFE-010)")
    if stopped.exitcode != expected:
        premise(stopped.existed_at_stop, "start() made no child to stop (LIFE-004's)")
        premise(stopped.reported or not (isinstance(stopped.exitcode, int)
                                         and stopped.exitcode >= 0),
                "the child ended by itself before its (long) target ran (LIFE-010's)")
    holds(stopped.exitcode == expected) or violated(backend,
        claim_id, f"after {method}() and join(): exitcode {expected} within "
        f"{stopped.join_seconds:.2f} s", f"exitcode {stopped.exitcode!r}",
        ended=stopped.ended, join_seconds=round(stopped.join_seconds, 3),
        call_result=stopped.call_result, delay=delay, waited_for_start=wait_for_start,
        child_ran_its_target=stopped.reported)


@pytest.mark.claim("LIFE-018")
@given(timeout=strategies.join_timeouts)
def test_join_with_a_timeout_waits_at_least_the_timeout_and_leaves_the_child_running(
        backend, timeout):
    record = lifecycle.join_running_child(backend, timeout)
    _started(record.start)
    premise(record.child_was_running,
                 "the child never reported that it runs (LIFE-010)")
    holds(record.returned_after >= timeout) or violated(backend,
        "LIFE-018", f"join({timeout}) returns no earlier than {timeout} s",
        f"returned after {record.returned_after:.4f} s")
    if record.join is not None and record.join.returned:  # else JOIN-006's business
        holds(record.join_result is None) or violated(backend,
            "LIFE-018", "join(timeout) returns None", f"join() -> {record.join_result!r}")
    holds(record.exitcode_after is None and record.still_running) or violated(backend,
        "LIFE-018", "afterwards exitcode None, and the child still runs (it takes the "
        "go-ahead posted after the call)",
        f"exitcode {record.exitcode_after!r}, child still running {record.still_running}",
        join_returned=bool(record.join and record.join.returned))


@pytest.mark.claim("LIFE-020")
def test_a_program_waits_for_its_non_daemon_child_before_exiting(backend):
    run = lifecycle.run_program_whose_main_finishes_first(backend, child_seconds=0.3)
    order = []  # each event once, where it first appeared
    for event, _ in run.events:
        if event in ("main done", "child done", "interpreter exit") and event not in order:
            order.append(event)
    premise(not run.saw("start did not return"),
                 "start() did not return in the program (JOIN-002 times it)")
    premise(run.saw("child started"),
                 "the program's child never ran its target (LIFE-010)")
    premise(not run.hung_at_exit, f"{run.hung_at_exit}: its exit handler's join() did "
                 "not return (LIFE-009)")
    premise(not run.timed_out or run.saw("interpreter exit"),
                 "the program did not end within the grace (its child did not end)")
    # The claim is about a child still working when the main code ends: one that finished
    # first (its 0.3 s ran out while a loaded machine delayed the main code) leaves the
    # program nothing to wait for (measured once under load: child done, main done).
    premise(not ("main done" in order and "child done" in order
                 and order.index("child done") < order.index("main done")),
            "the child finished before the main code (a loaded machine): nothing to wait for")
    holds(order == ["main done", "child done", "interpreter exit"]) or violated(backend,
        "LIFE-020", "output order: main done, child done, interpreter exit", order,
        stderr=run.stderr)
    holds(run.returncode == 0) or violated(backend,
        "LIFE-020", "the program exits by itself with status 0",
        f"timed out {run.timed_out}, status {run.returncode}", stderr=run.stderr)
    stamps = dict(reversed(run.events))  # the first stamp of each event
    holds(not math.isnan(stamps["interpreter exit"]) and \
        stamps["interpreter exit"] >= stamps["child done"]) or violated(backend,
            "LIFE-020", "the interpreter's last exit handler runs after the child is done",
            f"exit at {stamps['interpreter exit']}, child done at {stamps['child done']}")
