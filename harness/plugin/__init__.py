"""procspec's pytest plugin, in focused modules; each registers what it owns.

- :mod:`.options`: ``--backend``, ``--echo-server``, ``--claim``, ``--results-json``,
  ``--no-leak-check``; every value checked before any test runs (a bad one is a usage
  error: one line, exit status 4, also under ``-n auto``); parametrization; the
  ``backend`` and ``echo_server`` fixtures.
- :mod:`.bookkeeping`: the ``claim`` marker, claim IDs checked per test, ``--claim``
  selection, known deviations as strict expected failures, and each result classified as
  a verdict or inconclusive (:mod:`harness.outcomes`).
- :mod:`.leaks`: the per-test leak guard, and SIGTERM handled like SIGINT.
- :mod:`.recorder`: outcomes by claim and subject; the claim table; missing tools; the
  ``--results-json`` file.

:mod:`harness.pytest_plugin` loads them all (``-p harness.pytest_plugin``).
"""
