"""The expectations loop (``procspec-kit expectations update|check``) and the file's rules.

- the rules: an entry lists the outcomes it may show (``fail``, ``pass``, ``flaky``); one
  that may pass needs evidence (or a bug) and a condition narrowing it; ``intermittent``
  is gone; ``check`` prints one line per problem;
- ``update`` on results written here: an unexpected verdict is added with the measured
  message and marked for review; an entry whose tests pass is removed; a claim that
  fails in one run and passes in another is recorded as varying; other implementations'
  results and entries no result matched are left alone;
- end to end, on a made-up deviating package: the run is red; ``expectations update``
  then the run with the written file is green (two commands), and ``check`` asks for a
  human's reason until one is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.claims import load_claims
from harness.expectation_rules import entry_problems, file_problems
from harness.expectations import EXPECTATIONS_DIR
from harness.expectations_update import update, violation_text
from harness.kit import CHECKOUT
from harness.results import RunResult

pytestmark = pytest.mark.meta

VARIES = {"claim": "ECHO-001", "reason": "a race", "outcomes": ["fail", "pass"]}


@pytest.mark.parametrize("entry, says", [
    ({"claim": "LIFE-001", "reason": "r", "intermittent": True}, "'intermittent' is gone"),
    ({"claim": "LIFE-001", "reason": "r", "outcomes": ["pass"]}, "records no deviation"),
    ({"claim": "LIFE-001", "reason": "r", "outcomes": ["xfail"]}, "are not outcomes"),
    ({**VARIES, "python": ["3.11"]}, "give the runs that showed it"),
    ({**VARIES, "evidence": "3 runs"}, "matches everything"),
    ({"claim": "LIFE-001"}, "'reason' is required"),
])
def test_an_entry_that_could_never_fail_or_says_nothing_is_refused(entry, says):
    assert any(says in problem for problem in entry_problems(entry)), entry_problems(entry)


@pytest.mark.parametrize("entry", [
    {"claim": "LIFE-001", "reason": "r"},
    {**VARIES, "evidence": "2 of 3 runs", "python": ["3.11"]},
    {**VARIES, "outcomes": ["fail", "pass", "flaky"], "bug": "https://x/1",
     "interpreter": ["PyPy"]},
])
def test_entries_that_can_fail_somewhere_are_accepted(entry):
    assert entry_problems(entry) == []


def test_the_shipped_files_have_no_problems():
    known = set(load_claims())
    for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
        assert file_problems(path, known) == [], path.name


def test_check_prints_one_line_per_problem(tmp_path):
    path = tmp_path / "mylib.json"
    path.write_text(json.dumps({"implementation": "mylib", "expectations": [
        {"claim": "LIFE-001", "reason": "r", "intermittent": True},
        {"claim": "NOPE-001", "reason": "r"},
        {"claim": "LIFE-002", "reason": "measured: x", "needs_review": True},
    ]}), encoding="utf-8")
    problems = file_problems(path, {"LIFE-001", "LIFE-002"})
    assert len(problems) == 3, problems
    assert all(p.startswith(f"{path}: expectations[") for p in problems)
    assert "needs_review" in problems[2]


# --- update, on results written here ---------------------------------------------------

def _run(path: str, tests: list[tuple[str, str, str]], implementation: str = "mylib",
         method: str = "fork") -> RunResult:
    """A results file: (claim, outcome, message) per test, on ``implementation``."""
    subject = f"{implementation}:ctx('{method}')"
    return RunResult(path=path, exitstatus=1, run={
        "python": "3.11.7", "implementation": "CPython",
        "subjects": {subject: {"name": subject, "implementation": implementation,
                               "version": "1.2", "start_method": method,
                               "interpreter": "CPython"}}},
        tests=[{"nodeid": f"tests/test_x.py::test_{claim}[{subject}]", "claims": [claim],
                "subject": subject, "outcome": outcome,
                "verdict_claims": [claim] if outcome == "verdict" else [],
                "message": message} for claim, outcome, message in tests])


VIOLATION = ("E   harness.verdict.Violation: LIFE-013 does not hold: sys.exit() gives 0\n"
             "E     expected: exitcode 0\nE     measured: 1\n")


def test_violation_text_is_the_measured_part():
    assert violation_text(VIOLATION, "LIFE-013") == "measured: 1 (expected: exitcode 0)"


def test_update_adds_removes_and_records_what_varies_and_touches_nothing_else():
    data = {"implementation": "mylib", "expectations": [
        {"claim": "LIFE-001", "reason": "gone now"},
        {"claim": "LIFE-002", "reason": "still failing"},
        {"claim": "LIFE-003", "reason": "nothing ran it"},
        {"claim": "LIFE-004", "reason": "fails in one run"},
    ]}
    first = _run("a.json", [("LIFE-001", "xpassed", ""), ("LIFE-002", "xfailed", "x"),
                            ("LIFE-004", "xfailed", "x"), ("LIFE-013", "verdict", VIOLATION),
                            ("LIFE-020", "passed", "")])
    second = _run("b.json", [("LIFE-004", "xpassed", ""), ("LIFE-013", "verdict", VIOLATION)])
    other = _run("c.json", [("LIFE-005", "verdict", VIOLATION)], implementation="otherlib")
    done = update(data, [first, second, other])
    by_claim = {e["claim"]: e for e in done.data["expectations"]}
    assert sorted(by_claim) == ["LIFE-002", "LIFE-003", "LIFE-004", "LIFE-013"], done.said
    assert by_claim["LIFE-002"] == {"claim": "LIFE-002", "reason": "still failing"}
    assert by_claim["LIFE-003"] == {"claim": "LIFE-003", "reason": "nothing ran it"}
    assert by_claim["LIFE-004"]["outcomes"] == ["fail", "pass"]
    assert "1 fail, 1 pass over 2 run(s)" in by_claim["LIFE-004"]["evidence"]
    assert by_claim["LIFE-004"]["version"] == "1.2"  # narrowed to what was measured
    assert entry_problems(by_claim["LIFE-004"]) == []
    assert by_claim["LIFE-013"] == {"claim": "LIFE-013", "needs_review": True,
                                    "reason": "measured: 1 (expected: exitcode 0)"}


def test_update_limits_a_new_entry_to_the_start_methods_that_showed_it():
    runs = [_run("f.json", [("LIFE-016", "passed", "")], method="fork"),
            _run("s.json", [("LIFE-016", "verdict", VIOLATION)], method="spawn")]
    done = update({"implementation": "mylib", "expectations": []}, runs)
    (entry,) = done.data["expectations"]
    assert entry["start_methods"] == ["spawn"], entry


# --- end to end: a made-up deviating package, from red to green in two commands -------

QUIRKY = '''\
    """A fork Process whose children turn sys.exit() into exit code 1 (LIFE-013)."""
    import multiprocessing

    __version__ = "0.1"
    _ctx = multiprocessing.get_context("fork")
    current_process = _ctx.current_process
    active_children = _ctx.active_children
    parent_process = _ctx.parent_process


    def get_start_method():
        return "fork"


    class Process(_ctx.Process):
        def run(self):
            try:
                super().run()
            except SystemExit as exc:
                if exc.code is None:
                    raise SystemExit(1) from None
                raise
    '''


def _harness(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=CHECKOUT, env=env,
                          text=True, capture_output=True, timeout=600)


def test_a_deviating_package_goes_from_red_to_a_green_gate_in_two_commands(tmp_path):
    (tmp_path / "quirkylib.py").write_text(textwrap.dedent(QUIRKY), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    verify = ["verify", "--backend", "quirkylib", "-n", "0", "--hypothesis-profile=controls",
              "--claim", "LIFE-012", "--claim", "LIFE-013"]
    results, into = tmp_path / "red.json", tmp_path / "quirkylib.json"
    red = _harness([*verify, "--results-json", str(results)], tmp_path, env)
    assert red.returncode == 1, red.stdout[-3000:] + red.stderr[-2000:]
    into.write_text("", encoding="utf-8")  # an empty file, as a new project starts

    # the two commands: update the file from the red run; the gate with it
    updated = _harness(["expectations", "update", str(results), "--into", str(into)],
                       tmp_path, env)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert f"{into}: added LIFE-013" in updated.stdout, updated.stdout
    green = _harness([*verify, "--expectations", str(into)], tmp_path, env)
    assert green.returncode == 0, green.stdout[-3000:] + green.stderr[-2000:]
    assert "LIFE-013  xfail" in green.stdout, green.stdout[-3000:]

    # the file says what was measured, and check wants a human's reason before it passes
    data = json.loads(into.read_text(encoding="utf-8"))
    assert data["implementation"] == "quirkylib"
    (entry,) = data["expectations"]
    assert entry["claim"] == "LIFE-013" and entry["needs_review"] is True, entry
    assert "measured" in entry["reason"], entry
    check = _harness(["expectations", "check", str(into)], tmp_path, env)
    assert check.returncode == 1 and len(check.stdout.splitlines()) == 1, check.stdout
    entry.pop("needs_review")
    entry["reason"] = "quirkylib's Process.run turns sys.exit() into exit code 1"
    into.write_text(json.dumps(data), encoding="utf-8")
    check = _harness(["expectations", "check", str(into)], tmp_path, env)
    assert check.returncode == 0, check.stdout


# --- "flaky": a verdict Hypothesis could not reproduce -----------------------------------

ONCE = """
import pytest
from hypothesis import given, settings, strategies as st
from harness.verdict import holds, violated

