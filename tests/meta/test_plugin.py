"""The pytest plugin's own guarantees: leak guard, claim bookkeeping, selection, results,
verdicts versus inconclusive results, usage errors, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from xml.etree import ElementTree

import psutil
import pytest

pytestmark = pytest.mark.meta

# The plugin registers its markers itself: a project that loads it under --strict-markers
# needs no marker configuration of its own.
INI = """
[pytest]
addopts = --strict-markers
"""


@pytest.fixture
def plugin_run(pytester):
    """Run pytest in a scratch directory with procspec's plugin; return the run result."""
    pytester.makeini(INI)

    def run(source: str, *args: str):
        pytester.makepyfile(test_scratch=source)
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    return run


LEAKY = """
import subprocess, sys, pytest
from harness.verdict import holds

KEPT = []  # no ResourceWarning from a collected Popen in a later test

@pytest.mark.claim("LIFE-001")
def test_leaves_a_running_child():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    KEPT.append(proc)
    with open("leaked.pid", "w") as fh:
        fh.write(str(proc.pid))
    holds(True)

@pytest.mark.claim("LIFE-001")
def test_leaves_an_unreaped_child():
    import multiprocessing, time
    multiprocessing.get_context("fork").Process(target=time.sleep, args=(0,)).start()
    time.sleep(0.3)
    holds(True)

@pytest.mark.claim("LIFE-001")
def test_reaps_its_child():
    import multiprocessing
    p = multiprocessing.get_context("fork").Process(target=len, args=("",))
    p.start(); p.join(10)
    holds(True)
"""


def test_a_test_that_leaves_a_child_behind_fails_and_the_child_is_killed(plugin_run,
                                                                          pytester):
    result = plugin_run(LEAKY)
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*child processes left behind by this test*"])
    leaked = int((pytester.path / "leaked.pid").read_text())
    assert not psutil.pid_exists(leaked) or \
        psutil.Process(leaked).status() == psutil.STATUS_ZOMBIE


