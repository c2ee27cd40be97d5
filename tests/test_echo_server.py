"""Echo-server claims (specs/echo-server.md), checked on every server under test.

The ``echo_server`` fixture runs procspec's server under each backend, or each
``--echo-server`` command (or named server); scenarios (harness.scenarios.echo) drive the
clients and never raise on what a server does.

One claim, one behaviour: each test fails only by its own claim's verdict, on its own
behaviour. The reply's content belongs to ECHO-001/ECHO-002 and long messages to
ECHO-001/ECHO-004: the other tests send short ASCII messages and judge "answered" ignoring
ASCII case (``echo.answered``). EOF after the client's half-close belongs to ECHO-009: no
other test waits for it. Whether the server answers at all belongs to ECHO-011: every other
test first asks ``echo.serves`` (once per server) and, when the server answers nothing, has
nothing to judge and skips with that reason.

PYTEST_DONT_REWRITE: every assert here carries its own verdict (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any, Optional

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness.scenarios import echo
from harness.scenarios.echo import answered, how_it_ended, reply_problem
from harness.supervise import Raised
from harness.verdict import holds, premise, violated

from . import strategies

pytestmark = pytest.mark.echo


def _brief(data: bytes, keep: int = 60) -> str:
    return repr(data) if len(data) <= keep else f"{data[:keep]!r}... ({len(data)} bytes)"


def _require_service(server) -> None:
    """Unjudged (nothing to judge) when the server answers no message at all: ECHO-011's."""
    reason = echo.serves(server)
    premise(reason is None, f"{reason}; that is ECHO-011's verdict", whole_test=True)


def _patience(server) -> dict[str, Any]:
    """The figure that says a grace was shortened (harness/patience.py), when it was."""
    note = echo.patience_note(server)
    return {"patience": note} if note else {}


# --- ECHO-001 / ECHO-002 ---------------------------------------------------------------

@pytest.mark.claim("ECHO-001")
@given(message=strategies.echo_messages)
@example(message=b"a" * 1024).via("the receive size exactly")
@example(message="straße ı é".encode() * 200).via("non-ASCII text over several chunks")
@example(message=bytes(range(256)) * 256).via("every byte value, 64 KiB")
def test_every_reply_is_bytes_upper_of_the_message(echo_server, message):
    _require_service(echo_server)
    reply = echo.round_trip(echo_server, message, want=message.upper())
    # Compared outside the assert: pytest would diff the two byte strings (up to 64 KiB)
    # with difflib, in full when CI is set, which took over 100 s; the verdict says enough.
    upper = reply.data == message.upper()
    holds(upper) or violated(
        "ECHO-001", f"bytes.upper() of the {len(message)}-byte message",
        reply_problem(message, reply, want=message.upper()), message=_brief(message),
        **_patience(echo_server))


@pytest.mark.claim("ECHO-001")
@given(message=st.one_of(strategies.echo_text_messages(), strategies.echo_raw_messages()))
@example(message=bytes(range(256)) * 3).via("every byte value, one chunk")
@example(message=b"socat says " * 300).via("ASCII over several chunks")
def test_socat_as_client_gets_bytes_upper(echo_server, message):
    _require_service(echo_server)
    run = echo.socat_client(echo_server, message)
    if run is None:
        pytest.skip("socat is not installed (.ci/run installs it)")
    upper = run.stdout == message.upper()  # outside the assert: no difflib over the bytes
    holds(upper) or violated(
        "ECHO-001", "socat prints bytes.upper() of what it sent",
        f"stdout {_brief(run.stdout)} ({len(run.stdout)} of {len(message)} bytes); "
        f"socat {'still running, stopped' if run.returncode is None else run.returncode}",
        message=_brief(message), seconds=round(run.seconds, 3), **_patience(echo_server))


@pytest.mark.claim("ECHO-002")
@given(text=strategies.echo_non_ascii_texts())
@example(text="straße".encode()).via("the page's own kind of input")
@example(text="ı".encode()).via("dotless i: str.upper() gives 'I'")
@example(text="é".encode()).via("str.upper() gives 'É'")
@example(text=("straße ı é " + strategies.ECHO_NON_ASCII).encode()).via(
    "every non-ASCII character the suite uses")
