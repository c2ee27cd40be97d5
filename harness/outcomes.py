"""What a test's result says about its claims: the outcome kinds, in one place.

A claim is *broken* only by a **verdict**: its own test failed with its own
``Violation`` (``harness.verdict``). Every other failure (a per-test timeout,
a crash, an error in setup or teardown, the leak guard, a failure that names no claim or
another test's claim) is **inconclusive**: the run is red, but it says nothing about the
claim. Used by the plugin (which classifies each test), the results file, the suite runner
(``harness.suite``) and the report.
"""

from __future__ import annotations

from typing import Iterable, Sequence

PASSED = "passed"
VERDICT = "verdict"
"""Failed with a violation of one of the test's own claims: the claim does not hold."""
INCONCLUSIVE = "inconclusive"
"""Failed some other way (timeout, crash, setup/teardown error): no verdict on the claim."""
SKIPPED = "skipped"
UNJUDGED = "unjudged"
"""Ran, but judged no example of its claim (its premise never occurred): never a pass."""
XFAILED = "xfailed"
"""Failed with the verdict that the expectations data records (a known deviation)."""
XPASSED = "xpassed"
"""An expected failure that passed: the recorded deviation is gone (the run is red)."""

KINDS = (PASSED, VERDICT, INCONCLUSIVE, SKIPPED, UNJUDGED, XFAILED, XPASSED)

#: Kinds that turn a run red.
RED = frozenset({VERDICT, INCONCLUSIVE, XPASSED})

#: Kinds that count as "the claim does not hold here".
BREAKS = frozenset({VERDICT})

#: When one test has several results (setup, call, teardown), the worst is its outcome.
RANK = {PASSED: 0, SKIPPED: 1, UNJUDGED: 2, XFAILED: 3, XPASSED: 4, INCONCLUSIVE: 5,
        VERDICT: 6}

def worst(kinds: Iterable[str]) -> str:
    return max(kinds, key=RANK.__getitem__, default=PASSED)


def cell(kinds: Sequence[str]) -> str:
    """One claim x subject cell of the table, from the outcomes of its tests.

    ``FAIL v/n`` (verdicts), ``XPASS x/n`` (a recorded deviation is gone),
    ``inconclusive i/n``, ``xfail`` (fails as recorded), ``unjudged u/n`` (tests that ran
    but judged no example: never a pass), ``skip`` (nothing ran), ``partial p/n`` (some
    tests skipped: not a pass), ``pass``, ``-`` (no test).
    """
    n = len(kinds)
    if not n:
        return "-"
    for kind, label in ((VERDICT, "FAIL"), (XPASSED, "XPASS"), (INCONCLUSIVE, "inconclusive")):
        count = sum(k == kind for k in kinds)
        if count:
            return f"{label} {count}/{n}"
    if XFAILED in kinds:
        return "xfail"
    unjudged = sum(k == UNJUDGED for k in kinds)
    if unjudged:
        return f"unjudged {unjudged}/{n}"
    skipped = sum(k == SKIPPED for k in kinds)
    if skipped == n:
        return "skip"
    if skipped:
        return f"partial {n - skipped}/{n}"
    return "pass"


#: Outcome names of results files before schema 3, and the kinds they stand for.
LEGACY = {"failed": VERDICT, "error": INCONCLUSIVE}


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as aligned plain text."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)
