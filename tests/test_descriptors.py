"""Descriptor claims (specs/descriptors.md): children started and joined leave the
parent's open file descriptors as they were; so do an echo server's clients.

Linux only (the tables are read from /proc). The implementation's helpers (fork server,
resource tracker) keep descriptors to the parent for its whole life; they are set aside by
measurement (harness.scenarios.descriptors), and each violation lists them.

PYTEST_DONT_REWRITE: every assert here carries its own verdict (tests/conftest.py).
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import given

from harness import patience
from harness.scenarios import descriptors
from harness.scenarios.echo import serves
from harness.supervise import figures
from harness.verdict import holds, premise, violated

from . import strategies

pytestmark = [pytest.mark.descriptors,
              pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="descriptor tables are read from Linux's /proc")]



@pytest.mark.claim("FD-001")
@given(count=strategies.fd_child_counts)
def test_starting_and_joining_children_leaves_the_parents_descriptors_as_they_were(
        backend, count):
    run = descriptors.start_and_join(backend, count)
    premise(run.started == count, "start() did not return (JOIN-002 times it)")
    premise(run.joined == count, "join() did not return (LIFE-009)")
    premise(run.ended, "a child did not end (LIFE-010)")
    diff = run.difference
    holds(not diff.new) or violated(
        "FD-001", f"after {count} children started, joined and let go: no descriptor "
        "that was not open before (the helpers' set aside)",
        f"new {diff.new}", gone=diff.gone, set_aside=diff.set_aside,
        open_before=run.before, open_after=run.after, **figures(backend.name))


@pytest.mark.echo
@pytest.mark.claim("FD-002")
@given(count=strategies.fd_echo_clients)
def test_the_echo_servers_serving_process_holds_no_more_descriptors_after_many_clients(
        echo_server, count):
    premise(serves(echo_server) is None, "the server answers nothing (ECHO-011)",
            whole_test=True)
    run = descriptors.clients_one_after_another(echo_server, count)
    premise(run.server_pid is not None, "no process of the server listens")
    premise(run.handlers_ended,
                 "a handler still ran after its client closed (ECHO-009)")
    note = patience.note(f"{echo_server.name}:descriptors")
    holds(run.after <= run.before) or violated(
        "FD-002", f"after {count} more clients (each closed, its handler ended): at most "
        f"{run.before} descriptors in the serving process, as after the first",
        f"{run.after} descriptors; new: {run.new}", serving_pid=run.server_pid,
        set_aside=run.set_aside, settle_grace=run.settle_grace,
        **({"patience": note} if note else {}))
