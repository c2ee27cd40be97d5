"""A backend's start method: the one owner of that fact, answered once per process.

Two facts, each found once per backend name and process:

- *declared*: what the backend says (its context's ``get_start_method()``, a
  ``procspec_start_method`` attribute, a control's declaration: :mod:`harness.backends`);
  never starts a child;
- *shown*: what the OS shows about one of its children
  (:func:`harness.scenarios.start_state.find_start_method`: a copy of this process without
  exec is fork, a new interpreter is spawn, a child made by another process is
  forkserver); one child, the first time it is asked. The standard library's own contexts
  and the page's class are not asked: they are the reference, declared by construction.

Each consumer asks the question it means:

- :func:`declared`: the subject's label and the expectations' ``start_methods``
  (:func:`harness.expectations.describe`);
- :func:`rule`: the rule the start-state claims (ISO-007, ISO-008, ISO-010) judge the
  children by: the declared method when it is fork, spawn or forkserver (a declaration
  that lies is exactly what those claims catch), else the one the OS shows (loky's
  ``'loky'`` is spawn-like);
- :func:`reference`: the standard library method whose costs calibrate the join-timing
  bounds (:mod:`harness.scenarios.overhead`): the one the OS shows, else the declared one.
  A declaration that lies is ISO-008/010's business; judged against the wrong reference,
  JOIN-002 would fail for start-up costs instead.
"""

from __future__ import annotations

from typing import Optional

from harness.backends import PAGE_CLASS, STDLIB_METHODS, Backend, resolve

#: The start methods whose rules specs/isolation.md states (ISO-007, ISO-008, ISO-010).
KNOWN_METHODS = STDLIB_METHODS

_SHOWN: dict[str, tuple[Optional[str], str]] = {}


def declared(backend_name: str) -> Optional[str]:
    """What the backend named ``backend_name`` declares (None: nothing, or unresolvable)."""
    try:
        return resolve(backend_name).start_method
    except ValueError:
        return None


def _is_reference(backend: Backend) -> bool:
    return backend.name in STDLIB_METHODS or backend.name == PAGE_CLASS


def shown(backend: Backend) -> tuple[Optional[str], str]:
    """``(method, how)``: the start method the OS shows for the backend's children (None
    when it shows none: no report, or no process at all), and how that was found."""
    if _is_reference(backend):
        return backend.start_method, "the standard library's own (declared)"
    if backend.name not in _SHOWN:
        # Imported here: the probe runs a child (supervision, mailbox), which the callers
        # that only read the declaration (expectations, report) never need.
        from harness.scenarios.start_state import find_start_method

        origin = find_start_method(backend)
        _SHOWN[backend.name] = (origin.start_method, f"found out from {origin.reported!r}")
    return _SHOWN[backend.name]


def rule(backend: Backend) -> tuple[Optional[str], str]:
    """``(method, how)``: the method whose start-state rule the backend's children follow
    (the start-state claims'): declared when it is fork, spawn or forkserver, else shown."""
    method = backend.start_method
    if method in KNOWN_METHODS:
        return method, "declared"
    found, how = shown(backend)
    if method is not None:
        how = f"declared {method!r}, not one of {', '.join(KNOWN_METHODS)}; {how}"
    return found, how


def reference(backend: Backend) -> Optional[str]:
    """The method whose reference calibrates the backend's timing bounds (the join
    claims'): the one the OS shows, else the declared one."""
    return shown(backend)[0] or backend.start_method
