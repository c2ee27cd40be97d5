"""What runs inside the processes a scenario starts.

- :mod:`harness.child.targets`: module-level targets (importable under spawn and
  forkserver), one section per topic; each reports through :mod:`harness.mailbox`.
- :mod:`harness.child.isolation_state`: the module-level state the isolation claims write.
- :mod:`harness.child.early_main`, :mod:`harness.child.isolation_main`: whole programs a
  scenario runs as ``python -m``, for claims about a program's main module and its exit.
- :mod:`harness.child.hung_processes`: the hang controls' ``Process`` classes
  (``harness/controls/hangs.py``), kept light: every forkserver child of theirs imports it.
"""
