"""What one test judged: its examples, how many judged the claim, how many were rejected and why.

A ``pass`` is evidence only when the test judged something. Every property counts:

- an *example* is one call of the test body (one Hypothesis example, one run of a state
  machine, or the whole body of a test without ``@given``);
- it *judged* its claim when it ran at least one :func:`harness.verdict.check` and was not
  rejected;
- it was *rejected* when a premise owned by another claim did not occur
  (:func:`harness.verdict.premise`): Hypothesis draws another example instead;
- a test whose examples judged nothing is **unjudged** (:data:`harness.outcomes.UNJUDGED`),
  shown like ``skip``, never ``pass``.

The plugin opens a tally per test (:func:`begin_test`), wraps each Hypothesis example
(:func:`example`), and reads the tally when it classifies the result. One test runs at a
time per process (an xdist worker), so the tally is module state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from harness import patience

#: Once a test has had this many examples rejected and none judged, its premise is taken to
#: be defeated by the subject (a broken implementation does the same thing every time): the
#: test ends at once as unjudged instead of letting Hypothesis draw up to a thousand more.
REJECTIONS_BEFORE_GIVING_UP = 10

#: Once a test has had this many examples rejected (and judged some), further examples are
#: rejected before they run: Hypothesis would otherwise draw up to ten times its example
#: count, each one starting processes, to replace examples whose premise a subject defeats
#: most of the time. The tally still says how many were judged and rejected, and why. Not
#: once an example has failed: Hypothesis's shrinking and replay must run what they ask.
MOST_REJECTED_RUN = 30


@dataclass
class Tally:
    examples: int = 0
    judged: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    checks_this_example: int = 0
    rejected_this_example: Optional[str] = None
    in_example: bool = False
    failed: bool = False
    """An example failed: Hypothesis is shrinking or replaying it, and every example it
    asks for must run (see :data:`MOST_REJECTED_RUN`)."""
    drawn: bool = False
    """The examples are drawn by Hypothesis (``@given``): a rejected one is replaced."""
    repeats_at_start: int = 0
    drawn_at_most: Optional[int] = None
    """The example count the test was held to, when lower than its profile's
    (harness.plugin.examples: agnostic claims under spawn)."""
    """:func:`harness.patience.repeats` when the example began."""

    def subject_repeated(self) -> bool:
        """In this example a wait expired again whose kind had expired for its subject
        before (harness.patience): the subject did what it had already shown."""
        return patience.repeats() > self.repeats_at_start

    def figures(self) -> dict[str, Any]:
        """What the results JSON and the JUnit properties carry for this test."""
        out: dict[str, Any] = {"examples": self.examples, "judged": self.judged,
                               "rejected": self.rejected}
        if self.drawn_at_most is not None:
            out["drawn_at_most"] = self.drawn_at_most
        if self.reasons:
            out["rejected_because"] = dict(self.reasons.most_common())
        return out

    def why_unjudged(self) -> str:
        if self.reasons:
            top = "; ".join(f"{why} ({n}x)" for why, n in self.reasons.most_common(3))
            return f"unjudged: no example judged the claim ({self.rejected} rejected: {top})"
        return "unjudged: the test ran no check of its claim"


_current = Tally()


def begin_test(drawn: bool = False) -> Tally:
    """A fresh tally for the test about to run (``drawn``: a Hypothesis ``@given`` test)."""
    global _current
    _current = Tally(drawn=drawn)
    return _current


def current() -> Tally:
    return _current


def begin_example() -> None:
    _current.examples += 1
    _current.checks_this_example = 0
    _current.rejected_this_example = None
    _current.in_example = True
    _current.repeats_at_start = patience.repeats()


def end_example() -> None:
    """Close the example: judged when it checked its claim and was not rejected. A failing
    check ends it too (a verdict is a judgement)."""
    t = _current
    if not t.in_example:
        return
    t.in_example = False
    if t.rejected_this_example is not None:
        t.rejected += 1
        t.reasons[t.rejected_this_example] += 1
    elif t.checks_this_example:
        t.judged += 1


def note_check() -> None:
    _current.checks_this_example += 1


def note_rejection(why: str) -> None:
    if _current.rejected_this_example is None:
        _current.rejected_this_example = why


def settled_unjudged() -> bool:
    """True once enough examples were rejected, and none judged, to stop drawing more."""
    t = _current
    return t.judged == 0 and t.rejected >= REJECTIONS_BEFORE_GIVING_UP


def counting(body: Callable[..., Any]) -> Callable[..., Any]:
    """``body`` (one example's call) wrapped to count it in the current tally."""

    def one_example(*args: Any, **kwargs: Any) -> Any:
        if _current.rejected >= MOST_REJECTED_RUN and not _current.failed:
            from hypothesis import reject
            reject()  # not run, not counted: see MOST_REJECTED_RUN
        begin_example()
        try:
            return body(*args, **kwargs)
        except AssertionError:  # a verdict (Violation) or any other failure
            _current.failed = True
            raise
        finally:
            end_example()

    one_example.__wrapped__ = body  # type: ignore[attr-defined]
    return one_example
