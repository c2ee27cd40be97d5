"""The rest of the reference's Process contract (specs/process-api.md, API-009..018,
API-020, API-021), checked on every backend: ``group``, no target, joining twice or
oneself, ``close()`` before ``start()``, unpicklable targets and arguments, a subclass's
``run()``, ``authkey`` set before ``start()``, the main process's own object, the child's
main thread, and what the parent lets go: the target once started, a closed object.

One claim, one behaviour: when a behaviour another claim owns did not happen (``start()``
did not return, the child never ran its target, ``join()`` did not return, ``close()``
did not return None), the example is rejected naming the owner; it never fails for it.

PYTEST_DONT_REWRITE: verdicts are raised (harness.verdict), never asserted.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness import start_method as start_methods
from harness.scenarios import api_contract
from harness.supervise import Raised

from . import strategies
from .judging import holds, premise, violated
from .judging import require_started as _started

pytestmark = pytest.mark.api

#: The children these properties start are quick, and their inputs few: two examples.
few = settings(max_examples=2)


def _raised(observed: object, type_name: str) -> bool:
    return isinstance(observed, Raised) and observed.type_name == type_name


@pytest.mark.claim("API-009")
@given(group=st.one_of(st.text(max_size=8), st.integers(), st.booleans()))
@example(group="a group")
def test_a_group_other_than_none_is_refused(backend, group):
    made = api_contract.construct_with_group(backend, group)
    holds(_raised(made, "AssertionError")) or violated(backend,
        "API-009", f"Process(group={group!r}) raises AssertionError", made)


@pytest.mark.claim("API-010")
def test_a_process_without_a_target_runs_and_exits_0(backend):
    record = api_contract.run_without_target(backend)
    _started(record.start)
    premise(record.ended, "the child did not end, or join() did not return "
            "(LIFE-009, LIFE-010)")
    holds(record.exitcode == 0) or violated(backend,
        "API-010", "a process with no target ends with exitcode 0",
        f"exitcode {record.exitcode!r}",
        join_returned=bool(record.join and record.join.returned))


@pytest.mark.claim("API-011")
@few
@given(status=strategies.api_exit_statuses)
def test_a_second_join_of_an_ended_child_returns_at_once_and_changes_nothing(
        backend, status):
    record = api_contract.join_twice(backend, status)
    _started(record.start)
    premise(record.target_ran, "the target never ran (LIFE-010)")
    premise(record.ended, "the child did not end, or the first join() did not return "
            "(LIFE-009, LIFE-010)")
    second = record.second
    holds(second is not None and second.returned and second.result is None) or violated(
        backend, "API-011", "a second join() of an ended, joined child returns None "
        "at once (within 1 s)",
        (second.why if not second.returned else f"it gave {second.result!r}")
        if second else "not called", exit_status=status)
    holds(record.exitcode_after == record.exitcode_before and
          record.alive_after == record.alive_before) or violated(backend,
        "API-011", f"exitcode {record.exitcode_before!r} and is_alive() "
        f"{record.alive_before!r} unchanged by the second join()",
        f"exitcode {record.exitcode_after!r}, is_alive() {record.alive_after!r}",
        exit_status=status)


@pytest.mark.claim("API-012")
def test_a_process_cannot_join_itself(backend):
    record = api_contract.join_itself(backend)
    _started(record.start)
    premise(record.asked, "the child never ran its target (LIFE-010)")
    reported = record.reported
    holds(reported is not None) or violated(backend,
        "API-012", "current_process().join() in the child raises AssertionError at once",
        "it had not returned 1 s after the call")
    refused = reported["refused"]
    holds(refused is not None and refused[0] == "AssertionError") or violated(backend,
        "API-012", "current_process().join() in the child raises AssertionError",
        "it returned" if refused is None else f"{refused[0]}({refused[1]!r})")


@pytest.mark.claim("API-013")
def test_close_on_a_process_never_started_is_accepted(backend):
    closed = api_contract.close_unstarted(backend)
    holds(closed is None) or violated(backend,
        "API-013", "close() on a process never started returns None", closed)


def _refuses_unpicklable(backend, what):
    method, how = start_methods.rule(backend)
    if method not in ("spawn", "forkserver"):
        pytest.skip(f"a spawn/forkserver rule; {backend.name} starts children by "
                    f"{method} ({how})")
    record = api_contract.start_unpicklable(backend, what)
    premise(record.start.returned,
            f"start() did not return ({record.start.why}; JOIN-002 times it)")
    holds(isinstance(record.start.result, Raised)) or violated(backend,
        "API-014", f"start() with an unpicklable {what} raises", "it returned",
        left_running=len(record.left_running))
    holds(not record.left_running) or violated(backend,
        "API-014", f"no child left running after start() refused an unpicklable {what}",
        f"{len(record.left_running)} process(es) still running 1 s later",
        raised=str(record.start.result))


# Two tests, not one parametrized: an implementation may refuse one and not the other
# (loky pickles a lambda), and an expectation tells tests apart by name.
@pytest.mark.claim("API-014")
def test_spawn_and_forkserver_refuse_an_unpicklable_target(backend):
    _refuses_unpicklable(backend, "target")


@pytest.mark.claim("API-014")
def test_spawn_and_forkserver_refuse_an_unpicklable_argument(backend):
    _refuses_unpicklable(backend, "argument")


@pytest.mark.claim("API-015")
def test_a_subclass_s_run_is_what_the_child_runs(backend):
    record = api_contract.run_subclass(backend)
    _started(record.start)
    premise(record.by_run is not None or record.target_ran,
            "the child ran neither run() nor the target (LIFE-010)")
    holds(record.by_run is not None and not record.target_ran) or violated(backend,
        "API-015", "the child runs the subclass's run(), not the target",
        f"run() {'ran' if record.by_run else 'did not run'}, the target "
        f"{'ran' if record.target_ran else 'did not run'}")


@pytest.mark.claim("API-016")
@few
@given(key=st.binary(min_size=1, max_size=32))
def test_an_authkey_set_before_start_is_the_childs(backend, key):
    record = api_contract.authkey_set_before_start(backend, key)
    holds(record.assigned is None) or violated(backend,
        "API-016", "p.authkey = <bytes> before start() raises nothing", record.assigned)
    _started(record.start)
    premise(record.childs is not None, "the child never reported (LIFE-010)")
    holds(record.childs == key) or violated(backend,
        "API-016", f"the child's current_process().authkey == {key!r} (set before start())",
        record.childs)


@pytest.mark.claim("API-017")
def test_the_main_process_reads_alive_with_no_exit_code(backend):
    state = api_contract.main_process_state(backend)
    holds(state.alive is True and state.exitcode is None) or violated(backend,
        "API-017", "in the main process, current_process().is_alive() True and exitcode "
        "None", f"is_alive() {state.alive!r}, exitcode {state.exitcode!r}")


@pytest.mark.claim("API-018")
def test_a_childs_main_thread_has_a_native_id_of_its_own(backend):
    record = api_contract.main_thread_native_ids(backend)
    _started(record.start)
    premise(record.reported is not None, "the child never reported (LIFE-010)")
    childs = record.reported["native_id"]
    holds(isinstance(childs, int) and childs != record.parents) or violated(backend,
        "API-018", "the child's threading.main_thread().native_id is an int other than "
        f"the parent's ({record.parents})", childs, child_pid=record.reported["pid"])


@pytest.mark.claim("API-020")
def test_the_process_object_lets_its_target_and_arguments_go_once_started(backend):
    record = api_contract.target_after_the_child_ran(backend)
    _started(record.start)
    premise(record.ended, "the child did not end, or join() did not return "
            "(LIFE-009, LIFE-010)")
    premise(record.ran is not None, "the child never ran its target (LIFE-010)")
    holds(not record.kept) or violated(backend,
        "API-020", "once start() returned and the child ended, the process object keeps "
        "no reference to its target, its args or its kwargs: each is collected when the "
        "caller holds none",
        f"{', '.join(record.kept)} still alive after {record.collections} gc.collect() "
        f"calls; held by: {'; '.join(record.held_by) or 'nothing gc sees'}",
        child_pid=record.ran["pid"])


@pytest.mark.claim("API-021")
def test_a_closed_process_object_can_be_garbage_collected(backend):
    record = api_contract.closed_process_dropped(backend)
    _started(record.start)
    premise(record.ended, "the child did not end, or join() did not return "
            "(LIFE-009, LIFE-010)")
    premise(record.close is None, f"close() on the ended, joined process gave "
            f"{record.close!r} (API-005's)")
    holds(record.collected) or violated(backend,
        "API-021", "a joined, closed process object is collected once the caller drops "
        "its last reference",
        f"still alive after {record.collections} gc.collect() calls; held by: "
        f"{'; '.join(record.held_by) or 'nothing gc sees'}")
