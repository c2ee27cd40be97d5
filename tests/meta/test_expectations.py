"""Known deviations are expectations (specs/expectations/), not skips, and they have teeth.

- the data is well-formed, names real claims, and agrees with the specs' Deviations bullets;
- the matching rules (implementation, version, start method, Python, test name);
- end to end, through the plugin: an expected failure is reported as xfailed with its
  reason and keeps the run green; an expected failure that passes turns the run red; a
  failure nobody recorded turns it red.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess

import pytest

from harness import expectations
from harness.claims import load_claims
from harness.kit import CHECKOUT as REPO_ROOT
from harness.kit import TESTS_DIR
from harness.suite import pytest_command

pytestmark = pytest.mark.meta


def test_expectation_files_are_well_formed_and_name_real_claims():
    found = expectations.load(expectations.EXPECTATIONS_DIR)
    known = load_claims()
    assert not [e for e in found if e.claim not in known], "expectations for unknown claims"
    assert not (expectations.EXPECTATIONS_DIR / "control.json").exists(), \
        "negative controls must not have expectations: their failures are the point"
    for e in found:
        assert len(e.reason) > 20, f"{e.implementation} {e.claim}: give a real reason"


def test_spec_deviation_bullets_agree_with_the_expectations_data():
    found = expectations.load(expectations.EXPECTATIONS_DIR)
    recorded = {(e.implementation, e.claim) for e in found}
    others = sorted(p.stem for p in expectations.EXPECTATIONS_DIR.glob("*.json")
                    if p.stem != "multiprocessing")
    mentioned = {(impl, cid) for cid in load_claims() for impl in others
                 if re.search(rf"\b{re.escape(impl)}\b", load_claims()[cid].deviations)}
    recorded_others = {(i, c) for i, c in recorded if i in others}
    assert recorded_others <= mentioned, (
        f"expectations whose claim's Deviations bullet does not name the implementation: "
        f"{sorted(recorded_others - mentioned)}")
    assert mentioned <= recorded_others, (
        f"Deviations bullets naming an implementation with no expectation recorded: "
        f"{sorted(mentioned - recorded_others)}")


def _subject(impl: str, method: str = "fork", version: str = "4.3.2"):
    return expectations.Subject(f"{impl}:x", impl, version, method)


@pytest.mark.parametrize("kwargs, subject, python, matches", [
    ({}, _subject("billiard"), "3.11.7", True),
    ({}, _subject("multiprocess"), "3.11.7", False),
    ({"start_methods": ("forkserver",)}, _subject("billiard", "fork"), "3.11.7", False),
    ({"start_methods": ("forkserver",)}, _subject("billiard", "forkserver"), "3.11.7", True),
    ({"version": "4.*"}, _subject("billiard", version="5.0.0"), "3.11.7", False),
    ({"python": ("3.12",)}, _subject("billiard"), "3.12.1", True),
    ({"python": ("3.1",)}, _subject("billiard"), "3.12.1", False),
    ({"test": "test_kill_*"}, _subject("billiard"), "3.11.7", False),
])
def test_matching_rules(kwargs, subject, python, matches):
    expectation = expectations.Expectation("billiard", "LIFE-013", "a reason", **kwargs)
    assert expectation.matches(subject, ["LIFE-013"], "test_sys_exit", python) is matches


def test_an_expectation_needs_a_claim_and_a_reason():
    with pytest.raises(ValueError):
        expectations.parse({"implementation": "x", "expectations": [{"claim": "LIFE-001"}]})
    with pytest.raises(ValueError):
        expectations.parse({"implementation": "x", "expectations": [
            {"claim": "LIFE-001", "reason": "r", "startmethod": "fork"}]})


# --- end to end through the plugin -------------------------------------------------------

def _run(tmp_path, data: dict[str, list[dict]], *options: str):
    """Run the suite's own tests with expectations from ``data`` (implementation -> list)."""
    exp_dir = tmp_path / "expectations"
    exp_dir.mkdir()
    for impl, entries in data.items():
        (exp_dir / f"{impl}.json").write_text(json.dumps(
            {"implementation": impl, "expectations": entries}), encoding="utf-8")
    results = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env[expectations.DIR_VARIABLE] = str(exp_dir)
    args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-q", "-n", "0",
            "-p", "no:randomly", "--hypothesis-profile=controls",
            "--results-json", str(results), *options]
    proc = subprocess.run(pytest_command(args), cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=600)
    tests = json.loads(results.read_text(encoding="utf-8"))["tests"]
    return proc, tests


BILLIARD_EXITCODES = ("--backend", "control:billiard-exitcodes", "--claim", "LIFE-013")
REASON = "sys.exit() gives 1 in this control, on purpose"


def test_an_expected_failure_is_xfailed_with_its_reason_and_the_run_stays_green(tmp_path):
    proc, tests = _run(tmp_path, {"control": [{"claim": "LIFE-013", "reason": REASON}]},
                       *BILLIARD_EXITCODES)
    assert tests and {t["outcome"] for t in tests} == {"xfailed"}, proc.stdout[-3000:]
    assert all(REASON in t["expected_failure"] for t in tests)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_an_expected_failure_that_passes_turns_the_run_red(tmp_path):
    proc, tests = _run(tmp_path, {"multiprocessing": [{"claim": "LIFE-001", "reason": REASON}]},
                       "--backend", "fork", "--claim", "LIFE-001")
    assert tests and {t["outcome"] for t in tests} == {"xpassed"}, proc.stdout[-3000:]
    assert proc.returncode == 1


def test_a_failure_nobody_recorded_turns_the_run_red(tmp_path):
    proc, tests = _run(tmp_path, {"control": [{"claim": "LIFE-014", "reason": REASON}]},
                       *BILLIARD_EXITCODES)
    assert tests and {t["outcome"] for t in tests} == {"verdict"}, proc.stdout[-3000:]
    assert proc.returncode == 1


@pytest.mark.skipif(importlib.util.find_spec("billiard") is None,
                    reason="billiard is not installed (pip install '.[impls]')")
def test_billiards_recorded_exit_code_deviations_are_expected_failures(tmp_path):
    data = json.loads((expectations.EXPECTATIONS_DIR / "billiard.json").read_text())
    proc, tests = _run(tmp_path, {"billiard": data["expectations"]},
                       "--backend", "billiard:get_context('fork')",
                       "--claim", "LIFE-013", "--claim", "LIFE-014", "--claim", "LIFE-012")
    outcomes = {(t["claims"][0], t["outcome"]) for t in tests}
    assert outcomes == {("LIFE-012", "passed"), ("LIFE-013", "xfailed"),
                        ("LIFE-014", "xfailed")}, proc.stdout[-3000:]
    assert proc.returncode == 0
