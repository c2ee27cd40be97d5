"""Join-timing claims (specs/join-timing.md), checked on every backend.

Hard bounds (physics) are asserted as they are; calibrated bounds come from the overhead
model (harness.scenarios.overhead) and the decision rules (harness.timing), with one second
opinion (fresh calibration, fresh run, taken here: ``_with_second_opinion``) before a
calibrated bound is declared broken.

One claim, one behaviour: when a behaviour another claim owns did not happen (a child
never ran its target: LIFE-010; ``start()`` did not return: JOIN-002), the example is
rejected with the reason, counted (``_reject``; ``premise`` where no explicit example
runs); it never fails for it.

Max versus sum (JOIN-002, JOIN-005): a drawn example whose ``sum - max`` is within the
tolerance measured for it cannot tell max from sum, so it does not run: it is counted as
rejected (harness.tally) and judges nothing. Each property also runs the example
``DERIVED``, whose durations are derived from that model so that ``sum - max`` is several
tolerances (``harness.timing.derived_durations``), and which is inconclusive
(``TooNoisy``) past the cap on its child time: a healthy run always judges, and no load
turns it into a hollow ``pass``.

PYTEST_DONT_REWRITE: verdicts are raised (harness.verdict), never asserted.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings, target

from harness import limits, start_method, tally, timing
from harness.scenarios import join, overhead

from . import strategies
from .judging import holds, premise, violated

pytestmark = pytest.mark.join

#: A third of the profile's examples (3 in ci, 66 in thorough): every example starts up to
#: 8 (32) processes and sleeps up to 0.5 s, and the join claims must stay within 20 s on 2
#: cores under ``-n auto`` (ci). The explicit examples below carry the discriminating
#: cases in every profile.
budget = settings(max_examples=max(3, settings.default.max_examples // 3))

#: The example every profile runs for JOIN-002 and JOIN-005: its durations are derived from
#: the overhead model measured for it (harness.timing.derived_durations: ``n`` children,
#: ``sum - max`` at least three tolerances; eight 0.5 s children on a quiet machine for
#: JOIN-002, four for JOIN-005), joined in start order (and in reverse, JOIN-005).
DERIVED = "derived from the overhead model"
DERIVED_CHILDREN = {"JOIN-002": 8, "JOIN-005": 4}
#: Examples every profile runs: the child that ends last joined first (by 0.2 s at least,
#: start-up included; the joins after it, of children that ran 0.2 s and 0.25 s, take far
#: longer than the prompt bound when join() does anything as long as its child's work).
LONGEST_FIRST = ((0.45, 0.2, 0.25), (0, 1, 2))
OLDER_ENDS_FIRST = ((0.02, 0.5), (0, 1))
#: Why a drawn example is rejected when sum and max are within the noise (one reason, so
#: that the tally counts them together).
CANNOT_TELL = ("sum - max within tolerance(N) at this load: cannot tell max from sum "
               "(the derived example judges)")


def _method(backend):
    """The start method whose reference calibrates the bounds (harness.start_method)."""
    return start_method.reference(backend)


def _plan(claim_id, plan, model):
    """``((durations, order), derived)``: the drawn plan, or for ``DERIVED`` the plan
    derived from ``model`` (``TooNoisy`` past the cap)."""
    if plan != DERIVED:
        return plan, False
    n = DERIVED_CHILDREN[claim_id]
    return (timing.derived_durations(claim_id, n, model), tuple(range(n))), True


def _can_tell(claim_id, durations, model, derived):
    """Whether sum and max differ by more than ``model``'s tolerance. When they do not, the
    derived example is too noisy to judge (``TooNoisy``), and a drawn one is counted as
    rejected (harness.tally) and judges nothing: the caller returns. Not ``premise``, which
    asks Hypothesis for another example: at a load where none of the drawn plans can tell
    max from sum, it drew 459 of them and then failed the test (Unsatisfiable) although
    the derived example had judged it (see :func:`_reject`)."""
    judged = timing.judge_concurrency(durations, max(durations), model)
    if judged.discriminating:
        return True
    if derived:
        raise timing.TooNoisy(claim_id, (
            f"the derived example's sum - max, {judged.sum - judged.longest:.2f} s, is "
            f"within tolerance({judged.n}) = {judged.tolerance:.3f} s of the model "
            f"measured again for a second opinion ({judged.model})"))
    return _reject(CANNOT_TELL)


def _steer(durations, model):
    """Steer Hypothesis toward plans where sum and max differ by more than the noise."""
    margin = timing.judge_concurrency(durations, max(durations), model).margin
    target(min(margin, 1.0), label="sum - max - tolerance (s), capped at 1")


#: The slack a join() of the claims that do not judge join()'s return time (JOIN-001, 002,
#: 005) gets once every child has ended: they judge the children's own stamps, and a join()
#: still out then is the business of JOIN-003/004 and LIFE-009.
UNJUDGED = limits.SHORT_SLACK


#: The long child of JOIN-001's explicit example (seconds): past a one-second constant.
LONG_CHILD = 1.5

NO_START = "a start() did not return (JOIN-002 times it)"
NEVER_RAN = "a child never ran its target (LIFE-010)"


def _reject(why):
    """Count this example as rejected with ``why`` (harness.tally): it judges nothing, and
    the caller returns. Not ``premise()``, which asks Hypothesis for another example:
    against an implementation that defeats the premise on most examples after an explicit
    one judged (serial-start on spawn: start() waits for its child), Hypothesis drew 50
    of them, each starting processes, and then failed the test (FailedHealthCheck); with
    none of the drawn examples valid it fails it as Unsatisfiable. Either is inconclusive,
    although the explicit example judged. A test none of whose examples judged is still
    unjudged (the plugin)."""
    tally.note_rejection(why)
    return False


def _ran(run):
    """Every start() returned and every child ran its target; else the example is
    rejected (:func:`_reject`) and False."""
    if run.first_unreturned_start is not None:
        return _reject(NO_START)
    if not run.all_reported:
        return _reject(NEVER_RAN)
    return True


def _with_second_opinion(claim_id, backend, measure, judge, n=1, calibrated=True,
                         model=None):
    """Run ``measure()`` and judge it: ``judge(record, model)`` gives ``(ok, soft)``, first
    with ``model`` (default: the current one). When timing's rules say a second opinion is
    due, measure the model afresh and run once more; return the opinion that stands (logged
    for the soak)."""
    method = _method(backend)

    def judged(model):
        record = measure()
        return timing.Judged(record, model, *judge(record, model))

    if calibrated and model is None:
        model = overhead.current_model(method)
    first = judged(model)
    second = None
    if timing.second_opinion_due(first):
        second = judged(overhead.fresh_model(method, n) if calibrated else None)
    opinion = timing.settle(first, second)
    timing.log(claim_id, backend.name, opinion)
    return opinion


def _judgeable(run):
    return run.all_started and run.all_reported


@pytest.mark.claim("JOIN-001")
@budget
@given(plan=strategies.join_plans(max_seconds=0.1))
@example(plan=((0.02,), (0,)))  # a join() that returns early fails it at once
# A child that outlives any fixed wait an implementation's join() might have (1 s and
# more) and the harness's own slack; drawn children end within 0.1 s. One example: cheap.
@example(plan=((LONG_CHILD,), (0,)))
def test_join_returns_only_after_its_child_has_ended(backend, plan):
    durations, order = plan
    run = join.run_sleepers(backend, durations, order, join_slack=UNJUDGED)
    if not _ran(run):
        return
    for i, child in enumerate(run.children):
        if not child.join_returned:
            continue  # a join() that never returned did not return early (LIFE-009, JOIN-003)
        holds(child.join_return >= child.ended) or violated(backend,
            "JOIN-001", "join() returns after its child's target ended",
            f"child {i} (sleeping {child.duration} s): join() returned "
            f"{child.ended - child.join_return:.4f} s before the child's end")


def _judge_concurrency(run, model):
    if not run.all_started:
        return False, False  # hard: a start() that does not return serializes everything
    if not run.all_reported:
        return True, False  # nothing to judge (the test skips)
    judged = timing.judge_concurrency(run.durations, run.work_total, model)
    if not judged.ok and run.one_after_another:
        return False, False  # the children's own stamps show it: no second opinion needed
    return judged.ok, judged.soft_failure


@pytest.mark.claim("JOIN-002")
@budget
@given(plan=strategies.join_plans(min_children=2))
@example(plan=DERIVED)
def test_children_started_before_any_join_run_concurrently(backend, plan):
    model = overhead.current_model(_method(backend))
    (durations, order), derived = _plan("JOIN-002", plan, model)
    _steer(durations, model)
    if not _can_tell("JOIN-002", durations, model, derived):
        return  # rejected, counted (no judgement of max versus sum)
    opinion = _with_second_opinion(
        "JOIN-002", backend,
        lambda: join.run_sleepers(backend, durations, order, join_slack=UNJUDGED),
        _judge_concurrency, n=len(durations), model=model)
    run = opinion.record
    i = run.first_unreturned_start
    holds(i is None) or violated(backend,
        "JOIN-002", "every start() returns (time inside start() counts)",
        f"start() of child {i} had not returned: {_start_why(run, i)}",
        durations=durations)
    if not run.all_reported:
        _reject(NEVER_RAN)
        return
    if not _can_tell("JOIN-002", durations, opinion.model, derived):
        return  # a second opinion's model: rejected, counted
    judged = timing.judge_concurrency(durations, run.work_total, opinion.model)
    figures_ = dict(n=judged.n, durations=durations, total=round(judged.total, 4),
                    longest=judged.longest, sum=round(judged.sum, 4),
                    tolerance=round(judged.tolerance, 4), derived=derived,
                    attempts=opinion.attempts, model=judged.model,
                    start_seconds=round(run.start_seconds, 4))
    judged.lower_ok or violated(backend,  # hard, and no judgement of max versus sum
        "JOIN-002", "first start() to the last child's end >= the longest duration (hard)",
        f"{judged.total:.4f} s", **figures_)
    holds(judged.upper_ok) or violated(backend,
        "JOIN-002", "first start() to the last child's end <= longest + tolerance(N)",
        f"{judged.total:.4f} s", **figures_)


def _start_why(run, i):
    child = run.children[i]
    if child.start_call is None or child.start_return is None:
        return "never called"
    return f"given up after {child.start_return - child.start_call:.2f} s"


def _latenesses(run):
    """Per child: how long after max(call, child's end) its join() returned (for a join()
    that did not return: at least how long the harness waited)."""
    return [c.join_lateness for c in run.children]


def _join_slack(backend):
    """The slack a join() of JOIN-003/004 gets after the OS shows the children ended before
    the harness stops waiting: twice the prompt bound (at least limits.LATE_JOIN), so that a
    join() given up has certainly missed that bound (its lateness, counted from the child's
    own end stamp, which comes before the OS sees the end, is longer still)."""
    bound = overhead.current_model(_method(backend)).prompt_bound()
    return max(limits.LATE_JOIN, 2 * bound)


#: Why an example with a join() given up while its child still ran is rejected
#: (harness.scenarios.join.JoinRun.waits_outlived).
OUTLIVED = ("a child still ran its target when the wait for its join() was given up (a wait "
            "the run had shortened for this subject): that join() is not judged")


def _run_with_second_opinion(claim_id, backend, plan, within_bound):
    """Run the plan; ``within_bound(run, model)`` judges a calibrated bound, which gets one
    second opinion. A run whose children did not all start and run is not judged (the test
    skips)."""
    durations, order = plan

    def judge(run, model):
        if not _judgeable(run) or run.waits_outlived:
            return True, False  # nothing to judge (the test rejects the example)
        if not run.all_joined:  # given up well past the bound: no noise does that (hard)
            return False, False
        return within_bound(run, model), True

    return _with_second_opinion(
        claim_id, backend,
        lambda: join.run_sleepers(backend, durations, order, join_slack=_join_slack(backend)),
        judge, n=len(durations))


def _late(run, bound):
    """{child: seconds late (or 'did not return ...')} of the joins that missed ``bound``."""
    late = {}
    for i, c in enumerate(run.children):
        if not c.join_returned:
            late[i] = f"did not return ({c.join_why})"
        elif c.join_lateness > bound:
            late[i] = round(c.join_lateness, 4)
    return late


@pytest.mark.claim("JOIN-003")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2))
@example(plan=OLDER_ENDS_FIRST)
def test_join_returns_soon_after_its_own_child_ends(backend, plan):
    durations, order = plan
    opinion = _run_with_second_opinion(
        "JOIN-003", backend, plan,
        lambda run, model: not _late(run, model.prompt_bound()))
    run = opinion.record
    if not _ran(run):
        return
    if run.waits_outlived:
        return _reject(OUTLIVED)
    bound = opinion.model.prompt_bound()
    late = _late(run, bound)
    holds(not late) or violated(backend,
        "JOIN-003", f"each join() returns within {bound:.3f} s of max(call, child's end)",
        f"late joins (child: seconds) {late}", attempts=opinion.attempts,
        model=opinion.model.describe(), durations=durations, order=order)


def _after_last(run):
    """The joins made after the join of the child that ended last: (child, seconds,
    returned)."""
    last = run.last_to_end
    if last is None:
        return []
    position = run.order.index(last)
    return [(i, run.children[i].join_seconds, run.children[i].join_returned)
            for i in run.order[position + 1:]]


def _slow(run, bound):
    return {i: (round(s, 4) if returned else f"did not return after {s:.2f} s")
            for i, s, returned in _after_last(run) if not returned or s > bound}


@pytest.mark.claim("JOIN-004")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2, min_children=2))
@example(plan=LONGEST_FIRST)
def test_once_the_last_child_is_joined_the_others_join_promptly(backend, plan):
    durations, order = plan
    opinion = _run_with_second_opinion(
        "JOIN-004", backend, plan,
        lambda run, model: not _slow(run, model.prompt_bound()))
    run = opinion.record
    if not _ran(run):
        return
    if run.waits_outlived:
        return _reject(OUTLIVED)
    after = _after_last(run)
    target(float(len(after)), label="joins after the last child's join")
    bound = opinion.model.prompt_bound()
    slow = _slow(run, bound)
    holds(not slow) or violated(backend,
        "JOIN-004", f"every later join() returns within {bound:.3f} s",
        f"slow joins (child: seconds) {slow}", last_to_end=run.last_to_end,
        order=order, attempts=opinion.attempts, model=opinion.model.describe())


@pytest.mark.claim("JOIN-005")
@budget
@given(plan=strategies.join_plans(max_seconds=0.2, min_children=2))
@example(plan=DERIVED)
def test_join_order_does_not_change_the_total(backend, plan):
    model = overhead.current_model(_method(backend))
    (durations, order), derived = _plan("JOIN-005", plan, model)
    _steer(durations, model)
    if not _can_tell("JOIN-005", durations, model, derived):
        return  # rejected, counted (no order effect can exceed the noise)
    reverse = tuple(reversed(order))

    def both():
        return (join.run_sleepers(backend, durations, order, join_slack=UNJUDGED),
                join.run_sleepers(backend, durations, reverse, join_slack=UNJUDGED))

    def same_total(runs, model):
        a, b = runs
        return abs(a.work_total - b.work_total) <= model.tolerance(len(durations))

    def judge(runs, model):
        if not all(_judgeable(run) for run in runs):
            return True, False
        ok = same_total(runs, model)
        a, b = runs
        # One order ran the children one after another and the other did not: the order
        # changed how they ran, as the children's own stamps show (no second opinion).
        return ok, ok or a.one_after_another == b.one_after_another

    opinion = _with_second_opinion("JOIN-005", backend, both, judge, n=len(durations),
                                   model=model)
    a, b = opinion.record
    if not (_ran(a) and _ran(b)):
        return
    # Orders can only be told apart when sum and max differ by more than the noise.
    if not _can_tell("JOIN-005", durations, opinion.model, derived):
        return  # a second opinion's model: rejected, counted
    tolerance = opinion.model.tolerance(len(durations))
    holds(same_total(opinion.record, opinion.model)) or violated(backend,
        "JOIN-005", f"totals of two join orders within {tolerance:.3f} s",
        f"{a.work_total:.4f} s joining in {order}, {b.work_total:.4f} s in {reverse}",
        durations=durations, derived=derived, attempts=opinion.attempts,
        model=opinion.model.describe())


def _timed_join_judge(bound):
    def judge(record, model):
        if not (record.start.returned and record.child_was_running):
            return True, False  # not judged (the test skips)
        return record.returned and record.returned_after <= bound, True
    return judge


def _timed_join_ran(record):
    premise(record.start.returned,
                 f"start() did not return ({record.start.why}; JOIN-002 times it)")
    premise(record.child_was_running, "the child never reported that it runs (LIFE-010)")


@pytest.mark.claim("JOIN-006")
@given(timeout=strategies.join_upper_timeouts)
def test_join_with_a_timeout_returns_not_much_later_than_the_timeout(backend, timeout):
    bound = timing.timeout_bound(timeout)
    opinion = _with_second_opinion(
        "JOIN-006", backend,
        lambda: join.join_sleeper_with_timeout(backend, timeout, child_seconds=timeout + 2.0,
                                               give_up_after=bound + limits.OS_POLL_INTERVAL),
        _timed_join_judge(bound), calibrated=False)
    record = opinion.record
    _timed_join_ran(record)
    holds(record.returned and record.returned_after <= bound) or violated(backend,
        "JOIN-006", f"join({timeout}) returns within {bound:.3f} s",
        f"{'returned' if record.returned else 'had not returned'} after "
        f"{record.returned_after:.4f} s", attempts=opinion.attempts)


@pytest.mark.claim("JOIN-007")
@pytest.mark.parametrize("timeout", [0, -1])  # -1: CPython's test_terminate joins so
def test_join_zero_does_not_block(backend, timeout):
    bound = timing.NONBLOCKING_BOUND
    opinion = _with_second_opinion(
        "JOIN-007", backend,
        lambda: join.join_sleeper_with_timeout(backend, timeout, child_seconds=1.0,
                                               give_up_after=bound + limits.OS_POLL_INTERVAL),
        _timed_join_judge(bound), calibrated=False)
    record = opinion.record
    _timed_join_ran(record)
    holds(record.returned and record.returned_after <= bound) or violated(backend,
        "JOIN-007", f"join({timeout}) returns within {bound} s",
        f"{'returned' if record.returned else 'had not returned'} after "
        f"{record.returned_after:.4f} s", attempts=opinion.attempts)
