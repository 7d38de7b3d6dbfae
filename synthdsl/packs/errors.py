"""The two ways a pack command fails, with their exit codes.

- ``PackError`` (exit 2): bad input: a source that is not a pack, a bad manifest
  summary, an unsafe archive (the message names the member), a pack not installed;
- ``PackFetchError`` (exit 1, a ``RunError``): a source that could not be fetched (a
  download or ``git`` that failed).

Problems inside ``pack.yaml`` or a recipe are ``RecipeError`` with their positions.
"""

from __future__ import annotations

from synthdsl.errors import RunError, SynthdslError

__all__ = ["PackError", "PackFetchError"]


class PackError(SynthdslError):
    """A pack, a pack source or an archive that cannot be used (exit 2)."""

    exit_code = 2


class PackFetchError(RunError):
    """A pack source that could not be fetched: download or git failed (exit 1)."""
