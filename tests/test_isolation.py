"""Isolation claims (specs/isolation.md), checked on every backend.

The module state is :mod:`harness.child.isolation_state` (the page's ``n = 100`` and more kinds);
the scenarios restore the parent's copy after every example.

One claim, one behaviour: when a behaviour another claim owns did not happen (``start()``
did not return: JOIN-002 times it; the child never ran its target: LIFE-010), a test cannot
check its claim and is skipped with the reason; it never fails for it.

PYTEST_DONT_REWRITE: every assert here carries its own verdict (tests/conftest.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness import start_method as start_methods
from harness.child import isolation_state
from harness.scenarios import interpreter, isolation, start_state

from . import strategies
from .judging import holds, premise, violated

pytestmark = pytest.mark.isolation

MODULE_STATE_KINDS = {
    "ISO-001": ("rebind-global",),
    "ISO-002": ("list-append", "list-setitem", "list-clear", "dict-setitem", "dict-delitem",
                "set-add", "set-discard"),
    "ISO-003": ("object-setattr", "class-setattr"),
    "ISO-004": ("delete-global",),
}




#: A simple argument and write (the explicit examples: a broken implementation fails them at
#: once, with nothing for Hypothesis to shrink).
SIMPLE_CASE = ({"list": [[]], "dict": {}, "set": set(), "object": isolation_state.Holder(1)},
               "list-append", 1)


def _child_reported(record: Any, start: Any) -> dict:
    """The child's report; skip when ``start()`` did not return or the child never ran."""
    premise(start.returned, f"start() did not return ({start.why}; JOIN-002 times it)")
    premise(record.reported is not None, "the child never ran its target (LIFE-010)")
    return record.reported


def _check_child_write(claim_id: str, backend: Any, kind: str, value: Any) -> None:
    record = isolation.child_writes(backend, kind, value)
    seen = _child_reported(record, record.ran.start)
    holds(not isolation_state.shows_write(seen["before"], kind, value) and \
        isolation_state.shows_write(seen["after"], kind, value)) or violated(backend,
            claim_id, f"the child's own view shows {kind}({value!r}) after, not before",
            f"before {seen['before']!r}, after {seen['after']!r}")
    holds(record.parent_after_join == record.parent_before) or violated(backend,
        claim_id, "the parent's module state after join() is what it was before start()",
        record.parent_after_join, before=record.parent_before, write=f"{kind}({value!r})")


@pytest.mark.claim("ISO-001")
@given(write=strategies.module_writes(MODULE_STATE_KINDS["ISO-001"]))
@example(write=("rebind-global", 0))  # the page's exercise: the child sets n = 0
def test_a_childs_rebinding_of_a_module_global_is_invisible_to_the_parent(backend, write):
    _check_child_write("ISO-001", backend, *write)


@pytest.mark.claim("ISO-002")
@given(write=strategies.module_writes(MODULE_STATE_KINDS["ISO-002"]))
def test_a_childs_in_place_mutation_of_a_module_list_dict_or_set_is_invisible_to_the_parent(
        backend, write):
    _check_child_write("ISO-002", backend, *write)


@pytest.mark.claim("ISO-003")
@given(write=strategies.module_writes(MODULE_STATE_KINDS["ISO-003"]))
def test_a_childs_attribute_set_on_a_module_object_or_class_is_invisible_to_the_parent(
        backend, write):
    _check_child_write("ISO-003", backend, *write)


@pytest.mark.claim("ISO-004")
def test_a_childs_deletion_of_a_module_global_is_invisible_to_the_parent(backend):
    _check_child_write("ISO-004", backend, "delete-global", None)


@pytest.mark.claim("ISO-005")
@given(case=strategies.argument_writes())
def test_a_childs_mutation_of_an_argument_does_not_reach_the_parents_object(backend, case):
    arg, kind, value = case
    record = isolation.child_mutates_argument(backend, arg, kind, value)
    seen = _child_reported(record, record.ran.start)
    # Judged against what the child received (how arguments arrive is ISO-006's business).
    expected = copy.deepcopy(seen["before"])
    try:
        isolation_state.mutate_argument(expected, kind, value)
    except Exception as exc:  # the child got something it could not have mutated either
        premise(False, f"the argument arrived as {seen['before']!r} ({exc!r}: ISO-006)")
    holds(seen["after"] == expected and seen["after"] != seen["before"]) or violated(backend,
        "ISO-005", f"the child's argument shows {kind}({value!r}) after, not before",
        f"before {seen['before']!r}, after {seen['after']!r}")
    holds(record.parent_after_join == record.original) or violated(backend,
        "ISO-005", "the parent's argument object after join() is as it passed it",
        record.parent_after_join, passed=record.original, child_write=f"{kind}({value!r})")


