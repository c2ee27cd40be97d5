"""Hypothesis strategies for every topic, in one place (each with what it draws and why)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness import isolation_state

# --- lifecycle -------------------------------------------------------------------------

#: Names a user may give a process: any non-empty text (an empty one means "default").
process_names = st.text(min_size=1, max_size=40)

#: Integer exit statuses the OS keeps whole, booleans included (they are ints).
exit_statuses = st.one_of(st.integers(min_value=0, max_value=255), st.booleans())

#: Objects that are neither int nor None, for sys.exit(obj): the status becomes 1.
non_int_exit_objects = st.one_of(st.text(max_size=20), st.floats(allow_nan=False),
                                 st.lists(st.integers(), max_size=3))


@st.composite
def stop_moments(draw: Any) -> tuple[float, bool]:
    """When to stop a child: (delay after the decision point, wait until it runs first?).

    ``(0.0, False)`` is the hardest case: terminate() straight after start()."""
    wait_for_start = draw(st.booleans())
    delay = draw(st.sampled_from([0.0, 0.001, 0.01, 0.05]))
    return delay, wait_for_start


#: join(timeout) timeouts: short enough to keep the suite fast, long enough to resolve.
join_timeouts = st.sampled_from([0.01, 0.05, 0.1, 0.2])


# --- isolation -------------------------------------------------------------------------

#: The simple values a write carries: ints, text, bytes.
iso_leaves = st.one_of(st.integers(), st.text(max_size=8), st.binary(max_size=8))

#: Hashable values (for sets and dict keys): leaves, and tuples and frozensets of them.
iso_hashable_values = st.recursive(
    iso_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3).map(tuple),
                            st.frozensets(inner, max_size=3)),
    max_leaves=5)

#: Any value a write may carry: leaves and nested containers (lists, tuples, dicts, sets).
iso_values = st.recursive(
    iso_leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(st.text(max_size=4), inner, max_size=3),
                            st.sets(iso_hashable_values, max_size=3)),
    max_leaves=8)


@st.composite
def module_writes(draw: Any, kinds: tuple = isolation_state.WRITE_KINDS) -> tuple[str, Any]:
    """``(kind, value)``: one write to :mod:`harness.isolation_state`, of one of ``kinds``.

    The value is never ``isolation_state.START`` (100), what every piece of state starts
    from: so every write is a visible change, and "unchanged" cannot pass by accident."""
    kind = draw(st.sampled_from(kinds))
    if kind in isolation_state.VALUELESS_KINDS:
        return kind, None
    values = iso_hashable_values if kind in isolation_state.HASHABLE_KINDS else iso_values
    return kind, draw(values.filter(lambda v: v != isolation_state.START))


#: A few run-time changes to the module state (each kind at most once: deleting twice fails).
start_changes = st.lists(module_writes(), min_size=1, max_size=3,
                         unique_by=lambda write: write[0]).map(tuple)


@st.composite
def argument_objects(draw: Any) -> dict:
    """A mutable argument: a dict holding a list (whose first item is a list), a dict
    (int keys), a set and a :class:`harness.isolation_state.Holder` object."""
    return {"list": [draw(st.lists(iso_values, max_size=3)),
                     *draw(st.lists(iso_values, max_size=2))],
            "dict": draw(st.dictionaries(st.integers(), iso_values, max_size=3)),
            "set": draw(st.sets(iso_hashable_values, max_size=3)),
            "object": isolation_state.Holder(draw(iso_values))}


@st.composite
def argument_writes(draw: Any) -> tuple[dict, str, Any]:
    """``(argument, kind, value)``: an argument object and a mutation that changes it."""
    arg = draw(argument_objects())
    kind = draw(st.sampled_from(isolation_state.ARGUMENT_WRITE_KINDS))
    values = iso_hashable_values if kind == "set-add" else iso_values
    value = draw(values.filter(lambda v: isolation_state.changes_argument(arg, kind, v)))
    return arg, kind, value


#: Keyword-argument names (never ``path``: the target's own first parameter).
_kwarg_names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda name: name != "path")

#: ``(args, kwargs)`` for a child's target.
call_arguments = st.tuples(st.lists(iso_values, max_size=4).map(tuple),
                           st.dictionaries(_kwarg_names, iso_values, max_size=3))
