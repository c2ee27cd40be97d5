"""A pass is evidence: every claim test counts what it judged, and one that judged nothing
is *unjudged* (shown like a skip), never ``pass`` (harness/tally.py, plugin/tallies.py)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.meta

INI = """
[pytest]
addopts = --strict-markers
"""

JUDGED = """
import pytest
from hypothesis import example, given, settings, strategies as st
from harness.verdict import holds, premise, violated

CALLS = []

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 1000))
def test_premise_never_holds(n):
    CALLS.append(n)
    premise(False, "the child never ran its target (LIFE-010's)")
    holds(True) or violated("LIFE-001", "x", n)

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 1000))
def test_premise_holds_for_some(n):
    premise(n % 2 == 0, "an odd draw (LIFE-010's)")
    holds(n >= 0) or violated("LIFE-001", "n >= 0", n)

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 1000))
def test_judges_nothing_and_returns(n):
    pass

@pytest.mark.claim("LIFE-001")
def test_plain_premise_fails():
    premise(False, "no process of the server listens (ECHO-011's)")
    holds(True) or violated("LIFE-001", "x", 0)

@pytest.mark.claim("LIFE-001")
def test_plain_judges():
    holds(1 + 1 == 2) or violated("LIFE-001", "2", 1 + 1)

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 1000))
def test_whole_test_premise(n):
    premise(False, "the server answers nothing (ECHO-011's)", whole_test=True)

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 1000))
def test_judges_then_fails(n):
    premise(n % 3 != 0, "a draw divisible by 3 (LIFE-010's)")
    holds(n < 500) or violated("LIFE-001", "n < 500", n)

@pytest.mark.claim("LIFE-001")
@settings(max_examples=10, database=None)
@given(n=st.integers(0, 3))
@example(n=7)
def test_explicit_example_judges_every_drawn_one_is_rejected(n):
    premise(n == 7, "a drawn example (LIFE-010's)")
    holds(n == 7) or violated("LIFE-001", "7", n)

@pytest.mark.meta
def test_rejections_stop_early():
    assert len(CALLS) == 10, CALLS
"""


@pytest.fixture
def judged_run(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_scratch=JUDGED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "--results-json", "out.json", "-rs")
    tests = {t["nodeid"].split("::")[1]: t for t in
             json.loads((pytester.path / "out.json").read_text())["tests"]}
    return result, tests


def test_a_test_that_judged_nothing_is_unjudged_never_pass(judged_run):
    result, tests = judged_run
    kinds = {name: t["outcome"] for name, t in tests.items()}
    assert kinds == {
        "test_premise_never_holds": "unjudged",
        "test_premise_holds_for_some": "passed",
        "test_judges_nothing_and_returns": "unjudged",
        "test_plain_premise_fails": "unjudged",
        "test_plain_judges": "passed",
        "test_whole_test_premise": "unjudged",
        "test_judges_then_fails": "verdict",
        "test_explicit_example_judges_every_drawn_one_is_rejected": "passed",
        "test_rejections_stop_early": "passed",
    }, kinds
    result.stdout.fnmatch_lines(["LIFE-001*FAIL 1/8*"])
    result.stdout.fnmatch_lines(["*unjudged: no example judged the claim (10 rejected: the "
                                 "child never ran its target (LIFE-010's) (10x))*"])


def test_every_claim_test_records_what_it_judged(judged_run):
    _, tests = judged_run
    never = tests["test_premise_never_holds"]["figures"]
    assert (never["judged"], never["rejected"]) == (0, 10), never
    assert never["rejected_because"] == {"the child never ran its target (LIFE-010's)": 10}
    some = tests["test_premise_holds_for_some"]["figures"]
    assert some["judged"] >= 1 and some["rejected"] >= 1, some
    assert some["examples"] == some["judged"] + some["rejected"], some
    assert set(some["rejected_because"]) == {"an odd draw (LIFE-010's)"}
    nothing = tests["test_judges_nothing_and_returns"]["figures"]
    assert nothing["judged"] == 0 and nothing["examples"] >= 1, nothing
    plain = tests["test_plain_judges"]["figures"]
    assert (plain["examples"], plain["judged"], plain["rejected"]) == (1, 1, 0), plain
    assert "judged" not in tests["test_rejections_stop_early"]["figures"]  # no claim
    explicit = tests["test_explicit_example_judges_every_drawn_one_is_rejected"]["figures"]
    assert explicit["judged"] == 1 and explicit["rejected"] >= 4, explicit
