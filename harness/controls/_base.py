"""Shared pieces of the broken backends: a context that hands out a broken Process class."""

from __future__ import annotations

import multiprocessing
from typing import Any


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

    def get_start_method(self) -> str:
        return str(self._base.get_start_method())

    def __repr__(self) -> str:
        return f"<ControlContext {self.Process.__name__}>"
