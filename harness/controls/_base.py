"""Shared pieces of the controls: a context that hands out a broken Process class, and the
command line of the broken servers."""

from __future__ import annotations

import argparse
import multiprocessing
from typing import Any, Callable, Optional, Sequence


def base_context(method: str = "fork") -> Any:
    """The real context a control breaks; fork where the platform has it (fastest)."""
    if method not in multiprocessing.get_all_start_methods():
        method = "spawn"
    return multiprocessing.get_context(method)


class ControlContext:
    """Looks like a ``multiprocessing`` context, with a broken ``Process`` class."""

    def __init__(self, process_class: Any, base: Any) -> None:
        self.Process = process_class
        self._base = base

    def current_process(self) -> Any:
        return self._base.current_process()

    def active_children(self) -> list:
        return list(self._base.active_children())

    def parent_process(self) -> Any:
        return self._base.parent_process()

    def get_start_method(self) -> str:
        return str(self._base.get_start_method())

    def __repr__(self) -> str:
        return f"<ControlContext {self.Process.__name__}>"


def backend_control(name: str, defect: str, process_class: Any, breaks: set[str],
                    base: Any, *, declared: Optional[str] = None,
                    context_class: type = ControlContext,
                    unjudged: frozenset[str] = frozenset()) -> Any:
    """A backend control: ``process_class`` behind a context on ``base`` (its start method
    declared as ``base``'s, or ``declared``), breaking ``breaks`` (and leaving ``unjudged``
    unjudged: :class:`harness.controls.Control`)."""
    from harness.controls import Control

    return Control(name=name, defect=defect, breaks=frozenset(breaks),
                   context=context_class(process_class, base),
                   start_method=declared or base.get_start_method(), unjudged=unjudged)


def serve_main(prog: str, servers: dict[str, Callable[[str, int], None]],
               argv: Optional[Sequence[str]] = None) -> int:
    """``prog NAME --host H --port P``: run the broken server ``NAME`` of ``servers``."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("name", choices=sorted(servers))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    servers[args.name](args.host, args.port)
    return 0
