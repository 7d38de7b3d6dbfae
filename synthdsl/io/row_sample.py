"""A deterministic, uniform sample of a dataset's rows, reduced to their text fields.

Input: rows, one at a time, in dataset order. Output: ``RowSample.rows()``, at most
``size`` rows (reservoir sampling, ``random.Random(0)``, in dataset order) as
``text_fields(row)``: top-level strings by name, message lists as ``<field>.<role>``.

The dataset sink fills one while it writes (the dataset card measures it without
reading the file back), and the report fills one while it reads the file: the same
rows in the same order give the same sample, so the two measure the same texts.
Errors: none.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_SAMPLE", "MAX_TEXT_CHARS", "RowSample", "text_fields"]

MAX_SAMPLE = 20_000
MAX_TEXT_CHARS = 100_000


def text_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The text of a dataset row by field name; chat shapes give one field per role.

    Top-level string fields (``_provenance`` aside) keep their names. A list of
    messages gives ``<field>.<role>``: ``messages`` (OpenAI/ChatML shapes), a
    conversational preference row's ``prompt``/``chosen``/``rejected``; ``conversations``
    (ShareGPT) gives ``conversations.<from>``; several turns of one role are joined by
    newlines.
    """
    out: dict[str, str] = {}
    for key, value in row.items():
        if key.startswith("_"):
            continue
        if isinstance(value, str):
            out[key] = value[:MAX_TEXT_CHARS]
        elif isinstance(value, list):  # messages, or a preference row's message lists
            role_key, text_key = ("role", "content") if key == "messages" else ("from", "value")
            turns: dict[str, list[str]] = {}
            for turn in value:
                if isinstance(turn, dict) and isinstance(turn.get(text_key), str):
                    turns.setdefault(str(turn.get(role_key, "?")), []).append(turn[text_key])
            for role, texts in turns.items():
                out[f"{key}.{role}"] = "\n".join(texts)[:MAX_TEXT_CHARS]
    return out


class RowSample:
    """Reservoir sampling of text fields; ``seen`` counts the rows offered."""

    def __init__(self, size: int = MAX_SAMPLE) -> None:
        self.size = size
        self.seen = 0
        self._rng = random.Random(0)
        self._items: list[tuple[int, dict[str, str]]] = []

    def add(self, row: Mapping[str, Any]) -> None:
        i = self.seen
        self.seen += 1
        if len(self._items) < self.size:
            self._items.append((i, text_fields(row)))
            return
        j = self._below(i + 1)
        if j < self.size:
            self._items[j] = (i, text_fields(row))

    def _below(self, n: int) -> int:
        """``self._rng.randrange(n)``: the same draws (the fewest bits that hold ``n``,
        drawn again while too large), without its argument checks (a row each)."""
        bits = n.bit_length()
        draw = self._rng.getrandbits
        r = draw(bits)
        while r >= n:
            r = draw(bits)
        return r

    def rows(self) -> list[dict[str, str]]:
        """The sampled rows' text fields, in dataset order."""
        return [fields for _, fields in sorted(self._items, key=lambda item: item[0])]
