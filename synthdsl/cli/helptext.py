"""Help text shared by the commands: an ``examples:`` block under ``--help``.

``examples(*command_lines)`` gives the ``add_parser`` keyword arguments (``epilog`` and
``formatter_class``) that print the lines as they are under an ``examples:`` heading,
while descriptions and option help are wrapped as usual. Every line of such a block is
a complete command that ``tests/cli/test_help_examples.py`` runs. Raises nothing.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["EXAMPLES_HEADING", "examples"]

EXAMPLES_HEADING = "examples:"


class _ExamplesFormatter(argparse.HelpFormatter):
    """Keeps an ``examples:`` epilog line by line; wraps every other text."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLES_HEADING):
            return text
        return super()._fill_text(text, width, indent)


def examples(*command_lines: str) -> dict[str, Any]:
    """``add_parser`` keyword arguments that end the help with these command lines."""
    block = "\n".join([EXAMPLES_HEADING, *(f"  {line}" for line in command_lines)])
    return {"epilog": block, "formatter_class": _ExamplesFormatter}
