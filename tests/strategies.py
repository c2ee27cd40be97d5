"""Hypothesis strategies for every topic, in one place (each with what it draws and why)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.child import isolation_state

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
    """``(kind, value)``: one write to :mod:`harness.child.isolation_state`, of one of ``kinds``.

    The value is never ``isolation_state.START`` (100), what every piece of state starts
    from: so every write is a visible change, and "unchanged" cannot pass by accident."""
    kind = draw(st.sampled_from(kinds))
    if kind in isolation_state.VALUELESS_KINDS:
        return kind, None
    values = iso_hashable_values if kind in isolation_state.HASHABLE_KINDS else iso_values
    return kind, draw(values.filter(lambda v: v != isolation_state.START))


#: A few run-time changes to the module state: each kind at most once (deleting twice
#: fails), in the order of ``WRITE_KINDS`` (so ``items[0] = v`` never follows ``clear()``).
start_changes = st.lists(module_writes(), min_size=1, max_size=3,
                         unique_by=lambda write: write[0]).map(
    lambda writes: tuple(sorted(writes,
                                key=lambda w: isolation_state.WRITE_KINDS.index(w[0]))))


@st.composite
def argument_objects(draw: Any) -> dict:
    """A mutable argument: a dict holding a list (whose first item is a list), a dict
    (int keys), a set and a :class:`harness.child.isolation_state.Holder` object."""
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


# --- echo server -----------------------------------------------------------------------
#
# Two kinds of messages. ECHO-001, ECHO-002 and ECHO-004 own the reply's content and how
# long messages are cut into chunks: they draw text with non-ASCII characters, arbitrary
# bytes, and lengths around the 1024-byte receive. Every other echo claim (sessions,
# concurrency, resets, EOF, reaping) draws short ASCII messages (letters, digits, spaces,
# well under 1024 bytes, pipelined totals too), distinct per client, and judges a reply as
# "answered" ignoring ASCII case (harness.scenarios.echo.answered): so a server whose only
# defect is the content or long messages does not break them.

from harness.scenarios import echo as _echo_scenarios  # noqa: E402

#: Characters whose UTF-8 bytes ``bytes.upper()`` leaves alone but ``str.upper()`` changes
#: ('ß' -> 'SS', 'ı' -> 'I', 'é' -> 'É', ...), and wide ones (3 and 4 UTF-8 bytes).
ECHO_NON_ASCII = "ßıéàñçøåæœÿ€中😀"

#: Reply lengths that matter to a server reading 1024 bytes at a time.
ECHO_BOUNDARY_LENGTHS = (1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 65535, 65536)

#: Text a person might type: ASCII letters and digits mixed with ECHO_NON_ASCII.
echo_words = st.text(alphabet=st.sampled_from("aBz09 ,.!-" + ECHO_NON_ASCII),
                     min_size=1, max_size=40)


def _repeat_to(unit: str, length: int) -> bytes:
    """``unit`` repeated to at least ``length`` UTF-8 bytes, cut at a character boundary."""
    encoded = unit.encode("utf-8")
    text = unit * (length // max(1, len(encoded)) + 1)
    data = text.encode("utf-8")
    cut = length
    while cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut += 1
    return data[:cut]


#: Message lengths in bytes: 1 B .. 64 KiB, the 1024-byte boundaries drawn often.
echo_lengths = st.one_of(st.sampled_from(ECHO_BOUNDARY_LENGTHS),
                         st.integers(min_value=1, max_value=4096),
                         st.integers(min_value=1, max_value=65536))


@st.composite
def echo_text_messages(draw: Any, lengths: Any = echo_lengths) -> bytes:
    """UTF-8 text (ASCII and non-ASCII) of a drawn length (1 B .. 64 KiB, +3 B to finish a
    character): a short drawn phrase repeated, so long messages cost no more to draw."""
    return _repeat_to(draw(echo_words), draw(lengths))


@st.composite
def echo_raw_messages(draw: Any, lengths: Any = echo_lengths) -> bytes:
    """Arbitrary bytes (not necessarily UTF-8) of a drawn length (1 B .. 64 KiB)."""
    unit = draw(st.binary(min_size=1, max_size=64))
    length = draw(lengths)
    return (unit * (length // len(unit) + 1))[:length]


#: Any message a client may send: text or raw bytes, 1 B .. 64 KiB (ECHO-001).
echo_messages = st.one_of(echo_text_messages(), echo_raw_messages())


@st.composite
def echo_non_ascii_texts(draw: Any) -> bytes:
    """Text with at least one character where bytes.upper() and str.upper() disagree
    (ECHO-002), among others of ECHO_NON_ASCII; short (one receive)."""
    word = draw(echo_words)
    special = draw(st.sampled_from("ßıé"))
    at = draw(st.integers(min_value=0, max_value=len(word)))
    return (word[:at] + special + word[at:]).encode("utf-8")


#: ECHO-004's non-ASCII characters: those of ECHO_NON_ASCII whose upper-case form has as
#: many UTF-8 bytes ('ı' -> 'I' has fewer). ECHO-004 judges the page's client against the
#: server's own reply, so any content would do; with these, the reply of a server that
#: upper-cases text is as long as the line, and reading it costs no stall grace.
ECHO_LONG_LINE_CHARS = ECHO_NON_ASCII.replace("ı", "")


@st.composite
def echo_split_lines(draw: Any) -> str:
    """A line whose UTF-8 form has a multi-byte character straddling byte 1024 (or 2048):
    ASCII up to just before the boundary, the character, then more text (ECHO-004)."""
    char = draw(st.sampled_from("ßé中😀"))
    width = len(char.encode("utf-8"))
    boundary = draw(st.sampled_from([1024, 2048]))
    inside = draw(st.integers(min_value=1, max_value=width - 1))  # bytes before the cut
    tail = draw(st.text(alphabet="xyz" + ECHO_LONG_LINE_CHARS, min_size=1, max_size=600))
    return "a" * (boundary - inside) + char + tail + "!"


#: Short ASCII: letters, digits and spaces (a case change never changes a length).
ECHO_ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "


@st.composite
def echo_long_lines(draw: Any, ascii_only: bool = False) -> str:
    """A line (no surrounding blanks) longer than 1024 bytes in UTF-8, up to 8 KiB; ASCII
    only, or with ECHO-004's multi-byte characters (ECHO-004)."""
    length = draw(st.integers(min_value=1025, max_value=8192))
    alphabet = ECHO_ASCII if ascii_only else "aBz09 ,.!-" + ECHO_LONG_LINE_CHARS
    unit = draw(st.text(alphabet=alphabet, min_size=1, max_size=40)).strip() or "w"
    return _repeat_to(unit, length).decode("utf-8").strip() + "."


