"""``python -m harness bench`` runs both suites and reports their times (on a tiny selection:
nothing here times anything)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.meta


def test_bench_runs_both_suites_and_reports_ratio_and_topics(tmp_path):
    from harness.bench import cpython_command

    if cpython_command("fork", "test_current", str(tmp_path)) is None:
        pytest.skip("this interpreter ships no CPython multiprocessing tests")
    out = tmp_path / "bench.json"
    ran = subprocess.run(
        [sys.executable, "-m", "harness", "bench", "--methods", "fork",
         "--cpython-tests", "test_current", "--json", str(out),
         "--claim", "LIFE-001", "--backend", "fork", "-n", "0", "--max-ratio", "1000"],
        capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    judged = json.loads(out.read_text())
    (data,) = judged["runs"]
    assert data["verify"]["outcomes"] == {"passed": 1}
    assert data["verify"]["not_green"] == []
    assert list(data["verify"]["by_topic"]) == ["LIFE"]
    assert [r["label"] for r in data["cpython"]["runs"]] == ["cpython fork"]
    assert data["ratio"] is not None and data["ratio"] > 0
    assert judged["median_ratio"] == data["ratio"] and judged["within_budget"]
    assert "ratio" in ran.stdout and "by topic" in ran.stdout
    summary = subprocess.run([sys.executable, "-m", "harness", "bench", "--summary", str(out)],
                             capture_output=True, text=True, timeout=60)
    assert summary.returncode == 0 and data["python"] in summary.stdout, summary
    assert "by topic" in summary.stdout and "by backend" in summary.stdout, summary.stdout


def test_bench_fails_above_its_ratio_budget(tmp_path):
    """The budget is wired: over it, bench exits 3 (the number is README's; no time is
    judged here, the budget is set below any possible ratio)."""
    from harness.bench import OVER_BUDGET, cpython_command

    if cpython_command("fork", "test_current", str(tmp_path)) is None:
        pytest.skip("this interpreter ships no CPython multiprocessing tests")
    ran = subprocess.run(
        [sys.executable, "-m", "harness", "bench", "--methods", "fork",
         "--cpython-tests", "test_current", "--max-ratio", "0",
         "--claim", "LIFE-001", "--backend", "fork", "-n", "0"],
        capture_output=True, text=True, timeout=300)
    assert ran.returncode == OVER_BUDGET, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "OVER the budget of 0.0" in ran.stdout


def test_readme_states_the_budget_bench_enforces():
    from harness.bench import RATIO_BUDGET
    from harness.kit import CHECKOUT

    if CHECKOUT is None:
        pytest.skip("README.md is in the checkout")
    assert f"budget of {RATIO_BUDGET}" in (CHECKOUT / "README.md").read_text(encoding="utf-8")


def test_bench_names_the_harness_modules_without_a_bytecode_cache(tmp_path, monkeypatch):
    import compileall

    import harness
    from harness import bench

    package = tmp_path / "harness"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "module.py").write_text("x = 1\n")
    monkeypatch.setattr(harness, "__file__", str(package / "__init__.py"))
    assert bench.uncompiled_modules() == ["__init__.py", "sub/module.py"]
    assert compileall.compile_dir(str(package), quiet=1)
    assert bench.uncompiled_modules() == []


def test_a_verdict_in_bench_is_printed_with_its_message_and_fails_the_run(tmp_path):
    """A red verify in bench (on a healthy CPython: a false alarm) names the test and its
    verdict, in the output and the JSON, and bench exits 1 whatever the ratio."""
    from harness.bench import cpython_command

    if cpython_command("fork", "test_current", str(tmp_path)) is None:
        pytest.skip("this interpreter ships no CPython multiprocessing tests")
    out = tmp_path / "bench.json"
    ran = subprocess.run(
        [sys.executable, "-m", "harness", "bench", "--methods", "fork",
         "--cpython-tests", "test_current", "--json", str(out), "--max-ratio", "1000",
         "--claim", "LIFE-016", "--backend", "control:terminate-noop", "-n", "0"],
        capture_output=True, text=True, timeout=300)
    assert ran.returncode == 1, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "procspec verify VERDICT: tests/test_lifecycle.py::" in ran.stdout, ran.stdout
    (data,) = json.loads(out.read_text())["runs"]
    (failed,) = data["verify"]["not_green"]
    assert failed["outcome"] == "verdict" and "LIFE-016" in failed["message"], failed
