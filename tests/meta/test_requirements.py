"""Every interpreter the kit names gets working dependencies, and one it cannot serve gets
one line and exit status 4 from the command line (harness/plugin/requirements.py).

- pyproject.toml's requirements, with their environment markers, give PyPy a psutil below
  7.1 (7.1+ fails to import on PyPy 7.3.11: ``undefined symbol: PyErr_FormatV``) and
  CPython any psutil from 5.9;
- ``python -m harness`` (the console script's ``main``) refuses to start, in one line and
  with exit status 4, where the kit's metadata names a requirement this interpreter's
  packages do not meet, and starts where the unmet one is for another interpreter.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from harness.kit import CHECKOUT

pytestmark = pytest.mark.meta


def _dependencies() -> list[Requirement]:
    assert CHECKOUT is not None
    text = (CHECKOUT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"(?ms)^dependencies = \[(.*?)^\]", text)
    assert block, "no dependencies list in pyproject.toml"
    return [Requirement(line) for line in re.findall(r'"([^"]+)"', block.group(1))]


@pytest.mark.parametrize("implementation, version, works", [
    ("PyPy", "7.0.0", True), ("PyPy", "7.2.2", False),
    ("CPython", "7.2.2", True), ("CPython", "5.9.0", True),
])
def test_psutil_is_pinned_below_7_1_on_pypy_only(implementation, version, works):
    environment = {"platform_python_implementation": implementation}
    wanted = [r for r in _dependencies() if r.name == "psutil"
              and (r.marker is None or r.marker.evaluate(environment))]
    assert len(wanted) == 1, wanted
    assert wanted[0].specifier.contains(version) is works


def _metadata(where, requires: list[str]) -> None:
    info = where / "procspec_kit-0.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: procspec-kit\nVersion: 0.0.0\n"
        + "".join(f"Requires-Dist: {line}\n" for line in requires), encoding="utf-8")


def _harness(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(CHECKOUT)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_refuses_an_interpreter_whose_packages_do_not_serve_it(tmp_path):
    here = platform.python_implementation()
    _metadata(tmp_path, ["pytest>=8.0", f'psutil<1; platform_python_implementation == "{here}"'])
    ran = _harness(tmp_path, "verify", "--claim", "LIFE-001")
    assert ran.returncode == 4, ran.stdout[-2000:] + ran.stderr[-2000:]
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "psutil<1 (found " in lines[0], ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr


def test_a_requirement_for_another_interpreter_is_not_asked_of_this_one(tmp_path):
    _metadata(tmp_path, ["pytest>=8.0", 'psutil<1; platform_python_implementation == "Nope"'])
    ran = _harness(tmp_path, "controls", "--list")
    assert ran.returncode == 0, ran.stderr[-2000:]
