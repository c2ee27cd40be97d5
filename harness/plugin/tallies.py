"""What each of procspec's tests judged (:mod:`harness.tally`), and the *unjudged* result.

Around each claim test's call this part opens a tally and counts its examples: a
Hypothesis test's every example (its ``inner_test`` is wrapped for the call, the way
pytest-trio and others wrap it), any other test's body as one example. After the call:

- a test that passed without judging one example is reported as skipped, kind
  :data:`harness.outcomes.UNJUDGED`, with the reasons its examples were rejected;
- a test that ended with :class:`harness.verdict.Unjudged` is that kind too, and so is
  one that Hypothesis gave up on (a health check, Unsatisfiable) after rejected examples,
  none judged;
- every claim test's report carries ``examples``, ``judged``, ``rejected`` (and
  ``rejected_because``) as figures: in the results JSON and the JUnit properties.

Meta tests (the harness's own) are not counted: they judge no claim.
"""

from __future__ import annotations

from typing import Any, Generator, Optional

import pytest

from harness import tally

TALLY = pytest.StashKey[tally.Tally]()


def _counted(item: pytest.Item) -> bool:
    from harness.plugin.items import is_procspec_item, item_claims
    return isinstance(item, pytest.Function) and is_procspec_item(item) \
        and bool(item_claims(item)) and item.get_closest_marker("meta") is None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    if not _counted(item):
        tally.begin_test()  # nothing of an earlier test's count is left to be read
        return (yield)
    assert isinstance(item, pytest.Function)
    handle = getattr(item.obj, "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    current = tally.begin_test(drawn=inner is not None)
    item.stash[TALLY] = current
    if inner is not None:
        handle.inner_test = tally.counting(inner)  # type: ignore[union-attr]
    else:
        tally.begin_example()
    try:
        return (yield)
    finally:
        if inner is not None:
            handle.inner_test = inner  # type: ignore[union-attr]
        else:
            tally.end_example()


def tally_of(item: pytest.Item) -> Optional[tally.Tally]:
    return item.stash.get(TALLY, None)


#: Hypothesis's errors for "every example was rejected": unjudged when none judged.
_GAVE_UP = ("FailedHealthCheck", "Unsatisfiable")


def unjudged_reason(item: pytest.Item, call: pytest.CallInfo[Any],
                    report: pytest.TestReport) -> Optional[str]:
    """Why this call phase judged nothing (None when it judged, or is no claim test's)."""
    counted = tally_of(item)
    if call.when != "call" or counted is None:
        return None
    from harness.verdict import Unjudged
    excinfo = call.excinfo
    if excinfo is not None and isinstance(excinfo.value, Unjudged):
        return excinfo.value.why
    if excinfo is not None and type(excinfo.value).__name__ in _GAVE_UP \
            and counted.judged == 0 and counted.rejected:
        # Hypothesis gave up on rejected examples before procspec's own count did: it
        # tried every input the strategy has (Unsatisfiable: a test of a few explicit
        # examples, or ECHO-007's 7 possible inputs on multiprocessing.dummy) or its health
        # check stopped it: nothing judged, which is no failure
        return counted.why_unjudged()
    if report.passed and counted.judged == 0:
        return counted.why_unjudged()
    return None


def judged_then_gave_up(item: pytest.Item, call: pytest.CallInfo[Any]) -> bool:
    """Hypothesis gave up on drawing (Unsatisfiable: every drawn example was rejected)
    after some examples, the explicit ones, had judged the claim and held: a pass, its
    rejections counted (a failing example would have been reported instead)."""
    counted = tally_of(item)
    excinfo = call.excinfo
    return call.when == "call" and counted is not None and counted.judged > 0 \
        and excinfo is not None and type(excinfo.value).__name__ in _GAVE_UP


def mark_passed(report: pytest.TestReport) -> None:
    report.outcome = "passed"
    report.longrepr = None


def mark_unjudged(item: pytest.Item, report: pytest.TestReport, why: str) -> None:
    """Turn a passed report (or one Hypothesis gave up on after rejections only) into a
    skipped one that says why nothing was judged."""
    if not report.skipped:
        _, line, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (line or 0) + 1, why)
