"""The suite has teeth, and each tooth bites where it should.

Every negative control (harness/controls) declares the claims it breaks. Here procspec's
own suite runs against each one with every claim in scope (a backend control: every
test; a server control: every test that takes a server), and the claims it breaks *by
verdict* must be exactly the declared ones: nothing missing (the claims are verified),
nothing extra (one defect breaks exactly its claims: no test leans on a behaviour another
claim owns), nothing inconclusive (a faulty implementation gets a verdict, not a timeout)
and nothing left running. The timed controls (the hang controls, harness/controls/hangs.py)
share one batch with their healthy twin (the forkserver context), and each must take at
most ``harness.suite.TIME_RATIO`` (10) times the twin's summed test time in that run.

Several controls share one suite run (harness.suite.control_batches: a batch's tests are
told apart by their subject, the control's backend or server): one test per batch, which
fails naming every control of it that is not exact. (Not one test per control sharing a
batch through xdist_group: under pytest 9 with xdist 3.8, --dist loadgroup did not keep a
group on one worker, so each worker ran the batch again.)
"""

from __future__ import annotations

import time

import pytest

from harness import outcomes
from harness.claims import load_claims
from harness.controls import all_controls
from harness.suite import check_controls, control_batches, run_suite

pytestmark = [pytest.mark.meta, pytest.mark.slow]

CONTROLS = all_controls()
BATCHES = control_batches(CONTROLS)


@pytest.mark.parametrize("batch", BATCHES, ids=["+".join(b) for b in BATCHES])
def test_controls_break_exactly_their_declared_claims_by_verdict(batch):
    checks = check_controls(batch)
    wrong = [check for check in checks.values() if not check.exact]
    assert not wrong, "\n\n".join(
        f"control {check.name!r} ({check.defect}): {check.summary()}\n"
        f"declared {sorted(check.declared)}, broken by verdict {sorted(check.broken)}\n"
        f"inconclusive: {list(check.inconclusive)}\nleft running: {list(check.leftovers)}\n"
        + "\n".join(check.why_wrong) for check in wrong) \
        + "\n" + wrong[0].output[-3000:]
    assert sorted(checks) == sorted(batch)
    slow = [check for check in checks.values() if not check.in_time]
    assert not slow, "hang controls slower than TIME_RATIO x their healthy twin:\n" + \
        "\n".join(check.summary() for check in slow)


def test_every_control_is_in_exactly_one_batch():
    names = [name for batch in BATCHES for name in batch]
    assert sorted(names) == sorted(CONTROLS)


def test_the_timed_controls_share_one_batch():
    timed = sorted(name for name, control in CONTROLS.items() if control.timed)
    assert len(timed) >= 4
    assert [sorted(batch) for batch in BATCHES if set(batch) & set(timed)] == [timed]


def test_every_claim_is_broken_by_some_control():
    covered = set().union(*(c.breaks for c in CONTROLS.values()))
    uncovered = sorted(set(load_claims()) - covered)
    assert not uncovered, f"claims no negative control breaks (unverified): {uncovered}"


def test_each_claims_controls_bullet_names_exactly_the_controls_that_break_it():
    unknown, mismatched = {}, {}
    for cid, claim in load_claims().items():
        named = set(claim.controls)
        if named - set(CONTROLS):
            unknown[cid] = sorted(named - set(CONTROLS))
        registry = {name for name, c in CONTROLS.items() if cid in c.breaks}
        if named != registry:
            mismatched[cid] = {"spec": sorted(named), "harness/controls": sorted(registry)}
    assert not unknown, f"Controls bullets name controls that do not exist: {unknown}"
    assert not mismatched, f"spec Controls bullets disagree with the registry: {mismatched}"


def test_every_control_names_real_claims():
    known = set(load_claims())
    unknown = {n: sorted((c.breaks | c.unjudged) - known) for n, c in CONTROLS.items()
               if (c.breaks | c.unjudged) - known}
    assert not unknown, f"controls naming claims that are not in specs/: {unknown}"
    both = {n: sorted(c.breaks & c.unjudged) for n, c in CONTROLS.items()
            if c.breaks & c.unjudged}
    assert not both, f"a claim cannot be both broken and unjudged by one control: {both}"


def test_some_control_defeats_premises_and_declares_the_cells_it_leaves_unjudged():
    """A pass is evidence: the proof holds at least one control to the cells it leaves
    unjudged (a child that never runs its target defeats the premise of most claims)."""
    assert any(c.unjudged for c in CONTROLS.values())


def test_a_hung_implementation_gets_a_verdict_instead_of_hanging_the_run():
    started = time.monotonic()
    run = run_suite(CONTROLS["join-hangs"].pytest_args, claims=sorted(
        CONTROLS["join-hangs"].breaks), per_test_timeout=60, timeout=120)
    elapsed = time.monotonic() - started
    assert run.broken_claims() == CONTROLS["join-hangs"].breaks, run.output
    assert not run.inconclusive(), run.output
    assert elapsed < 60, f"the hung run took {elapsed:.1f} s"
    assert not run.leftovers, f"the hung run left processes: {run.leftovers}"
    assert all(k in (outcomes.VERDICT, outcomes.PASSED, outcomes.SKIPPED, outcomes.UNJUDGED)
               for kinds in run.outcomes.values() for k in kinds)



