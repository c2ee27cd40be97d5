"""Demos of the lifecycle claims (specs/lifecycle.md), built on harness.scenarios.lifecycle."""

from __future__ import annotations

import signal
from typing import Any

from harness.backends import Backend
from harness.demos import DemoFn, Say
from harness.scenarios import lifecycle


def _unstarted(backend: Backend, say: Say) -> None:
    state = lifecycle.observe_unstarted(backend)
    say("Created a Process object and never started it, then read its attributes:")
    say(f"  pid = {state.pid!r}, exitcode = {state.exitcode!r}, is_alive() = {state.alive!r}")
    say("Nothing has run yet, so there is no process id and no exit status to report.")


def _misuse(backend: Backend, say: Say) -> None:
    misuse = lifecycle.observe_misuse(backend)
    say(f"join() on a process never started  -> {misuse.join_before_start}")
    say(f"start() a second time on a running one -> {misuse.second_start}")
    say("Both are refused by `assert` statements inside the implementation: a process "
        "object stands for one child, started once (python -O would strip the checks).")


def _run(backend: Backend, say: Say) -> None:
    run = lifecycle.run_and_join(backend, name=None)
    say(f"parent pid {run.parent_pid}; started a child that reports and then waits.")
    say(f"  name before start()       {run.name_before_start!r}")
    say(f"  pid straight after start() {run.pid_after_start!r}")
    say(f"  the child reported         {run.reported!r}")
    say(f"  is_alive() while it waits  {run.alive_while_running!r}")
    say(f"  after join(): is_alive() {run.alive_after_join!r}, exitcode "
        f"{run.exitcode_after_join!r}, pid {run.pid_after_join!r}, name "
        f"{run.name_after_join!r}")
    say("pid is the child's own id (not the parent's), readable as soon as start() "
        "returns and still there after join(); is_alive() flips to False once joined.")


def _names(backend: Backend, say: Say) -> None:
    record = lifecycle.default_names(backend, 3)
    say(f"Three processes created without a name: {list(record.names)}")
    say(f"The default name is the class name ({record.class_name}) and a counter the "
        "parent keeps for every process object it ever created.")
    grand = lifecycle.child_creates_grandchild(backend)
    say(f"A child named {grand.child_name!r} created its own first process: "
        f"{grand.reported!r}")
    say("The child's child's name carries its parent's counter: <class>-<N>:1.")


def _given_name(backend: Backend, say: Say) -> None:
    run = lifecycle.run_and_join(backend, name="study-demo")
    say(f"Process(name='study-demo'): p.name = {run.name_before_start!r}; the child's "
        f"current_process().name = {(run.reported or {}).get('name')!r}")


_ENDINGS: dict[str, list[tuple[str, Any]]] = {
    "LIFE-010": [("return", None), ("return", 42), ("return", "text")],
    "LIFE-011": [("raise", "boom")],
    "LIFE-012": [("sys.exit", 0), ("sys.exit", 3), ("sys.exit", 255), ("sys.exit", True)],
    "LIFE-013": [("sys.exit()", None), ("sys.exit", None)],
    "LIFE-014": [("sys.exit", "a message"), ("sys.exit", 1.5), ("sys.exit", [1])],
    "LIFE-015": [("os._exit", 0), ("os._exit", 7)],
}


def _endings(claim_id: str) -> DemoFn:
    def demo(backend: Backend, say: Say) -> None:
        say("How the child's target ended -> the exitcode the parent reads after join():")
        for kind, value in _ENDINGS[claim_id]:
            ending = lifecycle.run_to_end(backend, kind, value)
            call = f"{kind}({value!r})" if kind not in ("sys.exit()",) else kind
            say(f"  {call:<28} -> exitcode {ending.exitcode!r}")
        say("The exit code is how a child's fate reaches its parent: 0 for a normal end, "
            "the status given to sys.exit/os._exit, 1 for an error (an exception, or a "
            "non-int object given to sys.exit, which is printed to stderr).")
    return demo


def _stop(method: str, sig: int) -> DemoFn:
    def demo(backend: Backend, say: Say) -> None:
        for delay, wait in ((0.0, False), (0.05, True)):
            stopped = lifecycle.run_and_stop(backend, method, delay, wait)
            moment = "straight after start()" if not wait else \
                f"once it runs, after {delay} s"
            say(f"{method}() {moment}: has {method}() {stopped.has_method}; after join() "
                f"is_alive() {stopped.alive_after_join!r}, exitcode {stopped.exitcode!r} "
                f"(join took {stopped.join_seconds * 1000:.1f} ms)")
        say(f"A negative exit code -N means 'ended by signal N': here -{int(sig)} is "
            f"{signal.Signals(sig).name}.")
    return demo


def _join_timeout(backend: Backend, say: Say) -> None:
    record = lifecycle.join_running_child(backend, 0.2)
    say(f"join(0.2) on a child that waits for a go-ahead returned {record.join_result!r} "
        f"after {record.returned_after:.4f} s; then is_alive() {record.alive_after!r}, "
        f"exitcode {record.exitcode_after!r}.")
    say("join(timeout) returns None either way: check is_alive() or exitcode to learn "
        "whether the child actually ended.")


def _program(backend: Backend, say: Say) -> None:
    run = lifecycle.run_program_whose_main_finishes_first(backend, child_seconds=0.3)
    say("A separate interpreter whose main code starts a 0.3 s child and finishes first "
        "printed (event, monotonic time):")
    for event, stamp in run.events:
        say(f"  {event:<18} {stamp:.3f}")
    say(f"exit status {run.returncode}. The interpreter waits (an exit handler joins "
        "non-daemon children) before it exits.")


DEMOS: dict[str, DemoFn] = {
    "LIFE-001": _unstarted,
    "LIFE-002": _misuse, "LIFE-003": _misuse,
    "LIFE-004": _run, "LIFE-005": _run, "LIFE-009": _run, "LIFE-019": _run,
    "LIFE-006": _names, "LIFE-007": _names,
    "LIFE-008": _given_name,
    **{cid: _endings(cid) for cid in _ENDINGS},
    "LIFE-016": _stop("terminate", signal.SIGTERM),
    "LIFE-017": _stop("kill", signal.SIGKILL),
    "LIFE-018": _join_timeout,
    "LIFE-020": _program,
}
