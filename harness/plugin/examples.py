"""How many examples a property draws: its Hypothesis profile's count, except under spawn.

A spawn child is a new interpreter: on 2 cores, 50-60 ms of CPU each (Python 3.13; a fork
child costs 3 ms), and in ``verify`` the spawn column took 38.5 of the 61 s of CPU the
claims took (3.13, ``ci`` profile; ECHO alone 16.7 s: each connection's handler is a new
interpreter). Most claims do not concern how a child is started: what they check (join,
``is_alive()``, exit codes, names, the echo server's replies) is the same Python code
under every start method, and the drawn inputs' variety is judged in full on the fork
columns. So under spawn, a property whose claims all belong to a topic in
:data:`START_AGNOSTIC_TOPICS` draws :func:`spawn_share` of its profile's examples; its
explicit examples (the inputs that carry the known defects) all run. The topics about
what a child starts from, inherits or does at exit (isolation, stdio, descriptors, exit)
keep the full count under every start method. The tally (harness.tally) records the
count a test was held to (``drawn_at_most``), so the results say which ones drew fewer.

Measured on 3.13 (``pytest tests --ignore tests/meta --backend spawn -n 4``): 41.7 s of
CPU with the ``ci`` profile's 10 drawn examples, 18.0 s with one.
"""

from __future__ import annotations

import math
from typing import Any, Generator, Optional

import pytest

#: The spec topics (``specs/<topic>.md``) whose claims hold the same under every start
#: method: join timing, a process's life and API, its children, the echo server.
START_AGNOSTIC_TOPICS = frozenset({"join-timing", "lifecycle", "process-api", "children",
                                   "echo-server"})

#: Start methods whose every child is a new interpreter.
INTERPRETER_START_METHODS = frozenset({"spawn"})

#: Under those, an agnostic property draws this share of its profile's examples (rounded
#: up, at least :data:`FEWEST`): 10 -> 4 (``ci``, ``default``, ``controls``), 200 -> 67
#: (``thorough``).
SPAWN_SHARE = 1 / 3

#: A test whose own count is this or lower (the join-timing tests draw 2, each a second
#: of sleeping children) keeps it: under load a drawn example may be rejected (its
#: durations cannot be told apart), and one more keeps the test judged.
FEWEST = 2


def spawn_share(max_examples: int) -> int:
    return min(max_examples, max(FEWEST, math.ceil(max_examples * SPAWN_SHARE - 1e-9)))


def _start_method(item: pytest.Item) -> Optional[str]:
    """The declared start method of the backend an item runs on (its ``backend`` fixture,
    or procspec's own echo server on a backend); None when unknown."""
    funcargs = getattr(item, "funcargs", {})
    if "backend" in funcargs:
        return getattr(funcargs["backend"], "start_method", None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    name = params.get("echo_server_name")
    if name is None:
        return None
    from harness import backends
    from harness.plugin.options import backend_names

    if name not in backend_names(item.config):
        return None  # a server command given with --echo-server: its handlers are its own
    try:
        return backends.resolve(name).start_method
    except Exception:  # resolved (and reported) by the fixture; here only a count
        return None


def _agnostic(item: pytest.Item) -> bool:
    from harness.claims import load_claims
    from harness.plugin.items import item_claims

    claims = load_claims()
    ids = item_claims(item)
    return bool(ids) and all(cid in claims and claims[cid].topic in START_AGNOSTIC_TOPICS
                             for cid in ids)


def held_to(item: pytest.Item, settings: Any) -> Optional[int]:
    """The example count ``item`` draws under ``settings``, when lower than theirs."""
    if _start_method(item) not in INTERPRETER_START_METHODS or not _agnostic(item):
        return None
    share = spawn_share(settings.max_examples)
    return share if share < settings.max_examples else None


# Inside harness.plugin.tallies' wrapper (trylast): the test's tally is open.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    from harness import tally

    test: Any = getattr(item, "obj", None)
    own = getattr(test, "_hypothesis_internal_use_settings", None)
    limit = None if own is None or getattr(test, "hypothesis", None) is None \
        else held_to(item, own)
    if limit is None:
        return (yield)
    from hypothesis import settings

    # The parametrized items of one test share its function object; each sets its own
    # count for its call and puts the profile's back (one test at a time per process).
    test._hypothesis_internal_use_settings = settings(own, max_examples=limit)
    try:
        tally.current().drawn_at_most = limit
        return (yield)
    finally:
        test._hypothesis_internal_use_settings = own
