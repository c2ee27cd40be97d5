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

from typing import Any, Generator, Iterator, Optional

import pytest

from harness import figures, outcomes
from harness.claims import load_claims
from harness.expectations import mark_expected_failures
from harness.expectations import matched as matched_expectation
from harness.plugin import tallies
from harness.plugin.items import is_procspec_item, item_claims
from harness.plugin.options import subject_of
from harness.verdict import Decided, Violation

#: procspec's markers: name(args) -> description (registered by the plugin itself).
MARKERS = {
    "claim(*ids)": "the spec claim IDs (specs/*.md) that this test checks",
    "lifecycle": "claims of specs/lifecycle.md (start, names, pid, exit codes, terminate)",
    "join": "claims of specs/join-timing.md (join blocks; children run concurrently)",
    "isolation": "claims of specs/isolation.md (a child's writes never reach the parent)",
    "echo": "claims of specs/echo-server.md (the one-process-per-connection echo server)",
    "api": "claims of specs/process-api.md (name set later, daemon, close, stop after end)",
    "descriptors": "claims of specs/descriptors.md (no descriptor leaks: children, echo server)",
    "children": "claims of specs/children.md (active_children, daemon default, sentinel, ...)",
    "exit": "claims of specs/exit.md (stderr at exit, threads, signals, atexit)",
    "stdio": "claims of specs/stdio.md (a child's stdin, broken streams, descriptors)",
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


#: Warnings are errors in procspec's tests, wherever they run (also from the installed kit,
#: outside this repository's pytest configuration), but one:
#: Python 3.12+ warns when fork() runs in a process with threads. Under ``pytest -n auto``
#: every worker has execnet's I/O thread, so each fork-mode child start warns. Deliberately
#: accepted: the children run only procspec's targets, which take no lock that thread holds
#: (it talks over raw pipes), and a fork-mode suite has to fork. Measured on 3.12.1/3.13.0:
#: with "error" alone the warning is silently dropped, not raised; ignoring it by name keeps
#: that so on every patch release.
WARNING_FILTERS = (
    "error",
    "ignore:This process .* is multi-threaded, use of fork\\(\\) may lead to deadlocks"
    ":DeprecationWarning",
)

#: The per-test timeout when the run sets none: the last net under every bounded wait
#: (pytest-timeout's signal method: no watchdog thread in the test process; it dumps every
#: thread's stack on a timeout).
DEFAULT_TIMEOUT = 300.0


def _timeout_configured(config: pytest.Config) -> bool:
    if config.getoption("timeout", None) is not None:
        return True
    try:
        return bool(config.getini("timeout"))
    except ValueError:  # pytest-timeout is not installed
        return False


def _add_hygiene(config: pytest.Config, item: pytest.Item) -> None:
    item.add_marker(pytest.mark.filterwarnings(*WARNING_FILTERS), append=False)
    if config.pluginmanager.has_plugin("timeout") and not _timeout_configured(config) \
            and item.get_closest_marker("timeout") is None:
        item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT, method="signal"))


_CLAIM_PROBLEM = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    known = load_claims()
    for item in items:
        if not is_procspec_item(item):
            continue
        _add_hygiene(config, item)
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
    return any(cls.__name__ == "Flaky" for cls in type(exc).__mro__)


def own_violations(item: pytest.Item, exc: Optional[BaseException]) -> list[str]:
    """The test's own claims that ``exc`` says are violated: each
    :class:`harness.verdict.Violation` it is or holds (by type and claim ID, never by
    text; a :class:`harness.verdict.Decided` holds one); empty when ``exc`` is anything
    else.

    Hypothesis's flaky failures: when the failing example *passed* on replay there is no
    verdict (it was not reproduced). When the replay failed again, but somewhere else (a
    faulty server's reply depends on how TCP cut the stream), it is a verdict only if every
    failure Hypothesis saw is a violation of the test's own claims."""
    if exc is None:
        return []
    flaky = _is_flaky(exc)
    if flaky and "did not on a subsequent one" in str(exc):  # Hypothesis's own words
        return []
    own = item_claims(item)
    found: list[str] = []
    for leaf in _leaves(exc):
        if isinstance(leaf, Decided):  # a verdict on a hung subject, not shrunk
            leaf = leaf.violation
        claims = [leaf.claim_id] if isinstance(leaf, Violation) and leaf.claim_id in own \
            else []
        if flaky and not claims:
            return []
        found += [cid for cid in claims if cid not in found]
    return found


