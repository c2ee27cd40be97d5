"""Join-timing claims (specs/join-timing.md), checked on every backend.

Hard bounds (physics) are asserted as they are; calibrated bounds come from
harness.timing's overhead model and decision rules, with one second opinion (fresh
calibration, fresh run) before a calibrated bound is declared broken.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings, target

from harness import timing
from harness.scenarios import join
from harness.verdict import violation
from tests import strategies

pytestmark = pytest.mark.join

#: A third of the profile's examples (3 in ci, 66 in thorough): every example starts up to
#: 8 (32) processes and sleeps up to 0.5 s, and the join claims must stay within 20 s on 2
#: cores under ``-n auto`` (ci). The explicit examples below carry the discriminating
#: cases in every profile.
budget = settings(max_examples=max(3, settings.default.max_examples // 3))

#: Examples every profile runs: sum and max far apart (a one-after-another implementation
#: cannot pass them), and the child that ends last joined first.
DISCRIMINATING = ((0.5,) * 8, tuple(range(8)))
LONGEST_FIRST = ((0.3, 0.05, 0.1), (0, 1, 2))
OLDER_ENDS_FIRST = ((0.02, 0.5), (0, 1))


def _reported(claim_id, run):
    missing = [i for i, c in enumerate(run.children) if c.ended is None]
    assert not missing, violation(claim_id, "every child runs and reports its stamps",
                                  f"children {missing} never reported",
                                  exitcodes=[c.exitcode_after_join for c in run.children])


@pytest.mark.claim("JOIN-001")
@budget
@given(plan=strategies.join_plans(max_seconds=0.1))
def test_join_returns_only_after_its_child_has_ended(backend, plan):
    durations, order = plan
    run = join.run_and_join(backend, durations, order)
    _reported("JOIN-001", run)
    for i, child in enumerate(run.children):
        assert child.join_return >= child.ended, violation(
            "JOIN-001", "join() returns after its child's target ended",
            f"child {i} (sleeping {child.duration} s): join() returned "
            f"{child.ended - child.join_return:.4f} s before the child's end")
        assert child.alive_after_join is False and child.exitcode_after_join == 0, \
            violation("JOIN-001", "after join(): is_alive() False, exitcode 0",
                      f"child {i}: is_alive() {child.alive_after_join!r}, "
                      f"exitcode {child.exitcode_after_join!r}")


def _judge_concurrency(run, model):
    judged = timing.judge_concurrency(run.durations, run.total, model)
    return judged.ok, judged.soft_failure


@pytest.mark.claim("JOIN-002")
@budget
@given(plan=strategies.join_plans())
@example(plan=DISCRIMINATING)
def test_children_started_before_any_join_run_concurrently(backend, plan):
    durations, order = plan
    opinion = timing.with_second_opinion(
        "JOIN-002", backend.name, backend.start_method,
        lambda: join.run_and_join(backend, durations, order), _judge_concurrency,
        n=len(durations))
    run = opinion.record
    judged = timing.judge_concurrency(durations, run.total, opinion.model)
    # Steer toward examples where sum and max differ by more than the noise.
    target(min(judged.margin, 1.0), label="sum - max - tolerance (s), capped at 1")
    figures = dict(n=judged.n, total=round(judged.total, 4), longest=judged.longest,
                   sum=round(judged.sum, 4), tolerance=round(judged.tolerance, 4),
                   discriminating=judged.discriminating, attempts=opinion.attempts,
                   model=judged.model, start_seconds=round(run.start_seconds, 4))
    assert judged.lower_ok, violation(
        "JOIN-002", "first start() to last join() >= the longest duration (hard)",
        f"{judged.total:.4f} s", **figures)
    # Only an example where sum and max differ by more than the noise can tell them apart.
    assert judged.upper_ok or not judged.discriminating, violation(
        "JOIN-002", "first start() to last join() <= longest + tolerance(N)",
        f"{judged.total:.4f} s", **figures)


def _latenesses(run):
    return [c.join_lateness for c in run.children]


def _run_with_second_opinion(claim_id, backend, plan, within_bound):
    """Run the plan; ``within_bound(run, model)`` judges a calibrated bound, which gets one
    second opinion. A child that never reports is a hard failure (no second run)."""
    durations, order = plan

    def judge(run, model):
        if not run.all_reported:
            return False, False
        return within_bound(run, model), True

    return timing.with_second_opinion(
        claim_id, backend.name, backend.start_method,
        lambda: join.run_and_join(backend, durations, order), judge, n=len(durations))


@pytest.mark.claim("JOIN-003")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2))
@example(plan=OLDER_ENDS_FIRST)
def test_join_returns_soon_after_its_own_child_ends(backend, plan):
    durations, order = plan
    opinion = _run_with_second_opinion(
        "JOIN-003", backend, plan,
        lambda run, model: max(_latenesses(run)) <= model.prompt_bound())
    run = opinion.record
    _reported("JOIN-003", run)
    bound = opinion.model.prompt_bound()
    late = {i: round(x, 4) for i, x in enumerate(_latenesses(run)) if x > bound}
    assert not late, violation(
        "JOIN-003", f"each join() returns within {bound:.3f} s of max(call, child's end)",
        f"late joins (child: seconds) {late}", attempts=opinion.attempts,
        model=opinion.model.describe(), durations=durations, order=order)


def _after_last(run):
    """The joins made after the join of the child that ended last: (child, seconds)."""
    last = run.last_to_end
    if last is None:
        return []
    position = run.order.index(last)
    return [(i, run.children[i].join_seconds) for i in run.order[position + 1:]]


@pytest.mark.claim("JOIN-004")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2, min_children=2))
@example(plan=LONGEST_FIRST)
def test_once_the_last_child_is_joined_the_others_join_promptly(backend, plan):
    durations, order = plan
    opinion = _run_with_second_opinion(
        "JOIN-004", backend, plan,
        lambda run, model: all(s <= model.prompt_bound() for _, s in _after_last(run)))
    run = opinion.record
    _reported("JOIN-004", run)
    after = _after_last(run)
    target(float(len(after)), label="joins after the last child's join")
    bound = opinion.model.prompt_bound()
    slow = {i: round(s, 4) for i, s in after if s > bound}
    assert not slow, violation(
        "JOIN-004", f"every later join() returns within {bound:.3f} s",
        f"slow joins (child: seconds) {slow}", last_to_end=run.last_to_end,
        order=order, attempts=opinion.attempts, model=opinion.model.describe())


@pytest.mark.claim("JOIN-005")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2, min_children=2))
@example(plan=((0.5,) * 4, (0, 1, 2, 3)))
def test_join_order_does_not_change_the_total(backend, plan):
    durations, order = plan
    reverse = tuple(reversed(order))

    def both():
        return (join.run_and_join(backend, durations, order),
                join.run_and_join(backend, durations, reverse))

    def same_total(runs, model):
        a, b = runs
        # Orders can only be told apart when sum and max differ by more than the noise.
        return (abs(a.total - b.total) <= model.tolerance(len(durations))
                or not timing.judge_concurrency(durations, a.total, model).discriminating)

    def judge(runs, model):
        return same_total(runs, model), True

    opinion = timing.with_second_opinion("JOIN-005", backend.name, backend.start_method,
                                         both, judge, n=len(durations))
    a, b = opinion.record
    judged = timing.judge_concurrency(durations, a.total, opinion.model)
    target(min(judged.margin, 1.0), label="sum - max - tolerance (s), capped at 1")
    tolerance = opinion.model.tolerance(len(durations))
    assert same_total(opinion.record, opinion.model), violation(
        "JOIN-005", f"totals of two join orders within {tolerance:.3f} s",
        f"{a.total:.4f} s joining in {order}, {b.total:.4f} s in {reverse}",
        durations=durations, attempts=opinion.attempts, model=opinion.model.describe(),
        discriminating=judged.discriminating)


@pytest.mark.claim("JOIN-006")
@given(timeout=strategies.join_upper_timeouts)
def test_join_with_a_timeout_returns_not_much_later_than_the_timeout(backend, timeout):
    bound = timing.timeout_bound(timeout)

    def judge(record, model):
        return record.returned_after <= bound, record.child_was_running

    opinion = timing.with_second_opinion(
        "JOIN-006", backend.name, backend.start_method,
        lambda: join.join_running_child(backend, timeout, child_seconds=timeout + 2.0),
        judge, calibrated=False)
    record = opinion.record
    assert record.child_was_running, violation(
        "JOIN-006", "the child was running before join(timeout)", "it never reported")
    assert record.returned_after <= bound, violation(
        "JOIN-006", f"join({timeout}) returns within {bound:.3f} s",
        f"returned after {record.returned_after:.4f} s", attempts=opinion.attempts)
    assert record.alive_after is True and record.exitcode_after is None, violation(
        "JOIN-006", "the child still runs after the timed-out join()",
        f"is_alive() {record.alive_after!r}, exitcode {record.exitcode_after!r}")


@pytest.mark.claim("JOIN-007")
def test_join_zero_does_not_block(backend):
    bound = timing.NONBLOCKING_BOUND

    def judge(record, model):
        return record.returned_after <= bound, record.child_was_running

    opinion = timing.with_second_opinion(
        "JOIN-007", backend.name, backend.start_method,
        lambda: join.join_running_child(backend, 0, child_seconds=1.0), judge,
        calibrated=False)
    record = opinion.record
    assert record.child_was_running, violation(
        "JOIN-007", "the child was running before join(0)", "it never reported")
    assert record.returned_after <= bound and record.alive_after is True, violation(
        "JOIN-007", f"join(0) returns within {bound} s; the child still runs",
        f"returned after {record.returned_after:.4f} s, is_alive() {record.alive_after!r}",
        attempts=opinion.attempts)
