"""Starting, observing and always ending the processes of a scenario, every wait bounded.

The implementation under test may be broken (that is what the negative controls are), so
nothing here depends on it being right: what started and ended is read from the OS
(``watch``), every call that can block is bounded (``bounded``), a scenario's processes are
ended at the OS level (``session``), each wait's slack is shortened once it was given up
(``slack``), and separate programs run in their own process group (``programs``).
"""

from harness.supervise.bounded import Call, call_bounded
from harness.supervise.observed import Observed, Raised, attempt, is_alive
from harness.supervise.programs import ProgramOutput, exit_watch, run_program
from harness.supervise.session import END, SIGN_OF_LIFE, STOP, Session, supervised
from harness.supervise.slack import (
    PATIENCE_ENV,
    SLACK_KINDS,
    figures,
    gave_up,
    inherit_patience,
    patience_env,
    slack_for,
)
from harness.supervise.watch import HELPER_SETTLE, Sight, Watch, children, descendants, fd_table

__all__ = [
    "END", "HELPER_SETTLE", "PATIENCE_ENV", "SIGN_OF_LIFE", "SLACK_KINDS", "STOP", "Call",
    "Observed",
    "ProgramOutput", "Raised", "Session", "Sight", "Watch", "attempt", "call_bounded",
    "children", "descendants",
    "fd_table",
    "exit_watch", "figures", "gave_up", "inherit_patience", "is_alive", "patience_env",
    "run_program", "slack_for", "supervised",
]