def _recorded_intermittency(item: pytest.Item, exc: BaseException) -> list[str]:
    """The test's claims, when the expectation it matched lists ``flaky``
    (harness.expectation_rules) and ``exc`` is Hypothesis saying the subject behaved
    differently on replay: a verdict of the test's own claim that did not recur, or draws
    it could not replay (``FlakyStrategyDefinition``). That is the recorded outcome, not an
    inconclusive result; anything else in ``exc`` keeps it inconclusive."""
    expectation = matched_expectation(item)
    leaves = list(_leaves(exc))
    if expectation is None or not expectation.flaky or not (
            _is_flaky(exc) or any(_is_flaky(leaf) for leaf in leaves)):
        return []
    own = item_claims(item)
    if any(not (_is_flaky(leaf) or isinstance(leaf, Violation) and leaf.claim_id in own)
           for leaf in leaves):
        return []  # something else failed too (a timeout, a crash): inconclusive
    return list(own)


def classify(item: pytest.Item, call: pytest.CallInfo[Any],
             report: pytest.TestReport) -> tuple[str, list[str]]:
    """(kind, the claims a verdict names) for one phase's report."""
    unjudged = tallies.unjudged_reason(item, call, report)
    if unjudged is not None:
        tallies.mark_unjudged(item, report, unjudged)
        return outcomes.UNJUDGED, []
    if tallies.judged_then_gave_up(item, call):
        tallies.mark_passed(report)
        return outcomes.PASSED, []
    if report.passed:
        return outcomes.PASSED, []
    excinfo = call.excinfo
    claims = own_violations(item, excinfo.value if excinfo is not None else None) \
        if call.when == "call" else []
    if report.skipped:
        if hasattr(report, "wasxfail"):
            if not claims and call.when == "call" and excinfo is not None:
                claims = _recorded_intermittency(item, excinfo.value)
            return (outcomes.XFAILED, claims) if claims else (outcomes.INCONCLUSIVE, [])
        return outcomes.SKIPPED, []
    if call.when == "call" and excinfo is None:  # the test raised nothing, yet failed:
        return outcomes.XPASSED, []  # only a strict expected failure that passed does that
    if claims:
        return outcomes.VERDICT, claims
    return outcomes.INCONCLUSIVE, []


def _plain_report(item: pytest.Item, call: pytest.CallInfo[Any],
                  exc: Exception) -> pytest.TestReport:
    """A failed report with the exception's text, for when building the usual report
    raised (measured once under load: pytest's traceback code met a frame whose line
    number is None, ``TypeError: unsupported operand type(s) for -``). Without it the
    xdist worker dies and every test it had left is lost."""
    raised = call.excinfo.value if call.excinfo is not None else None
    text = (f"{type(raised).__name__}: {raised}" if raised is not None else "") + \
        f"\n(procspec: pytest could not render this failure: {exc!r})"
    return pytest.TestReport(
        item.nodeid, item.location, {k: 1 for k in item.keywords},
        "failed" if raised is not None else "passed", text if raised is not None else None,
        call.when,  # type: ignore[arg-type]  # a test's phases: never "collect" here
        duration=call.duration, start=call.start, stop=call.stop,
        user_properties=list(item.user_properties))


_SO_FAR = pytest.StashKey[tuple[str, list[str]]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the xfail handling's result
def pytest_runtest_makereport(
        item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Classify each phase; the teardown report carries the whole test's kind (what
    ``--junitxml`` shows as the ``kind`` property, with ``claims`` and ``subject``)."""
    try:
        report = yield
    except Exception as exc:  # pytest could not render the failure: report it all the same
        report = _plain_report(item, call, exc)
    kind, claims = classify(item, call, report)
    if kind == outcomes.INCONCLUSIVE and report.skipped and hasattr(report, "wasxfail"):
        # expected to fail by its verdict, it failed some other way: that is red
        report.outcome = "failed"
        reason = report.wasxfail
        del report.wasxfail
        report.sections.append(("procspec", f"expected failure ({reason}) did not fail by "
                                            "its verdict: inconclusive"))
    so_far, so_far_claims = item.stash.get(_SO_FAR, (outcomes.PASSED, []))
    worst = outcomes.worst([so_far, kind])
    claims = list(dict.fromkeys([*so_far_claims, *claims]))
    item.stash[_SO_FAR] = (worst, claims)
    report.user_properties.append((KIND_KEY, worst if call.when == "teardown" else kind))
    published = figures.drain()  # what the scenarios of this phase measured
    if call.when == "call":
        report.user_properties += list(published.items())
        counted = tallies.tally_of(item)
        if counted is not None:
            report.user_properties += list(counted.figures().items())
    if claims:
        report.user_properties.append((VERDICT_CLAIMS_KEY, claims))
    return report
