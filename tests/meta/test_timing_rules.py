"""The join-timing rules are pure functions: judged here on drawn numbers, no processes.

``harness.timing.judge_concurrency`` (max versus sum), ``timeout_bound``, and the second
opinion (:func:`harness.timing.second_opinion_due`, :func:`harness.timing.settle`).
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness import timing
from harness.scenarios.overhead import FLOOR, SAFETY, OverheadModel

pytestmark = pytest.mark.meta

seconds = st.floats(min_value=0.0, max_value=5.0, allow_nan=False)
durations = st.lists(seconds, min_size=1, max_size=32)


@st.composite
def models(draw):
    return OverheadModel(start_method=draw(st.sampled_from(["fork", "spawn", "forkserver"])),
                         fixed=draw(st.floats(0.0, 1.0)), per_child=draw(st.floats(0.0, 0.5)),
                         exit=draw(st.floats(0.0, 0.5)), samples=(), measured_at=0.0,
                         loadavg=0.0)


@given(durations, seconds, models())
def test_concurrency_states_the_rule(ds, total, model):
    judged = timing.judge_concurrency(ds, total, model)
    longest, tolerance = max(ds), model.tolerance(len(ds))
    assert judged.tolerance == tolerance == FLOOR + SAFETY * model.overhead(len(ds))
    assert judged.lower_ok == (total >= longest)
    assert judged.discriminating == (sum(ds) - longest > tolerance)
    assert judged.ok == (judged.lower_ok and (total <= longest + tolerance
                                              or not judged.discriminating))
    assert judged.soft_failure == (judged.lower_ok and not judged.ok)


@given(durations, models())
def test_concurrent_children_pass(ds, model):
    """A run as long as its longest child (perfect concurrency) always holds."""
    assert timing.judge_concurrency(ds, max(ds), model).ok


@given(durations, st.floats(0.0, 1.0), models())
def test_one_after_another_fails_every_discriminating_example(ds, extra, model):
    """T >= sum: fails whenever the example discriminates, and only softly (a second run
    fails it again by physics)."""
    judged = timing.judge_concurrency(ds, sum(ds) + extra, model)
    assume(judged.discriminating)
    assert not judged.ok and judged.soft_failure


@given(durations, st.floats(0.0, 1.0, exclude_min=True), models())
def test_shorter_than_the_longest_child_fails_hard(ds, short, model):
    total = max(ds) - short
    assume(0 <= total < max(ds))
    judged = timing.judge_concurrency(ds, total, model)
    assert not judged.ok and not judged.soft_failure


@given(st.floats(0.0, 60.0))
def test_a_timed_join_bound_is_above_its_timeout(timeout):
    bound = timing.timeout_bound(timeout)
    assert bound >= timeout + timing.TIMEOUT_SLACK
    assert bound == pytest.approx((1 + timing.TIMEOUT_FACTOR) * timeout + timing.TIMEOUT_SLACK)


judgements = st.builds(timing.Judged, record=st.integers(), model=st.none(),
                       ok=st.booleans(), soft=st.booleans())


@given(judgements)
def test_a_second_opinion_is_due_only_on_a_soft_failure(first):
    assert timing.second_opinion_due(first) == (not first.ok and first.soft)


@given(judgements, judgements)
def test_settling_the_opinions(first, second):
    if timing.second_opinion_due(first):
        opinion = timing.settle(first, second)
        assert (opinion.ok, opinion.attempts, opinion.record) == (second.ok, 2, second.record)
        assert opinion.first is first
        with pytest.raises(ValueError):
            timing.settle(first)
    else:
        opinion = timing.settle(first)
        assert (opinion.ok, opinion.attempts, opinion.record) == (first.ok, 1, first.record)
        with pytest.raises(ValueError):
            timing.settle(first, second)


@given(judgements, judgements)
def test_a_claim_fails_only_when_the_first_fails_hard_or_both_fail(first, second):
    due = timing.second_opinion_due(first)
    opinion = timing.settle(first, second if due else None)
    assert opinion.ok == (first.ok or (first.soft and second.ok))


@given(judgements, judgements)
def test_the_log_counts_attempts(first, second):
    due = timing.second_opinion_due(first)
    entry = timing.log_entry("JOIN-002", "spawn", timing.settle(first, second if due else None))
    assert entry["attempts"] == (2 if due else 1)
    assert {"claim", "backend", "ok", "attempts", "model", "pid"} <= set(entry)


# --- examples derived from the model -----------------------------------------------------

@given(models(), st.integers(2, 32))
def test_a_derived_example_tells_max_from_sum_or_is_too_noisy(model, n):
    """Equal durations, at least the floor, sum - max at least DERIVED_MARGIN tolerances:
    one-after-another execution (T >= sum) fails it, even judged against a model whose
    tolerance came out DERIVED_MARGIN times larger; past the cap: TooNoisy, never a plan."""
    tolerance = model.tolerance(n)
    try:
        ds = timing.derived_durations("JOIN-002", n, model)
    except timing.TooNoisy as too_noisy:
        assert too_noisy.claim_id == "JOIN-002"
        assert "too noisy to tell max from sum" in str(too_noisy)
        assert n * max(timing.DERIVED_FLOOR, timing.DERIVED_MARGIN * tolerance / (n - 1)) \
            > timing.DERIVED_CHILD_SECONDS - 0.01 * n
        return
    assert len(ds) == n and len(set(ds)) == 1 and ds[0] >= timing.DERIVED_FLOOR
    assert sum(ds) <= timing.DERIVED_CHILD_SECONDS
    assert sum(ds) - max(ds) >= timing.DERIVED_MARGIN * tolerance - 1e-9
    judged = timing.judge_concurrency(ds, sum(ds), model)
    assert judged.discriminating and not judged.ok and judged.soft_failure
    assert timing.judge_concurrency(ds, max(ds), model).ok


def test_on_a_quiet_machine_the_derived_examples_are_the_fixed_ones():
    """Models of the quiet machine (specs/join-timing.md): eight 0.5 s children (JOIN-002)
    and four (JOIN-005) under fork; under spawn, JOIN-005's four sleep a little longer."""
    fork = OverheadModel(start_method="fork", fixed=0.0035, per_child=0.0016, exit=0.0012,
                         samples=(), measured_at=0.0, loadavg=0.3)
    spawn = OverheadModel(start_method="spawn", fixed=0.126, per_child=0.045, exit=0.038,
                          samples=(), measured_at=0.0, loadavg=0.3)
    assert timing.derived_durations("JOIN-002", 8, fork) == (0.5,) * 8
    assert timing.derived_durations("JOIN-005", 4, fork) == (0.5,) * 4
    assert timing.derived_durations("JOIN-002", 8, spawn) == (0.5,) * 8
    assert timing.derived_durations("JOIN-005", 4, spawn) == (0.63,) * 4  # 3 x 0.622 s / 3


