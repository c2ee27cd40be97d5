"""Outcomes by claim and subject: the claim table, missing tools, the results file.

Runs in the controlling process (also under xdist, whose workers send their reports):
every phase's report is folded into one entry per test, whose ``outcome`` is the worst
kind seen (:mod:`harness.outcomes`): a verdict in the call and a leak in teardown leave
the verdict as the failure and the leak as a note.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

import pytest

from harness import outcomes, tools
from harness.plugin.bookkeeping import (
    BOOKKEEPING_KEYS,
    CLAIMS_KEY,
    EXPECTED_KEY,
    KIND_KEY,
    SUBJECT_KEY,
    VERDICT_CLAIMS_KEY,
)
from harness.plugin.options import backend_names, is_worker
from harness.results import SCHEMA, extra_run_info


def pytest_configure(config: pytest.Config) -> None:
    if not is_worker(config):  # the xdist controller or a plain run
        config.pluginmanager.register(Recorder(config), "procspec-recorder")


def _text(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])
    return str(longrepr or "")


class Recorder:
    """Collects every test's outcome by claim and subject."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tests: dict[str, dict[str, Any]] = {}
        self.missing_tools: dict[str, str] = {}
        self.started = time.strftime("%Y-%m-%dT%H:%M:%S%z")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props: dict[str, Any] = dict(report.user_properties)
        entry = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "claims": list(props.get(CLAIMS_KEY, [])),
            "subject": props.get(SUBJECT_KEY, "-"), "outcome": outcomes.PASSED,
            "verdict_claims": [], "duration": 0.0, "message": "", "notes": [],
            "expected_failure": props.get(EXPECTED_KEY), "figures": {}})
        entry["figures"].update({k: v for k, v in report.user_properties
                                 if k not in BOOKKEEPING_KEYS})
        entry["duration"] += report.duration
        kind = str(props.get(KIND_KEY, outcomes.PASSED))
        text = _text(report)
        if kind == outcomes.SKIPPED:
            missing = tools.missing_tool(text)
            if missing:
                self.missing_tools[missing[0]] = missing[1]
        if kind == outcomes.PASSED and report.when != "call":
            return
        if outcomes.RANK[kind] > outcomes.RANK[entry["outcome"]]:
            if entry["message"] and entry["outcome"] in outcomes.RED:
                entry["notes"].append(entry["message"])
            entry["outcome"] = kind
            entry["message"] = text[-4000:] if kind != outcomes.PASSED else ""
            entry["verdict_claims"] = list(props.get(VERDICT_CLAIMS_KEY, []))
        elif kind in outcomes.RED and report.failed:  # e.g. a leak after a verdict: both
            entry["notes"].append(f"{report.when}: {text[-2000:]}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        tests = [t for t in self.tests.values() if t["claims"]]
        if tests:
            terminalreporter.section("procspec: claim x implementation")
            terminalreporter.write_line(outcomes.format_table(claim_table(tests)))
            inconclusive = sum(t["outcome"] == outcomes.INCONCLUSIVE for t in tests)
            if inconclusive:
                terminalreporter.write_line(
                    f"{inconclusive} test(s) inconclusive: they failed without a verdict "
                    "on their claim (timeout, crash, setup or teardown error)")
            terminalreporter.write_line(judged_line(tests))
        for tool, how in sorted(self.missing_tools.items()):
            terminalreporter.write_line(
                f"procspec: {tool} is not installed, so the tests that drive it were "
                f"skipped (their claims show 'partial' or 'skip'); install: {how}",
                yellow=True)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        path = self.config.getoption("--results-json")
        if not path:
            return
        payload = {"run": run_info(self.config, self.started), "exitstatus": int(exitstatus),
                   "missing_tools": self.missing_tools,
                   "tests": sorted(self.tests.values(), key=lambda t: t["nodeid"])}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=1, default=str), encoding="utf-8")


def judged_line(tests: list[dict[str, Any]]) -> str:
    """What the run judged: examples, judged, rejected (and the commonest reason), and
    how many tests judged nothing (unjudged: never a pass)."""
    figures = [t["figures"] for t in tests if "judged" in t["figures"]]
    judged = sum(int(f["judged"]) for f in figures)
    rejected = sum(int(f["rejected"]) for f in figures)
    reasons: dict[str, int] = defaultdict(int)
    for f in figures:
        for why, n in (f.get("rejected_because") or {}).items():
            reasons[why] += int(n)
    unjudged = sum(t["outcome"] == outcomes.UNJUDGED for t in tests)
    line = (f"judged {judged} example(s) in {len(figures)} test(s); rejected {rejected}"
            + (f" (most often: {max(reasons, key=reasons.__getitem__)})" if reasons else "")
            + (f"; {unjudged} test(s) unjudged: they judged no example, so their cells "
               "say 'unjudged', not 'pass'" if unjudged else ""))
    return "procspec: " + line


def claim_table(tests: list[dict[str, Any]]) -> list[list[str]]:
    """Rows: claim, then one cell per subject (:func:`harness.outcomes.cell`)."""
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    subjects: list[str] = []
    for test in tests:
        if test["subject"] not in subjects:
            subjects.append(test["subject"])
        for cid in test["claims"]:
            cells[(cid, test["subject"])].append(test["outcome"])
    rows = [["claim", *subjects]]
    for cid in sorted({cid for cid, _ in cells}):
        rows.append([cid, *(outcomes.cell(cells.get((cid, s), [])) for s in subjects)])
    return rows


def run_info(config: pytest.Config, started: str) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "backends": backend_names(config),
        "hypothesis_profile": _hypothesis_profile(),
        "started": started,
        "schema": SCHEMA,
        **extra_run_info(backend_names(config)),
    }


def _hypothesis_profile() -> Optional[str]:
    try:
        from hypothesis import settings

        getter = getattr(settings, "get_current_profile_name", None)
        return str(getter() if getter else getattr(settings, "_current_profile", None))
    except Exception:
        return None