def test_a_second_look_replaces_an_inconclusive_result_and_keeps_the_rest():
    """An inconclusive result (a timeout or crash under load) says nothing about a claim:
    its claim runs once more alone with the control, and that result counts."""
    from harness.suite import second_look

    control = CONTROLS["target-also-in-parent"]
    subject = "control:target-also-in-parent"
    first = [{"nodeid": "a", "claims": ["API-004"], "outcome": outcomes.INCONCLUSIVE,
              "subject": subject},
             {"nodeid": "b", "claims": ["API-005"], "outcome": outcomes.VERDICT,
              "subject": subject}]
    tests, looked_again, left = second_look(control, first, "controls", 0)
    assert looked_again == ("API-004",) and left == ()
    assert sorted((t["claims"][0], t["outcome"]) for t in tests) == \
        [("API-004", outcomes.PASSED), ("API-005", outcomes.VERDICT)]


def test_a_declared_claim_the_sweep_left_unbroken_is_looked_at_again_with_every_example():
    """The sweep over every claim draws one example per test (SWEEP_PROFILE); a declared
    claim it did not break runs again alone with its control, with the ``controls``
    profile, and that result counts; the claims it does not declare keep their result."""
    from harness.suite import second_look

    subject = "control:rejoin-refused"
    first = [{"nodeid": "a", "claims": ["API-011"], "outcome": outcomes.PASSED,
              "subject": subject},
             {"nodeid": "b", "claims": ["API-009"], "outcome": outcomes.PASSED,
              "subject": subject}]
    tests, looked_again, left = second_look(CONTROLS["rejoin-refused"], first, "controls", 0)
    assert looked_again == ("API-011",) and left == ()
    assert sorted((t["claims"][0], t["outcome"]) for t in tests) == \
        [("API-009", outcomes.PASSED), ("API-011", outcomes.VERDICT)]


def test_the_sweep_draws_fewer_examples_than_the_second_look():
    from hypothesis import settings

    from harness.suite import SWEEP_PROFILE

    sweep, full = settings.get_profile(SWEEP_PROFILE), settings.get_profile("controls")
    assert 1 <= sweep.max_examples < full.max_examples
    assert sweep.derandomize and full.derandomize and sweep.phases == full.phases


def test_a_claim_the_sweep_left_unjudged_that_the_control_judges_is_looked_at_again():
    """For a control that declares the claims it leaves unjudged, a claim some test of
    which judged nothing in the sweep (one drawn example, all rejected) runs again with
    every example; claims it declares unjudged keep their first result."""
    from harness.suite import second_look

    control = CONTROLS["dies-before-target"]
    subject = "control:dies-before-target"
    declared = sorted(control.unjudged)[0]
    first = [{"nodeid": "a", "claims": ["API-013"], "outcome": outcomes.UNJUDGED,
              "subject": subject},
             {"nodeid": "b", "claims": [declared], "outcome": outcomes.UNJUDGED,
              "subject": subject},
             *({"nodeid": cid, "claims": [cid], "outcome": outcomes.VERDICT,
                "subject": subject} for cid in sorted(control.breaks))]
    tests, looked_again, left = second_look(control, first, "controls", 0)
    assert looked_again == ("API-013",) and left == ()
    assert {t["claims"][0]: t["outcome"] for t in tests}["API-013"] == outcomes.PASSED
    assert {t["claims"][0]: t["outcome"] for t in tests}[declared] == outcomes.UNJUDGED


def test_a_timed_control_is_in_time_up_to_time_ratio_times_its_twin_and_late_beyond():
    from dataclasses import replace

    from harness.suite import TIME_RATIO, ControlCheck

    check = ControlCheck("hang", "a hang", frozenset({"LIFE-010"}), frozenset({"LIFE-010"}),
                         (), (), TIME_RATIO * 20.0, (), "", healthy="forkserver",
                         healthy_seconds=20.0)
    assert check.exact and check.in_time
    late = replace(check, seconds=TIME_RATIO * 20.0 + 1.0)
    assert not late.in_time and late.ratio is not None and late.ratio > TIME_RATIO
    assert replace(check, healthy=None, healthy_seconds=None).in_time  # untimed


def test_a_control_no_test_ran_against_says_why_in_its_summary():
    from harness.suite import ControlCheck

    check = ControlCheck("lost", "a defect", frozenset({"LIFE-010"}), frozenset(), (), (),
                         0.0, (), "collecting ...\nERROR: file or directory not found: tests\n",
                         tests=0)
    assert not check.exact
    assert "no test ran against it; the suite run's last line: ERROR: file or directory " \
        "not found: tests" in check.summary(), check.summary()
