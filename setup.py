"""The package list for setuptools (everything else is in pyproject.toml): the harness's
own packages, found, plus the kit's tests and specs, which pyproject.toml maps from the
repository's top-level tests/ and specs/ into the package (harness.kit)."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["harness", "harness.*"])
      + ["harness.kit.tests", "harness.kit.specs", "harness.kit.specs.expectations"])
