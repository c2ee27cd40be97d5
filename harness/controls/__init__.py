"""Negative controls: deliberately broken implementations, and the claims each must break.

A claim counts as verified only when some control makes its test fail. Each module of this
package defines ``CONTROLS``, a list of :class:`Control`; they are found by module scan, so
a topic adds its controls without touching this file. Select one with
``--backend control:NAME``; ``tests/meta`` proves every control is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from harness.registry import contributions


@dataclass(frozen=True)
class Control:
    """A broken implementation: what is wrong with it, and which claims must fail on it.

    Either a backend (``context``: an object with a broken ``Process``) or an echo server
    (``server_command``: a command template with ``{host}`` and ``{port}``).
    """

    name: str
    defect: str
    breaks: frozenset[str]
    context: Any = None
    start_method: Optional[str] = None
    server_command: Optional[str] = None
    unjudged: frozenset[str] = frozenset()
    """Claims whose tests this control leaves *unjudged*: its defect defeats their premise
    (a behaviour another claim owns) on every example. When declared, the controls proof
    holds the control to exactly this set too: each such cell must say ``unjudged``,
    never ``pass`` (issue: a pass is evidence)."""
    timed: bool = False
    """The controls proof also times it: its suite run takes at most
    :data:`harness.suite.TIME_RATIO` times the same suite's on the healthy context of its
    start method (run beside it, in the same suite run): a hang costs seconds."""

    @property
    def pytest_args(self) -> tuple[str, ...]:
        """The options that point procspec's suite at this control: a backend control
        against every test; a server control against the tests that take a server (the
        only ones that can see it: the others run on the default backends)."""
        if self.server_command is not None:
            return ("--echo-server", self.server_command, "-m", "echo")
        return ("--backend", f"control:{self.name}")


def all_controls() -> dict[str, Control]:
    found: dict[str, Control] = {}
    for controls in contributions(__name__, __path__, "CONTROLS"):
        for control in controls:
            if control.name in found:
                raise ValueError(f"two controls are named {control.name!r}")
            found[control.name] = control
    return found


def find_control(name: str) -> Control:
    """Any control by name; ``ValueError`` naming the known ones otherwise."""
    controls = all_controls()
    try:
        return controls[name]
    except KeyError:
        raise ValueError(f"no control named {name!r}; known: "
                         f"{', '.join(sorted(controls))}") from None


def get_control(name: str) -> Control:
    """A backend control by name (server controls are run through --echo-server)."""
    controls = {n: c for n, c in all_controls().items() if c.context is not None}
    try:
        return controls[name]
    except KeyError:
        raise ValueError(f"no backend control named {name!r}; known: "
                         f"{', '.join(sorted(controls))}") from None


def backend(name: str) -> tuple[Any, Optional[str]]:
    """The ``control`` family's resolver (entry point ``procspec.backends``): the context
    and start method of the backend control ``name``."""
    control = get_control(name)
    return control.context, control.start_method
