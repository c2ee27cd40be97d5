"""tox plugin (tox 4 loads ``toxfile.py`` from the project root): find pyenv's Pythons.

On a machine where Python 3.9-3.13 are installed with pyenv but only one is active, the
``python3.X`` names on PATH are pyenv *shims*, which fail for every version that is not
active, so tox would skip those environments as missing. Before tox looks for
interpreters, this adds every ``$(pyenv root)/versions/*/bin`` to the front of PATH (newest
first; pyenv's PyPys after the CPythons), so that ``py39`` ... ``py313`` and ``pypy3`` find
the real interpreters. A system PyPy (Debian: ``apt-get install pypy3 pypy3-venv``) is on
PATH already. Nothing changes where
pyenv is absent, or when ``PROCSPEC_TOX_NO_PYENV`` is set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from tox.plugin import impl


def pyenv_bins() -> list[str]:
    """pyenv's CPython ``X.Y.Z`` bins, newest first, then its PyPy ``pypyX.Y-V`` bins
    (they provide ``pypy3``, which the ``pypy3-*`` environments need), newest first."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found: list[tuple[tuple[int, ...], str]] = []
    pypys: list[tuple[tuple[int, ...], str]] = []
    for bin_dir in (root / "versions").glob("*/bin"):
        cpython = re.match(r"^(\d+)\.(\d+)\.(\d+)$", bin_dir.parent.name)
        pypy = re.match(r"^pypy(\d+)\.(\d+)-(\d+)\.(\d+)\.(\d+)$", bin_dir.parent.name)
        if cpython and (bin_dir / "python").exists():
            found.append((tuple(int(p) for p in cpython.groups()), str(bin_dir)))
        elif pypy and (bin_dir / "pypy3").exists():
            pypys.append((tuple(int(p) for p in pypy.groups()), str(bin_dir)))
    return [path for _, path in sorted(found, reverse=True) + sorted(pypys, reverse=True)]


@impl
def tox_add_core_config(core_conf: Any, state: Any) -> None:
    if os.environ.get("PROCSPEC_TOX_NO_PYENV"):
        return
    path = os.environ.get("PATH", "").split(os.pathsep)
    extra = [p for p in pyenv_bins() if p not in path]
    if extra:
        os.environ["PATH"] = os.pathsep.join(extra + path)
