"""Hypothesis profiles for procspec's tests (here, so they travel with the kit's tests and
change nothing in a project that merely has the kit installed).

Choose with ``--hypothesis-profile NAME``:

``default``   a quick local run: few examples per property (processes are expensive).
``ci``        Hypothesis's built-in ``ci`` profile (derandomized: the same examples every
              run; no example database; reproduction blobs printed), with our example
              count and deadline. Loaded automatically when ``CI`` is set.
``thorough``  many more examples, for a soak or before a release.
``controls``  what the meta-tests use against the negative controls: derandomized, no
              shrinking (a broken implementation only has to be caught, not minimised).
``controls-sweep``  the same with one drawn example (besides the explicit ones): the
              controls proof's first pass over every claim (harness.suite).

No profile has a deadline: an example's duration is dominated by process start-up, which
varies with the start method and the load, and timing claims bound time themselves.
The plugin (options, markers, leak guard, claim table) is ``harness.pytest_plugin``,
loaded through its ``pytest11`` entry point wherever the kit is installed.

``-n auto`` starts two xdist workers per core here (:func:`pytest_xdist_auto_num_workers`):
procspec's tests mostly wait (children sleeping, sockets, process start-up), so one worker
per core leaves the cores idle half the time.
"""

from __future__ import annotations

import os
from typing import Optional

from hypothesis import HealthCheck, Phase, settings

_COMMON = dict(
    deadline=None,
    print_blob=True,
    # The `backend` fixture is a frozen description of the implementation, safe to share
    # between the examples of one test. Rejected examples are procspec's own count
    # (harness.tally: none judged after 10 rejected is *unjudged*; the judged ones are a
    # figure): Hypothesis's filter_too_much check would make a subject that defeats a
    # premise most of the time an error instead (measured: ECHO-009 on
    # multiprocessing.dummy, 3 judged and 50 rejected, inconclusive).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much],
)

settings.register_profile("default", max_examples=10, **_COMMON)


def _builtin_ci() -> settings:
    try:
        return settings.get_profile("ci")
    except Exception:  # Hypothesis before the built-in ci profile: the same settings
        return settings(derandomize=True, database=None, print_blob=True)


settings.register_profile("ci", settings(_builtin_ci(), max_examples=10, **_COMMON))
settings.register_profile("thorough", max_examples=200, **_COMMON)
# controls: 10 examples, as the healthy runs. Tried with 3 (8 fork controls: 88 s of CPU
# with 10, 61 s with 3): two fresh-clone CI runs then missed a control's claim each time
# (echo-dies-on-reset's ECHO-008, lazy-start's JOIN-002), so fewer examples would need
# explicit examples that carry each defect's inputs first.
settings.register_profile(
    "controls", max_examples=10, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
# controls-sweep: the controls proof's first pass over every claim (harness.suite.SWEEP):
# each test's explicit examples and one drawn, enough to see a test that leans on another
# claim's behaviour; a declared claim the sweep did not break is looked at again with
# "controls". Measured on 4 fork controls: 36.1 s of CPU with "controls", 18.9 s with this.
settings.register_profile(
    "controls-sweep", max_examples=1, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)

# The claim modules (tests/test_*.py) opt out of pytest's assertion rewriting (the marker
# PYTEST_DONT_REWRITE in their docstrings): each of their asserts carries its verdict as its
# message (harness.verdict.violation: claim, expected, measured), which is all a failure
# prints either way. Rewriting them only cost every process that collects them a parse:
# 0.5 s per process, measured (collection 0.84 s -> 0.33 s), paid by every xdist worker of
# every run, the controls proof's suite runs included.

#: xdist workers per core under ``-n auto`` (PYTEST_XDIST_AUTO_NUM_WORKERS overrides it).
#: Measured on 2 cores, one run each back to back: ``verify`` took 62 s with 2 workers and
#: 44 s with 4, for the same CPU time (user + sys 53 s and 58 s).
WORKERS_PER_CORE = 2


def pytest_xdist_auto_num_workers(config) -> Optional[int]:
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return WORKERS_PER_CORE * max(1, cores)


def pytest_collection_modifyitems(items: list) -> None:
    """The ``slow`` tests (a minute or more each: the control batches, the kit's CI runs)
    first, in their own order: xdist hands out the first tests round-robin, so each worker
    starts with its share of them, instead of one worker finishing the last of them alone
    while the others are idle (measured with --dist load: 92% of the README's test command
    was done after 4 of its 9 minutes; the rest was the last control batches, one at a
    time; with worksteal and this order it took 6.7 minutes under a heavier load)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


settings.load_profile(os.environ.get("PROCSPEC_HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") else "default"))
