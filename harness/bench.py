"""``python -m harness bench``: procspec's ``verify`` against CPython's own process tests.

Runs, back to back on this interpreter: procspec's ``verify`` (every claim, the default
backends or those given with ``--backend``, the ``ci`` Hypothesis profile, ``-n auto``,
``CI=true``), then CPython's ``WithProcessesTestProcess`` tests under each start method
(``python -m test test_multiprocessing_<method>.test_processes -m WithProcessesTestProcess``
on 3.12+; ``python -m test test_multiprocessing_<method> -m ...`` before; when the
interpreter ships only ``test._test_multiprocessing``, the same classes installed the way
those modules install them and run with ``unittest``). Prints both wall times, their
ratio, the load average around each, and where verify's time went (test time per topic and
per backend, and the slowest tests). Each command's CPU time (user + system, of every
process it waited for) is printed beside it, with the CPU ratio: verify is CPU-bound on a
small machine, and its CPU time barely moves with other work on the machine, which the
wall time does (the budget judges the wall ratio).

``--runs N`` measures N pairs one after the other and judges their median ratio; the run
exits 3 when that median is above ``--max-ratio`` (default :data:`RATIO_BUDGET`, the number
README.md states), so the claim that makes verify too slow shows up in the run that adds
it. ``--summary FILE...`` prints one row per Python from earlier ``--json`` files (tox:
``tox -e py39-bench,py310-bench,...`` then ``python -m harness bench --summary
.tox/bench/*.json``). The meta-tests check the budget's wiring, never a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional, Sequence

from harness import outcomes as kinds
from harness.kit import TESTS_DIR
from harness.supervise import run_program

#: The most verify may cost, as a multiple of CPython's own process tests on the same
#: interpreter (median of the runs): README.md states the same number.
RATIO_BUDGET = 1.5

#: The exit status of a bench whose median ratio is over the budget.
OVER_BUDGET = 3

#: CPython's test classes for ``multiprocessing.Process`` (23 tests per start method).
CPYTHON_TESTS = "WithProcessesTestProcess"
METHODS = ("fork", "spawn", "forkserver")

_DRIVER = '''import unittest
from test._test_multiprocessing import install_tests_in_module_dict

install_tests_in_module_dict(globals(), {method!r}, only_type="processes")
'''


#: How unittest, regrtest and pytest say how many tests ran.
_COUNTS = re.compile(r"Ran \d+ tests?|Total tests: run=\S+|\d+ passed[^\n=]*")


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


@dataclass
class Timed:
    """One command's wall time and status."""

    label: str
    argv: list[str]
    seconds: float
    returncode: int
    load_before: str
    load_after: str
    tail: str = ""
    cpu: Optional[float] = None
    """User + system CPU seconds of the command and every process it waited for (None
    where the OS does not say): unlike the wall time, hardly changed by other work on the
    machine, so it shows what a change saved when the load varies between runs."""


