"""Preference pairs as TRL's DPO trainer reads them: ``prompt``, ``chosen``, ``rejected``.

Input: a prompt and two responses (or a row holding them under mapped field names), the
style and an optional fixed system message. Output: ``preference_row`` gives

- ``standard``: ``{"prompt": str, "chosen": str, "rejected": str}``;
- ``conversational``: ``{"prompt": [system?, user], "chosen": [assistant],
  "rejected": [assistant]}``, each a list of ``{"role", "content"}`` messages (TRL's
  conversational preference format with an explicit prompt).

``to_preference`` reads the three fields of a row. Non-string values are written as
JSON text. Raises ``SinkError``: a missing field (named, with the fields the row has), an
unknown style, a system message with the standard style (it has nowhere to go).
"""

from __future__ import annotations

from typing import Any

from synthdsl.io.chat import field_text
from synthdsl.io.json_text import SinkError

__all__ = ["PREFERENCE_STYLES", "preference_row", "to_preference"]

PREFERENCE_STYLES = ("standard", "conversational")


def preference_row(
    prompt: str, chosen: str, rejected: str, *, style: str, system: str | None = None
) -> dict[str, Any]:
    """One DPO row in ``style``; see the module docstring."""
    if style == "standard":
        if system is not None:
            raise SinkError("a system message needs preference_style: conversational")
        return {"prompt": prompt, "chosen": chosen, "rejected": rejected}
    if style != "conversational":
        raise SinkError(f"unknown preference style {style!r}")
    head = [] if system is None else [{"role": "system", "content": system}]
    return {
        "prompt": [*head, {"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    }


def to_preference(
    row: dict[str, Any],
    *,
    prompt_field: str = "prompt",
    chosen_field: str = "chosen",
    rejected_field: str = "rejected",
    style: str = "standard",
    system: str | None = None,
) -> dict[str, Any]:
    """The row's prompt, chosen and rejected fields as one DPO row."""
    texts = [
        field_text(row, name, "preference", required=True)
        for name in (prompt_field, chosen_field, rejected_field)
    ]
    return preference_row(*texts, style=style, system=system)
