"""procspec's pytest plugin: implementation options, claim bookkeeping, leak guard, table.

Loaded by the repository's ``conftest.py`` (``pytest_plugins``); usable elsewhere with
``-p harness.pytest_plugin``.

- ``--backend NAME`` (repeatable): the implementations under test (harness.backends); by
  default every standard-library start method the platform offers. A test that takes the
  ``backend`` fixture runs once per backend, and the backend shows in its id (``[spawn]``).
- ``--echo-server "CMD ... {host} ... {port}"`` (repeatable): the echo servers under test;
  by default procspec's own server under each backend. A test that takes ``echo_server``
  runs once per server (the ``echo_server_name`` param: the table column).
- ``--claim ID`` (repeatable): run only the tests bound to these claims.
- ``--results-json PATH``: write every test's outcome with its claims and subject.
- Every test outside ``tests/meta`` must carry ``@pytest.mark.claim(...)`` naming claims
  that exist in ``specs/``; a test that does not errors before it runs.
- After each test, no child process of the test process may remain (the forkserver and
  resource tracker, which the standard library keeps on purpose, excepted); leftovers are
  killed and the test errors.
- At the end, a claim x subject table of outcomes.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator, Optional

import psutil
import pytest

from harness import backends
from harness.claims import load_claims
from harness.expectations import mark_expected_failures
from harness.results import extra_run_info, figures_of

#: Command-line fragments of the helper processes the implementations keep on purpose.
_HELPER_PROCESS_MARKS = ("forkserver", "resource_tracker", "semaphore_tracker")

#: Fixture parameters whose value names the thing under test (the table's columns).
SUBJECT_PARAMS = ("backend_name", "echo_server_name")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("procspec")
    group.addoption("--backend", action="append", default=[], metavar="NAME",
                    help="implementation under test: fork | spawn | forkserver | "
                         "module[:attr] | control:NAME (repeatable; default: every "
                         "start method of this platform)")
    group.addoption("--claim", action="append", default=[], metavar="ID",
                    help="run only the tests bound to this claim ID (repeatable)")
    group.addoption("--results-json", default=None, metavar="PATH",
                    help="write each test's outcome, claims and subject as JSON")
    group.addoption("--no-leak-check", action="store_true", default=False,
                    help="do not fail tests that leave child processes behind")
    group.addoption("--echo-server", action="append", default=[], metavar="CMD",
                    help="an echo server under test: a command with {host} and {port} "
                         "(repeatable; default: procspec's server under each backend)")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the xdist controller or a plain run
        config.pluginmanager.register(ClaimRecorder(config), "procspec-recorder")


# --- parametrization -------------------------------------------------------------------

def backend_names(config: pytest.Config) -> list[str]:
    return list(config.getoption("--backend")) or backends.default_backend_names()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        names = backend_names(metafunc.config)
        metafunc.parametrize("backend_name", names, ids=names)
    if "echo_server_name" in metafunc.fixturenames:
        servers = echo_server_templates(metafunc.config)
        metafunc.parametrize("echo_server_name", list(servers), ids=_echo_ids(servers))


@pytest.fixture
def backend(backend_name: str) -> backends.Backend:
    """The implementation under test (one per ``--backend``)."""
    return backends.resolve(backend_name)


# --- echo servers (harness.echo; specs/echo-server.md) ---------------------------------

def echo_server_templates(config: pytest.Config) -> dict[str, str]:
    """Name -> command template of each echo server under test: the ``--echo-server``
    commands (named by themselves), else procspec's server under each backend."""
    from harness.echo.runner import procspec_server_template

    commands = config.getoption("--echo-server")
    if commands:
        return {cmd: cmd for cmd in commands}
    return {name: procspec_server_template(name) for name in backend_names(config)}


def _echo_ids(servers: dict[str, str]) -> list[str]:
    given = [name for name, cmd in servers.items() if name == cmd]
    return [f"server{given.index(name) + 1}" if name in given else name for name in servers]


