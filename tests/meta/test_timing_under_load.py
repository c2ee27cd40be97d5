"""JOIN-002 and JOIN-005 keep their teeth under load (specs/join-timing.md, "Derived example").

With more work than cores (``stress-ng --cpu 4``, or procspec's own burner when stress-ng is
missing: :class:`harness.soak.Load`), one focused suite run of the two max-versus-sum
claims (``--claim JOIN-002 --claim JOIN-005``, the ``controls`` profile) against the
serializing controls (serial-start and lock-serialized on fork, serial-start-spawn,
lock-serialized-forkserver: each start method has one) and against the healthy
standard-library backends:

- each serializing control's JOIN-002 is a verdict (its JOIN-005 is not: it breaks
  exactly its declared claims);
- every healthy cell passes, having judged (no false alarm, nothing inconclusive such as
  "too noisy to tell max from sum", nothing unjudged).

One round (CI: about a minute). The false-alarm count over many rounds is
``python -m harness soak --stress-cpus 4 --claim JOIN-002 --claim JOIN-005`` (its figures
are in specs/join-timing.md, "Measured").
"""

from __future__ import annotations

import pytest

from harness import outcomes
from harness.backends import stdlib_method_names
from harness.controls.join import SERIALIZING
from harness.soak import Load
from harness.suite import run_suite

pytestmark = [pytest.mark.meta, pytest.mark.slow]

#: ``stress-ng --cpu 4``: twice the cores of the 2-core machines procspec is measured on.
STRESS_CPUS = 4
CLAIMS = ("JOIN-002", "JOIN-005")


def test_under_load_serializing_controls_are_caught_and_healthy_backends_stay_green():
    healthy = stdlib_method_names()
    options: list[str] = []
    for name in [*healthy, *(f"control:{c}" for c in SERIALIZING)]:
        options += ["--backend", name]
    load = Load(STRESS_CPUS)
    load.start()
    try:
        run = run_suite(options, claims=CLAIMS, workers=2, timeout=600,
                        per_test_timeout=240)
    finally:
        load.stop()
    cells: dict[tuple[str, str], tuple[str, float, dict]] = {}
    for test in run.tests:
        for cid in test["claims"]:
            cells[(test["subject"], cid)] = (test["outcome"], float(test.get("duration") or 0),
                                            test.get("figures") or {})
    table = "\n".join(
        f"{subject:32} {cid}  {kind:12} {seconds:6.1f} s  judged {figs.get('judged')}"
        f"/{figs.get('examples')}" for (subject, cid), (kind, seconds, figs)
        in sorted(cells.items()))
    print(f"\nunder {load.kind} ({run.seconds:.0f} s):\n{table}")
    missed = [c for c in SERIALIZING
              if cells.get((f"control:{c}", "JOIN-002"), ("missing",))[0] != outcomes.VERDICT]
    extra = [c for c in SERIALIZING
             if cells.get((f"control:{c}", "JOIN-005"), ("missing",))[0] == outcomes.VERDICT]
    alarms = [f"{name} {cid}" for name in healthy for cid in CLAIMS
              if cells.get((name, cid), ("missing",))[0] != outcomes.PASSED]
    assert not (missed or extra or alarms), (
        f"under {load.kind}: serializing controls without a JOIN-002 verdict {missed}; "
        f"with a JOIN-005 verdict {extra}; healthy cells not green {alarms}\n{table}\n"
        + run.output[-3000:])
    assert not run.leftovers, f"the run left processes: {run.leftovers}"
