"""Hypothesis strategies for every topic, in one place (each with what it draws and why)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

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