def test_non_ascii_letters_come_back_unchanged(echo_server, text):
    _require_service(echo_server)
    reply = echo.round_trip(echo_server, text)
    as_str_upper = text.decode("utf-8").upper().encode("utf-8")
    # Only ASCII letters may change (whether they are raised is ECHO-001's): every other
    # byte comes back as sent, so the reply equals the text ignoring ASCII case.
    holds(answered(text, reply)) or violated(
        "ECHO-002", f"every non-ASCII byte as sent: {text.upper()!r} up to the case of "
        f"ASCII letters (str.upper() would give {as_str_upper!r})",
        reply_problem(text, reply), **_patience(echo_server))


# --- ECHO-003 --------------------------------------------------------------------------

@pytest.mark.claim("ECHO-003")
@given(session=strategies.echo_sessions())
@example(session=([b"hello", b"world", b"again"], False)).via("three turns")
@example(session=([b"0: " + b"a" * 40, b"1: b", b"2: " + b"c" * 40], True)).via("pipelined")
def test_a_connection_carries_many_messages_answered_in_order(echo_server, session):
    _require_service(echo_server)
    messages, pipelined = session
    run = echo.session(echo_server, messages, pipelined)
    premise(run.connect_error is None, "the connection was refused (ECHO-005's)")
    sent = [b"".join(messages)] if pipelined else messages
    for i, message in enumerate(sent):
        reply = run.replies[i] if i < len(run.replies) else None
        holds(reply is not None and answered(message, reply)) or violated(
            "ECHO-003", f"reply {i} equal to message {i} (ignoring ASCII case)"
            + (" (all sent back to back)" if pipelined else ""),
            reply_problem(message, reply) if reply is not None
            else f"the connection ended at reply {len(run.replies) - 1}: "
                 f"{how_it_ended(run.replies[-1])}",
            messages=len(messages), **_patience(echo_server))


class EchoSessions(RuleBasedStateMachine):
    """Connections to one server, one at a time (running several at once is ECHO-005's),
    each carrying messages one by one or back to back, and ended by a plain close, with or
    without a half-close first (never waiting for the server's EOF: ECHO-009's; never by a
    reset: ECHO-008's). Every reply is checked when it comes (ECHO-003)."""

    def __init__(self, server):
        super().__init__()
        self.server = server
        self.conn: Optional[echo.Connection] = None
        self.turn = 0

    @property
    def live(self) -> echo.Connection:
        assert self.conn is not None  # every rule that uses it has that precondition
        return self.conn

    def _message(self, filler: str) -> bytes:
        self.turn += 1
        return f"{self.turn}: {filler}".encode("ascii")

    def _connect(self) -> None:
        conn = echo.Connection(self.server)
        if conn.sock is not None:
            self.conn, self.turn = conn, 0

    def _send(self, filler: str) -> None:
        message = self._message(filler)
        reply = self.live.send(message)
        holds(answered(message, reply)) or violated(
            "ECHO-003", f"message {self.turn} of this connection answered (ignoring case)",
            reply_problem(message, reply), **_patience(self.server))

    @initialize(filler=strategies.echo_fillers)
    def first_message(self, filler):
        """Every run judges a reply: a run of no steps (the first one Hypothesis draws
        when a profile asks for one example) would judge nothing."""
        self._connect()
        if self.conn is not None:
            self._send(filler)

    @precondition(lambda self: self.conn is None)
    @rule()
    def connect(self):
        self._connect()

    @precondition(lambda self: self.conn is not None)
    @rule(filler=strategies.echo_fillers)
    def send(self, filler):
        self._send(filler)

    @precondition(lambda self: self.conn is not None)
    @rule(fillers=st.lists(strategies.echo_fillers, min_size=2, max_size=6))
    def send_back_to_back(self, fillers):
        message = b"".join(self._message(f) for f in fillers)
        reply = self.live.send(message)
        holds(answered(message, reply)) or violated(
            "ECHO-003", f"{len(fillers)} messages sent back to back answered, in order",
            reply_problem(message, reply), **_patience(self.server))

    @precondition(lambda self: self.conn is not None)
    @rule(half_close_first=st.booleans())
    def end(self, half_close_first):
        if half_close_first:
            self.live.half_close()
        else:
            self.live.close()
        self.conn = None

    def teardown(self):
        if self.conn is not None:
            self.conn.close()


