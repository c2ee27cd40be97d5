"""The machine-readable result of one run (``--results-json``), and reading many back.

Schema 3. A run's file holds ``run`` (run info: ``schema``, Python, OS, the
implementations and their versions, start methods, commit, tox environment),
``exitstatus``, ``missing_tools`` (tool -> how to install it, for tests that skipped for
want of it) and ``tests``: one entry per test with

- ``nodeid``, ``claims`` (the IDs it checks), ``subject`` (backend or server name);
- ``outcome``: one of :data:`harness.outcomes.KINDS`: ``passed``, ``verdict`` (failed
  with a violation of its own claim), ``inconclusive`` (failed any other way: timeout,
  crash, setup or teardown error), ``skipped``, ``xfailed`` (failed by the verdict the
  expectations data records), ``xpassed`` (an expected failure passed);
- ``verdict_claims``: the claims a verdict names; ``message``: the failure's text;
  ``notes``: further failures of the same test (e.g. a leak found after a verdict);
- ``expected_failure``: the reason, when the expectations data says it fails;
- ``duration`` (s) and ``figures``: measured values a test attached with
  ``record_property(name, value)`` (they travel through pytest-xdist).

Files of schema 2 (``outcome`` ``failed``/``error``) are read with those mapped to
``verdict``/``inconclusive``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from harness.kit import CHECKOUT
from harness.outcomes import LEGACY

SCHEMA = 3


def git_commit(root: Optional[Path] = CHECKOUT) -> Optional[str]:
    """``git rev-parse HEAD`` of the checkout, with ``+dirty`` when files are modified
    (None when running from an installed wheel)."""
    if root is None:
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(dist: str) -> Optional[str]:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:
        return None


def extra_run_info(backend_names: Sequence[str]) -> dict[str, Any]:
    """What the plugin adds to a run's ``run`` section beyond the basics."""
    from harness.expectations import describe

    return {
        "finished_epoch": time.time(),
        "python_version_info": list(sys.version_info[:3]),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "commit": git_commit(),
        "tox_env": os.environ.get("TOX_ENV_NAME"),
        "ci": bool(os.environ.get("CI")),
        "packages": {name: _version(name) for name in
                     ("pytest", "hypothesis", "pytest-xdist", "psutil")},
        "subjects": {name: describe(name).as_dict() for name in backend_names},
    }


@dataclass
class RunResult:
    """One results file, read back."""

    path: str
    run: dict[str, Any]
    exitstatus: int
    tests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return str(self.run.get("python", "?"))

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    def subject(self, name: str) -> dict[str, Any]:
        """Run info about a backend (files of schema 1 lack it: guess from the name)."""
        known = self.run.get("subjects", {}).get(name)
        if known:
            return dict(known)
        from harness.backends import STDLIB_METHODS, implementation_of

        impl = implementation_of(name)
        called = re.search(r"get_context\(['\"](\w+)['\"]\)", name)
        method = name if name in STDLIB_METHODS else (called.group(1) if called else None)
        return {"name": name, "implementation": impl, "version": None,
                "start_method": method, "label": f"{impl}/{method or name}"}


def read(path: str | Path) -> RunResult:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    tests = list(data.get("tests", []))
    for test in tests:  # schema 2 named failures by pytest phase, not by kind
        test["outcome"] = LEGACY.get(test.get("outcome"), test.get("outcome"))
    return RunResult(path=str(path), run=data.get("run", {}),
                     exitstatus=int(data.get("exitstatus", -1)), tests=tests)


def read_many(paths: Iterable[str | Path]) -> list[RunResult]:
    """Every results file among ``paths`` (directories are searched for ``*.json``)."""
    found: list[RunResult] = []
    for path in paths:
        path = Path(path)
        files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
        for file in files:
            try:
                found.append(read(file))
            except (ValueError, OSError) as exc:
                print(f"procspec: skipping {file}: {exc}", file=sys.stderr)
    return found
