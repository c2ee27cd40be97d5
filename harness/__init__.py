"""procspec's harness: backends, scenarios, timing model, controls, report and CLI.

Scenarios act a claim out on an implementation and return a plain record of what they
observed; they never assert. Tests (in ``tests/``) judge the records against the claims of
``specs/``.
"""

__version__ = "0.1.0"
