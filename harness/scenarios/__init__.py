"""Scenarios: act a claim out on an implementation and return a plain record of what was
observed (frozen dataclasses). They never assert; every wait is bounded; every process and
socket they start is ended before they return."""
