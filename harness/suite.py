"""Running procspec's own test suite as a subprocess, and reading back what it found.

Used by ``python -m harness verify`` / ``controls`` and by the meta-tests that prove every
negative control is caught.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from harness.claims import REPO_ROOT, TESTS_DIR

#: Outcomes that count as "the claim does not hold here".
FAILING = frozenset({"failed", "error", "xpassed"})


def pytest_command(args: Sequence[str]) -> list[str]:
    """``python -m pytest`` on procspec's tests, from the repository root."""
    return [sys.executable, "-m", "pytest", "--rootdir", str(REPO_ROOT), *args]


@dataclass(frozen=True)
class SuiteRun:
    returncode: int
    outcomes: dict[str, list[str]]
    """claim ID -> the outcome of every test bound to it that ran."""
    output: str

    def broken_claims(self) -> set[str]:
        return {cid for cid, outs in self.outcomes.items() if FAILING & set(outs)}


def run_suite(options: Sequence[str], claims: Iterable[str] = (),
              profile: str = "controls", timeout: Optional[float] = 900) -> SuiteRun:
    """Run the suite (without ``tests/meta``) with ``options``, limited to ``claims``."""
    with tempfile.TemporaryDirectory(prefix="procspec-suite-") as tmp:
        results = os.path.join(tmp, "results.json")
        args = [str(TESTS_DIR), "--ignore", str(TESTS_DIR / "meta"), "-q", "-n", "0",
                "-p", "no:randomly", f"--hypothesis-profile={profile}",
                "--results-json", results, *options]
        for cid in claims:
            args += ["--claim", cid]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        proc = subprocess.run(pytest_command(args), cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        outcomes: dict[str, list[str]] = defaultdict(list)
        if os.path.exists(results):
            with open(results, encoding="utf-8") as fh:
                for test in json.load(fh)["tests"]:
                    for cid in test["claims"]:
                        outcomes[cid].append(test["outcome"])
        return SuiteRun(proc.returncode, dict(outcomes), proc.stdout[-6000:] + proc.stderr[-3000:])
