"""The suite has teeth: every negative control is caught, and every claim has a control.

Each control (harness/controls) names the claims it must break; here procspec's own suite
runs against it (in a subprocess, the claims' tests only) and each of those claims must
fail. The real backends passing the same tests is the rest of the suite's job.
"""

from __future__ import annotations

import re
import time

import pytest

from harness.claims import load_claims
from harness.controls import all_controls
from harness.suite import FAILING, run_suite

pytestmark = [pytest.mark.meta, pytest.mark.slow]

CONTROLS = all_controls()


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_control_is_caught_by_the_claims_it_breaks(name):
    control = CONTROLS[name]
    run = run_suite(control.pytest_args, claims=sorted(control.breaks))
    missed = sorted(control.breaks - run.broken_claims())
    assert not missed, (
        f"control {name!r} ({control.defect}) should break {sorted(control.breaks)}, "
        f"but these held: {missed}\noutcomes: {run.outcomes}\n{run.output}")
    assert not run.leftovers, f"control {name!r}: the run left processes: {run.leftovers}"


def test_every_claim_is_broken_by_some_control():
    covered = set().union(*(c.breaks for c in CONTROLS.values()))
    uncovered = sorted(set(load_claims()) - covered)
    assert not uncovered, f"claims no negative control breaks (unverified): {uncovered}"


def test_each_claims_controls_bullet_names_exactly_the_controls_that_break_it():
    mismatched = {}
    for cid, claim in load_claims().items():
        bullet = re.search(r"\*\*Controls:\*\*(.*?)(?=\n- \*\*|\Z)", claim.body, re.S)
        named = set(re.findall(r"`([a-z0-9-]+)`", bullet.group(1))) & set(CONTROLS) \
            if bullet else set()
        registry = {name for name, c in CONTROLS.items() if cid in c.breaks}
        if named != registry:
            mismatched[cid] = {"spec": sorted(named), "harness/controls": sorted(registry)}
    assert not mismatched, f"spec Controls bullets disagree with the registry: {mismatched}"


def test_every_control_names_real_claims():
    known = set(load_claims())
    unknown = {n: sorted(c.breaks - known) for n, c in CONTROLS.items() if c.breaks - known}
    assert not unknown, f"controls naming claims that are not in specs/: {unknown}"


def test_a_hung_implementation_fails_its_test_instead_of_hanging_the_run():
    started = time.monotonic()
    run = run_suite(CONTROLS["join-hangs"].pytest_args, claims=["LIFE-009"],
                    per_test_timeout=5, timeout=120)
    elapsed = time.monotonic() - started
    assert run.outcomes.get("LIFE-009") and set(run.outcomes["LIFE-009"]) <= FAILING, \
        run.output
    assert "Timeout" in run.output, run.output
    assert elapsed < 60, f"the hung run took {elapsed:.1f} s despite a 5 s per-test timeout"
    assert not run.leftovers, f"the hung run left processes: {run.leftovers}"
