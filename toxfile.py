"""tox plugin (tox 4 loads ``toxfile.py`` from the project root): find pyenv's Pythons.

On a machine where Python 3.9-3.13 are installed with pyenv but only one is active, the
``python3.X`` names on PATH are pyenv *shims*, which fail for every version that is not
active, so tox would skip those environments as missing. Before tox looks for
interpreters, this adds every ``$(pyenv root)/versions/*/bin`` to the front of PATH (newest
first), so that ``py39`` ... ``py313`` find the real interpreters. Nothing changes where
pyenv is absent, or when ``PROCSPEC_TOX_NO_PYENV`` is set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from tox.plugin import impl


def pyenv_bins() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = []
    for bin_dir in (root / "versions").glob("*/bin"):
        match = re.match(r"^(\d+)\.(\d+)\.(\d+)$", bin_dir.parent.name)
        if match and (bin_dir / "python").exists():
            found.append((tuple(int(p) for p in match.groups()), str(bin_dir)))
    return [path for _, path in sorted(found, reverse=True)]


@impl
def tox_add_core_config(core_conf: Any, state: Any) -> None:
    if os.environ.get("PROCSPEC_TOX_NO_PYENV"):
        return
    path = os.environ.get("PATH", "").split(os.pathsep)
    extra = [p for p in pyenv_bins() if p not in path]
    if extra:
        os.environ["PATH"] = os.pathsep.join(extra + path)
