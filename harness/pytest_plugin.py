"""procspec's pytest plugin: load it with ``-p harness.pytest_plugin`` (or ``pytest_plugins``).

It only loads its parts (:mod:`harness.plugin`), each of which registers what it owns:

- :mod:`harness.plugin.options`: ``--backend``, ``--echo-server``, ``--claim``,
  ``--results-json``, ``--no-leak-check``, checked before any test (a bad value is a
  usage error: one line, exit status 4); parametrization; ``backend``/``echo_server``;
- :mod:`harness.plugin.bookkeeping`: the markers, claim IDs per test, ``--claim``
  selection, expected failures, and every result classified as a verdict or inconclusive;
- :mod:`harness.plugin.tallies`: what each test judged (examples, judged, rejected); a
  test that judged nothing is *unjudged*, never a pass;
- :mod:`harness.plugin.examples`: under spawn, a claim that does not concern how a child
  starts draws a third of its profile's examples (its explicit ones all run);
- :mod:`harness.plugin.leaks`: the leak guard; SIGTERM handled like SIGINT;
- :mod:`harness.plugin.threads`: a ``multiprocessing.dummy`` "child's" uncaught exception
  is its end (as a real child's is), not an error of the test;
- :mod:`harness.plugin.hung`: one patience per run (shared by its workers), and verdicts
  on a subject that hangs are not shrunk;
- :mod:`harness.plugin.budget`: the run's budget (`--run-budget`): claim tests that did not
  finish in it are inconclusive;
- :mod:`harness.plugin.recorder`: the claim x implementation table, missing tools and the
  ``--results-json`` file.

First :mod:`harness.plugin.requirements` checks that this Python has the kit's own
dependencies: a run without them ends with one line (a usage error), before any part loads.
"""

import pytest

from harness.plugin.requirements import usage_problem

# Before any part is imported (they need the kit's dependencies): one line, exit status 4.
_PROBLEM = usage_problem()
if _PROBLEM:
    raise pytest.UsageError(_PROBLEM)

pytest_plugins = [
    "harness.plugin.options",
    "harness.plugin.bookkeeping",
    "harness.plugin.tallies",
    "harness.plugin.examples",
    "harness.plugin.leaks",
    "harness.plugin.threads",
    "harness.plugin.hung",
    "harness.plugin.budget",
    "harness.plugin.recorder",
]
