"""The Batch API's file format: request lines out, result lines and batch endings back.

Input: an ``LLMRequest`` with its ``custom_id`` (the runtime's cache key) and the wire
model name; the decoded lines of a batch's output and error files; a batch object's
final status. Output: one JSONL request line (bytes, ``\\n``-terminated); for each result
line, its ``custom_id`` and an ``LLMResponse`` or the ``LLMError`` an online reply with
the same status would have raised; the error of lines a batch ended without answering.
Raises nothing: a line that cannot be read is skipped (its call then counts as
unanswered, ``missing``).

Error kinds beyond ``wire``'s: "batch_expired" and "batch_cancelled" (transient: the
line is retried in a later batch), "batch_missing" (transient: the batch ended and the
line is in neither file), "batch_failed" (the provider refused the whole batch; not
retried, the message is the provider's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from synthdsl.errors import LLMError
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.llm.wire import build_body, error_detail, error_for_status, parse_completion

__all__ = [
    "CHAT_URL",
    "ENDED",
    "ending_error",
    "missing",
    "request_line",
    "result_lines",
]

CHAT_URL = "/v1/chat/completions"
# Statuses after which a batch changes no more.
ENDED = frozenset({"completed", "expired", "cancelled", "failed"})


def request_line(custom_id: str, request: LLMRequest, wire_model: str) -> bytes:
    """One line of an input file: the chat-completions body an online call would send."""
    line = {
        "custom_id": custom_id,
        "method": "POST",
        "url": CHAT_URL,
        "body": build_body(request, wire_model),
    }
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def result_lines(data: bytes, *, model: str) -> Iterator[tuple[str, LLMResponse | LLMError]]:
    """(custom_id, answer or error) for each readable line of an output or error file."""
    for raw in data.decode("utf-8", errors="replace").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, Mapping) or not isinstance(line.get("custom_id"), str):
            continue
        yield line["custom_id"], _outcome(line, model)


def _outcome(line: Mapping[str, Any], model: str) -> LLMResponse | LLMError:
    error = line.get("error")
    response = line.get("response")
    if isinstance(error, Mapping) and not isinstance(response, Mapping):
        code = str(error.get("code") or "batch_error")
        message = str(error.get("message") or code)
        if code in ("batch_expired", "batch_cancelled"):
            return LLMError(f"{model}: {message}", kind=code, transient=True)
        return LLMError(
            f"{model}: batch line error {code}: {message}", kind="bad_request", transient=False
        )
    if not isinstance(response, Mapping):
        return missing(model)
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        number = status if isinstance(status, int) else 500
        return error_for_status(number, error_detail(body), model=model)
    try:
        return parse_completion(body, model=model)
    except LLMError as exc:
        return exc


def missing(model: str) -> LLMError:
    """The error of a line a finished batch did not answer."""
    return LLMError(
        f"{model}: the batch ended without an answer for this request",
        kind="batch_missing",
        transient=True,
    )


def ending_error(status: str, batch: Mapping[str, Any], *, model: str) -> LLMError:
    """The error of the lines a batch ended without answering (by its final status)."""
    bid = batch.get("id", "?")
    if status == "failed":
        errors = batch.get("errors")
        data = errors.get("data") if isinstance(errors, Mapping) else None
        details = [
            str(e.get("message") or e.get("code"))
            for e in (data if isinstance(data, list) else [])
            if isinstance(e, Mapping)
        ]
        why = "; ".join(details[:3]) or "no reason given"
        return LLMError(f"{model}: batch {bid} failed: {why}", kind="batch_failed", transient=False)
    if status in ("expired", "cancelled"):
        return LLMError(
            f"{model}: batch {bid} {status} before this request was answered",
            kind=f"batch_{status}",
            transient=True,
        )
    return missing(model)
