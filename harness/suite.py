"""Running procspec's own test suite as a subprocess, and reading back what it found.

Used by ``python -m harness verify`` / ``controls`` and by the meta-tests that prove every
negative control is caught.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from harness import outcomes as kinds
from harness.kit import CHECKOUT, KIT_ROOT, TESTS_DIR
from harness.results import read as read_results
from harness.run_tag import RUN_TAG, kill_tagged
from harness.supervise import run_program

if TYPE_CHECKING:
    from harness.controls import Control



def pytest_command(args: Sequence[str]) -> list[str]:
    """``python -m pytest`` on procspec's tests (rooted at the kit: the checkout, or the
    installed package), without pytest's cache (it would write into the package) and
    without assertion rewriting (:data:`PLAIN_ASSERTS`); ``args`` may say otherwise."""
    return [sys.executable, "-m", "pytest", "--rootdir", str(KIT_ROOT), "-p",
            "no:cacheprovider", *PLAIN_ASSERTS, *args]


#: The claim tests raise their verdicts (harness.verdict) and opt out of assertion
#: rewriting (PYTEST_DONT_REWRITE), but pytest still rewrites every module of every
#: installed plugin distribution (procspec-kit's harness, Hypothesis, xdist: about 160) in
#: each process of a run, and where bytecode is not written (PYTHONDONTWRITEBYTECODE) it
#: keeps no cache of them either: measured, `pytest tests --collect-only` took 1.72 s of CPU
#: on 3.11, 0.63 s with ``--assert=plain``; collecting the claims under ``-n 4`` on 3.13,
#: 8.0 s and 3.0 s. verify and bench pay it once per xdist worker, the controls proof once
#: per worker of each of its suite runs.
PLAIN_ASSERTS = ("--assert=plain",)


def suite_cwd() -> Optional[str]:
    """Where suite runs start: the checkout, else the caller's own directory."""
    return None if CHECKOUT is None else str(CHECKOUT)


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    outcomes: dict[str, list[str]]
    """claim ID -> the outcome kind (harness.outcomes) of every test bound to it that ran."""
    output: str
    leftovers: list[str] = field(default_factory=list)
    """Processes the run left behind (found after it ended, then killed)."""
    seconds: float = 0.0
    tests: list[dict] = field(default_factory=list)
    """The results file's test entries."""

    def broken_claims(self) -> set[str]:
        """Claims that some test failed with that claim's own verdict."""
        return {cid for t in self.tests if t["outcome"] == kinds.VERDICT
                for cid in t.get("verdict_claims", [])}

    def inconclusive(self) -> list[str]:
        """Tests that failed without a verdict (timeout, crash, setup/teardown error)."""
        return [t["nodeid"] for t in self.tests if t["outcome"] == kinds.INCONCLUSIVE]


def run_suite(options: Sequence[str], claims: Iterable[str] = (),
              profile: str = "controls", timeout: Optional[float] = 900,
              per_test_timeout: float = 120, workers: int = 0) -> SuiteRun:
    """Run the suite (without ``tests/meta``) with ``options``, limited to ``claims``
    (none: every claim), on ``workers`` xdist workers (0: in one process)."""
    with tempfile.TemporaryDirectory(prefix="procspec-suite-") as tmp:
        results = os.path.join(tmp, "results.json")
        args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-q", "-n", str(workers),
                f"--hypothesis-profile={profile}",
                f"--timeout={per_test_timeout}", "--results-json", results, *options]
        for cid in claims:
            args += ["--claim", cid]
        tag = uuid.uuid4().hex
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env[RUN_TAG] = tag
        # Own session, so that a run that overstays is ended with everything it started.
        ran = run_program(pytest_command(args), timeout, cwd=suite_cwd(), env=env)
        out, err = ran.stdout, ran.stderr
        if ran.timed_out:
            err += f"\nprocspec: suite run killed after {timeout} s"
        tests = read_results(results).tests if os.path.exists(results) else []
        outcomes: dict[str, list[str]] = defaultdict(list)
        for test in tests:
            for cid in test["claims"]:
                outcomes[cid].append(test["outcome"])
        returncode = -1 if ran.returncode is None else ran.returncode
        return SuiteRun(returncode, dict(outcomes), out[-6000:] + err[-3000:],
                        leftovers=kill_tagged(tag), seconds=time.monotonic() - started,
                        tests=tests)


# --- controls against every claim -----------------------------------------------------

