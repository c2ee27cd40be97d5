"""The run's budget: a run of procspec's claim tests ends, with its table, in bounded time.

Every wait of the harness is bounded, and a subject that hangs pays each grace once per run
(:mod:`harness.patience`, :mod:`.hung`); the budget is the net under all of that, for
whatever hangs in a way nobody foresaw. A run's claim tests get

    ``--run-budget SECONDS`` (default :func:`default_budget`: BASE + PER_TEST x claim tests
    / workers; 0: none),

counted from the moment the run was configured (the controller's clock, passed to its
xdist workers in :data:`STARTED_ENV`). A claim test that starts with less than its own
per-test timeout left gets what is left as its timeout (pytest-timeout); one that would
start after the budget is spent fails in setup without running: both are *inconclusive*
(red; never a pass, never a verdict), and the table says so. The harness's own meta tests
are neither counted nor cut.

So ``python -m harness verify`` and a plain pytest run of the claims end within the
budget plus a few seconds of teardown, whatever the implementation does.
"""

from __future__ import annotations

import os
import time
from typing import Any, Generator, Optional

import pytest

#: What a run's budget starts with: pytest and xdist start-up, collection, the first
#: expiry of a hung subject's longest grace (limits.JOIN_GRACE, limits.START_GRACE: 15 s).
BASE = 30.0

#: What a run's budget adds per claim test and worker. A healthy run of the claims on one
#: start method (pytest tests --ignore tests/meta -n 2 --backend forkserver, 62 tests) took
#: 21-76 s wall here, 0.7-2.5 s per test and worker (idle to a load average of 19 on 2
#: cores); 5 s is twice the worst of those, about three times the usual.
PER_TEST = 5.0

#: The controller's start, in ``time.time()`` seconds, for its workers.
STARTED_ENV = "PROCSPEC_RUN_STARTED"

_DEADLINE = pytest.StashKey[Optional[float]]()
_BUDGET = pytest.StashKey[float]()
_STARTED_BEFORE = pytest.StashKey[Optional[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("procspec").addoption(
        "--run-budget", type=float, default=None, metavar="SECONDS",
        help="the claim tests of this run end within SECONDS (default: 30 s + 5 s per "
             "claim test and worker; 0: no budget); what did not finish is inconclusive")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        config.stash[_STARTED_BEFORE] = os.environ.get(STARTED_ENV)
        os.environ[STARTED_ENV] = repr(time.time())


def pytest_unconfigure(config: pytest.Config) -> None:
    if _STARTED_BEFORE not in config.stash:
        return
    before = config.stash[_STARTED_BEFORE]  # a run inside a run gives the outer's back
    if before is None:
        os.environ.pop(STARTED_ENV, None)
    else:
        os.environ[STARTED_ENV] = before


def default_budget(tests: int, workers: int) -> float:
    """The budget of a run of ``tests`` claim tests on ``workers`` workers."""
    return BASE + PER_TEST * tests / max(1, workers)


def _claim_test(item: pytest.Item) -> bool:
    from harness.plugin.items import is_procspec_item, item_claims
    return is_procspec_item(item) and bool(item_claims(item)) \
        and item.get_closest_marker("meta") is None


@pytest.hookimpl(trylast=True)  # after --claim and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.getoption("--run-budget")
    tests = sum(1 for item in items if _claim_test(item))
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    budget = default_budget(tests, workers) if chosen is None else float(chosen)
    config.stash[_BUDGET] = budget
    try:
        started = float(os.environ.get(STARTED_ENV, ""))
    except ValueError:
        started = time.time()
    config.stash[_DEADLINE] = started + budget if budget > 0 and tests else None


def left(config: pytest.Config) -> Optional[float]:
    """Seconds left of the run's budget (None: no budget)."""
    deadline = config.stash.get(_DEADLINE, None)
    return None if deadline is None else deadline - time.time()


def _timeout_of(item: pytest.Item) -> Optional[float]:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    if marker is not None and "timeout" in marker.kwargs:
        return float(marker.kwargs["timeout"])
    chosen = item.config.getoption("timeout", None)
    return float(chosen) if chosen else None


@pytest.hookimpl(wrapper=True, tryfirst=True)  # before pytest-timeout reads the marker
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Generator[None, Any, Any]:
    remaining = left(item.config)
    if remaining is not None and _claim_test(item) and remaining > 0 \
            and item.config.pluginmanager.has_plugin("timeout"):
        own = _timeout_of(item)
        if own is None or remaining < own:
            item.add_marker(pytest.mark.timeout(max(remaining, 0.1), method="signal"),
                            append=False)
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    remaining = left(item.config)
    if remaining is not None and remaining <= 0 and _claim_test(item):
        pytest.fail(f"not run: the run's budget of {item.config.stash[_BUDGET]:.0f} s was "
                    "spent (--run-budget; harness/plugin/budget.py): inconclusive",
                    pytrace=False)
