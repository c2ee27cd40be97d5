"""Lifecycle scenarios (specs/lifecycle.md): ``unstarted`` (before ``start()``, calls out of
order), ``runs`` (one child's life), ``family`` (a grandchild; a program's early end)."""

from harness.scenarios.lifecycle.family import (
    Grandchild,
    ProgramRun,
    child_creates_grandchild,
    run_program_whose_main_finishes_first,
)
from harness.scenarios.lifecycle.runs import (
    Ending,
    Run,
    Stopped,
    TimedOutJoin,
    join_running_child,
    run_and_join,
    run_and_stop,
    run_to_end,
)
from harness.scenarios.lifecycle.unstarted import (
    DefaultNames,
    Misuse,
    SecondStart,
    Unstarted,
    default_names,
    join_before_start,
    observe_misuse,
    observe_unstarted,
    second_start,
)

__all__ = ["DefaultNames", "Ending", "Grandchild", "Misuse", "ProgramRun", "Run", "SecondStart",
           "Stopped", "TimedOutJoin", "Unstarted", "child_creates_grandchild", "default_names",
           "join_before_start", "join_running_child", "observe_misuse", "observe_unstarted",
           "run_and_join", "run_and_stop", "run_program_whose_main_finishes_first",
           "run_to_end", "second_start"]