def test_past_the_cap_the_claim_is_not_judged():
    noisy = OverheadModel(start_method="spawn", fixed=1.655, per_child=0.769, exit=0.2,
                          samples=(), measured_at=0.0, loadavg=17.0)
    with pytest.raises(timing.TooNoisy, match="JOIN-002 not judged: too noisy"):
        timing.derived_durations("JOIN-002", 8, noisy)
    assert not issubclass(timing.TooNoisy, AssertionError)  # never a verdict


def _child(ended, join_return, returned):
    from harness.scenarios.join import ChildTimes

    return ChildTimes(duration=0.1, start_call=0.0, start_return=0.01, start_returned=True,
                      began=0.02, ended=ended, join_call=0.03, join_return=join_return,
                      join_returned=returned, join_result=None, alive_after_join=None,
                      exitcode_after_join=None)


def test_a_join_given_up_while_its_child_still_ran_is_not_judged_but_one_after_its_end_is():
    from harness.scenarios.join import JoinRun

    run = JoinRun(backend="fork", durations=(0.1,) * 4, order=(0, 1, 2, 3), t0=0.0,
                  children=(_child(0.12, 0.13, True),     # returned: judged
                            _child(0.5, 0.4, False),      # given up before its end
                            _child(0.2, 0.6, False),      # given up after its end: late
                            _child(None, 0.6, False)))    # never reported (LIFE-010's)
    assert run.waits_outlived == (1,)
