"""Which implementation of the ``Process`` API is under test.

A *backend* is any object with a ``Process`` attribute shaped like
``multiprocessing.Process``; a ``multiprocessing`` context object is one. A backend is named
by a string, so that a child process (or a separate interpreter) can resolve the same one:

``fork`` | ``spawn`` | ``forkserver``
    the standard library's contexts;
``module:attr``
    any importable object; a dotted ``attr`` is followed, and a final call with literal
    arguments is made, e.g. ``billiard:get_context('spawn')`` or
    ``multiprocess:get_context('forkserver')``;
``module``
    (no colon) an importable module that has a ``Process`` attribute, e.g. ``billiard``;
``control:NAME``
    one of procspec's deliberately broken implementations (``harness.controls``).
"""

from __future__ import annotations

import ast
import multiprocessing
import pkgutil
import re
from dataclasses import dataclass
from typing import Any, Optional

STDLIB_METHODS = ("fork", "spawn", "forkserver")
CONTROL_PREFIX = "control:"


@dataclass(frozen=True)
class Backend:
    """A resolved implementation under test."""

    name: str
    """The string that names it; resolving it again gives the same backend."""
    context: Any
    """The object whose ``Process`` attribute is the class under test."""
    start_method: Optional[str]
    """``fork``, ``spawn`` or ``forkserver`` when known: what a child starts from."""

    @property
    def Process(self) -> Any:  # noqa: N802 - mirrors the API under test
        return self.context.Process

    @property
    def is_control(self) -> bool:
        return self.name.startswith(CONTROL_PREFIX)


def default_backend_names() -> list[str]:
    """Every standard-library start method this platform offers, in a stable order."""
    available = multiprocessing.get_all_start_methods()
    return [m for m in STDLIB_METHODS if m in available]


def _declared_start_method(obj: Any) -> Optional[str]:
    declared = getattr(obj, "procspec_start_method", None)
    if isinstance(declared, str):
        return declared
    getter = getattr(obj, "get_start_method", None)
    if callable(getter):
        try:
            method = getter()
        except Exception:  # an implementation may not support the call; then it is unknown
            return None
        return method if isinstance(method, str) else None
    return None


_CALL = re.compile(r"^(?P<path>[^(]*)\((?P<args>.*)\)$")


def _import_object(spec: str) -> Any:
    """``module[:attr.path][(literal, args)]``: the object ``pkgutil.resolve_name`` finds,
    called with the literal arguments when a call is given."""
    call = _CALL.match(spec)
    obj: Any = pkgutil.resolve_name(call.group("path") if call else spec)
    if call:
        args = ast.literal_eval(f"({call.group('args')},)") if call.group("args") else ()
        obj = obj(*args)
    return obj


def implementation_of(backend_name: str) -> str:
    """The implementation a backend name belongs to: ``multiprocessing`` for the standard
    start methods, ``control`` for procspec's controls, else the top-level module
    (``billiard`` for ``billiard:get_context('fork')``)."""
    if backend_name in STDLIB_METHODS:
        return "multiprocessing"
    if backend_name.startswith(CONTROL_PREFIX):
        return "control"
    return re.split(r"[:.(]", backend_name, maxsplit=1)[0]


def resolve(name: str) -> Backend:
    """Resolve a backend name (see the module docstring) to a :class:`Backend`."""
    if name in STDLIB_METHODS:
        return Backend(name, multiprocessing.get_context(name), name)
    if name.startswith(CONTROL_PREFIX):
        from harness.controls import get_control

        control = get_control(name[len(CONTROL_PREFIX):])
        return Backend(name, control.context, control.start_method)
    try:
        obj = _import_object(name)
    except (ImportError, AttributeError, ValueError, SyntaxError, TypeError) as exc:
        raise ValueError(
            f"backend {name!r}: not a start method ({', '.join(STDLIB_METHODS)}), "
            f"not control:NAME, and not an importable module[:attr] ({exc})"
        ) from exc
    if not hasattr(obj, "Process"):
        raise ValueError(f"backend {name!r}: {obj!r} has no Process attribute")
    return Backend(name, obj, _declared_start_method(obj))