@pytest.mark.claim("ECHO-003")
def test_connections_carry_many_messages_whatever_the_steps(echo_server):
    _require_service(echo_server)
    run_state_machine_as_test(lambda: EchoSessions(echo_server),  # type: ignore[arg-type]
                              settings=settings(stateful_step_count=12))


# --- ECHO-004 --------------------------------------------------------------------------

def _splits_a_character(data: bytes, at: int) -> bool:
    return 0 < at < len(data) and (data[at] & 0xC0) == 0x80


@pytest.mark.claim("ECHO-004")
@given(line=st.one_of(strategies.echo_split_lines(), strategies.echo_long_lines(),
                      strategies.echo_long_lines(ascii_only=True)))
@example(line="a" * 1023 + "ß" + "tail").via("'ß' split at byte 1024")
@example(line="page client " * 125).via("ASCII, 1500 bytes")
def test_one_recv_1024_can_return_part_of_a_reply(echo_server, line):
    _require_service(echo_server)
    run = echo.page_client_then_correct_client(echo_server, line)
    sent = line.strip().encode("utf-8")
    # The oracle is the server's own reply (a correct client's, on its own connection):
    # what the server does to the content is ECHO-001's and ECHO-002's, not this claim's.
    reply = run.correct.data
    stream = reply + run.follow_up.strip().encode("utf-8")
    first, second = run.first, run.second
    figures = dict(line_bytes=len(sent), reply_bytes=len(reply), **_patience(echo_server))
    if sent.isascii():
        # Any case change keeps an ASCII line's length: the whole reply is as long.
        holds(answered(sent, run.correct)) or violated(
            "ECHO-004", "a correct client (reads until it has the whole reply) gets all of "
            "it: as many bytes as the line", reply_problem(sent, run.correct), **figures)
    premise(run.connect_error is None and first is not None,
            "the page's client could not connect (ECHO-005's)")
    holds(len(first.raw) <= 1024 and reply.startswith(first.raw)) or violated(
        "ECHO-004", "the page's client's one recv(1024): at most 1024 bytes, the start of "
        "the reply", f"{len(first.raw)} bytes: {_brief(first.raw)}", **figures)
    if _splits_a_character(reply, len(first.raw)):
        holds(isinstance(first.printed, Raised) and \
            first.printed.type_name == "UnicodeDecodeError") or violated(
                "ECHO-004", "decoding a prefix that ends inside a character fails",
                first.printed, cut_at=len(first.raw), **figures)
    if len(reply) > len(first.raw):  # the reply was longer than one recv(1024) returned
        more = second.raw if second is not None else b""
        expected = stream[len(first.raw):]
        holds(more and expected.upper().startswith(more.upper())) or violated(
            "ECHO-004", "the page's client's answer to the next line ('x') is more of the "
            f"first reply ({_brief(expected[:40])}...), not 'X'",
            f"{_brief(more)}" + (f" ({second.error})" if second and second.error else ""),
            **figures)


# --- ECHO-005 / ECHO-006 ---------------------------------------------------------------

@pytest.mark.claim("ECHO-005")
@given(crowd=strategies.echo_crowds(max_clients=24))
@example(crowd=([b"client 0: hello", b"client 1: hello"], [1, 0])).via(
    "the second client speaks first")
@example(crowd=([b"client %d: hello" % i for i in range(24)], list(range(23, -1, -1))))
def test_clients_connected_at_once_are_all_served(echo_server, crowd):
    _require_service(echo_server)
    messages, order = crowd
    run = echo.crowd(echo_server, messages, order)
    holds(run.connect_error is None) or violated(
        "ECHO-005", f"{len(messages)} clients connect and stay connected",
        f"client {run.connected} could not connect: {run.connect_error}",
        seconds=round(run.seconds, 2), **_patience(echo_server))
    wrong = {i: reply_problem(messages[i], r) for i, r in enumerate(run.replies)
             if not answered(messages[i], r)}
    holds(not wrong) or violated(
        "ECHO-005", f"all {len(messages)} clients, connected at once, answered",
        f"{len(wrong)} not answered", first_wrong=next(iter(wrong.items())),
        order=order, seconds=round(run.seconds, 2), **_patience(echo_server))


