"""Unit tests of the isolation harness: the module state's write/view/restore, and the
start-method probe used when a backend declares none (specs/isolation.md, "Start method of
a backend"), which must name each standard start method from OS facts alone and refuse to
name one for a thread in disguise."""

from __future__ import annotations

import multiprocessing

import pytest

from harness.backends import Backend, stdlib_method_names
from harness.child import isolation_state
from harness.controls._base import ControlContext
from harness.controls.lifecycle import ThreadProcess
from harness.scenarios.isolation import find_start_method

pytestmark = pytest.mark.meta


@pytest.mark.parametrize("method", stdlib_method_names())
def test_probe_finds_the_start_method_of_an_undeclared_backend(method):
    undeclared = Backend(f"undeclared-{method}", multiprocessing.get_context(method), None)
    origin = find_start_method(undeclared)
    assert origin.start_method == method, origin


def test_probe_names_no_start_method_for_a_thread():
    thread = Backend("undeclared-thread",
                     ControlContext(ThreadProcess, multiprocessing.get_context()), None)
    origin = find_start_method(thread)
    assert origin.reported is not None and origin.start_method is None, origin


@pytest.mark.parametrize("kind", isolation_state.WRITE_KINDS)
def test_every_write_shows_in_the_view_and_restore_undoes_it(kind):
    value = ("written",)  # hashable, not 100
    saved = isolation_state.view()
    assert saved == isolation_state.IMPORT_TIME
    try:
        isolation_state.apply(kind, value)
        changed = isolation_state.view()
        assert changed != saved and isolation_state.shows_write(changed, kind, value)
        assert not isolation_state.shows_write(saved, kind, value)
    finally:
        isolation_state.restore(saved)
    assert isolation_state.view() == isolation_state.IMPORT_TIME
    assert isolation_state.items is isolation_state._OBJECTS[0]
