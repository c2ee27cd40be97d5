"""Isolation claims (specs/isolation.md), checked on every backend.

The module state is :mod:`harness.isolation_state` (the page's ``n = 100`` and more kinds);
the scenarios restore the parent's copy after every example.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness import isolation_state
from harness.scenarios import isolation
from harness.verdict import violation
from tests import strategies

pytestmark = pytest.mark.isolation

MODULE_STATE_KINDS = {
    "ISO-001": ("rebind-global",),
    "ISO-002": ("list-append", "list-setitem", "list-clear", "dict-setitem", "dict-delitem",
                "set-add", "set-discard"),
    "ISO-003": ("object-setattr", "class-setattr"),
    "ISO-004": ("delete-global",),
}


def _child_reported(claim_id: str, record: Any) -> dict:
    assert record.reported is not None, violation(
        claim_id, "the child runs its target and reports", "no report from the child",
        exitcode=record.exitcode)
    return record.reported


def _check_child_write(claim_id: str, backend: Any, kind: str, value: Any) -> None:
    record = isolation.child_writes(backend, kind, value)
    seen = _child_reported(claim_id, record)
    assert not isolation_state.shows_write(seen["before"], kind, value) and \
        isolation_state.shows_write(seen["after"], kind, value), violation(
            claim_id, f"the child's own view shows {kind}({value!r}) after, not before",
            f"before {seen['before']!r}, after {seen['after']!r}")
    assert record.parent_after_join == record.parent_before, violation(
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
    seen = _child_reported("ISO-005", record)
    expected = copy.deepcopy(arg)
    isolation_state.mutate_argument(expected, kind, value)
    assert seen["before"] == arg and seen["after"] == expected, violation(
        "ISO-005", f"the child's argument shows {kind}({value!r}) after, not before",
        f"before {seen['before']!r}, after {seen['after']!r}")
    assert record.parent_after_join == record.original, violation(
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
@given(call=strategies.call_arguments)
def test_arguments_arrive_in_the_child_as_equal_values_of_the_same_types(backend, call):
    args, kwargs = call
    record = isolation.child_receives_arguments(backend, args, kwargs)
    assert record.start_error is None, violation(
        "ISO-006", "start() accepts picklable arguments", record.start_error)
    seen = _child_reported("ISO-006", record)
    assert (seen["args"], seen["kwargs"]) == (args, kwargs) and \
        shape((seen["args"], seen["kwargs"])) == shape((args, kwargs)), violation(
            "ISO-006", f"args {args!r}, kwargs {kwargs!r} (same values and types)",
            f"args {seen['args']!r}, kwargs {seen['kwargs']!r}")


# --- what a child starts from ----------------------------------------------------------

@pytest.fixture
def start_method(backend) -> str:
    """The backend's start method: declared (by the context or the control), else found
    out from OS facts about one child (see specs/isolation.md, "Start method")."""
    if backend.start_method is not None:
        method: Optional[str] = backend.start_method
        how = "declared"
    else:
        origin = isolation.find_start_method(backend)
        method, how = origin.start_method, f"found out from {origin.reported!r}"
    if method not in ("fork", "spawn", "forkserver"):
        pytest.skip(f"start method of {backend.name} unknown ({how}: {method!r}); declare "
                    "it with a procspec_start_method attribute or get_start_method()")
    return method


def _child_start_view(claim_id: str, backend: Any, changes: tuple) -> tuple[Any, dict]:
    record = isolation.child_start_state(backend, changes)
    assert record.parent_at_start != record.import_time, violation(
        claim_id, "the parent's run-time changes altered its state (precondition)",
        record.parent_at_start, changes=changes)
    return record, _child_reported(claim_id, record)["view"]


@pytest.mark.claim("ISO-007")
@given(changes=strategies.start_changes)
def test_under_fork_a_child_starts_from_the_parents_state_at_start_including_run_time_changes(
        backend, start_method, changes):
    if start_method != "fork":
        pytest.skip(f"a fork rule; {backend.name} starts children by {start_method}")
    record, seen = _child_start_view("ISO-007", backend, changes)
    assert seen == record.parent_at_start, violation(
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
    assert seen == record.import_time, violation(
        "ISO-008", f"the import-time state {record.import_time!r}", seen,
        parent_at_start=record.parent_at_start, changes=changes)


@pytest.mark.claim("ISO-009")
@given(write=strategies.module_writes(), case=strategies.argument_writes())
def test_the_parents_writes_after_start_are_invisible_to_the_child(backend, write, case):
    (kind, value), (arg, arg_kind, arg_value) = write, case
    record = isolation.parent_writes_after_start(backend, kind, value, arg, arg_kind,
                                                 arg_value)
    assert isolation_state.shows_write(record.parent_after_writes, kind, value) and \
        record.arg_after_writes != record.arg_at_start, violation(
            "ISO-009", "the parent's writes took effect in the parent (precondition)",
            record.parent_after_writes, argument=record.arg_after_writes)
    seen = _child_reported("ISO-009", record)
    assert seen["released"], violation(
        "ISO-009", "the child got the go-ahead (posted after the parent's writes)",
        "it gave up waiting")
    assert seen["view"] == record.parent_at_start and seen["arg"] == record.arg_at_start, \
        violation("ISO-009", "the child sees the module state and argument as at start()",
                  f"state {seen['view']!r}, argument {seen['arg']!r}",
                  state_at_start=record.parent_at_start, argument_at_start=record.arg_at_start,
                  parent_writes=f"{kind}({value!r}), argument {arg_kind}({arg_value!r})")


@pytest.mark.claim("ISO-010")
@given(value=st.integers().filter(lambda v: v != isolation_state.START))
@example(value=0)
def test_a_child_starts_from_its_start_methods_view_of_the_main_script(
        backend, start_method, value):
    run = isolation.run_main_program(backend, value)
    assert not run.timed_out and run.returncode == 0 and run.data("child") and \
        run.data("parent"), violation(
            "ISO-010", "the program runs its child and exits with status 0",
            f"timed out {run.timed_out}, status {run.returncode}", events=run.events,
            stderr=run.stderr)
    seen, parent = run.data("child")[0], run.data("parent")[0]
    if start_method == "fork":
        expected = {"found": value, "main_name": "__main__"}
    else:
        expected = {"found": isolation_state.START, "main_name": "__mp_main__"}
    assert {k: seen[k] for k in expected} == expected and seen["after_write"] == 0, violation(
        "ISO-010", f"under {start_method}: the child finds {expected}, then sets n = 0",
        seen, events=run.events)
    assert parent["n_after_join"] == value, violation(
        "ISO-010", f"after join() the parent's n is still its own {value}", parent)
