"""``python -m harness soak``: the join-timing claims, over and over, with every core busy.

Each run (1) runs the join tests (``-m join``) under ``pytest -n auto`` against the real
backends (fork, spawn, forkserver by default) with ``CI=true`` (the ci profile), and counts
every failure as a false alarm; then (2) runs, also under ``-n auto``, each negative
control of the join claims against exactly the tests of the claims it must break
(``controls`` profile), and counts a control as detected in that run when every one of
those claims failed. Meanwhile ``stress-ng --cpu N`` (N = the number of cores) keeps
every core busy, or, when stress-ng is absent, one built-in busy-loop process per core.

At the end it prints: runs, false alarms per real backend, second opinions (how often a
calibrated bound failed once and held on the second run; from ``PROCSPEC_TIMING_LOG``),
detection rate per control, and the wall time of the real-backend runs.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any, Optional, Sequence

from harness.kit import KIT_ROOT, TESTS_DIR
from harness.outcomes import RED as FAILING
from harness.suite import pytest_command, suite_cwd
from harness.supervise import run_program

JOIN_TESTS = TESTS_DIR / "test_join_timing.py"
JOIN_PREFIX = "JOIN-"


def test_claims(path: os.PathLike = JOIN_TESTS) -> dict[str, set[str]]:
    """Test function name -> the claim IDs of its ``@pytest.mark.claim(...)``."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    found: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            ids: set[str] = set()
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "attr", "") == "claim":
                    ids.update(a.value for a in deco.args
                               if isinstance(a, ast.Constant) and isinstance(a.value, str))
            found[node.name] = ids
    return found


def join_controls() -> dict[str, Any]:
    from harness.controls import all_controls

    return {name: c for name, c in all_controls().items()
            if c.context is not None and any(cid.startswith(JOIN_PREFIX) for cid in c.breaks)}


class Load:
    """Keep ``cores`` busy (more than the machine has: oversubscribed): stress-ng when
    installed, else busy-loop processes (procspec's own burner)."""

    def __init__(self, cores: int) -> None:
        self.cores = cores
        self.procs: list[subprocess.Popen] = []
        self.kind = "none"

    def start(self) -> None:
        stress = shutil.which("stress-ng")
        if stress:
            self.kind = f"stress-ng --cpu {self.cores}"
            cmd = [stress, "--cpu", str(self.cores), "--quiet"]
            self.procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL,
                                           start_new_session=True)]
        else:
            self.kind = f"built-in burner x {self.cores}"
            self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                           start_new_session=True)
                          for _ in range(self.cores)]

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # our own session: stress-ng + workers
            except OSError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []


def _outcomes(results: str) -> list[dict[str, Any]]:
    try:
        with open(results, encoding="utf-8") as fh:
            return list(json.load(fh)["tests"])
    except (OSError, ValueError, KeyError):
        return []


def _pytest(args: Sequence[str], env: dict[str, str], timeout: float) -> tuple[int, float, str]:
    began = time.monotonic()
    # Own session: a run that overstays is killed with its workers and their children.
    ran = run_program(pytest_command(list(args)), timeout, cwd=suite_cwd(), env=env)
    out = ran.stdout[-3000:] + ran.stderr[-2000:]
    if ran.timed_out or ran.returncode is None:
        return -1, time.monotonic() - began, f"timed out after {timeout} s\n{out}"
    return ran.returncode, time.monotonic() - began, out


