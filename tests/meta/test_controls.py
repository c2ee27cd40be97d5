"""The suite has teeth, and each tooth bites where it should.

Every negative control (harness/controls) declares the claims it breaks. Here procspec's
own suite runs against each one with every claim in scope (a backend control: every
test; a server control: every test that takes a server), and the claims it breaks *by
verdict* must be exactly the declared ones: nothing missing (the claims are verified),
nothing extra (one defect breaks exactly its claims: no test leans on a behaviour another
claim owns), nothing inconclusive (a faulty implementation gets a verdict, not a timeout)
and nothing left running.

Several controls share one suite run (harness.suite.control_batches: a batch's tests are
told apart by their subject, the control's backend or server); each batch is an xdist
group, so that one worker runs it once and reports each of its controls as its own test.
"""

from __future__ import annotations

import time
from functools import lru_cache

import pytest

from harness import outcomes
from harness.claims import load_claims
from harness.controls import all_controls
from harness.suite import ControlCheck, check_controls, control_batches, run_suite

pytestmark = [pytest.mark.meta, pytest.mark.slow]

CONTROLS = all_controls()
BATCHES = [tuple(batch) for batch in control_batches(CONTROLS)]
BATCH_OF = {name: batch for batch in BATCHES for name in batch}


@lru_cache(maxsize=None)
def _checked(batch: tuple[str, ...]) -> dict[str, ControlCheck]:
    return check_controls(batch)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xdist_group(f"controls-{BATCHES.index(batch)}"))
    for batch in BATCHES for name in batch])
def test_control_breaks_exactly_its_declared_claims_by_verdict(name):
    check = _checked(BATCH_OF[name])[name]
    assert check.exact, (
        f"control {name!r} ({check.defect}): {check.summary()}\n"
        f"declared {sorted(check.declared)}, broken by verdict {sorted(check.broken)}\n"
        f"inconclusive: {list(check.inconclusive)}\nleft running: {list(check.leftovers)}\n"
        + "\n".join(check.why_inconclusive) + "\n" + check.output[-3000:])


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
    unknown = {n: sorted(c.breaks - known) for n, c in CONTROLS.items() if c.breaks - known}
    assert not unknown, f"controls naming claims that are not in specs/: {unknown}"


def test_a_hung_implementation_gets_a_verdict_instead_of_hanging_the_run():
    started = time.monotonic()
    run = run_suite(CONTROLS["join-hangs"].pytest_args, claims=sorted(
        CONTROLS["join-hangs"].breaks), per_test_timeout=60, timeout=120)
    elapsed = time.monotonic() - started
    assert run.broken_claims() == CONTROLS["join-hangs"].breaks, run.output
    assert not run.inconclusive(), run.output
    assert elapsed < 60, f"the hung run took {elapsed:.1f} s"
    assert not run.leftovers, f"the hung run left processes: {run.leftovers}"
    assert all(k in (outcomes.VERDICT, outcomes.PASSED, outcomes.SKIPPED)
               for kinds in run.outcomes.values() for k in kinds)