def _children_cpu() -> Optional[float]:
    """User + system CPU seconds of this process's reaped children so far."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(label: str, argv: list[str], cwd: Optional[str] = None,
           env: Optional[dict[str, str]] = None) -> Timed:
    before = loadavg()
    cpu_before = _children_cpu()
    started = time.monotonic()
    # In its own session, the command line's SIGINT/SIGTERM passed on (harness.interrupts).
    ran = run_program(argv, None, cwd=cwd, env=env)
    seconds = time.monotonic() - started
    cpu_after = _children_cpu()
    output = ran.stdout + ran.stderr
    counted = _COUNTS.findall(output)
    return Timed(label, argv, seconds, -1 if ran.returncode is None else ran.returncode,
                 before, loadavg(), counted[-1] if counted else output.strip()[-200:],
                 None if cpu_before is None or cpu_after is None
                 else round(cpu_after - cpu_before, 2))


# --- CPython's tests -------------------------------------------------------------------

def cpython_command(method: str, tests: str, workdir: str) -> Optional[list[str]]:
    """How to run CPython's ``tests`` for ``method`` on this interpreter (None: its ``test``
    package lacks the multiprocessing tests)."""
    def found(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    package = f"test.test_multiprocessing_{method}"
    if found(f"{package}.test_processes"):
        return [sys.executable, "-m", "test", f"test_multiprocessing_{method}.test_processes",
                "-m", tests]
    if found(package):
        return [sys.executable, "-m", "test", f"test_multiprocessing_{method}", "-m", tests]
    if found("test._test_multiprocessing"):
        module = f"procspec_bench_mp_{method}"
        with open(os.path.join(workdir, f"{module}.py"), "w", encoding="utf-8") as fh:
            fh.write(_DRIVER.format(method=method))
        return [sys.executable, "-m", "unittest", "-k", tests, module]
    return None


def run_cpython(methods: Sequence[str], tests: str = CPYTHON_TESTS) -> list[Timed]:
    with tempfile.TemporaryDirectory(prefix="procspec-bench-") as workdir:
        runs = []
        for method in methods:
            argv = cpython_command(method, tests, workdir)
            if argv is None:
                raise SystemExit(
                    "procspec bench: this interpreter has no CPython multiprocessing tests "
                    f"(test._test_multiprocessing); on Debian: apt-get install "
                    f"libpython{sys.version_info[0]}.{sys.version_info[1]}-testsuite")
            runs.append(_timed(f"cpython {method}", argv, cwd=workdir))
        return runs


# --- procspec's verify -----------------------------------------------------------------

@dataclass
class VerifyRun:
    timed: Timed
    tests: list[dict] = field(default_factory=list)

    def breakdown(self, key: str) -> dict[str, tuple[int, float]]:
        """Test count and summed test time by ``key``: ``topic`` (the claims' prefix) or
        ``subject`` (the backend or server)."""
        sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        for test in self.tests:
            if key == "topic":
                name = ",".join(sorted({c.split("-")[0] for c in test["claims"]})) or "-"
            else:
                name = str(test.get("subject", "-"))
            sums[name][0] += 1
            sums[name][1] += float(test.get("duration") or 0.0)
        return {k: (int(v[0]), v[1]) for k, v in sorted(sums.items())}

    def slowest(self, n: int = 8) -> list[tuple[float, str]]:
        return sorted(((float(t.get("duration") or 0.0), t["nodeid"]) for t in self.tests),
                      reverse=True)[:n]

    def not_green(self) -> list[dict]:
        """The tests that failed (a verdict or inconclusive): a healthy implementation's run
        has none, so each is a false alarm to be found; their messages are kept."""
        return [{"nodeid": t["nodeid"], "outcome": t["outcome"],
                 "message": (t.get("message") or "")[-2000:]}
                for t in self.tests if t["outcome"] in (kinds.VERDICT, kinds.INCONCLUSIVE)]

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for test in self.tests:
            counts[test["outcome"]] += 1
        return dict(sorted(counts.items()))


def run_verify(pytest_args: Sequence[str]) -> VerifyRun:
    from harness.results import read
    from harness.suite import pytest_command, suite_cwd

    with tempfile.TemporaryDirectory(prefix="procspec-bench-") as tmp:
        results = os.path.join(tmp, "results.json")
        args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-n", "auto",
                "--hypothesis-profile=ci", "--results-json", results, *pytest_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["CI"] = "true"
        timed = _timed("procspec verify", pytest_command(args), cwd=suite_cwd(), env=env)
        tests = read(results).tests if os.path.exists(results) else []
        return VerifyRun(timed, tests)


def uncompiled_modules() -> list[str]:
    """The harness's modules without an up-to-date bytecode cache. Where the interpreter
    writes none (``PYTHONDONTWRITEBYTECODE``, as in some CI images), every interpreter a
    run starts (a spawn child, an echo server and each of its handlers) compiles them again:
    measured in a fresh clone here, verify took 31.6-32.8 s, and 30.0-30.7 s once
    ``python -m compileall`` had written them."""
    import importlib.util

    import harness

    root = os.path.dirname(os.path.abspath(harness.__file__))
    stale = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                source = os.path.join(folder, name)
                cache = importlib.util.cache_from_source(source)
                if not os.path.exists(cache) or \
                        os.path.getmtime(cache) < os.path.getmtime(source):
                    stale.append(os.path.relpath(source, root))
    return sorted(stale)


# --- the report ------------------------------------------------------------------------

def report(verify: VerifyRun, cpython: list[Timed]) -> dict:
    cp_total = sum(t.seconds for t in cpython)
    cp_cpu = None if any(t.cpu is None for t in cpython) else sum(t.cpu or 0.0 for t in cpython)
    return {
        "python": sys.version.split()[0],
        "verify": {"seconds": round(verify.timed.seconds, 2),
                   "cpu_seconds": verify.timed.cpu,
                   "returncode": verify.timed.returncode,
                   "load_before": verify.timed.load_before,
                   "load_after": verify.timed.load_after,
                   "outcomes": verify.outcomes(),
                   "by_topic": {k: {"tests": n, "seconds": round(s, 2)}
                                for k, (n, s) in verify.breakdown("topic").items()},
                   "by_subject": {k: {"tests": n, "seconds": round(s, 2)}
                                  for k, (n, s) in verify.breakdown("subject").items()},
                   "slowest": [[round(s, 2), n] for s, n in verify.slowest()],
                   "not_green": verify.not_green()},
        "cpython": {"seconds": round(cp_total, 2),
                    "cpu_seconds": None if cp_cpu is None else round(cp_cpu, 2),
                    "runs": [{"label": t.label, "seconds": round(t.seconds, 2),
                              "cpu_seconds": t.cpu,
                              "returncode": t.returncode, "load_before": t.load_before,
                              "load_after": t.load_after, "ran": t.tail,
                              "argv": t.argv[1:]}
                             for t in cpython]},
        "ratio": round(verify.timed.seconds / cp_total, 2) if cp_total else None,
        "cpu_ratio": round(verify.timed.cpu / cp_cpu, 2)
        if verify.timed.cpu is not None and cp_cpu else None,
        "writes_bytecode": not sys.dont_write_bytecode,
        "uncompiled_modules": len(uncompiled_modules()),
    }


def render(data: dict) -> str:
    v, cp = data["verify"], data["cpython"]

    def cpu(seconds: Optional[float]) -> str:
        return "" if seconds is None else f"cpu {seconds:.1f} s; "

    lines = [f"procspec bench on Python {data['python']}",
             f"procspec verify   {v['seconds']:8.1f} s  ({cpu(v.get('cpu_seconds'))}"
             f"exit {v['returncode']}; load "
             f"{v['load_before']} -> {v['load_after']}; "
             + ", ".join(f"{n} {k}" for k, n in v["outcomes"].items()) + ")"]
    for run in cp["runs"]:
        lines.append(f"{run['label']:17} {run['seconds']:8.1f} s  ({cpu(run.get('cpu_seconds'))}"
                     f"exit {run['returncode']}; load {run['load_before']} -> "
                     f"{run['load_after']}; {run['ran']})")
    total_cpu = cp.get("cpu_seconds")
    lines.append(f"cpython total     {cp['seconds']:8.1f} s"
                 + ("" if total_cpu is None else f"  (cpu {total_cpu:.1f} s: user + system)"))
    lines.append(f"ratio             {data['ratio']}  (cpu {data.get('cpu_ratio')})")
    if data["uncompiled_modules"] and not data["writes_bytecode"]:
        lines.append(f"note: {data['uncompiled_modules']} harness modules have no bytecode "
                     "cache and this interpreter writes none (PYTHONDONTWRITEBYTECODE): every "
                     "child compiled them again; python -m compileall -q harness first")
    lines.append("verify's test time by topic (summed over xdist workers):")
    for name, row in v["by_topic"].items():
        lines.append(f"  {name:12} {row['tests']:4} tests {row['seconds']:8.1f} s")
    lines.append("by backend or server:")
    for name, row in v["by_subject"].items():
        lines.append(f"  {name[:40]:40} {row['tests']:4} tests {row['seconds']:8.1f} s")
    lines.append("slowest tests:")
    lines += [f"  {s:6.1f} s  {n}" for s, n in v["slowest"]]
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def judged_runs(runs: list[dict], max_ratio: float) -> dict:
    """Several runs of one interpreter, with their median ratio and the budget's verdict."""
    ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
    middle = median(ratios) if ratios else None
    return {"python": runs[0]["python"] if runs else sys.version.split()[0],
            "runs": runs, "ratios": ratios,
            "median_ratio": None if middle is None else round(middle, 2),
            "max_ratio": max_ratio,
            "within_budget": middle is not None and middle <= max_ratio}


def summary(files: Sequence[str]) -> str:
    """One row per Python (in version order) from earlier ``--json`` files: every run's
    ratio, the median, the median times and CPU times, the load before the first run; then
    verify's time by topic and by backend on each Python (the median run)."""
    rows = [["python", "ratios", "median", "verify s", "cpu s", "cpython s", "cpu s",
             "load before", "budget"]]
    topics: dict[str, dict[str, float]] = {}
    subjects: dict[str, dict[str, float]] = {}
    loaded = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            loaded.append(json.load(fh))

    def version(data: dict) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", data["python"])[:3])

    def cpu(runs: list[dict], side: str) -> str:
        seconds = [r[side].get("cpu_seconds") for r in runs]
        return "?" if None in seconds else f"{median(seconds):.1f}"

    for data in sorted(loaded, key=version):
        runs = data["runs"]
        rows.append([data["python"], " / ".join(f"{r:.2f}" for r in data["ratios"]),
                     str(data["median_ratio"]),
                     f"{median([r['verify']['seconds'] for r in runs]):.1f}",
                     cpu(runs, "verify"),
                     f"{median([r['cpython']['seconds'] for r in runs]):.1f}",
                     cpu(runs, "cpython"),
                     runs[0]["verify"]["load_before"],
                     ("ok" if data["within_budget"] else "OVER") + f" <= {data['max_ratio']}"])
        middle = sorted(runs, key=lambda r: r["ratio"] or 0)[len(runs) // 2]
        topics[data["python"]] = {k: v["seconds"] for k, v in middle["verify"]["by_topic"].items()}
        subjects[data["python"]] = {k: v["seconds"]
                                    for k, v in middle["verify"].get("by_subject", {}).items()}
    from harness.outcomes import format_table

    def breakdown(title: str, by: dict[str, dict[str, float]]) -> list[str]:
        names = sorted({t for row in by.values() for t in row})
        table = [["python", *names]] + [[py, *(f"{row.get(t, 0):.1f}" for t in names)]
                                        for py, row in by.items()]
        return ["", f"verify's test time by {title} (s, the median run; summed over xdist "
                "workers):", format_table(table)]

    return "\n".join([format_table(rows)] + breakdown("topic", topics)
                     + breakdown("backend", subjects))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness bench", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Further arguments go to verify's pytest (e.g. --claim ID, -m echo).")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="start methods for CPython's tests (default: %(default)s)")
    parser.add_argument("--cpython-tests", default=CPYTHON_TESTS, metavar="PATTERN",
                        help="which CPython tests (regrtest -m / unittest -k pattern; "
                             "default %(default)s)")
    parser.add_argument("--runs", type=int, default=1, metavar="N",
                        help="measure N pairs, one after the other (default %(default)s)")
    parser.add_argument("--max-ratio", type=float, default=RATIO_BUDGET, metavar="R",
                        help=f"exit {OVER_BUDGET} when the median ratio is above R "
                             "(default %(default)s, as README.md states)")
    parser.add_argument("--json", dest="json_path", metavar="PATH",
                        help="also write the measurements as JSON")
    parser.add_argument("--summary", nargs="+", metavar="JSON",
                        help="print one row per Python from earlier --json files; run nothing")
    args, pytest_args = parser.parse_known_args(argv)
    if args.summary:
        print(summary(args.summary))
        return 0
    methods = [m for m in args.methods.split(",") if m]
    runs, healthy = [], True
    for _ in range(max(1, args.runs)):
        verify = run_verify(pytest_args)
        print(f"procspec verify: {verify.timed.seconds:.1f} s; {verify.timed.tail}", flush=True)
        for failed in verify.not_green():  # a false alarm on a healthy implementation: why
            print(f"procspec verify {failed['outcome'].upper()}: {failed['nodeid']}\n"
                  f"{failed['message']}", flush=True)
        cpython = run_cpython(methods, args.cpython_tests)
        data = report(verify, cpython)
        print(render(data) + "\n", flush=True)
        runs.append(data)
        healthy = healthy and verify.timed.returncode == 0 and \
            all(t.returncode == 0 for t in cpython)
    judged = judged_runs(runs, args.max_ratio)
    print(f"ratios {' / '.join(f'{r:.2f}' for r in judged['ratios'])}; median "
          f"{judged['median_ratio']} ({'within' if judged['within_budget'] else 'OVER'} the "
          f"budget of {args.max_ratio})")
    if args.json_path:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_path)), exist_ok=True)
        with open(args.json_path, "w", encoding="utf-8") as fh:
            json.dump(judged, fh, indent=1)
    if not healthy:
        return 1
    return 0 if judged["within_budget"] else OVER_BUDGET