#: Short ASCII filler for the messages of the claims that are not about content.
echo_fillers = st.text(alphabet=ECHO_ASCII, min_size=0, max_size=40)


def echo_short_messages(tag: str) -> Any:
    """Short ASCII messages that start with ``tag`` (e.g. 'client 3: '), then a drawn
    filler: at most len(tag) + 40 bytes."""
    return echo_fillers.map(lambda filler: (tag + filler).encode("ascii"))


@st.composite
def echo_sessions(draw: Any) -> tuple[list[bytes], bool]:
    """(messages, pipelined): 1-8 short ASCII messages over one connection (each numbered,
    at most 43 bytes, so at most 344 bytes in all: one receive), either each answered
    before the next is sent or all sent back to back (ECHO-003)."""
    count = draw(st.integers(min_value=1, max_value=8))
    messages = [draw(echo_short_messages(f"{i}: ")) for i in range(count)]
    return messages, draw(st.booleans())


@st.composite
def echo_crowds(draw: Any, max_clients: int = 24) -> tuple[list[bytes], list[int]]:
    """(messages, order): 2..max_clients clients connected at once, one short ASCII message
    each, distinct ('client 7: ...'), and the order in which they speak (ECHO-005)."""
    count = draw(st.integers(min_value=2, max_value=max_clients))
    messages = [draw(echo_short_messages(f"client {i}: ")) for i in range(count)]
    order = draw(st.permutations(range(count)))
    return messages, list(order)


@st.composite
def echo_other_clients(draw: Any, max_clients: int = 5) -> list[bytes]:
    """1..max_clients short ASCII messages, distinct ('other 2: ...') (ECHO-006)."""
    count = draw(st.integers(min_value=1, max_value=max_clients))
    return [draw(echo_short_messages(f"other {i}: ")) for i in range(count)]


