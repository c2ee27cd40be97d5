"""The kit's own dependencies, checked before the plugin loads its parts.

The plugin can be found in a Python that lacks them: ``pip install -e .`` leaves the kit's
metadata (``procspec_kit.egg-info``) in the checkout, and ``python -m pytest`` run there by
any other interpreter finds the ``pytest11`` entry point through it. Such a run gets one
line naming what is missing (pytest's usage error, exit status 4), not an ImportError
traceback from deep inside the plugin. The list is the distribution's own
``dependencies`` (pyproject.toml), read from its metadata: one list, in one place, with its
environment markers evaluated for this interpreter (on PyPy: ``psutil<7.1``).

The console script (``procspec-kit``, ``python -m harness``) asks the same question before
any subcommand imports what it needs (:func:`usage_problem`): the same one line, exit 4.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Optional

DISTRIBUTION = "procspec-kit"

#: The oldest Python the kit serves (pyproject.toml's requires-python).
OLDEST_PYTHON = (3, 9)


def missing() -> list[str]:
    """The kit's dependencies (extras aside) absent or too old in this Python, as
    ``name>=version (found ...)``; empty when the kit's metadata cannot be found at all (the
    plugin was loaded from a checkout with ``-p``: nothing to check against)."""
    try:
        wanted = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    try:  # pytest's own dependency: absent only where pytest is
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:
        return [line for line in wanted if "extra ==" not in line
                and line.split(";")[0].strip().startswith(("pytest", "packaging"))] or \
            ["packaging (not installed)"]
    problems = []
    for line in wanted:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra's requirement
        wanted_here = f"{req.name}{req.specifier}"  # its marker held: said for this Python
        try:
            found = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f"{wanted_here} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(found, prereleases=True):
            problems.append(f"{wanted_here} (found {found})")
    return problems


def usage_problem() -> Optional[str]:
    """The one line a run on a Python the kit cannot serve ends with (too old, or without
    the kit's dependencies in working versions), or None."""
    if sys.version_info[:2] < OLDEST_PYTHON:
        return (f"procspec: this Python ({sys.executable}, "
                f"{'.'.join(map(str, sys.version_info[:3]))}) is older than the kit's "
                f"oldest, {'.'.join(map(str, OLDEST_PYTHON))}")
    absent = missing()
    if not absent:
        return None
    return (f"procspec: this Python ({sys.executable}) lacks the kit's dependencies: "
            f"{', '.join(absent)}; install them: python -m pip install procspec-kit "
            f"(from a checkout: python -m pip install .)")
