"""What a call into the implementation gave: its result, or the exception it raised as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union


@dataclass(frozen=True)
class Raised:
    """An exception a call raised, reduced to plain data."""

    type_name: str
    message: str

    def __str__(self) -> str:
        return f"{self.type_name}({self.message!r})"


Observed = Union[Any, Raised]


def attempt(call: Callable[[], Any]) -> Observed:
    """Call, returning the result or the exception it raised as a :class:`Raised`."""
    try:
        return call()
    except Exception as exc:  # the record keeps it; the test judges it
        return Raised(type(exc).__name__, str(exc))


def is_alive(proc: Any) -> Observed:
    return attempt(proc.is_alive)
