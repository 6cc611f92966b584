"""Small helpers for tidying text files."""

__version__ = "0.3.1"

from .core import tidy  # noqa: F401
