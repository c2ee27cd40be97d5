"""Unit tests of the isolation harness: the module state's write/view/restore, and the
start-method probe used when a backend declares none (specs/isolation.md, "Start method of
a backend"), which must name each standard start method from OS facts alone and refuse to
name one for a thread in disguise."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest

from harness.backends import Backend, stdlib_method_names
from harness.child import isolation_state
from harness.controls._base import ControlContext
from harness.controls.lifecycle import ThreadProcess
from harness.scenarios.start_state import find_start_method
from harness.start_method import rule as start_rule

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


@pytest.mark.parametrize("method", stdlib_method_names())
def test_a_method_of_another_name_gets_the_rule_the_os_shows(method):
    """loky declares 'loky': the rule is what the OS shows about one child (a new
    interpreter is spawn-like), whatever the declared name."""
    renamed = Backend(f"renamed-{method}", multiprocessing.get_context(method), "other-name")
    rule, how = start_rule(renamed)
    assert rule == method and "'other-name'" in how, (rule, how)


@pytest.mark.parametrize("method", stdlib_method_names())
def test_the_page_class_follows_the_interpreters_default_start_method(method):
    """Backend ``multiprocessing`` (the page's class) declares the running interpreter's
    default, never an assumed fork (3.14 made forkserver Linux's default)."""
    code = ("import multiprocessing as mp; mp.set_start_method(%r); "
            "from harness.backends import resolve; "
            "print(resolve('multiprocessing').start_method)" % method)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout.strip()
    assert out == method