#: How many xdist workers run one suite run of controls. Most of a control run waits
#: (children sleeping, sockets, process start-up), so more workers than cores shorten it;
#: the meta-test runs several such runs at once (one per outer xdist worker, two per core).
CONTROL_WORKERS = 2

#: The timed controls' run (one run: the hang controls and their healthy twins) has this
#: many workers: it mostly waits out graces (harness.patience), so more workers shorten it
#: at the same CPU. Measured alone on a quiet machine (4 hang controls and forkserver):
#: 146 s with 2 workers, 91 s with 4 (46 and 47 s of CPU). In the README's test command it
#: was the run that ended last, at low load: the tail of the whole command.
TIMED_WORKERS = 4

#: A timed control (``Control.timed``: the hang controls) may take at most this many times
#: the time its healthy reference takes in the same suite run (summed test durations).
#: Healthy, a hang costs each kind of wait's full grace once per subject (once per worker
#: when they meet it at the same time) and short ones after that (harness.patience): a
#: constant, so the ratio is highest when the twin is fastest. hangs-before-target
#: measured 4.56 (a fresh-clone CI run under load, twin 30.7 s), 6.27 (the README's test
#: command, twin 22.7 s), 6.57 and 7.02 alone on a quiet machine with 2 and 4 workers (twin
#: 21.9 s and 24.9 s); a limit of 6 failed there. The defect this bound is for, a grace paid
#: per example (patience not kept), is far above it: hangs-before-target's 70-odd tests
#: would each wait JOIN_GRACE (15 s) or more, about 48 times the twin.
TIME_RATIO = 10.0

#: The Hypothesis profile (tests/conftest.py) of the controls proof's first pass over every
#: claim: each test's explicit examples and one drawn. The pass is quadratic (every control
#: against every claim: 100 x 93), and a test that leans on another claim's behaviour shows
#: on any example; a declared claim it did not break is looked at again, alone with its
#: control, with the full ``controls`` profile (:func:`second_look`), so a control is held
#: to its claims with as many examples as before. Measured on 4 fork controls: 36.1 s of
#: CPU with ``controls``, 18.9 s with this. The timed controls' run keeps ``controls``:
#: their bound is a ratio of summed test times, where a grace paid once per worker weighs
#: more the fewer the examples.
SWEEP_PROFILE = "controls-sweep"

#: A second look at this many claims or fewer runs in one process (no xdist start-up:
#: 1.8 s of CPU saved per look, and most looks are at one or two claims).
ONE_PROCESS_LOOK = 3

#: Backend controls checked in one suite run (:func:`control_batches`). One run per control
#: paid a pytest and xdist start-up (3.6 s of CPU) 47 times, and left workers idle at the
#: end of each run; several controls in one run share both, and xdist balances their tests.
CONTROLS_PER_RUN = 4


