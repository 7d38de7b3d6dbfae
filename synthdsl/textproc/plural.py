"""Counts in words: ``plural(1, "record") == "1 record"``, ``plural(3, "record") ==
"3 records"``.

Input: a count, the singular noun and, when adding ``s`` is wrong, the plural
(``plural(2, "retry", "retries")``). Output: the count and the right form. Raises
nothing. Every message that prints a count before a noun goes through here.
"""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` followed by ``noun``, or by ``many`` (default ``noun + "s"``) unless
    ``count`` is exactly 1."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"
