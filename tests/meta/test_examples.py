"""Under spawn, a property whose claims do not concern how a child starts draws a share of
its profile's examples, its explicit ones included; a property about what a child starts
from draws them all, and so does every property on a fork backend
(harness/plugin/examples.py)."""

from __future__ import annotations

import json

import pytest

from harness.claims import load_claims
from harness.plugin.examples import FEWEST, START_AGNOSTIC_TOPICS, spawn_share

pytestmark = pytest.mark.meta

INI = """
[pytest]
addopts = --strict-markers
"""

# No process starts: the bodies count their calls per backend. LIFE-001 is a lifecycle
# claim (agnostic), ISO-001 an isolation one (what a child starts from).
COUNTED = """
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from harness.verdict import holds, violated

TEN = settings(max_examples=10, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])

@pytest.mark.claim("LIFE-001")
@TEN
@given(n=st.integers(0, 10**6))
@example(n=-1)
def test_agnostic(backend, n):
    holds(n >= -1) or violated("LIFE-001", "n >= -1", n)

@pytest.mark.claim("ISO-001")
@TEN
@given(n=st.integers(0, 10**6))
def test_start_state(backend, n):
    holds(n >= 0) or violated("ISO-001", "n >= 0", n)

@pytest.mark.claim("LIFE-001")
@TEN
@given(n=st.integers(0, 10**6))
def test_agnostic_failing(backend, n):
    holds(n < 0) or violated("LIFE-001", "n < 0", n)
"""


def test_the_share_is_a_third_rounded_up_and_never_below_the_fewest():
    assert [spawn_share(n) for n in (1, 2, 3, 6, 10, 200)] == [1, 2, 2, 2, 4, 67]
    assert FEWEST == 2


def test_the_agnostic_topics_are_topics_of_the_specs():
    topics = {claim.topic for claim in load_claims().values()}
    assert START_AGNOSTIC_TOPICS < topics, START_AGNOSTIC_TOPICS - topics
    # what a child starts from, inherits, or does at exit: every start method in full
    assert {"isolation", "stdio", "descriptors", "exit"} <= topics - START_AGNOSTIC_TOPICS


@pytest.fixture
def counted_run(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_scratch=COUNTED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--backend", "spawn", "--backend", "fork",
        "--results-json", "out.json", "-rs")
    tests = {t["nodeid"].split("::")[1]: t for t in
             json.loads((pytester.path / "out.json").read_text())["tests"]}
    return result, tests


def test_under_spawn_an_agnostic_claim_draws_its_share_and_its_explicit_examples(counted_run):
    _, tests = counted_run
    figures = tests["test_agnostic[spawn]"]["figures"]
    assert figures["drawn_at_most"] == spawn_share(10), figures
    assert figures["examples"] == 1 + spawn_share(10), figures  # the explicit one and 4


def test_a_start_state_claim_and_a_fork_backend_draw_the_profiles_count(counted_run):
    _, tests = counted_run
    for name in ("test_start_state[spawn]", "test_start_state[fork]", "test_agnostic[fork]"):
        figures = tests[name]["figures"]
        assert "drawn_at_most" not in figures, (name, figures)
        assert figures["examples"] >= 10, (name, figures)


def test_a_held_property_still_fails_with_its_verdict_and_the_count_is_put_back(counted_run):
    result, tests = counted_run
    assert tests["test_agnostic_failing[spawn]"]["outcome"] == "verdict"
    assert tests["test_agnostic_failing[fork]"]["outcome"] == "verdict"
    # the spawn item's count did not stay on the function that the fork item shares
    assert tests["test_agnostic[fork]"]["figures"]["examples"] >= 10
    assert result.ret == 1