@dataclass(frozen=True)
class ControlCheck:
    """One negative control run against every claim it can reach."""

    name: str
    defect: str
    declared: frozenset[str]
    broken: frozenset[str]
    """Claims some test failed with that claim's own verdict."""
    inconclusive: tuple[str, ...]
    """Tests that failed without a verdict (they count for nothing)."""
    why_wrong: tuple[str, ...]
    """The end of the message of each test that was inconclusive or broke a claim the
    control does not declare (for the meta-test's failure)."""
    seconds: float
    """The summed duration of the control's tests."""
    leftovers: tuple[str, ...]
    """Processes left running by the suite run that checked the control (shared by every
    control of that run: a leftover cannot be told to whom it belonged)."""
    output: str
    tests: int = 0
    """How many tests ran against the control."""
    declared_unjudged: frozenset[str] = frozenset()
    """Claims the control declares it leaves unjudged (empty: not checked)."""
    unjudged: frozenset[str] = frozenset()
    """Claims some test of which judged no example against the control."""
    out_of_scope: frozenset[str] = frozenset()
    """Claims every test of which skipped (not in scope for this subject or Python: a
    declared unjudged claim among them is not missing)."""

    @property
    def wrong_unjudged(self) -> list[str]:
        """Where the unjudged claims differ from the declared ones (when declared)."""
        if not self.declared_unjudged:
            return []
        missing = self.declared_unjudged - self.unjudged - self.out_of_scope
        return [f"-{cid}" for cid in sorted(missing)] + \
            [f"+{cid}" for cid in sorted(self.unjudged - self.declared_unjudged)]

    healthy: Optional[str] = None
    """A timed control's healthy reference (its start method's context), run beside it."""
    healthy_seconds: Optional[float] = None
    """The summed duration of the healthy reference's tests in the same suite run."""
    looked_again: tuple[str, ...] = ()
    """Claims run once more alone with the control, their first result inconclusive
    (:func:`second_look`)."""

    @property
    def ratio(self) -> Optional[float]:
        """The control's summed test time over its healthy reference's (timed controls)."""
        if not self.healthy_seconds:
            return None
        return self.seconds / self.healthy_seconds

    @property
    def in_time(self) -> bool:
        """Not timed, or within :data:`TIME_RATIO` of its healthy reference."""
        return self.ratio is None or self.ratio <= TIME_RATIO

    @property
    def missing(self) -> list[str]:
        return sorted(self.declared - self.broken)

    @property
    def extra(self) -> list[str]:
        return sorted(self.broken - self.declared)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.inconclusive or self.leftovers
                    or self.wrong_unjudged)

    def summary(self) -> str:
        """One line: the control, what it broke by verdict, and what went wrong."""
        problems = ([f"missing {', '.join(self.missing)}"] if self.missing else []) + \
            ([f"extra {', '.join(self.extra)}"] if self.extra else []) + \
            ([f"{len(self.inconclusive)} inconclusive"] if self.inconclusive else []) + \
            ([f"{len(self.leftovers)} left running"] if self.leftovers else []) + \
            ([f"unjudged not as declared: {' '.join(self.wrong_unjudged)}"]
             if self.wrong_unjudged else [])
        if self.looked_again:
            problems.append(f"second look at {', '.join(self.looked_again)}")
        if not self.tests:  # the suite run itself failed (a usage error, an import error)
            said = [line.strip() for line in self.output.splitlines() if line.strip()]
            problems.append("no test ran against it; the suite run's last line: "
                            f"{said[-1][:300] if said else '(none)'}")
        timing = "" if self.ratio is None else \
            f" ({self.ratio:.2f} x {self.healthy}'s {self.healthy_seconds:.1f} s)"
        return (f"{self.name:28} {'exact' if self.exact else 'WRONG':6} "
                f"{self.seconds:6.1f} s{timing}  breaks {', '.join(sorted(self.broken)) or '-'}"
                + (f"  [{'; '.join(problems)}]" if problems else ""))


def _out_of_scope(tests: list[dict]) -> frozenset[str]:
    """Claims all of whose tests skipped."""
    kinds_by_claim: dict[str, set[str]] = defaultdict(set)
    for test in tests:
        for cid in test["claims"]:
            kinds_by_claim[cid].add(test["outcome"])
    return frozenset(cid for cid, seen in kinds_by_claim.items() if seen == {kinds.SKIPPED})


def control_subject(control: Control) -> str:
    """The subject (backend or server name) a control's tests run under."""
    if control.server_command is not None:
        return control.server_command
    return f"control:{control.name}"