@pytest.mark.claim("ECHO-006")
@given(others=strategies.echo_other_clients(),
       partial=st.sampled_from([b"", b"half a mess"]))
@example(others=[b"other 0: hello"], partial=b"").via("one other client, the idle one silent")
def test_an_idle_client_does_not_block_the_others(echo_server, others, partial):
    _require_service(echo_server)
    run = echo.idle_client_and_others(echo_server, others, partial)
    holds(run.connect_error is None) or violated(
        "ECHO-006", "the idle client connects", run.connect_error, **_patience(echo_server))
    wrong = [i for i, (m, r) in enumerate(zip(others, run.others)) if not answered(m, r)]
    holds(not wrong) or violated(
        "ECHO-006", "clients that come while another is connected and silent are answered",
        f"clients {wrong} of {len(others)} not answered",
        first=reply_problem(others[wrong[0]], run.others[wrong[0]]),
        idle_sent=partial, **_patience(echo_server))
    said = partial or run.wake_up
    holds(answered(said, run.idle)) or violated(
        "ECHO-006", "the idle client is answered too: "
        + ("the reply to the start of a message it sent before going quiet" if partial
           else "once it speaks"),
        reply_problem(said, run.idle), **_patience(echo_server))


# --- ECHO-007 --------------------------------------------------------------------------

@pytest.mark.claim("ECHO-007")
@given(count=st.integers(min_value=2, max_value=8))
@example(count=2)
def test_each_connection_is_handled_by_its_own_process(echo_server, count):
    _require_service(echo_server)
    run = echo.handlers_of_connections(echo_server, count)
    # Judged: the connections that were answered and whose server end is still held (a
    # server that closes a connection after one reply leaves nothing to look at: that is
    # ECHO-003's). A connection never answered is ECHO-005's.
    judged = [i for i, (reply, held) in enumerate(zip(run.replies, run.holders))
              if answered(run.message, reply) and held]
    handlers = {i: run.holders[i] - {run.server_pid} for i in judged}
    problems = [f"connection {i}: held by {sorted(run.holders[i])} (server {run.server_pid})"
                for i in judged if not handlers[i] or not handlers[i] <= run.descendants]
    everyone = [pid for i in judged for pid in handlers[i]]
    shared = sorted({pid for pid in everyone if everyone.count(pid) > 1})
    premise(judged, "no answered connection was still held (ECHO-003's: the server closed "
                    "each after one reply)")
    holds(not problems and not shared) or violated(
        "ECHO-007", f"each of {count} open connections held by its own descendant process "
        "of the server", "; ".join(problems) or f"processes holding several: {shared}",
        holders=[sorted(h) for h in run.holders],
        answered=sum(answered(run.message, r) for r in run.replies), **_patience(echo_server))


# --- ECHO-008 --------------------------------------------------------------------------

@pytest.mark.claim("ECHO-008")
@given(abuses=strategies.echo_abuse_runs, size=strategies.echo_abuse_sizes)
@example(abuses=["reset-before-sending"], size=1).via("the simplest reset")
@example(abuses=["reset-during-reply"], size=65536).via("reset while the server sends")
def test_resets_and_vanishing_clients_do_not_stop_the_server(echo_server, abuses, size):
    _require_service(echo_server)
    run = echo.abuse_then_serve(echo_server, abuses, size)
    failed = [(abuse, reply_problem(echo.STILL_THERE, r))
              for abuse, r in zip(abuses, run.later) if not answered(echo.STILL_THERE, r)]
    holds(not failed and run.server_running) or violated(
        "ECHO-008", "after each misbehaving client a new client is answered; the server "
        "runs on", f"not answered after {failed[:1]}" if failed else "the server ended",
        abuses=abuses, size=size, **_patience(echo_server))


# --- ECHO-009 --------------------------------------------------------------------------

