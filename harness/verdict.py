"""How a test says that a claim does not hold: the claim, what was expected, what was seen.

Used as the message of an ``assert``, so that pytest's own report and Hypothesis's
falsifying example (and reproduction blob) come with it::

    assert record.exitcode == 0, violation("LIFE-010", "exitcode 0", record.exitcode)
"""

from __future__ import annotations

from typing import Any

from harness.claims import load_claims


def violation(claim_id: str, expected: str, measured: Any, **figures: Any) -> str:
    claim = load_claims().get(claim_id)
    statement = claim.statement if claim else "(unknown claim)"
    lines = [f"{claim_id} does not hold: {statement}",
             f"  expected: {expected}",
             f"  measured: {measured!r}" if not isinstance(measured, str)
             else f"  measured: {measured}"]
    lines += [f"  {key}: {value!r}" for key, value in figures.items()]
    return "\n".join(lines)