def control_batches(names: Iterable[str], size: int = CONTROLS_PER_RUN) -> list[list[str]]:
    """The controls ``names`` in groups that each run as one suite run: backend controls
    about ``size`` at a time, the timed ones (``Control.timed``) all in one run, server
    controls (they run the echo tests only, a quarter of the suite) about ``3 * size`` at
    a time."""
    from harness.controls import find_control

    chosen = sorted(set(names))
    servers = [n for n in chosen if find_control(n).server_command is not None]
    timed = [n for n in chosen if find_control(n).timed]
    backends = [n for n in chosen if n not in servers and n not in timed]
    def spread(group: list[str], per_run: int) -> list[list[str]]:
        count = max(1, -(-len(group) // max(1, per_run)))
        return [b for b in (group[i::count] for i in range(count)) if b]

    # The timed controls share one run (and its one healthy reference per start method).
    return spread(backends, size) + spread(timed, len(timed)) + spread(servers, 3 * size)


def check_controls(names: Sequence[str], profile: str = "controls",
                   workers: int = CONTROL_WORKERS,
                   sweep: Optional[str] = SWEEP_PROFILE) -> dict[str, ControlCheck]:
    """Run the suite against the controls ``names`` with every claim in scope (the backend
    controls in one run, the server controls in another); for each, compare the claims it
    breaks by verdict (its own tests: its subject's) with the ones it declares. That run
    uses the ``sweep`` profile (None: ``profile``; the timed controls' run always uses
    ``profile``); :func:`second_look` runs with ``profile``."""
    from harness.controls import find_control

    controls = [find_control(n) for n in dict.fromkeys(names)]
    groups = [[c for c in controls if c.server_command is None],
              [c for c in controls if c.server_command is not None]]
    checks: dict[str, ControlCheck] = {}
    for group in groups:
        if not group:
            continue
        options: list[str] = []
        for control in group:
            options += control.pytest_args[:2]
        references = sorted({c.start_method for c in group if c.timed and c.start_method})
        for method in references:  # the healthy twin, timed in the same run
            options += ["--backend", method]
        if group[0].server_command is not None:
            options += ["-m", "echo"]
        first = profile if sweep is None or references else sweep
        run = run_suite(options, profile=first,
                        workers=max(workers, TIMED_WORKERS) if references else workers,
                        timeout=600 + 120 * len(group))
        for control in group:
            subject = control_subject(control)
            tests = [t for t in run.tests if t.get("subject") == subject]
            tests, looked_again, left_again = second_look(control, tests, profile, workers)
            broken = {cid for t in tests if t["outcome"] == kinds.VERDICT
                      for cid in t.get("verdict_claims", [])}
            inconclusive = tuple(t["nodeid"] for t in tests
                                 if t["outcome"] == kinds.INCONCLUSIVE)
            why = tuple(f"{t['nodeid']}: ...{t['message'][-1500:]}" for t in tests
                        if t["outcome"] == kinds.INCONCLUSIVE or (
                            t["outcome"] == kinds.VERDICT
                            and set(t.get("verdict_claims", [])) - control.breaks))
            healthy = control.start_method if control.timed else None
            checks[control.name] = ControlCheck(
                control.name, control.defect, control.breaks, frozenset(broken),
                inconclusive, why, _seconds(tests), tuple(run.leftovers) + left_again,
                run.output,
                len(tests), control.unjudged,
                frozenset(cid for t in tests if t["outcome"] == kinds.UNJUDGED
                          for cid in t["claims"]),
                _out_of_scope(tests), healthy,
                None if healthy is None else _seconds(
                    [t for t in run.tests if t.get("subject") == healthy]), looked_again)
    return checks


def second_look(control: Control, tests: list[dict], profile: str,
                workers: int) -> tuple[list[dict], tuple[str, ...], tuple[str, ...]]:
    """The claims some test of which was inconclusive against ``control``, the claims it
    declares that no test broke (the first pass drew one example per test,
    :data:`SWEEP_PROFILE`; and the timing claims judge only the examples the run's load
    lets them tell apart: in three fresh-clone CI runs lazy-start's JOIN-002 went unbroken
    inside the test command, while alone it breaks it at once), and, for a control that
    declares the claims it leaves unjudged, any other claim some test of which judged
    nothing, run once more, alone with it, with ``profile``; their results replace the
    first ones. An inconclusive result says nothing about the claim (a timeout, a crash:
    under the test command's load, about one run in two had one somewhere among the 83
    controls' 6,000 tests); a control that breaks its claims does so again, and one that
    hangs is inconclusive again. Returns the tests, the claims looked at again, and what
    that run left running."""
    broken = {cid for t in tests if t["outcome"] == kinds.VERDICT
              for cid in t.get("verdict_claims", t["claims"])}
    ran = {cid for t in tests for cid in t["claims"]}
    unjudged = {cid for t in tests if t["outcome"] == kinds.UNJUDGED for cid in t["claims"]}
    shaky = sorted({cid for t in tests if t["outcome"] == kinds.INCONCLUSIVE
                    for cid in t["claims"]} | ((control.breaks & ran) - broken)
                   | ((unjudged - control.unjudged) if control.unjudged else set()))
    if not shaky:
        return tests, (), ()
    again = run_suite(list(control.pytest_args), claims=shaky, profile=profile,
                      workers=0 if len(shaky) <= ONE_PROCESS_LOOK else workers,
                      timeout=300)
    subject = control_subject(control)
    kept = [t for t in tests if not set(t["claims"]) & set(shaky)]
    return kept + [t for t in again.tests if t.get("subject") == subject], tuple(shaky), \
        tuple(again.leftovers)



def _seconds(tests: list[dict]) -> float:
    return sum(float(t.get("duration") or 0.0) for t in tests)


def check_control(name: str, profile: str = "controls",
                  workers: int = CONTROL_WORKERS) -> ControlCheck:
    """Run the suite against control ``name`` with every claim in scope; compare the claims
    it breaks by verdict with the ones it declares."""
    return check_controls([name], profile, workers)[name]