@pytest.fixture
def echo_server(echo_server_name: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running echo server under test (:class:`harness.echo.runner.RunningServer`: host,
    port, pid, pgid), listening on a free loopback port; its whole process group is killed
    and reaped after the test."""
    from harness.echo.runner import running_server

    template = echo_server_templates(request.config)[echo_server_name]
    with running_server(template, name=echo_server_name) as server:
        yield server


# --- claims ----------------------------------------------------------------------------

def item_claims(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("claim") for cid in mark.args]


def _subject(item: pytest.Item) -> str:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for key in SUBJECT_PARAMS:
        if key in params:
            return str(params[key])
    return "-"


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
        item.user_properties.append(("claims", ids))
        item.user_properties.append(("subject", _subject(item)))
    wanted = set(config.getoption("--claim"))
    if wanted:
        unknown = wanted - set(known)
        if unknown:
            raise pytest.UsageError(f"--claim: unknown claim(s) {sorted(unknown)}")
        selected = [i for i in items if wanted & set(item_claims(i))]
        config.hook.pytest_deselected(items=[i for i in items if i not in selected])
        items[:] = selected
    mark_expected_failures(items)  # known deviations (specs/expectations/) -> strict xfail


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test with broken claim bookkeeping fails (also under xdist, per test)."""
    problem = item.stash.get(_CLAIM_PROBLEM, None)
    if problem:
        pytest.fail(f"claim bookkeeping: {problem}", pytrace=False)


# --- leak guard ------------------------------------------------------------------------

def _is_helper(proc: psutil.Process) -> bool:
    try:
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return any(mark in cmdline for mark in _HELPER_PROCESS_MARKS)


def _descendants() -> dict[int, psutil.Process]:
    try:
        return {p.pid: p for p in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return {}


def _leftovers(before: set[int], grace: float) -> list[psutil.Process]:
    """New descendants still there (running, or zombies nobody reaped) after ``grace``."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for pid, p in _descendants().items()
                if pid not in before and not _is_helper(p)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def _describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid} ({proc.status()}): {' '.join(proc.cmdline())[:120]}"
    except psutil.Error:
        return f"pid {proc.pid}"


def _kill_and_reap(procs: list[psutil.Process]) -> None:
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)  # also reaps those that are our own children


@pytest.fixture(autouse=True)
def no_leaked_children(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a child process behind, running or unreaped (kill it first)."""
    if request.config.getoption("--no-leak-check"):
        yield
        return
    before = set(_descendants())
    yield
    leaked = _leftovers(before, grace=2.0)
    if leaked:
        described = [_describe(p) for p in leaked]
        _kill_and_reap(leaked)
        pytest.fail("child processes left behind by this test (now killed):\n  "
                    + "\n  ".join(described), pytrace=False)


# --- outcomes --------------------------------------------------------------------------

class _Results:
    def __init__(self) -> None:
        self.tests: dict[str, dict[str, Any]] = {}

    def add(self, report: pytest.TestReport) -> None:
        props: dict[str, Any] = dict(report.user_properties)
        entry = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "claims": list(props.get("claims", [])),
            "subject": props.get("subject", "-"), "outcome": "passed", "duration": 0.0,
            "message": "", "expected_failure": props.get("expected_failure"),
            "figures": {}})
        entry["figures"].update(figures_of(report.user_properties))
        entry["duration"] += report.duration
        outcome = _outcome(report)
        if _RANK[outcome] > _RANK[entry["outcome"]]:
            entry["outcome"] = outcome
            if report.failed:
                entry["message"] = str(report.longrepr)[-4000:]


_RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4, "error": 5}


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed and str(report.longrepr).startswith("[XPASS(strict)]"):
        return "xpassed"  # an expected failure passed: the deviation is gone (red)
    if report.failed:
        return "failed" if report.when == "call" else "error"
    if report.skipped:
        return "skipped"
    return "passed"


class ClaimRecorder:
    """Collects every test's outcome (also from xdist workers) by claim and subject."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results = _Results()
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.results.add(report)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tests = [t for t in self.results.tests.values() if t["claims"]]
        if tests:
            terminalreporter.section("procspec: claim x implementation")
            terminalreporter.write_line(format_table(claim_table(tests)))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        path = self.config.getoption("--results-json")
        if not path:
            return
        payload = {"run": run_info(self.config, self.started), "exitstatus": int(exitstatus),
                   "tests": sorted(self.results.tests.values(), key=lambda t: t["nodeid"])}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")


def claim_table(tests: list[dict[str, Any]]) -> list[list[str]]:
    """Rows: claim, then one cell per subject: ``pass`` / ``FAIL n/m`` / ``skip`` / ``-``."""
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    subjects: list[str] = []
    for test in tests:
        if test["subject"] not in subjects:
            subjects.append(test["subject"])
        for cid in test["claims"]:
            cells[(cid, test["subject"])].append(test["outcome"])
    rows = [["claim", *subjects]]
    for cid in sorted({cid for cid, _ in cells}):
        row = [cid]
        for subject in subjects:
            outcomes = cells.get((cid, subject), [])
            bad = sum(o in ("failed", "error", "xpassed") for o in outcomes)
            if not outcomes:
                row.append("-")
            elif bad:
                row.append(f"FAIL {bad}/{len(outcomes)}")
            elif all(o == "skipped" for o in outcomes):
                row.append("skip")
            elif any(o == "xfailed" for o in outcomes):
                row.append("xfail")
            else:
                row.append("pass")
        rows.append(row)
    return rows


def format_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def run_info(config: pytest.Config, started: str) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "backends": backend_names(config),
        "hypothesis_profile": _hypothesis_profile(),
        "started": started,
        **extra_run_info(backend_names(config)),
    }


def _hypothesis_profile() -> Optional[str]:
    try:
        from hypothesis import settings

        getter = getattr(settings, "get_current_profile_name", None)
        return str(getter() if getter else getattr(settings, "_current_profile", None))
    except Exception:
        return None
