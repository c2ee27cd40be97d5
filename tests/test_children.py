"""What a parent knows of its children (specs/children.md): active_children(), daemon's
default, sentinel, ident, authkey, parent_process(), checked on every backend.

One claim, one behaviour: when a behaviour another claim owns did not happen (``start()``
did not return, the child never ran its target, ``join()`` did not return), the example is
rejected naming the owner; it never fails for it.

PYTEST_DONT_REWRITE: every verdict here is raised (harness.verdict), never asserted.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import limits
from harness.scenarios import children, grandchildren
from harness.supervise import Raised

from . import strategies
from .judging import holds, violated
from .subject import given_that as _given
from .subject import shown_start_method
from .subject import started as _started

pytestmark = pytest.mark.children

_FEW = settings(max_examples=2)


@pytest.mark.claim("KIDS-001")
def test_active_children_lists_a_running_child_and_no_unstarted_one(backend):
    unstarted, made = children.list_unstarted(backend)
    holds(children.listed(unstarted, made) is False) or violated(backend,
        "KIDS-001", "active_children() is a list without a process never started",
        unstarted)
    record = children.list_running_child(backend)
    _started(record.start)
    _given(record.child_was_running, "the child never ran its target (LIFE-010)")
    holds(children.listed(record.while_running, record.proc)) or violated(backend,
        "KIDS-001", "active_children() lists the started child while it runs (its report "
        "came, its go-ahead not yet)", record.while_running)


@pytest.mark.claim("KIDS-002")
@_FEW
@given(joined=st.booleans())
def test_active_children_drops_a_child_once_it_has_ended(backend, joined):
    record = children.list_ended_child(backend, joined)
    _started(record.start)
    _given(not joined or (record.join is not None and record.join.returned),
            "join() did not return (LIFE-009)")
    _given(record.ended, "the child did not end (LIFE-010)")
    holds(children.listed(record.after_end, record.proc) is False) or violated(backend,
        "KIDS-002", "active_children() is a list without the child that has ended"
        + (" and was joined" if joined else " (not joined)"), record.after_end,
        joined=joined)


@pytest.mark.claim("KIDS-003")
@_FEW
@given(act=strategies.kids_acts)
def test_a_running_child_stays_listed_after_a_timed_out_join_or_is_alive(backend, act):
    record = children.list_running_child(backend, act)
    _started(record.start)
    _given(record.child_was_running, "the child never ran its target (LIFE-010)")
    _given(not isinstance(record.after_act, Raised) or act == "is_alive()",
            f"{act} did not return (LIFE-018, JOIN-006, JOIN-007)")
    holds(children.listed(record.while_running, record.proc)) or violated(backend,
        "KIDS-003", f"active_children() still lists the running child after {act}",
        record.while_running, act_gave=record.after_act)


@pytest.mark.claim("KIDS-004")
@_FEW
@given(child_daemon=st.booleans())
def test_daemon_defaults_to_false_and_is_inherited_from_the_creating_process(
        backend, child_daemon):
    record = children.daemon_defaults(backend, child_daemon)
    holds(record.in_parent is False) or violated(backend,
        "KIDS-004", "daemon of a process created without the argument, in a non-daemon "
        "process: False (the bool)", record.in_parent)
    _started(record.start)
    _given(record.reported, "the child never ran its target (LIFE-010)")
    own = record.reported["own_daemon"]
    _given(isinstance(own, bool), f"the child's own daemon flag is {own!r} (KIDS-004 "
           "judges it in the parent)")
    holds(record.reported["made_daemon"] is own) or violated(backend,
        "KIDS-004", f"inside a child whose own daemon flag is {own} (started with "
        f"daemon={child_daemon}), a process created without the argument has daemon {own}",
        record.reported["made_daemon"])


@pytest.mark.claim("KIDS-005")
def test_the_sentinel_becomes_ready_when_the_child_ends(backend):
    record = children.watch_sentinel(backend)
    _started(record.start)
    _given(record.child_was_running, "the child never ran its target (LIFE-010)")
    holds(isinstance(record.sentinel, int) and not isinstance(record.sentinel, bool)) \
        or violated(backend, "KIDS-005", "sentinel is an int (a descriptor) after start()",
                    record.sentinel)
    holds(record.ready_while_running is False) or violated(backend,
        "KIDS-005", "the sentinel is not ready while the child runs",
        "ready" if record.ready_while_running else record.why_not_selectable)
    _given(record.ended, "the child did not end (LIFE-010)")
    holds(record.ready_after_end is True) or violated(backend,
        "KIDS-005", "the sentinel is ready within 1 s of the OS showing the child ended",
        "not ready" if record.ready_after_end is False else record.why_not_selectable)


@pytest.mark.claim("KIDS-006")
def test_ident_is_the_childs_pid(backend):
    record = children.read_idents(backend)
    holds(record.ident_before is None) or violated(backend,
        "KIDS-006", "before start(): ident is None", record.ident_before)
    _started(record.start)
    _given(record.reported_pid is not None, "the child never ran its target (LIFE-010)")
    holds(record.ident_after == record.reported_pid) or violated(backend,
        "KIDS-006", f"after start(): ident is the child's own process id "
        f"({record.reported_pid})", record.ident_after)


@pytest.mark.claim("KIDS-007")
def test_a_child_inherits_its_creators_authkey(backend):
    record = children.authkeys(backend)
    _given(isinstance(record.parents, bytes),
           f"the creating process has no authkey ({record.parents!r})")
    holds(record.new_process == record.parents) or violated(backend,
        "KIDS-007", "a process created here has this process's authkey",
        "another key" if isinstance(record.new_process, bytes) else record.new_process)
    _started(record.start)
    _given(record.childs is not None, "the child never ran its target (LIFE-010)")
    holds(record.childs == record.parents) or violated(backend,
        "KIDS-007", "the child's current_process().authkey is its creator's",
        "another key" if isinstance(record.childs, bytes) else record.childs)


@pytest.mark.claim("KIDS-008")
def test_parent_process_in_a_child_is_its_parent(backend):
    record = children.parent_seen_by_child(backend)
    _started(record.start)
    _given(record.reported, "the child never ran its target (LIFE-010)")
    seen = record.reported
    holds(not seen["missing"]) or violated(backend,
        "KIDS-008", "the implementation has parent_process()", "no such function")
    holds(not seen["is_none"] and seen["pid"] == record.parent_pid
          and seen["name"] == record.parent_name) or violated(backend,
        "KIDS-008", f"in the child, parent_process() has the parent's pid "
        f"{record.parent_pid} and name {record.parent_name!r}",
        "None" if seen["is_none"] else f"pid {seen['pid']!r}, name {seen['name']!r}")



@pytest.mark.claim("KIDS-009")
@settings(max_examples=2)
@given(signal_name=st.sampled_from(["SIGKILL", "SIGTERM"]))
def test_children_start_again_after_the_fork_server_was_killed(backend, signal_name):
    if shown_start_method(backend) != "forkserver":  # not this claim's scope
        pytest.skip("not a fork server backend (as the OS shows its children)")
    run = children.kill_the_fork_server_in_a_program(backend, signal_name)
    _given(run.record is not None, f"the program printed no record (exit status "
           f"{run.returncode}, timed out: {run.timed_out}; stderr: {run.stderr!r})")
    record = run.record
    first = record["first_start"]
    _given(first["returned"] and not first["raised"],
           f"the first start() did not return or raised ({first}; JOIN-002)")
    _given(record["first_report"], "the first child never ran its target (LIFE-010)")
    _given(record["server_pid"] is not None, "the first child's maker is no helper process "
           "of the program (no fork server to kill)")
    _given(record["server_ended"], f"the fork server did not end on {signal_name}")
    second = record["second_start"]
    holds(second is not None and second["returned"] and not second["raised"]) \
        or violated(backend, "KIDS-009", f"after the fork server was ended by "
                    f"{signal_name}, start() of a new child returns without raising",
                    second)
    holds(record["second_report"] is not None) or violated(backend,
        "KIDS-009", f"after the fork server was ended by {signal_name}, a new child runs "
        "its target", "it never did")


@pytest.mark.claim("KIDS-015")
def test_a_child_starts_and_joins_a_child_of_its_own(backend):
    record = grandchildren.child_starts_and_joins_a_child(backend)
    _started(record.start)
    _given(record.reported is not None or record.grandchild_ran is not None,
           "the child never ran its target (LIFE-010)")
    _given(record.ended, "the child did not end (LIFE-010)")
    seen = record.reported or {}
    _given(seen.get("daemon") is not True, "the child is a daemon, which may not have "
           "children (KIDS-004's default; API-004)")
    holds(seen.get("start_raised") is None and seen.get("join_raised") is None) or violated(
        backend, "KIDS-015", "inside a child, start() and join() of a child of its own "
        "raise nothing", seen)
    holds(record.grandchild_ran is not None) or violated(backend,
        "KIDS-015", "the child's own child runs its target", "it never did", reported=seen)
    _given(seen.get("exitcode") is not None, "the child's join() of its own child read no "
           "exit code (JOIN-001, LIFE-018: join() returned early; LIFE-010)")
    holds(seen["exitcode"] == 0) or violated(backend,
        "KIDS-015", "the child's own child, joined by it, has exitcode 0", seen["exitcode"])
    _given(record.exitcode is not None, "no exit code was read for the child (LIFE-010)")
    holds(record.exitcode == 0) or violated(backend,
        "KIDS-015", "the child that started and joined a child of its own exits with "
        "exitcode 0", record.exitcode)


def _orphaned(backend):
    record = grandchildren.terminate_a_child_whose_child_runs(backend)
    _started(record.start)
    _given(record.subreaper, "this OS cannot give orphans back to the harness "
           "(PR_SET_CHILD_SUBREAPER): an orphan could not be followed nor ended")
    seen = record.reported
    _given(isinstance(seen, dict), "the child never ran its target (LIFE-010)")
    _given(seen.get("pid") != os.getpid(), "the child ran in the parent's own process "
           "(ISO-001: a child is a process of its own)")
    _given(seen.get("daemon") is not True, "the child is a daemon, which may not have "
           "children (KIDS-004's default; API-004)")
    _given(seen.get("grandchild") is not None, "the child's own child never ran "
           f"(KIDS-015's): {seen.get('start_raised')}")
    _given(record.child_ended, "the child did not end after terminate() (LIFE-016)")
    return record


@pytest.mark.claim("KIDS-016")
def test_a_terminated_childs_own_child_is_not_terminated(backend):
    record = _orphaned(backend)
    holds(record.grandchild_state not in (None, "Z", "X", "x")
          and record.grandchild_report is not None) or violated(backend,
        "KIDS-016", "once terminate() ended the child, its own child still runs: the OS "
        "shows it running and it takes a go-ahead and reports",
        f"state {record.grandchild_state!r}, report {record.grandchild_report!r}")


@pytest.mark.claim("KIDS-017")
def test_parent_process_is_alive_turns_false_once_the_parent_was_terminated(backend):
    record = _orphaned(backend)
    seen = record.grandchild_report
    _given(seen is not None, "the grandchild did not outlive its terminated parent "
           "(KIDS-016's)")
    holds(not seen["missing"]) or violated(backend,
        "KIDS-017", "the implementation has parent_process()", "no such function")
    _given(seen["raised"] is not None or seen["parent"] == record.reported.get("pid"),
           "the grandchild's parent_process() is not its parent (KIDS-008)")
    holds(seen["raised"] is None and seen["last"] is False) or violated(backend,
        "KIDS-017", "in the grandchild, parent_process().is_alive() reads False within "
        f"{limits.RETURN_SLACK} s once its parent was terminated",
        seen["raised"] or f"{seen['last']!r} after {seen['seconds']!r} s",
        parent_pid=seen["parent"], child_pid=record.reported.get("pid"))


@pytest.mark.claim("KIDS-018")
def test_is_alive_on_an_ended_child_reaps_it(backend):
    record = children.is_alive_on_an_ended_child(backend)
    _started(record.start)
    _given(record.child_pid is not None, "the child never ran its target (LIFE-010)")
    _given(record.ended, "the child did not end, or ran in the parent's own process "
           "(LIFE-010; ISO-001)")
    holds(record.alive is False and not record.zombie_after) or violated(backend,
        "KIDS-018", "is_alive() on a child that ended, never joined, reads False and "
        f"reaps it: no zombie {limits.RETURN_SLACK} s later",
        f"is_alive() {record.alive!r}, zombie after: {record.zombie_after}",
        zombie_before=record.zombie_before)
