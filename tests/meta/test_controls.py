"""The suite has teeth: every negative control is caught, and every claim has a control.

Each control (harness/controls) names the claims it must break; here procspec's own suite
runs against it (in a subprocess, the claims' tests only) and each of those claims must
fail. The real backends passing the same tests is the rest of the suite's job.
"""

from __future__ import annotations

import pytest

from harness.claims import load_claims
from harness.controls import all_controls
from harness.suite import run_suite

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


def test_every_claim_is_broken_by_some_control():
    covered = set().union(*(c.breaks for c in CONTROLS.values()))
    uncovered = sorted(set(load_claims()) - covered)
    assert not uncovered, f"claims no negative control breaks (unverified): {uncovered}"


def test_every_control_names_real_claims():
    known = set(load_claims())
    unknown = {n: sorted(c.breaks - known) for n, c in CONTROLS.items() if c.breaks - known}
    assert not unknown, f"controls naming claims that are not in specs/: {unknown}"
