"""Which implementation of the ``Process`` API is under test.

A *backend* is any object with a ``Process`` attribute shaped like
``multiprocessing.Process``; a ``multiprocessing`` context object is one. A backend is named
by a string, so that a child process (or a separate interpreter) can resolve the same one:

``fork`` | ``spawn`` | ``forkserver``
    the standard library's contexts;
``multiprocessing``
    the page's own class, ``multiprocessing.Process``: it dispatches through the default
    context at ``start()``, so its start method is the running interpreter's default
    (``multiprocessing.get_start_method()``: fork on Linux before Python 3.14, forkserver
    from 3.14, spawn on macOS and Windows);
``module:attr``
    any importable object; a dotted ``attr`` is followed, and a final call with literal
    arguments is made, e.g. ``billiard:get_context('spawn')`` or
    ``multiprocess:get_context('forkserver')``;
``module``
    (no colon) an importable module that has a ``Process`` attribute, e.g. ``billiard``;
``FAMILY:NAME``
    a named backend of a registered family (:data:`FAMILIES`): procspec's deliberately
    broken implementations are ``control:NAME``. A family registers itself through the
    entry-point group ``procspec.backends`` (name: the family; object: a function from NAME
    to ``(context, start_method)``), so this module imports none of them.
"""

from __future__ import annotations

import multiprocessing
import re
import sys
from functools import lru_cache
from typing import Any, Callable, NamedTuple, Optional

# Children import this module too (a target that asks for the implementation's own
# current_process(), an echo server's handler), under spawn once per process: what only
# some names need (ast, pkgutil, importlib.metadata) is imported where it is needed, and
# Backend is a NamedTuple rather than a dataclass (dataclasses imports inspect).

STDLIB_METHODS = ("fork", "spawn", "forkserver")
#: The page's own class (``from multiprocessing import Process``), a default backend.
PAGE_CLASS = "multiprocessing"
#: Modules inside another implementation's package that are implementations of their own
#: (their own expectations file): ``multiprocessing.dummy`` is threads behind the API.
SUB_IMPLEMENTATIONS = ("multiprocessing.dummy",)
#: The entry-point group through which a family of named backends registers its resolver.
FAMILIES = "procspec.backends"
#: procspec's own family: the negative controls (registered in pyproject.toml).
CONTROL_FAMILY = "control"
#: Where procspec's own family's resolver is (the same as its entry point): found without
#: reading every installed distribution's metadata, which cost each interpreter that
#: resolved a control 40 ms (the controls proof starts thousands: an echo server per test,
#: a program per program-level test). Other families are looked up as entry points.
OWN_FAMILIES = {CONTROL_FAMILY: "harness.controls:backend"}

Resolver = Callable[[str], "tuple[Any, Optional[str]]"]


class Backend(NamedTuple):
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
        return _family_of(self.name) == CONTROL_FAMILY


def stdlib_method_names() -> list[str]:
    """Every standard-library start method this platform offers, in a stable order."""
    available = multiprocessing.get_all_start_methods()
    return [m for m in STDLIB_METHODS if m in available]


def default_backend_names() -> list[str]:
    """The standard library's start methods this platform offers, then the page's own
    class (``multiprocessing.Process``, under the interpreter's default start method)."""
    return [*stdlib_method_names(), PAGE_CLASS]


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
    import ast
    import pkgutil

    call = _CALL.match(spec)
    obj: Any = pkgutil.resolve_name(call.group("path") if call else spec)
    if call:
        args = ast.literal_eval(f"({call.group('args')},)") if call.group("args") else ()
        obj = obj(*args)
    return obj


@lru_cache(maxsize=None)
def families() -> dict[str, Resolver]:
    """Every registered family of named backends: its name -> its resolver."""
    from importlib import metadata

    if sys.version_info >= (3, 10):
        points = metadata.entry_points(group=FAMILIES)
    else:  # Python 3.9: a dict of groups
        points = metadata.entry_points().get(FAMILIES, ())
    return {point.name: point.load() for point in points}


def _resolver(family: str) -> Resolver:
    """The resolver of ``family`` (one of :func:`families`)."""
    if family in OWN_FAMILIES:
        import pkgutil

        resolver: Resolver = pkgutil.resolve_name(OWN_FAMILIES[family])
        return resolver
    return families()[family]


def _family_of(name: str) -> Optional[str]:
    """The family a ``FAMILY:NAME`` backend name belongs to (None for any other name).
    Only the part before the colon is looked at, and only when it is a plain word."""
    family, colon, _ = name.partition(":")
    if not (colon and family.isidentifier()):
        return None
    return family if family in OWN_FAMILIES or family in families() else None


def implementation_of(backend_name: str) -> str:
    """The implementation a backend name belongs to: ``multiprocessing`` for the standard
    start methods and the page's class, the family for a family's backend (``control``),
    one of :data:`SUB_IMPLEMENTATIONS` for a name inside it (``multiprocessing.dummy``),
    else the top-level module (``billiard`` for ``billiard:get_context('fork')``)."""
    if backend_name in STDLIB_METHODS:
        return "multiprocessing"
    module = re.split(r"[:(]", backend_name, maxsplit=1)[0]
    for sub in SUB_IMPLEMENTATIONS:
        if module == sub or module.startswith(sub + "."):
            return sub
    return _family_of(backend_name) or module.split(".", 1)[0]


def resolve(name: str) -> Backend:
    """Resolve a backend name (see the module docstring) to a :class:`Backend`."""
    if name in STDLIB_METHODS:
        return Backend(name, multiprocessing.get_context(name), name)
    family = _family_of(name)
    if family is not None:
        context, start_method = _resolver(family)(name.partition(":")[2])
        return Backend(name, context, start_method)
    try:
        obj = _import_object(name)
    except (ImportError, AttributeError, ValueError, SyntaxError, TypeError) as exc:
        named = ", ".join(f"{family}:NAME" for family in sorted(families()))
        raise ValueError(
            f"backend {name!r}: not a start method ({', '.join(STDLIB_METHODS)}), "
            f"not a named backend ({named}), and not an importable module[:attr] ({exc})"
        ) from exc
    if not hasattr(obj, "Process"):
        raise ValueError(f"backend {name!r}: {obj!r} has no Process attribute")
    return Backend(name, obj, _declared_start_method(obj))