def shape(value: Any) -> Any:
    """The nested types of a value: equality alone is not enough (a set equals a frozenset
    with the same items, bytes equal a bytearray, 1 equals 1.0)."""
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v) for v in value])
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), shape(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(repr(shape(v)) for v in value))
    return type(value).__name__


@pytest.mark.claim("ISO-006")
@given(call=strategies.call_arguments, as_list=st.booleans())
@example(call=((1, "two", b"3"), {}), as_list=True).via("args given as a list")
def test_arguments_arrive_in_the_child_as_equal_values_of_the_same_types(
        backend, call, as_list):
    args, kwargs = call
    record = isolation.child_receives_arguments(backend, args, kwargs, as_list)
    premise(record.ran.start.returned,
                 f"start() did not return ({record.ran.start.why}; JOIN-002 times it)")
    holds(record.start_error is None) or violated(backend,
        "ISO-006", "start() accepts picklable arguments", record.start_error)
    seen = _child_reported(record, record.ran.start)
    holds((seen["args"], seen["kwargs"]) == (args, kwargs) and \
        shape((seen["args"], seen["kwargs"])) == shape((args, kwargs))) or violated(backend,
            "ISO-006", f"args {args!r}, kwargs {kwargs!r} (same values and types)",
            f"args {seen['args']!r}, kwargs {seen['kwargs']!r}",
            args_given_as="list" if as_list else "tuple")


# --- what a child starts from ----------------------------------------------------------

@pytest.fixture
def start_method(backend) -> str:
    """The start method whose rule the backend's children follow: declared (by the context
    or the control) when it is fork, spawn or forkserver, else found out from OS facts about
    one child, so that a new interpreter under any name (loky's 'loky') gets the spawn rule
    (see specs/isolation.md, "Start method of a backend")."""
    method, how = start_methods.rule(backend)
    if method not in start_methods.KNOWN_METHODS:
        pytest.skip(f"start method of {backend.name} unknown ({how}: {method!r}); declare "
                    "it with a procspec_start_method attribute or get_start_method()")
    return method


def _child_start_view(claim_id: str, backend: Any, changes: tuple) -> tuple[Any, dict]:
    record = isolation.child_start_state(backend, changes)
    holds(record.parent_at_start != record.import_time) or violated(backend,
        claim_id, "the parent's run-time changes altered its state (precondition)",
        record.parent_at_start, changes=changes)
    return record, _child_reported(record, record.ran.start)["view"]


@pytest.mark.claim("ISO-007")
@given(changes=strategies.start_changes)
@example(changes=(("rebind-global", 0),))
def test_under_fork_a_child_starts_from_the_parents_state_at_start_including_run_time_changes(
        backend, start_method, changes):
    if start_method != "fork":
        pytest.skip(f"a fork rule; {backend.name} starts children by {start_method}")
    record, seen = _child_start_view("ISO-007", backend, changes)
    holds(seen == record.parent_at_start) or violated(backend,
        "ISO-007", f"the parent's state at start() {record.parent_at_start!r}", seen,
        import_time=record.import_time, changes=changes)


@pytest.mark.claim("ISO-008")
@given(changes=strategies.start_changes)
def test_under_spawn_and_forkserver_a_child_starts_from_the_modules_import_time_state(
        backend, start_method, changes):
    if start_method not in ("spawn", "forkserver"):
        pytest.skip(f"a spawn/forkserver rule; {backend.name} starts children by "
                    f"{start_method}")
    record, seen = _child_start_view("ISO-008", backend, changes)
    holds(seen == record.import_time) or violated(backend,
        "ISO-008", f"the import-time state {record.import_time!r}", seen,
        parent_at_start=record.parent_at_start, changes=changes)


@pytest.mark.claim("ISO-009")
@given(write=strategies.module_writes(), case=strategies.argument_writes())
@example(write=("rebind-global", 0), case=SIMPLE_CASE)
def test_the_parents_writes_after_start_are_invisible_to_the_child(backend, write, case):
    (kind, value), (arg, arg_kind, arg_value) = write, case
    record = isolation.parent_writes_after_start(backend, kind, value, arg, arg_kind,
                                                 arg_value)
    premise(record.start.returned,
                 f"start() did not return ({record.start.why}; JOIN-002 times it)")
    holds(isolation_state.shows_write(record.parent_after_writes, kind, value) and \
        record.arg_after_writes != record.arg_at_start) or violated(backend,
            "ISO-009", "the parent's writes took effect in the parent (precondition)",
            record.parent_after_writes, argument=record.arg_after_writes)
    seen = _child_reported(record, record.start)
    premise(seen["released"], "the child gave up waiting for the go-ahead")
    # The argument is judged against its twin (a copy passed beside it that the parent never
    # changes): both arrive alike, whatever the implementation does to arguments (ISO-006).
    holds(seen["view"] == record.parent_at_start and seen["arg"] == seen["twin"]) or violated(
        backend,
                  "ISO-009", "the child sees the module state and argument as at start()",
                  f"state {seen['view']!r}, argument {seen['arg']!r} "
                  f"(its untouched twin arrived as {seen['twin']!r})",
                  state_at_start=record.parent_at_start, argument_at_start=record.arg_at_start,
                  parent_writes=f"{kind}({value!r}), argument {arg_kind}({arg_value!r})")


