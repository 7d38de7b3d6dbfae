"""Deterministic chat-completion replies: what the fake server (and fake client) answer.

Takes a chat-completions request body (model, messages, temperature, seed, n,
logprobs, max_tokens / max_completion_tokens, response_format) and the directives
found in its last user message; gives the OpenAI-shaped completion payload. The reply
depends only on the model, the messages, the temperature and the seed, hashed with
sha256 (``request_digests``) and fed to ``Rng``. ``parse_directives`` raises
ValueError on a malformed directive; the rest raises nothing.

Directives (``[[name: argument]]``, the argument ends at the first ``]]``):
``[[reply: TEXT]]`` (exactly TEXT, one space after the colon dropped), ``[[replies: A ||| B
...]]`` (a conversation's replies in turn: A to the first request, B once the messages
hold one assistant reply, and so on, the last one repeated; found in any user message,
so a follow-up turn keeps it), ``[[fault: ...]]``
(see ``faults``), ``[[words: N]]`` (N words), ``[[list: N]]`` (a numbered list of N
distinct lines), ``[[score: N]]`` (with a JSON response format, integer/number
properties named ``score`` take N).

With ``response_format`` ``json_schema`` the reply is a JSON document valid against the
schema; with ``json_object`` it is a small object. Otherwise it is 8-40 words, cut at
``max_tokens`` words (finish_reason "length").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from synthdsl.testing.fake_openai.faults import Fault, parse_fault
from synthdsl.testing.fake_openai.schema_replies import JsonGen
from synthdsl.testing.fake_openai.words import Rng, numbered_list, sentence

__all__ = [
    "CREATED",
    "Directives",
    "completion",
    "conversation_directives",
    "last_user_text",
    "parse_directives",
    "reply_content",
    "request_digests",
    "text_of",
]

CREATED = 1_700_000_000

_DIRECTIVE_RE = re.compile(r"\[\[\s*(replies|reply|fault|words|list|score)\s*:(.*?)\]\]", re.DOTALL)
_REPLIES_RE = re.compile(r"\[\[\s*replies\s*:(.*?)\]\]", re.DOTALL)


def text_of(content: Any) -> str:
    """The text of a message content (a string, or a list of OpenAI content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        return " ".join(parts)
    return ""


def last_user_text(messages: Sequence[Any]) -> str:
    """The text of the last user message (of the last message when there is none)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    if messages and isinstance(messages[-1], dict):
        return text_of(messages[-1].get("content"))
    return ""


def _number(text: str) -> int | float:
    value = float(text)
    if value.is_integer() and "." not in text and "e" not in text.lower():
        return int(value)
    return value


@dataclass
class Directives:
    """The directives of one prompt."""

    reply: str | None = None
    replies: tuple[str, ...] | None = None
    faults: list[Fault] = field(default_factory=list)
    words: int | None = None
    list_n: int | None = None
    score: int | float | None = None


def parse_directives(text: str) -> Directives:
    """Directives found in ``text``; raises ValueError on a malformed one."""
    found = Directives()
    if "[[" not in text:
        return found
    for match in _DIRECTIVE_RE.finditer(text):
        name, arg = match.group(1), match.group(2)
        if name == "reply":
            found.reply = arg[1:] if arg.startswith(" ") else arg
        elif name == "replies":
            found.replies = _replies(arg)
        elif name == "fault":
            found.faults.append(parse_fault(arg))
        elif name == "words":
            found.words = max(0, int(arg.strip()))
        elif name == "list":
            found.list_n = max(0, int(arg.strip()))
        else:
            found.score = _number(arg.strip())
    return found


def _replies(arg: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in arg.split("|||"))


def conversation_directives(messages: Sequence[Any]) -> Directives:
    """The directives of a conversation: those of its last user message, and a
    ``[[replies: ...]]`` from the first user message that has one (a follow-up turn
    says nothing of the replies, the prompt that started the conversation does).
    Raises ValueError on a malformed directive of the last user message."""
    found = parse_directives(last_user_text(messages))
    if found.replies is not None or found.reply is not None:
        return found
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            match = _REPLIES_RE.search(text_of(message.get("content")))
            if match is not None:
                found.replies = _replies(match.group(1))
                break
    return found


def _turn(body: dict[str, Any]) -> int:
    """How many assistant replies the request's messages already hold."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")


def request_digests(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """(content key, reply digest) of a request body.

    The content key hashes the model and the messages (it counts attempts of the same
    content); the reply digest also hashes the temperature and the seed.
    """
    model = body.get("model")
    messages_json = json.dumps(
        body.get("messages"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    content_key = hashlib.sha256(f"{model}\x00{messages_json}".encode()).digest()
    seed_material = json.dumps([body.get("temperature"), body.get("seed")])
    digest = hashlib.sha256(f"{model}\x00{messages_json}\x00{seed_material}".encode()).digest()
    return content_key, digest


def completion(body: dict[str, Any], directives: Directives, digest: bytes) -> dict[str, Any]:
    """The chat-completion payload answering ``body`` (``n`` choices, usage, logprobs)."""
    model = body.get("model")
    messages = body.get("messages")
    n = body.get("n")
    n_choices = n if isinstance(n, int) and 1 <= n <= 128 else 1
    want_logprobs = body.get("logprobs") is True
    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for index in range(n_choices):
        choice_digest = (
            digest if index == 0 else hashlib.sha256(digest + index.to_bytes(4, "big")).digest()
        )
        content, finish = reply_content(body, directives, choice_digest)
        words = content.split()
        completion_tokens += len(words)
        logprobs: dict[str, Any] | None = None
        if want_logprobs:
            lp_rng = Rng(hashlib.sha256(choice_digest + b"logprobs").digest())
            logprobs = {
                "content": [
                    {
                        "token": word,
                        "logprob": -round(0.0005 + 3.0 * lp_rng.unit(), 4),
                        "bytes": None,
                        "top_logprobs": [],
                    }
                    for word in words
                ]
            }
        choices.append(
            {
                "index": index,
                "message": {"role": "assistant", "content": content},
                "logprobs": logprobs,
                "finish_reason": finish,
            }
        )
    prompt_tokens = sum(
        len(text_of(m.get("content")).split())
        for m in (messages if isinstance(messages, list) else [])
        if isinstance(m, dict)
    )
    return {
        "id": "chatcmpl-" + digest.hex()[:24],
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_synthdsl_fake",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def reply_content(body: dict[str, Any], directives: Directives, digest: bytes) -> tuple[str, str]:
    """(content, finish_reason) of one choice."""
    if directives.reply is not None:
        return directives.reply, "stop"
    if directives.replies:
        return directives.replies[min(_turn(body), len(directives.replies) - 1)], "stop"
    rng = Rng(digest)
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") in ("json_schema", "json_object"):
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if isinstance(schema, dict):
            value = JsonGen(schema, rng, directives.score).value(schema)
        else:
            score = directives.score if directives.score is not None else rng.between(1, 10)
            value = {"answer": sentence(rng, rng.between(4, 12)), "score": score}
        return json.dumps(value, ensure_ascii=False), "stop"
    if directives.list_n is not None:
        return numbered_list(rng, directives.list_n), "stop"
    count = directives.words if directives.words is not None else rng.between(8, 40)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 <= limit < count:
        return sentence(rng, limit, final_period=False), "length"
    return sentence(rng, count), "stop"
