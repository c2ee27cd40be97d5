"""Claim bookkeeping: markers, claim IDs per test, selection, expectations, verdicts.

- registers procspec's markers itself (``claim`` and one per topic), so the plugin works
  under ``--strict-markers`` in any project that loads it;
- a test outside the meta tests must carry ``@pytest.mark.claim(...)`` naming claims that
  exist in ``specs/``; a test that does not errors before it runs;
- ``--claim ID`` keeps only the tests bound to those claims;
- known deviations (``specs/expectations/``) become strict expected failures;
- every result is classified (:mod:`harness.outcomes`): a failure is a *verdict* only when
  the test failed with a violation of one of its own claims; anything else (a timeout, a
  crash, an error in setup or teardown) is *inconclusive*. An expected failure must fail
  by its verdict: failing any other way is inconclusive, and red.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

import pytest

from harness import outcomes
from harness.claims import load_claims
from harness.expectations import mark_expected_failures
from harness.plugin.options import subject_of

#: procspec's markers: name(args) -> description (registered by the plugin itself).
MARKERS = {
    "claim(*ids)": "the spec claim IDs (specs/*.md) that this test checks",
    "lifecycle": "claims of specs/lifecycle.md (start, names, pid, exit codes, terminate)",
    "join": "claims of specs/join-timing.md (join blocks; children run concurrently)",
    "isolation": "claims of specs/isolation.md (a child's writes never reach the parent)",
    "echo": "claims of specs/echo-server.md (the one-process-per-connection echo server)",
    "meta": "tests of the harness itself and of the negative controls",
    "slow": "long-running meta-tests (deselect with -m 'not slow')",
}

#: ``user_properties`` keys this plugin writes (every other key is a measured figure).
CLAIMS_KEY, SUBJECT_KEY, KIND_KEY = "claims", "subject", "kind"
VERDICT_CLAIMS_KEY, EXPECTED_KEY = "verdict_claims", "expected_failure"
BOOKKEEPING_KEYS = (CLAIMS_KEY, SUBJECT_KEY, KIND_KEY, VERDICT_CLAIMS_KEY, EXPECTED_KEY)


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def item_claims(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("claim") for cid in mark.args]


_CLAIM_PROBLEM = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = load_claims()
    for item in items:
        ids = item_claims(item)
        problems = [f"claim {cid} is not in specs/" for cid in ids if cid not in known]
        if not ids and item.get_closest_marker("meta") is None:
            problems.append("no @pytest.mark.claim(...) and not a meta test")
        if problems:
            item.stash[_CLAIM_PROBLEM] = "; ".join(problems)
        item.user_properties.append((CLAIMS_KEY, ids))
        item.user_properties.append((SUBJECT_KEY, subject_of(item)))
    wanted = set(config.getoption("--claim"))
    if wanted:  # the IDs were checked at configure time
        selected = [i for i in items if wanted & set(item_claims(i))]
        config.hook.pytest_deselected(items=[i for i in items if i not in selected])
        items[:] = selected
    mark_expected_failures(items)  # known deviations (specs/expectations/) -> strict xfail


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test with broken claim bookkeeping fails (also under xdist, per test)."""
    problem = item.stash.get(_CLAIM_PROBLEM, None)
    if problem:
        pytest.fail(f"claim bookkeeping: {problem}", pytrace=False)


# --- verdict or inconclusive -----------------------------------------------------------

def _leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exception, or every exception inside an exception group (nested too)."""
    if _is_group(exc):
        for sub in getattr(exc, "exceptions", ()):
            yield from _leaves(sub)
    else:
        yield exc


def _is_group(exc: BaseException) -> bool:
    return any(cls.__name__ in ("BaseExceptionGroup", "ExceptionGroup")
               for cls in type(exc).__mro__)


def _is_flaky(exc: BaseException) -> bool:
    """Hypothesis could not reproduce the failure: no verdict."""
    return any(cls.__name__ == "Flaky" for cls in type(exc).__mro__)


def own_violations(item: pytest.Item, exc: Optional[BaseException]) -> list[str]:
    """The test's own claims that ``exc`` reports violated (assertions with the
    ``violation(...)`` message); empty when ``exc`` is anything else."""
    if exc is None or _is_flaky(exc):
        return []
    own = item_claims(item)
    found: list[str] = []
    for leaf in _leaves(exc):
        if isinstance(leaf, AssertionError):
            found += [cid for cid in outcomes.violated_claims(str(leaf))
                      if cid in own and cid not in found]
    return found


def classify(item: pytest.Item, call: pytest.CallInfo[Any],
             report: pytest.TestReport) -> tuple[str, list[str]]:
    """(kind, the claims a verdict names) for one phase's report."""
    if report.passed:
        return outcomes.PASSED, []
    excinfo = call.excinfo
    claims = own_violations(item, excinfo.value if excinfo is not None else None) \
        if call.when == "call" else []
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return (outcomes.XFAILED, claims) if claims else (outcomes.INCONCLUSIVE, [])
        return outcomes.SKIPPED, []
    if str(report.longrepr).startswith("[XPASS(strict)]"):
        return outcomes.XPASSED, []
    if claims:
        return outcomes.VERDICT, claims
    return outcomes.INCONCLUSIVE, []


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the xfail handling's result
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[Any]) -> Iterator[None]:
    report: pytest.TestReport = yield
    kind, claims = classify(item, call, report)
    if kind == outcomes.INCONCLUSIVE and report.skipped and hasattr(report, "wasxfail"):
        # expected to fail by its verdict, it failed some other way: that is red
        report.outcome = "failed"
        reason = report.wasxfail
        del report.wasxfail
        report.sections.append(("procspec", f"expected failure ({reason}) did not fail by "
                                            "its verdict: inconclusive"))
    report.user_properties.append((KIND_KEY, kind))
    if claims:
        report.user_properties.append((VERDICT_CLAIMS_KEY, claims))
    return report  # type: ignore[return-value]
