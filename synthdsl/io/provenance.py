"""Where a dataset's provenance goes: one rule for ``synthdsl run`` and ``save-as``.

Input: the shape and the recipe's (or command line's) ``provenance`` setting. Output:
``placement`` gives ``inline`` (a ``_provenance`` object in each row), ``beside`` (a
JSON-lines file next to the data, ``beside_path``) or ``none``. Unset (or ``true``), the
``records`` shape keeps provenance inline, since its rows are synthdsl's own records,
and every training shape puts it beside the data, since a trainer reads those files as
they are; ``false`` means none.

A line of the file beside is ``{"row": N, "provenance": P}``: ``N`` counts the data rows
from 0, ``P`` is what ``inline`` would have put in ``_provenance`` (a record's ``{id,
parents, node, ...}``; for a preference pair built from two records, ``{"chosen": ...,
"rejected": ...}``). Raises nothing.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PLACEMENTS", "beside_path", "placement"]

PLACEMENTS = ("inline", "beside", "none")


def placement(shape: str, setting: bool | str | None) -> str:
    """The placement for ``shape`` given the ``provenance`` setting; see the docstring."""
    if setting is None or setting is True:
        return "inline" if shape == "records" else "beside"
    if setting is False:
        return "none"
    return setting


def beside_path(data_path: Path) -> Path:
    """``dataset.jsonl`` → ``dataset.provenance.jsonl`` (any suffix: ``.parquet`` too)."""
    return data_path.with_name(f"{data_path.stem}.provenance.jsonl")