@pytest.mark.claim("ECHO-009")
@given(messages=strategies.echo_turns())
@example(messages=[b"turn 0: hello"]).via("answered once, then the half-close")
def test_when_the_client_closes_its_side_the_handler_closes_the_connection(
        echo_server, messages):
    _require_service(echo_server)
    run = echo.send_then_half_close(echo_server, messages)
    # The server ended the connection first (then there is nothing to close), or the
    # client never had all its replies: outside this claim (ECHO-003's, ECHO-001's).
    premise(run.ending is not None,
            "the server closed first (ECHO-003's)" if run.ended_early
            else "a reply did not come (ECHO-001's)" if run.unanswered
            else "no connection (ECHO-005's)")
    ending = run.ending
    holds(ending.eof and not ending.extra) or violated(
        "ECHO-009", "EOF (the server closed) within "
        f"{run.grace:g} s after the client shut down its sending side",
        f"eof={ending.eof} after {ending.seconds:.2f} s, extra={_brief(ending.extra)}, "
        f"error={ending.error}", messages=len(messages), **_patience(echo_server))


@pytest.mark.claim("ECHO-009")
def test_socat_ends_because_the_server_closes(echo_server):
    _require_service(echo_server)
    run = echo.socat_until_close(echo_server, b"bye\n")
    if run is None:
        pytest.skip("socat is not installed (.ci/run installs it)")
    holds(run.eof_before_grace) or violated(
        "ECHO-009", "socat, after its input ends, sees the server close and exits 0 "
        f"(before its own -t grace of {run.grace:g} s)",
        f"exit {run.returncode} after {run.seconds:.2f} s", stdout=_brief(run.stdout),
        **_patience(echo_server))


# --- ECHO-010 --------------------------------------------------------------------------

#: ECHO-010's bound (see the spec for the measurement behind it).
ZOMBIE_BOUND = 3
SEQUENTIAL_CLIENTS = 30


@pytest.mark.claim("ECHO-010")
def test_finished_handlers_are_reaped_zombies_stay_bounded(echo_server):
    _require_service(echo_server)
    run = echo.sequential_clients(echo_server, SEQUENTIAL_CLIENTS)
    holds(run.zombies_settled <= ZOMBIE_BOUND) or violated(
        "ECHO-010", f"at most {ZOMBIE_BOUND} zombies after {run.clients} clients",
        run.zombies_settled, zombies_after_each=run.zombies_after_each,
        handlers_still_running=run.still_running, answered=run.replies_ok,
        **_patience(echo_server))


# --- ECHO-011 --------------------------------------------------------------------------

_HANDLER_MAKEUP = {
    "fork": "a copy of the server (same command line), child of the server",
    "spawn": "a fresh interpreter running multiprocessing.spawn, child of the server",
    "forkserver": "a child of the fork server process",
}


@pytest.mark.claim("ECHO-011")
def test_the_accepted_socket_reaches_a_child_under_each_start_method(
        echo_server, echo_server_name):
    run = echo.handlers_of_connections(echo_server, 1, message=b"which process are you")
    reply = run.replies[0] if run.replies else None
    holds(reply is not None and answered(run.message, reply)) or violated(
        "ECHO-011", "a message answered (the server works: its handler got the socket)",
        reply_problem(run.message, reply) if reply is not None else run.connect_error,
        **_patience(echo_server))
    if echo_server_name not in _HANDLER_MAKEUP:
        return  # any other server: whether a process per connection runs is ECHO-007's
    handler = sorted(run.holders[0] - {run.server_pid})
    holds(len(handler) == 1 and handler[0] in run.descendants) or violated(
        "ECHO-011", "the connection is held by one descendant process of the server",
        f"holders {sorted(run.holders[0])}", server=run.server_pid)
    pid = handler[0]
    parent = run.parents.get(pid)
    cmdline, server_cmdline = run.cmdlines.get(pid, ""), run.cmdlines.get(run.server_pid)
    made_by = {
        "fork": parent == run.server_pid and cmdline == server_cmdline,
        "spawn": parent == run.server_pid and "multiprocessing.spawn" in cmdline,
        "forkserver": "forkserver" in run.cmdlines.get(parent, ""),
    }
    holds(made_by[echo_server_name]) or violated(
        "ECHO-011", f"under {echo_server_name}: {_HANDLER_MAKEUP[echo_server_name]}",
        f"handler {pid} ({cmdline[:100]}), parent {parent} "
        f"({run.cmdlines.get(parent, '?')[:100]})")
