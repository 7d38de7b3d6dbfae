"""Counts in words: ``plural(1, "record") == "1 record"``, ``plural(3, "record") ==
"3 records"``.

Input: a count, the singular noun and, when adding ``s`` is wrong, the plural
(``plural(2, "retry", "retries")``) and how the count is printed when it is formatted
(``shown="12,000"``). Output: the count and the right form. Raises
nothing. Every message that prints a count before a noun goes through here.
"""

from __future__ import annotations

__all__ = ["plural"]


def plural(count: int, noun: str, many: str | None = None, *, shown: str | None = None) -> str:
    """``count`` followed by ``noun``, or by ``many`` (default ``noun + "s"``) unless
    ``count`` is exactly 1; ``shown`` is the count as printed when not ``str(count)``
    (``"12,000"``)."""
    return f"{shown or count} {noun if count == 1 else (many or noun + 's')}"