calls = []

@pytest.mark.claim("LIFE-001")
@settings(database=None, derandomize=True, max_examples=5, deadline=None)
@given(st.integers(0, 3))
def test_fails_once(backend_name, x):
    calls.append(x)
    holds(len(calls) != 1) or violated("LIFE-001", "no first call", "the first call")
"""


#: A subject that answers differently on replay: the first call fails, and its draws are
#: not the same again (Hypothesis's FlakyStrategyDefinition beside the verdict; measured
#: on the echo server under multiprocessing.dummy on PyPy, ECHO-003).
DRAWS_DIFFER = """
import pytest
from hypothesis import given, settings, strategies as st
from harness.verdict import holds, violated

calls = []

@pytest.mark.claim("LIFE-001")
@settings(database=None, derandomize=True, max_examples=5, deadline=None)
@given(st.data())
def test_fails_once(backend_name, data):
    calls.append(1)
    if len(calls) == 1:
        data.draw(st.booleans())
        holds(False) or violated("LIFE-001", "no first call", "the first call")
    else:
        data.draw(st.integers())
"""


@pytest.mark.parametrize("source, outcomes, kind", [
    (ONCE, ["fail", "flaky"], "xfailed"),   # recorded: it failed once, then passed
    (ONCE, ["fail"], "inconclusive"),       # not recorded: a verdict that did not recur
    (DRAWS_DIFFER, ["fail", "flaky"], "xfailed"),
    (DRAWS_DIFFER, ["fail"], "inconclusive"),
], ids=["did-not-recur-recorded", "did-not-recur", "draws-differ-recorded", "draws-differ"])
def test_a_verdict_that_did_not_recur_is_xfailed_only_where_flaky_is_recorded(
        pytester, monkeypatch, source, outcomes, kind):
    recorded = pytester.path / "recorded"
    recorded.mkdir()
    (recorded / "multiprocessing.json").write_text(json.dumps({
        "implementation": "multiprocessing", "expectations": [
            {"claim": "LIFE-001", "reason": "fails once in a while", "outcomes": outcomes,
             "evidence": "made up here", "start_methods": ["fork"]}]}), encoding="utf-8")
    monkeypatch.setenv("PROCSPEC_EXPECTATIONS", str(recorded))
    monkeypatch.setenv("PYTHONPATH", str(CHECKOUT))  # this checkout's plugin, not an older kit
    pytester.makeini("[pytest]\naddopts = --strict-markers\n")
    pytester.makepyfile(test_scratch=source)
    results = pytester.path / "results.json"
    ran = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--backend", "fork",
                                        "--results-json", str(results))
    (test,) = json.loads(results.read_text(encoding="utf-8"))["tests"]
    assert test["outcome"] == kind, ran.stdout.str()[-3000:]
    assert ran.ret == (0 if kind == "xfailed" else 1), ran.stdout.str()[-3000:]
