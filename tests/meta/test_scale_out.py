"""Why the matrix runs under tox, not pytest-xdist's ``--tx popen//python=...`` (measured).

pytest-xdist sends a ``popen`` worker the controller's ``sys.path`` and the worker
*replaces* its own with it (xdist/remote.py: ``sys.path = change_sys_path``). A worker
started with another interpreter therefore imports the controller's site-packages: its
pytest plugins, Hypothesis, psutil's C extension built for another Python (the modules it
had imported before, such as pytest itself, stay its own: a mix). Measured here: a 3.11
controller with a 3.9 worker (pytest 9 needs 3.10+) crashed the worker at start-up and xdist
restarted it 341 times in 300 s without finishing. tox builds one environment per
interpreter, each with its own dependencies, and the report merges their result files.

This test keeps that reason measured: with a tox environment of another Python at hand
(``tox -e py312-fork`` creates one), it runs one test on that interpreter through ``--tx``
and checks where the worker's pytest came from.
"""

from __future__ import annotations

import glob
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.kit import CHECKOUT as REPO_ROOT

pytestmark = pytest.mark.meta

PROBE = textwrap.dedent("""
    import json, os, sys
    import pytest

    def test_where_am_i():
        with open(os.environ["PROCSPEC_PROBE_OUT"], "w") as fh:
            json.dump({"version": list(sys.version_info[:2]), "path": sys.path}, fh)
""")


def _other_interpreter() -> str | None:
    mine = f"{sys.version_info[0]}{sys.version_info[1]}"
    for python in sorted(glob.glob(str(REPO_ROOT / ".tox" / "py3*-*" / "bin" / "python"))):
        env = Path(python).parent.parent.name
        if not env.startswith(f"py{mine}-"):
            return python
    return None


@pytest.mark.skipif(_other_interpreter() is None,
                    reason="no tox environment of another Python (run `tox -e py312-fork`)")
def test_an_xdist_popen_worker_on_another_python_imports_the_controllers_packages(tmp_path):
    other = _other_interpreter()
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    out = tmp_path / "probe.json"
    cmd = [sys.executable, "-m", "pytest", "-p", "xdist", "-p", "no:cacheprovider",
           "--dist", "each", "--tx", f"popen//python={other}", "--max-worker-restart=0",
           "-q", str(tmp_path / "test_probe.py")]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PROCSPEC_PROBE_OUT": str(out), "PATH": "/usr/bin:/bin"})
    own_site = str(Path(pytest.__file__).parent.parent)
    if out.exists():
        seen = json.loads(out.read_text(encoding="utf-8"))
        # The worker runs the other interpreter, but imports from the controller's packages.
        assert seen["version"] != list(sys.version_info[:2])
        assert own_site in seen["path"], seen
        assert not any(p.startswith(str(Path(other).parent.parent)) for p in seen["path"]), \
            seen
    else:  # the worker could not even start with the controller's packages
        assert proc.returncode != 0, proc.stdout[-2000:]