@pytest.mark.claim("ISO-010")
@given(value=st.integers().filter(lambda v: v != isolation_state.START))
@example(value=0)
def test_a_child_starts_from_its_start_methods_view_of_the_main_script(
        backend, start_method, value):
    run = start_state.run_main_program(backend, value)
    parents = run.data("parent")
    premise(parents or not run.timed_out,
                 "the program did not report within the grace (it hung)")
    holds(parents) or violated(backend,
        "ISO-010", "the program runs to its report of n after join()",
        f"it ended with status {run.returncode} without one", events=run.events,
        stderr=run.stderr)
    premise(parents[0]["start_returned"],
                 "start() did not return in the program (JOIN-002 times it)")
    premise(run.data("child"), "the program's child never ran its target (LIFE-010)")
    holds(run.hung_at_exit or run.returncode == 0) or violated(backend,
        "ISO-010", "the program, once it has reported, exits with status 0",
        f"status {run.returncode}", events=run.events, stderr=run.stderr)
    seen, parent = run.data("child")[0], parents[0]
    if start_method == "fork":
        expected = {"found": value, "main_name": "__main__"}
    else:
        expected = {"found": isolation_state.START, "main_name": "__mp_main__"}
    holds({k: seen[k] for k in expected} == expected and seen["after_write"] == 0) or violated(
        backend,
        "ISO-010", f"under {start_method}: the child finds {expected}, then sets n = 0",
        seen, events=run.events)
    holds(parent["n_after_join"] == value) or violated(backend,
        "ISO-010", f"after join() the parent's n is still its own {value}", parent)


@pytest.mark.claim("ISO-016")
def test_a_child_and_its_own_child_run_with_the_interpreter_flags_of_their_parent(backend):
    run = interpreter.flags_of_children(backend)
    premise(run.record is not None or not run.timed_out,
            "the program did not report within the grace (it hung)", whole_test=True)
    premise(run.record is not None, f"the program printed no record (status "
            f"{run.returncode}; {run.stdout[-200:]!r}; stderr {run.stderr[-300:]!r}; "
            "start() did not return: JOIN-002 times it)", whole_test=True)
    main, child, grandchild = (run.record[k] for k in ("main", "child", "grandchild"))
    premise(child is not None, "the program's child never ran its target (LIFE-010)",
            whole_test=True)
    holds(child["flags"] == main["flags"]) or violated(backend,
        "ISO-016", f"a child of a program started with {' '.join(interpreter.FLAGS)} runs "
        f"with its flags {main['flags']}", child["flags"])
    holds(grandchild is None or grandchild["flags"] == main["flags"]) or violated(backend,
        "ISO-016", f"the child's own child runs with the flags {main['flags']} too",
        grandchild["flags"] if grandchild else None)


@pytest.mark.claim("ISO-017")
def test_under_spawn_and_forkserver_an_unguarded_main_script_gets_a_runtime_error(
        backend, start_method):
    if start_method not in ("spawn", "forkserver"):
        pytest.skip(f"not promised under {start_method}: its children do not run the main "
                    "script again")
    run = interpreter.run_unguarded_script(backend)
    premise(run.at_depth("top level", 0), f"the script did not run (status "
            f"{run.returncode}; stderr {run.stderr[-300:]!r})", whole_test=True)
    premise(not run.at_depth("start raised", 0), "the script's own start() raised "
            f"(JOIN-002, LIFE-004): {run.lines}", whole_test=True)
    premise(run.at_depth("top level", 1), "the script's top level did not run again in a "
            f"new interpreter (ISO-010's view of the main script): {run.lines}",
            whole_test=True)
    premise(run.at_depth("start raised", 1) or run.at_depth("joined", 1)
            or run.at_depth("top level", 2), "the start() the top level made again reported "
            "nothing (it did not return, or the program was ended first: JOIN-002's): "
            f"{run.lines}", whole_test=True)
    holds(run.at_depth("start raised RuntimeError", 1) and not run.at_depth("top level", 2)) \
        or violated(backend, "ISO-017", f"under {start_method}, the start() the unguarded "
                    "script's top level makes again, while the new interpreter imports it, "
                    "raises RuntimeError, and no further generation runs the script",
                    list(run.lines), stderr=run.stderr[-600:])
