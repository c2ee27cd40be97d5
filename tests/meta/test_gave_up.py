"""A test whose every example was rejected ends *unjudged*, also when Hypothesis gives up
first (harness/plugin/tallies.py): its health check (too many rejected examples) or
``Unsatisfiable`` (every possible input rejected). Measured on multiprocessing.dummy,
whose echo server resets every fresh connection: ECHO-009 and ECHO-007 ended that way,
inconclusive (red) where nothing was judged at all. (The health check is not provoked
here: procspec's own count of rejections ends the test first in a plain run.)"""

from __future__ import annotations

import json

import pytest

from harness.kit import CHECKOUT

pytestmark = pytest.mark.meta

REJECTS_ALL = """
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from harness.verdict import holds, premise, violated

@pytest.mark.claim("LIFE-001")
@settings(database=None, max_examples=50, deadline=None)
@given(st.integers(0, {top}))
def test_rejects_all(x):
    premise(False, "the child never started (LIFE-004)")
    holds(True) or violated("LIFE-001", "x", "y")
"""


def test_a_test_hypothesis_gave_up_on_after_rejections_only_is_unjudged(pytester, monkeypatch):
    # three possible inputs, all rejected: Hypothesis says Unsatisfiable before procspec's
    # own count of rejections (harness.tally.REJECTIONS_BEFORE_GIVING_UP) is reached
    top = 2
    monkeypatch.setenv("PYTHONPATH", str(CHECKOUT))  # this checkout's plugin
    pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    pytester.makepyfile(test_scratch=REJECTS_ALL.replace("{top}", str(top)))
    results = pytester.path / "results.json"
    ran = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--results-json",
                                        str(results))
    (test,) = json.loads(results.read_text(encoding="utf-8"))["tests"]
    assert test["outcome"] == "unjudged", ran.stdout.str()[-3000:]
    assert "the child never started (LIFE-004)" in test["message"], test["message"]
    assert ran.ret == 0, ran.stdout.str()[-3000:]