@st.composite
def echo_turns(draw: Any, max_size: int = 3) -> list[bytes]:
    """0..max_size short ASCII messages, numbered, for one connection (ECHO-009)."""
    count = draw(st.integers(min_value=0, max_value=max_size))
    return [draw(echo_short_messages(f"turn {i}: ")) for i in range(count)]


#: Ways a client misbehaves (harness.scenarios.echo.ABUSES), 1-4 in a row (ECHO-008).
echo_abuse_runs = st.lists(st.sampled_from(_echo_scenarios.ABUSES), min_size=1, max_size=4)

#: Message sizes for a misbehaving client: tiny, one chunk, several, 64 KiB.
echo_abuse_sizes = st.sampled_from([1, 1024, 5000, 65536])


# --- join timing -----------------------------------------------------------------------

#: Most children per example: 8 normally, 32 in the ``thorough`` profile (more processes
#: per example is where per-process overhead and contention show).
JOIN_MAX_CHILDREN = {"thorough": 32}
JOIN_DEFAULT_MAX_CHILDREN = 8


def join_max_children() -> int:
    """The current Hypothesis profile's largest N (read when an example is drawn)."""
    from hypothesis import settings

    profile = getattr(settings, "_current_profile", None)
    return JOIN_MAX_CHILDREN.get(str(profile), JOIN_DEFAULT_MAX_CHILDREN)


@st.composite
def join_plans(draw: Any, max_seconds: float = 0.5,
               min_children: int = 1) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """(durations, join order): N children (1..join_max_children()), each sleeping
    20 ms..``max_seconds``, joined in any order (a permutation of start order).

    Half the time all durations come from the upper half of the range: then sum and max
    differ the most, which is where a one-after-another implementation cannot hide (the
    tests also steer toward such examples with ``hypothesis.target``)."""
    n = draw(st.integers(min_value=min_children, max_value=join_max_children()))
    long_ones = draw(st.booleans())
    low = max_seconds / 2 if long_ones else 0.02
    durations = st.integers(min_value=int(low * 1000), max_value=int(max_seconds * 1000))
    chosen = draw(st.lists(durations.map(lambda ms: ms / 1000), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    return tuple(chosen), tuple(order)


#: join(timeout) timeouts for the upper bound: a short one, and one long enough that a
#: doubled wait exceeds the bound.
join_upper_timeouts = st.sampled_from([0.05, 0.3])


# --- the process API (specs/process-api.md) --------------------------------------------

#: Exit statuses a child ends with before terminate()/kill() is called on it (API-007/008).
api_exit_statuses = st.integers(min_value=0, max_value=255)


# --- descriptors (specs/descriptors.md) ------------------------------------------------

#: How many children are started and joined between the two looks at the table (FD-001).
fd_child_counts = st.integers(min_value=1, max_value=6)

#: How many clients, one after another, after the first one (FD-002): enough that one
#: descriptor per client shows as several.
fd_echo_clients = st.integers(min_value=3, max_value=12)


# --- children, exit, stdio (specs/children.md, exit.md, stdio.md) ----------------------

#: What the parent does to a running child before it looks at active_children() again.
kids_acts = st.sampled_from(["join(timeout)", "is_alive()", "join(0)"])

#: sys.exit() reasons: ints (nothing printed) and objects that are neither int nor None
#: (their str() printed): short text, lists.
exit_reasons = st.one_of(
    st.integers(min_value=0, max_value=255),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3))

#: Exception messages: words the traceback must carry.
exit_messages = st.from_regex(r"[a-z][a-z0-9_]{2,15}", fullmatch=True)

#: Signals whose default action ends a process without a core file, and that neither the
#: interpreter (SIGINT) nor the lifecycle claims (SIGTERM, SIGKILL) own.
exit_signals = st.sampled_from(["SIGUSR1", "SIGUSR2", "SIGHUP", "SIGALRM", "SIGPIPE"])

#: How long a child's non-daemon thread outlives its target (short: the > 1 s case is an
#: explicit example of the test).
exit_thread_seconds = st.sampled_from([0.05, 0.2])

#: A broken standard stream: (who breaks it, which, how).
stdio_breaks = st.tuples(st.sampled_from(["parent", "child"]),
                         st.sampled_from(["stdout", "stderr"]),
                         st.sampled_from(["none", "closed"]))
