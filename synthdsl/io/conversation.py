"""Multi-turn conversations as training rows: OpenAI ``messages`` or ShareGPT
``conversations``.

Input: a row whose ``turns_field`` holds a list of turns ``{"role", "content"}`` (roles
``system``, ``user``, ``assistant``; content a string), the style and an optional fixed
system message. Output: ``to_conversation`` gives ``{"messages": [...]}`` (``openai``)
or ``{"conversations": [{"from", "value"}]}`` (``sharegpt``: system, human, gpt).

The turns must read as a chat a trainer can learn from: an optional system turn first,
then user and assistant turns alternating, starting with a user turn and ending with an
assistant turn. Raises ``SinkError`` naming the first turn that breaks this (or the
missing field, a turn that is not a role/content mapping, a system turn given twice).
"""

from __future__ import annotations

from typing import Any

from synthdsl.io.json_text import SinkError

__all__ = ["CONVERSATION_STYLES", "check_turns", "to_conversation"]

CONVERSATION_STYLES = ("openai", "sharegpt")
_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def _turn(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"role", "content"}:
        raise SinkError(f"{where} must be a mapping with exactly 'role' and 'content'")
    role, content = value["role"], value["content"]
    if role not in _SHAREGPT_FROM:
        raise SinkError(f"{where} has role {role!r}; expected system, user or assistant")
    if not isinstance(content, str):
        raise SinkError(f"{where} content must be a string, not {type(content).__name__}")
    return {"role": role, "content": content}


def check_turns(value: Any, field: str) -> list[dict[str, str]]:
    """``value`` as a checked list of turns; SinkError (see the module docstring)."""
    if not isinstance(value, list):
        raise SinkError(f"field {field!r} must be a list of turns, not {type(value).__name__}")
    turns = [_turn(t, f"{field}[{i}]") for i, t in enumerate(value)]
    start = 1 if turns and turns[0]["role"] == "system" else 0
    body = turns[start:]
    if len(body) < 2:
        raise SinkError(f"field {field!r} needs at least a user and an assistant turn")
    for i, turn in enumerate(body):
        expected = "user" if i % 2 == 0 else "assistant"
        if turn["role"] != expected:
            raise SinkError(
                f"{field}[{start + i}] is a {turn['role']} turn where a {expected} turn "
                "belongs (after an optional system turn, user and assistant alternate)"
            )
    if body[-1]["role"] != "assistant":
        raise SinkError(f"field {field!r} must end with an assistant turn")
    return turns


def to_conversation(
    row: dict[str, Any], *, turns_field: str, style: str, system: str | None = None
) -> dict[str, Any]:
    """The conversation in ``row[turns_field]`` in ``style``; SinkError when it does not
    fit (see the module docstring)."""
    if style not in CONVERSATION_STYLES:
        raise SinkError(f"unknown conversation style {style!r}")
    if turns_field not in row or row[turns_field] is None:
        have = ", ".join(sorted(row)) or "none"
        raise SinkError(
            f"shape 'conversation' needs field {turns_field!r}, which the row does not have "
            f"(fields: {have})"
        )
    turns = check_turns(row[turns_field], turns_field)
    if system is not None:
        if turns[0]["role"] == "system":
            raise SinkError(
                f"field {turns_field!r} has its own system turn and output.system is set"
            )
        turns = [{"role": "system", "content": system}, *turns]
    if style == "openai":
        return {"messages": turns}
    return {
        "conversations": [{"from": _SHAREGPT_FROM[t["role"]], "value": t["content"]} for t in turns]
    }
