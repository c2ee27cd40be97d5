"""The pytest plugin's own guarantees: leak guard, claim bookkeeping, selection, results."""

from __future__ import annotations

import json

import psutil
import pytest

pytestmark = pytest.mark.meta

INI = """
[pytest]
markers =
    claim(*ids): claim IDs
    meta: meta
"""


@pytest.fixture
def plugin_run(pytester):
    """Run pytest in a scratch directory with procspec's plugin; return the run result."""
    pytester.makeini(INI)

    def run(source: str, *args: str):
        pytester.makepyfile(test_scratch=source)
        return pytester.runpytest_subprocess("-p", "harness.pytest_plugin", "-p",
                                             "no:cacheprovider", *args)
    return run


LEAKY = """
import subprocess, sys, pytest

@pytest.mark.claim("LIFE-001")
def test_leaves_a_running_child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    open("leaked.pid", "w").write(str(proc.pid))

@pytest.mark.claim("LIFE-001")
def test_leaves_an_unreaped_child():
    import multiprocessing, time
    multiprocessing.get_context("fork").Process(target=time.sleep, args=(0,)).start()
    time.sleep(0.3)

@pytest.mark.claim("LIFE-001")
def test_reaps_its_child():
    import multiprocessing
    p = multiprocessing.get_context("fork").Process(target=len, args=("",))
    p.start(); p.join(10)
"""


def test_a_test_that_leaves_a_child_behind_fails_and_the_child_is_killed(plugin_run,
                                                                          pytester):
    result = plugin_run(LEAKY)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*child processes left behind by this test*"])
    leaked = int((pytester.path / "leaked.pid").read_text())
    assert not psutil.pid_exists(leaked) or \
        psutil.Process(leaked).status() == psutil.STATUS_ZOMBIE


def test_unknown_claim_ids_and_unbound_tests_error(plugin_run):
    result = plugin_run("""
import pytest

@pytest.mark.claim("LIFE-999")
def test_names_a_claim_that_does_not_exist(): pass

def test_names_no_claim(): pass
""")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*claim bookkeeping: claim LIFE-999 is not in specs/*",
                                 "*claim bookkeeping: no @pytest.mark.claim(...)*"])


def test_claim_option_selects_tests_and_results_json_records_them(plugin_run, pytester):
    result = plugin_run("""
import pytest

@pytest.mark.claim("LIFE-001")
def test_one(): pass

@pytest.mark.claim("LIFE-002")
def test_two(): assert False, "broken on purpose"
""", "--claim", "LIFE-002", "--results-json", "out.json")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*claim x implementation*", "LIFE-002*FAIL 1/1*"])
    tests = json.loads((pytester.path / "out.json").read_text())["tests"]
    assert [(t["claims"], t["outcome"]) for t in tests] == [(["LIFE-002"], "failed")]
