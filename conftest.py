"""Repository-wide pytest set-up: only ``pytester``, which the meta-tests use.

procspec's plugin (``harness.pytest_plugin``) is loaded through its ``pytest11`` entry
point (``pip install -e .`` registers it); the Hypothesis profiles are in
``tests/conftest.py``; markers are registered by the plugin, warning filters and the
per-test timeout are set by it for procspec's tests (see ``pyproject.toml``).
"""

pytest_plugins = ["pytester"]