def test_unknown_claim_ids_error_and_another_projects_tests_are_left_alone(plugin_run):
    result = plugin_run("""
import pytest, subprocess, sys

@pytest.mark.claim("LIFE-999")
def test_names_a_claim_that_does_not_exist(): pass

def test_of_another_project_that_leaves_a_child():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
""")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*claim bookkeeping: claim LIFE-999 is not in specs/*"])


def test_claim_option_selects_tests_and_results_json_records_them(plugin_run, pytester):
    result = plugin_run("""
import pytest
from harness.verdict import holds, premise, violated

@pytest.mark.claim("LIFE-001")
def test_one(): pass

@pytest.mark.claim("LIFE-002")
def test_two(): holds(False) or violated("LIFE-002", "a refusal", "none")
""", "--claim", "LIFE-002", "--results-json", "out.json")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*claim x implementation*", "LIFE-002*FAIL 1/1*"])
    tests = json.loads((pytester.path / "out.json").read_text())["tests"]
    assert [(t["claims"], t["outcome"], t["verdict_claims"]) for t in tests] == \
        [(["LIFE-002"], "verdict", ["LIFE-002"])]


VERDICTS = """
import subprocess, sys, time
import pytest
from hypothesis import given, strategies as st
from harness.verdict import holds, premise, violated

@pytest.mark.claim("LIFE-001")
def test_fails_with_its_own_verdict():
    holds(False) or violated("LIFE-001", "pid None", 42)

@pytest.mark.claim("LIFE-001")
@given(n=st.integers(0, 10))
def test_a_property_fails_with_its_own_verdict(n):
    holds(n < 5) or violated("LIFE-001", "n < 5", n)

SEEN, CALLS = [], []

@pytest.mark.claim("LIFE-001")
@given(n=st.integers(0, 10))
def test_fails_once_then_passes(n):
    SEEN.append(n)
    holds(len(SEEN) != 1) or violated("LIFE-001", "n anything", n)

@pytest.mark.claim("LIFE-001")
@given(n=st.integers(0, 10))
def test_fails_every_time_at_alternating_places(n):
    CALLS.append(n)
    if len(CALLS) % 2:
        holds(False) or violated("LIFE-001", "a", "first place")
    holds(False) or violated("LIFE-001", "a", "second place")

@pytest.mark.claim("LIFE-001")
def test_fails_with_another_claims_verdict():
    holds(False) or violated("LIFE-002", "an AssertionError", None)

@pytest.mark.claim("LIFE-001")
def test_crashes():
    raise RuntimeError("the harness broke")

@pytest.mark.claim("LIFE-001")
def test_plain_assert():
    assert 1 == 2

@pytest.mark.claim("LIFE-001")
@pytest.mark.timeout(1)
def test_times_out():
    time.sleep(30)

@pytest.fixture
def broken_fixture():
    raise OSError("no such server")

@pytest.mark.claim("LIFE-001")
def test_errors_in_setup(broken_fixture):
    pass

KEPT = []

@pytest.mark.claim("LIFE-001")
def test_verdict_then_a_leak():
    KEPT.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
    holds(False) or violated("LIFE-001", "nothing", "something")
"""


def test_only_a_tests_own_violation_is_a_verdict_everything_else_is_inconclusive(
        plugin_run, pytester):
    result = plugin_run(VERDICTS, "--results-json", "out.json", "--junitxml", "out.xml")
    tests = {t["nodeid"].split("::")[1]: t for t in
             json.loads((pytester.path / "out.json").read_text())["tests"]}
    kinds = {name: t["outcome"] for name, t in tests.items()}
    assert kinds == {
        "test_fails_with_its_own_verdict": "verdict",
        "test_a_property_fails_with_its_own_verdict": "verdict",
        "test_fails_once_then_passes": "inconclusive",
        "test_fails_every_time_at_alternating_places": "verdict",
        "test_fails_with_another_claims_verdict": "inconclusive",
        "test_crashes": "inconclusive",
        "test_plain_assert": "inconclusive",
        "test_times_out": "inconclusive",
        "test_errors_in_setup": "inconclusive",
        "test_verdict_then_a_leak": "verdict",
    }, kinds
    leak = tests["test_verdict_then_a_leak"]
    assert "LIFE-001 does not hold" in leak["message"]
    assert any("child processes left behind" in note for note in leak["notes"]), leak
    result.stdout.fnmatch_lines(["LIFE-001*FAIL 4/10*",
                                 "*6 test(s) inconclusive: they failed without a verdict*"])
    # --junitxml carries each test's claims, subject and kind, for any CI that reads JUnit
    cases = ElementTree.parse(pytester.path / "out.xml").getroot().iter("testcase")
    junit = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
             for case in cases}
    assert {name: props.get("kind") for name, props in junit.items()} == kinds, junit
    assert junit["test_fails_with_its_own_verdict"]["claims"] == "['LIFE-001']"


def test_a_skipped_test_makes_its_claim_partial_and_the_missing_tool_is_named(plugin_run):
    result = plugin_run("""
import pytest
from harness import tools
from harness.verdict import holds

@pytest.mark.claim("LIFE-001")
def test_runs(): holds(True)

@pytest.mark.claim("LIFE-001")
def test_needs_a_tool(): tools.require("procspec-no-such-tool")

@pytest.mark.claim("LIFE-002")
def test_only_needs_a_tool(): tools.require("procspec-no-such-tool")
""")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["LIFE-001*partial 1/2*", "LIFE-002*skip*",
                                 "procspec: procspec-no-such-tool is not installed*"])


@pytest.mark.parametrize("args, says", [
    (("--backend", "nosuchmodule"), "ERROR: --backend: backend 'nosuchmodule': *"),
    (("--backend", "os:getcwd"), "ERROR: --backend: backend 'os:getcwd': * no Process*"),
    (("--claim", "LIFE-999"), "ERROR: --claim 'LIFE-999': no such claim*"),
    (("-m", "nosuchmarker"), "ERROR: -m 'nosuchmarker': unknown marker 'nosuchmarker'*"),
    (("-m", "lifecycle and ("), "ERROR: -m 'lifecycle and (': not a marker expression*"),
    (("--echo-server", "python -c 'print(1)'"),
     "ERROR: --echo-server \"python -c 'print(1)'\": *{port}*"),
    (("--echo-server", f"{sys.executable} -c 'import sys; sys.exit(3)' {{port}}"),
     "ERROR: --echo-server *exited*3*"),
])
def test_a_bad_option_is_one_line_and_a_usage_error_also_under_xdist(pytester, args, says):
    pytester.makeini(INI)
    pytester.makepyfile(test_scratch="def test_nothing(): pass")
    result = pytester.runpytest_subprocess("-n", "2", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, result.stderr.str()
    result.stderr.fnmatch_lines([says])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()



def test_a_python_without_the_kits_dependencies_gets_one_line_and_a_usage_error(pytester):
    # The kit's metadata found in the working directory (as a checkout's egg-info is, by
    # any interpreter run there with -m pytest), naming a dependency this Python lacks.
    info = pytester.path / "procspec_kit-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: procspec-kit\nVersion: 0.0.0\n"
        "Requires-Dist: procspec-no-such-dependency>=1\nRequires-Dist: pytest>=8.0\n"
        "Requires-Dist: billiard>=4.2; extra == \"test\"\n")
    (info / "entry_points.txt").write_text("[pytest11]\nprocspec = harness.pytest_plugin\n")
    pytester.makepyfile(test_scratch="def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, result.stderr.str()
    result.stderr.fnmatch_lines(["ERROR: procspec: this Python * lacks the kit's dependencies: "
                                 "procspec-no-such-dependency>=1 (not installed); install*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()

LEFT_RUNNING = """
import multiprocessing, time
import pytest
from harness.verdict import holds

@pytest.mark.claim("LIFE-001")
@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_leaves_a_child_running(method):
    proc = multiprocessing.get_context(method).Process(target=time.sleep, args=(60,))
    proc.start()
    with open(f"{method}.pid", "w") as fh:
        fh.write(str(proc.pid))
    holds(True)  # a judgement: a claim test that judged nothing would be unjudged
"""


def test_a_child_left_running_fails_its_test_under_every_start_method(plugin_run, pytester):
    result = plugin_run(LEFT_RUNNING)
    result.assert_outcomes(passed=3, errors=3)
    for method in ("forkserver", "spawn", "fork"):
        pid = int((pytester.path / f"{method}.pid").read_text())
        deadline = time.monotonic() + 10  # the fork server reaps its own child
        while psutil.pid_exists(pid) and psutil.Process(pid).status() != \
                psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not psutil.pid_exists(pid) or \
            psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, method
    result.stdout.fnmatch_lines(["*test_leaves_a_child_running?forkserver?*",
                                 "*child processes left behind by this test*"])


WAITS_FOR_SIGTERM = """
import multiprocessing, os, time
import pytest

@pytest.mark.claim("ECHO-001")
def test_holds_a_server_and_a_child(echo_server):
    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
    child.start()
    with open(f"pids.{os.getpid()}.tmp", "w") as fh:
        fh.write(f"{echo_server.pid} {child.pid} {os.getpid()}")
    os.replace(f"pids.{os.getpid()}.tmp", "pids")
    time.sleep(120)  # until SIGTERM
"""


@pytest.mark.parametrize("target", ["controller", "worker"])
def test_sigterm_tears_down_like_sigint_nothing_outlives_the_run(pytester, target):
    pytester.makeini(INI)
    pytester.makepyfile(test_scratch=WAITS_FOR_SIGTERM)
    log = pytester.path / "out.txt"
    with open(log, "w") as out:
        run = pytester.popen([sys.executable, "-m", "pytest",
                              "-p", "no:cacheprovider", "-n", "1", "--backend", "fork"],
                             stdout=out, stderr=out)
    try:
        pids_file = pytester.path / "pids"
        deadline = time.monotonic() + 60
        while not pids_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pids_file.exists(), log.read_text()
        server, child, worker = map(int, pids_file.read_text().split())
        os.kill(run.pid if target == "controller" else worker, signal.SIGTERM)
        run.wait(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(10)
    deadline = time.monotonic() + 10
    alive = [p for p in (server, child, worker) if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if _running(p)]
    assert not alive, f"outlived the run: {alive}\n" + log.read_text()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
