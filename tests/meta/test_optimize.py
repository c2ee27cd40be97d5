"""``python -O`` keeps every verdict: procspec's verdicts are raised (harness/verdict.py),
never asserted, so an interpreter flag that deletes ``assert`` statements cannot turn a
broken claim into a pass. (The installed kit is checked the same way in test_kit.py.)

What -O does change is the implementation: CPython's multiprocessing refuses a second
``start()``, a ``join()`` before ``start()``, a ``daemon`` change after ``start()`` and a
daemon's child with ``assert`` statements, and loses those refusals under -O. The
standard library's expectations record that under the ``optimize`` condition."""

from __future__ import annotations

import pytest

from harness import outcomes
from harness.suite import run_suite

pytestmark = [pytest.mark.meta, pytest.mark.slow]


@pytest.mark.parametrize("level", ["1", "2"])
def test_a_control_is_still_caught_under_python_dash_o(level, monkeypatch):
    monkeypatch.setenv("PYTHONOPTIMIZE", level)
    run = run_suite(["--backend", "control:terminate-noop"],
                    claims=["LIFE-016", "LIFE-010"], timeout=300)
    kinds = {cid: sorted(set(k)) for cid, k in run.outcomes.items()}
    assert kinds == {"LIFE-016": [outcomes.VERDICT], "LIFE-010": [outcomes.PASSED]}, \
        f"PYTHONOPTIMIZE={level}: {kinds}\n{run.output[-3000:]}"
    assert run.returncode == 1 and not run.leftovers, (run.returncode, run.leftovers)


def test_the_standard_librarys_assert_refusals_are_recorded_under_python_dash_o(monkeypatch):
    monkeypatch.setenv("PYTHONOPTIMIZE", "1")
    run = run_suite(["--backend", "fork"], claims=["LIFE-002", "LIFE-016"], timeout=300)
    kinds = {cid: sorted(set(k)) for cid, k in run.outcomes.items()}
    assert kinds == {"LIFE-002": [outcomes.XFAILED], "LIFE-016": [outcomes.PASSED]}, \
        f"{kinds}\n{run.output[-3000:]}"
    assert run.returncode == 0, run.output[-3000:]