def soak(runs: int, backends: Sequence[str], controls: Optional[Sequence[str]],
         workers: str, stress: bool, timeout: float, log_dir: Optional[str],
         stress_cpus: Optional[int] = None, claims: Sequence[str] = ()) -> int:
    chosen = join_controls()
    if controls is not None:
        chosen = {n: c for n, c in chosen.items() if n in controls}
    claims_of = test_claims()
    if claims:
        claims_of = {test: ids for test, ids in claims_of.items() if ids & set(claims)}
        chosen = {n: c for n, c in chosen.items() if c.breaks & set(claims)}
    work = log_dir or tempfile.mkdtemp(prefix="procspec-soak-")
    os.makedirs(work, exist_ok=True)
    timing_log = os.path.join(work, "timing.jsonl")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    base_env["PROCSPEC_TIMING_LOG"] = timing_log
    load = Load(stress_cpus or os.cpu_count() or 2)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill PID` still stops the load and sums up
    if stress:
        load.start()
    false_alarms: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    detected: Counter[str] = Counter()
    walls: list[float] = []
    alarms: list[str] = []
    print(f"procspec soak: {runs} run(s); load: {load.kind}; backends {', '.join(backends)}; "
          f"controls {', '.join(sorted(chosen)) or '-'}; logs in {work}", flush=True)
    try:
        for run in range(1, runs + 1):
            results = os.path.join(work, f"real-{run}.json")
            args = [str(JOIN_TESTS), "-m", "join", "-q", "-n", workers, "-p", "no:randomly",
                    "--results-json", results, *[f"--claim={cid}" for cid in claims]]
            for name in backends:
                args += ["--backend", name]
            code, wall, out = _pytest(args, dict(base_env, CI="true"), timeout)
            tests = _outcomes(results)
            caught = _controls_run(run, chosen, claims_of, work, base_env, workers, timeout)
            # Counted only once the run is complete (an interrupted run does not count).
            walls.append(wall)
            for test in tests:
                judged[test["subject"]] += 1
                if test["outcome"] in FAILING:
                    false_alarms[test["subject"]] += 1
                    alarms.append(f"run {run}: {test['nodeid']}\n{test['message'][-1500:]}")
            if not tests:
                alarms.append(f"run {run}: no results (exit {code})\n{out}")
            line = (f"run {run:3}: real backends {wall:6.1f} s wall, "
                    f"{sum(t['outcome'] in FAILING for t in tests)} failed of {len(tests)}")
            for name, ok in caught.items():
                detected[name] += ok
            missed = sorted(n for n, ok in caught.items() if not ok)
            line += f"; controls caught {sum(caught.values())}/{len(caught)}"
            line += f" (missed: {', '.join(missed)})" if missed else ""
            print(line + f"; load {os.getloadavg()[0]:.1f}", flush=True)
    except KeyboardInterrupt:
        print("interrupted: summary of the runs so far", flush=True)
        runs = len(walls)
    finally:
        load.stop()
    return _summary(runs, walls, judged, false_alarms, detected, chosen, timing_log, alarms)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _controls_run(run: int, chosen: dict[str, Any], claims_of: dict[str, set[str]],
                  work: str, env: dict[str, str], workers: str,
                  timeout: float) -> dict[str, bool]:
    if not chosen:
        return {}
    results = os.path.join(work, f"controls-{run}.json")
    node_ids = [f"{JOIN_TESTS.relative_to(KIT_ROOT)}::{test}[control:{name}]"
                for name, control in sorted(chosen.items())
                for test, ids in sorted(claims_of.items()) if ids & control.breaks]
    args = [*node_ids, "-q", "-n", workers, "-p", "no:randomly",
            "--hypothesis-profile=controls", "--results-json", results]
    for name in sorted(chosen):
        args += ["--backend", f"control:{name}"]
    _pytest(args, env, timeout)
    failed: dict[str, set[str]] = defaultdict(set)
    for test in _outcomes(results):
        if test["outcome"] in FAILING:
            failed[test["subject"]].update(test["claims"])
    in_scope = set().union(*claims_of.values())
    return {name: control.breaks & in_scope <= failed[f"control:{name}"]
            for name, control in chosen.items()}


def _summary(runs: int, walls: list[float], judged: Counter, false_alarms: Counter,
             detected: Counter, chosen: dict[str, Any], timing_log: str,
             alarms: list[str]) -> int:
    print(f"\n== soak summary: {runs} run(s)")
    if walls:
        print(f"wall time of the join tests on the real backends: min {min(walls):.1f} s, "
              f"median {statistics.median(walls):.1f} s, max {max(walls):.1f} s")
    for subject in sorted(judged):
        print(f"false alarms on {subject:12} {false_alarms[subject]:3} "
              f"of {judged[subject]} test runs")
    firsts, seconds, held = _second_opinions(timing_log)
    print(f"calibrated judgements on real backends: {firsts}; needed a second run: "
          f"{seconds}; held on the second run: {held}")
    for line in _models_seen(timing_log):
        print(line)
    for name in sorted(chosen):
        rate = 100.0 * detected[name] / runs if runs else 0.0
        print(f"detection {name:24} {detected[name]:3}/{runs} ({rate:.0f}%)  "
              f"breaks {', '.join(sorted(chosen[name].breaks))}")
    for text in alarms[:5]:
        print("\n-- false alarm --\n" + text)
    ok = not sum(false_alarms.values()) and all(detected[n] == runs for n in chosen)
    return 0 if ok else 1


def _second_opinions(path: str) -> tuple[int, int, int]:
    firsts = seconds = held = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                entry = json.loads(line)
                if entry["backend"].startswith("control:"):
                    continue
                firsts += 1
                if entry["attempts"] == 2:
                    seconds += 1
                    held += bool(entry["ok"])
    except OSError:
        pass
    return firsts, seconds, held


def _models_seen(path: str) -> list[str]:
    """Median and range of the overhead model per start method, over every judgement."""
    seen: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                model = json.loads(line).get("model")
                if model:
                    for key in ("fixed", "per_child", "exit"):
                        seen[model["start_method"]][key].append(model[key] * 1000)
    except OSError:
        return []
    lines = []
    for method, values in sorted(seen.items()):
        parts = [f"{key} median {statistics.median(v):.0f} ms ({min(v):.0f}-{max(v):.0f})"
                 for key, v in values.items()]
        lines.append(f"overhead model seen, {method}: " + "; ".join(parts))
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=20, help="soak runs (default 20)")
    parser.add_argument("--backend", action="append", default=[],
                        help="real backend (repeatable; default fork, spawn, forkserver)")
    parser.add_argument("--control", action="append", default=None,
                        help="only this join control (repeatable; default all)")
    parser.add_argument("--workers", default="auto", help="pytest -n value (default auto)")
    parser.add_argument("--no-stress", action="store_true",
                        help="do not load the cores (measure the quiet machine)")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds one pytest run may take (default 900)")
    parser.add_argument("--log-dir", default=None, help="keep results and logs here")
    parser.add_argument("--stress-cpus", type=int, default=None,
                        help="stress-ng --cpu N (default: the number of cores)")
    parser.add_argument("--claim", action="append", default=[],
                        help="only the tests of this join claim (repeatable; default all)")


def run(args: argparse.Namespace) -> int:
    from harness.backends import stdlib_method_names

    return soak(args.runs, args.backend or stdlib_method_names(), args.control,
                args.workers, not args.no_stress, args.timeout, args.log_dir,
                args.stress_cpus, args.claim)


if __name__ == "__main__":
    sys.exit(main())
