"""Module-level state for the isolation claims (specs/isolation.md).

The page's exercise keeps ``n = 100`` at module level; a child rebinds it and the parent
still sees 100. Here that ``n`` sits beside more kinds of module-level state, each starting
at 100 (or holding 100), so that any write of a value other than 100 is a visible change:

``n``        an int global (the page's); ``items`` a list; ``table`` a dict; ``members``
a set; ``holder`` an object (instance attribute ``value``); ``Holder.label`` a class
attribute; ``doomed`` a global that a write deletes.

:func:`apply` performs one kind of write (:data:`WRITE_KINDS`); :func:`view` copies the
whole state into plain, picklable data; :func:`restore` puts the module back to a view
(the scenarios call it in ``finally``: tests run many examples, and under xdist many tests,
in one process, so the parent's module state must never stay changed).

Nothing here starts processes; children import this module (under spawn and forkserver it
is imported afresh, which is the point).
"""

from __future__ import annotations

import copy

# No dataclasses, no typing at run time: every spawn and forkserver child of an isolation
# test imports this module afresh, and those two cost it 10 ms there (3.13).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: The value every piece of state starts from (the page's ``n = 100``).
START = 100


class Missing:
    """What :func:`view` shows for a global that has been deleted (all equal)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Missing

    def __hash__(self) -> int:
        return hash(Missing)

    def __repr__(self) -> str:
        return "Missing()"


MISSING = Missing()


class Holder:  # mutable, compared by value: unhashable, as a dataclass
    """A module-level object (``holder``) and a class with a class attribute (``label``)."""

    label = START  # a class attribute

    def __init__(self, value: Any = START) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Holder:
            return NotImplemented
        return bool(self.value == other.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Holder(value={self.value!r})"


# --- the state (import-time values) ----------------------------------------------------
n = 100
items: list = [START]
table: dict = {"n": START}
members: set = {START}
holder = Holder()
doomed: Any = START

#: The objects themselves, so that :func:`restore` can rebind a name that was rebound.
_OBJECTS = (items, table, members, holder)

#: The kinds of write a child (or the parent) can apply to the module state.
WRITE_KINDS = (
    "rebind-global",   # global n; n = value   (the page's exercise)
    "list-append",     # items.append(value)
    "list-setitem",    # items[0] = value
    "list-clear",      # items.clear()
    "dict-setitem",    # table["n"] = value
    "dict-delitem",    # del table["n"]
    "set-add",         # members.add(value)   (value must be hashable)
    "set-discard",     # members.discard(100)
    "object-setattr",  # holder.value = value
    "class-setattr",   # Holder.label = value
    "delete-global",   # global doomed; del doomed
)

#: Kinds whose value must be hashable.
HASHABLE_KINDS = frozenset({"set-add"})

#: Kinds that ignore the value.
VALUELESS_KINDS = frozenset({"list-clear", "dict-delitem", "set-discard", "delete-global"})


def apply(kind: str, value: Any = None) -> None:
    """Apply one write to this module's state, in this process."""
    global n, doomed
    if kind == "rebind-global":
        n = value
    elif kind == "list-append":
        items.append(value)
    elif kind == "list-setitem":
        items[0] = value
    elif kind == "list-clear":
        items.clear()
    elif kind == "dict-setitem":
        table["n"] = value
    elif kind == "dict-delitem":
        del table["n"]
    elif kind == "set-add":
        members.add(value)
    elif kind == "set-discard":
        members.discard(START)
    elif kind == "object-setattr":
        holder.value = value
    elif kind == "class-setattr":
        Holder.label = value
    elif kind == "delete-global":
        del doomed
    else:
        raise ValueError(f"unknown write kind {kind!r}")


def view() -> dict[str, Any]:
    """A deep copy of the whole state, as plain data (deleted globals show as MISSING)."""
    here = globals()
    return copy.deepcopy({
        "n": here.get("n", MISSING),
        "items": here.get("items", MISSING),
        "table": here.get("table", MISSING),
        "members": here.get("members", MISSING),
        "holder.value": getattr(here.get("holder"), "value", MISSING),
        "Holder.label": getattr(Holder, "label", MISSING),
        "doomed": here.get("doomed", MISSING),
    })


def restore(saved: dict[str, Any]) -> None:
    """Put the state back to ``saved`` (a :func:`view`): names rebound to the original
    objects, their contents reset in place, deleted globals re-created."""
    global n, items, table, members, holder, doomed
    items, table, members, holder = _OBJECTS
    items[:] = copy.deepcopy(saved["items"])
    table.clear()
    table.update(copy.deepcopy(saved["table"]))
    members.clear()
    members.update(saved["members"])
    holder.value = copy.deepcopy(saved["holder.value"])
    Holder.label = copy.deepcopy(saved["Holder.label"])
    n = copy.deepcopy(saved["n"])
    doomed = copy.deepcopy(saved["doomed"])
    for name in ("n", "doomed"):
        if isinstance(globals()[name], Missing):
            del globals()[name]


#: The state as this module's import left it (identical in every fresh interpreter).
IMPORT_TIME = view()


def shows_write(state: dict[str, Any], kind: str, value: Any = None) -> bool:
    """Whether ``state`` (a :func:`view`) shows the effect of the write ``kind(value)``
    applied to the import-time state."""
    if kind == "rebind-global":
        return state["n"] == value
    if kind == "list-append":
        return state["items"] == [START, value]
    if kind == "list-setitem":
        return state["items"] == [value]
    if kind == "list-clear":
        return state["items"] == []
    if kind == "dict-setitem":
        return state["table"] == {"n": value}
    if kind == "dict-delitem":
        return state["table"] == {}
    if kind == "set-add":
        return state["members"] == {START, value}
    if kind == "set-discard":
        return state["members"] == set()
    if kind == "object-setattr":
        return state["holder.value"] == value
    if kind == "class-setattr":
        return state["Holder.label"] == value
    if kind == "delete-global":
        return isinstance(state["doomed"], Missing)
    raise ValueError(f"unknown write kind {kind!r}")


# --- arguments -------------------------------------------------------------------------

#: Ways a child mutates an argument it was given (a dict of containers, see tests/strategies).
ARGUMENT_WRITE_KINDS = (
    "list-append",     # arg["list"].append(value)
    "nested-append",   # arg["list"][0].append(value)  (arg["list"][0] is a list)
    "dict-setitem",    # arg["dict"]["written"] = value
    "set-add",         # arg["set"].add(value)
    "object-setattr",  # arg["object"].value = value   (a Holder)
    "clear",           # arg.clear()
)


def mutate_argument(arg: dict[str, Any], kind: str, value: Any = None) -> None:
    """Mutate an argument object in place (in whichever process holds it)."""
    if kind == "list-append":
        arg["list"].append(value)
    elif kind == "nested-append":
        arg["list"][0].append(value)
    elif kind == "dict-setitem":
        arg["dict"]["written"] = value
    elif kind == "set-add":
        arg["set"].add(value)
    elif kind == "object-setattr":
        arg["object"].value = value
    elif kind == "clear":
        arg.clear()
    else:
        raise ValueError(f"unknown argument write kind {kind!r}")


def changes_argument(arg: dict[str, Any], kind: str, value: Any = None) -> bool:
    """Whether :func:`mutate_argument` would change (a copy of) ``arg``: pure."""
    changed = copy.deepcopy(arg)
    mutate_argument(changed, kind, value)
    return changed != arg
