"""How a test judges its claim: ``holds(...) or violated(...)`` raises a :class:`Violation`
(claim, expected, measured, figures) when the claim does not hold, and :func:`premise`
rejects an example whose premise (a behaviour another claim owns) did not occur.

Verdicts are raised, never ``assert``-ed: ``python -O`` (or ``PYTHONOPTIMIZE``) deletes
``assert`` statements, and with them every verdict of a module that pytest does not
rewrite. A raised :class:`Violation` survives every interpreter flag. It is an
``AssertionError``, so pytest and Hypothesis treat it as a test failure (Hypothesis shrinks
it and prints the falsifying example with its reproduction blob), and the plugin reads the
claim from the exception itself, never from text::

    premise(run.reported, "the child never ran its target (LIFE-010)")
    holds(run.exitcode == 0) or violated("LIFE-010", "exitcode 0", run.exitcode)

Like an ``assert`` and its message, the right-hand side is evaluated only when the claim
does not hold: what it measures may describe the failure alone. Every :func:`holds` is
counted (:mod:`harness.tally`): an example that ran one and was not rejected *judged* its
claim; a test that judged nothing is *unjudged*, never ``pass``.
"""

from __future__ import annotations

from typing import Any, NoReturn

# pytest's skip (``pytest.skip.Exception``): pytest reports it as skipped, and Hypothesis
# re-raises it at once, ending the property.
from _pytest.outcomes import Skipped as _Skip

from harness import tally
from harness.claims import load_claims


class Violation(AssertionError):
    """The claim ``claim_id`` does not hold: what was expected, what was measured."""

    def __init__(self, claim_id: str, expected: str, measured: Any, **figures: Any) -> None:
        self.claim_id = claim_id
        self.expected = expected
        self.measured = measured
        self.figures = figures
        super().__init__(message(claim_id, expected, measured, **figures))


class Decided(BaseException):
    """A :class:`Violation` found on a subject that has shown a wait can expire
    (``harness.patience``): the first failing example is the verdict.

    A ``BaseException`` on purpose: Hypothesis treats only ``Exception`` (and
    ``SystemExit``, ``GeneratorExit``, pytest's ``Failed``) as a test failure to shrink and
    replay (``hypothesis.internal.escalation.failure_exceptions_to_catch``); anything else
    stops the run at once and is re-raised as it is, like ``KeyboardInterrupt``. Shrinking a
    hang replays it, and a hang's examples are all alike, so the verdict comes now. pytest
    reports it as the test's failure; the plugin reads the claim from :attr:`violation`."""

    def __init__(self, violation: Violation, example: str) -> None:
        self.violation = violation
        self.example = example
        super().__init__(f"{violation}\n  example (the first that failed; not shrunk, "
                         f"its subject hangs: harness/patience.py): {example}")


class Unjudged(_Skip):
    """The test cannot judge its claim on this subject: its premise never occurred."""

    def __init__(self, why: str) -> None:
        super().__init__(why, allow_module_level=False)
        self.why = why


def message(claim_id: str, expected: str, measured: Any, **figures: Any) -> str:
    """The text of a violation: the claim and its statement, expected, measured, figures."""
    claim = load_claims().get(claim_id)
    statement = claim.statement if claim else "(unknown claim)"
    lines = [f"{claim_id} does not hold: {statement}",
             f"  expected: {expected}",
             f"  measured: {measured}" if isinstance(measured, str)
             else f"  measured: {measured!r}"]
    lines += [f"  {key}: {value!r}" for key, value in figures.items()]
    return "\n".join(lines)


def holds(condition: object) -> bool:
    """Judge: count one judgement of the test's claim, and say whether it holds."""
    tally.note_check()
    return bool(condition)


def violated(claim_id: str, expected: str, measured: Any, **figures: Any) -> NoReturn:
    """The claim does not hold: raise its :class:`Violation`."""
    raise Violation(claim_id, expected, measured, **figures)


def premise(holds: object, why: str, *, whole_test: bool = False) -> None:
    """A behaviour that another claim owns (named in ``why``) must have occurred for this
    example to judge its claim. When it did not, the example is *rejected*, counted with its
    reason: inside a Hypothesis example, Hypothesis draws another (the others still run);
    outside one, or once :data:`harness.tally.REJECTIONS_BEFORE_GIVING_UP` examples were
    rejected and none judged, the test ends as unjudged (never ``pass``, never a verdict).
    ``whole_test``: the premise is the subject's, the same for every example (the server
    answers nothing at all): the test ends as unjudged at once."""
    if holds:
        return
    tally.note_rejection(why)
    current = tally.current()
    # The subject did again, in this example, what it had shown before (a wait of a kind
    # that expired for it expired again: harness.patience): every example would be
    # rejected the same way, so the test ends now instead of drawing ten more.
    whole_test = whole_test or current.subject_repeated()
    if current.drawn and current.in_example and not whole_test and not (
            current.judged == 0
            and current.rejected + 1 >= tally.REJECTIONS_BEFORE_GIVING_UP):
        from hypothesis import reject
        reject()
    tally.end_example()
    raise Unjudged(current.why_unjudged())
