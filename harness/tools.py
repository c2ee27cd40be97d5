"""External tools some tests drive (a client nobody here wrote), and how to get them.

A test that needs one calls :func:`require`; when the tool is missing the test is
skipped with a reason the plugin recognises, and the run ends by naming what was
missing and how to install it (a skipped claim shows as ``skip`` or ``partial``, never
as ``pass``).
"""

from __future__ import annotations

import re
import shutil
from typing import Optional

import pytest

#: tool -> how to install it.
INSTALL = {
    "socat": "apt-get install socat (Debian/Ubuntu), brew install socat (macOS)",
}

_REASON = re.compile(r"missing tool: (?P<tool>[\w.+-]+) \(install: (?P<how>[^)]*)\)")


def require(tool: str) -> str:
    """The tool's path; skips the calling test when it is not installed."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"missing tool: {tool} (install: {INSTALL.get(tool, 'see its docs')})")
    return path


def missing_tool(skip_reason: str) -> Optional[tuple[str, str]]:
    """(tool, how to install it) when a skip reason is :func:`require`'s."""
    match = _REASON.search(skip_reason)
    return (match.group("tool"), match.group("how")) if match else None
