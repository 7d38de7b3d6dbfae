"""The fake server's files and batches: OpenAI's Batch API, answered from the same replies.

Takes uploaded JSONL files (one chat-completions request per line: ``custom_id``,
``method``, ``url``, ``body``), batch creations naming one, retrievals, cancellations and
listings; gives OpenAI-shaped file and batch objects, and output and error files whose
lines hold what ``/v1/chat/completions`` would have answered for each body (the same
deterministic replies and the same ``[[fault:...]]`` directives, counted per content
with the online attempts, so ``times=1`` fails a line's first batch and lets a later
one through).

Time drives a batch: it is ``in_progress`` until ``delay`` seconds after its creation,
then ends when next retrieved. How it ends is ``completed`` unless an ending was queued
with ``queue_endings``: ``expired`` (the first half of its lines answered, the rest
``batch_expired``), ``cancelled`` (every line ``batch_cancelled``) or ``failed`` (the
whole batch refused, no file). A cancel request ends it as ``cancelled`` at once.
A line whose fault is an error status goes to the error file with that status; a
"hang", "disconnect" or "truncate" fault becomes a 500 line; body faults ("malformed",
"empty", "content_filter") alter the answer as online. Thread-safe; raises nothing
(bad requests come back as ``(status, message)`` pairs for the app to answer).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from synthdsl.testing.fake_openai.faults import Attempts, apply_body_fault, select_fault
from synthdsl.testing.fake_openai.replies import (
    completion,
    conversation_directives,
    request_digests,
)

__all__ = ["ENDINGS", "BatchStore", "Problem"]

ENDINGS = frozenset({"completed", "expired", "cancelled", "failed"})
_CHAT_URL = "/v1/chat/completions"


@dataclass(frozen=True)
class Problem:
    """A request the store refuses: the HTTP status and the message to answer."""

    status: int
    message: str


@dataclass
class _File:
    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def as_object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
        }


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created_at: float
    ending: str
    lines: list[dict[str, Any]]
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    ended_at: float | None = None

    def as_object(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created_at),
            "completed_at": (
                int(self.ended_at)
                if self.ended_at is not None and self.status == "completed"
                else None
            ),
            "metadata": self.metadata,
            "request_counts": {
                "total": len(self.lines),
                "completed": self.completed,
                "failed": self.failed,
            },
        }


class BatchStore:
    """Uploaded files and the batches made of them, for one server."""

    def __init__(self, attempts: Attempts, *, delay: float = 0.05) -> None:
        self.delay = delay
        self._attempts = attempts
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._batches: dict[str, _Batch] = {}
        self._endings: deque[str] = deque()
        self._ids = itertools.count(1)
        self.created = 0
        self.uploaded = 0
        self.lines_answered = 0

    # -- control ----------------------------------------------------------------------

    def queue_endings(self, endings: list[str]) -> None:
        """The next batches created end this way, in order (then ``completed``)."""
        for ending in endings:
            if ending not in ENDINGS:
                raise ValueError(f"unknown batch ending {ending!r}")
        with self._lock:
            self._endings.extend(endings)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "batches_created": self.created,
                "files_uploaded": self.uploaded,
                "batch_lines": self.lines_answered,
            }

    def reset(self) -> None:
        with self._lock:
            self.created = self.uploaded = self.lines_answered = 0
            self._endings.clear()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):06d}"

    # -- files ------------------------------------------------------------------------

    def upload(self, filename: str, purpose: str, data: bytes) -> dict[str, Any]:
        with self._lock:
            f = _File(self._new_id("file"), filename, purpose, data, int(time.time()))
            self._files[f.id] = f
            self.uploaded += 1
            return f.as_object()

    def file(self, file_id: str) -> dict[str, Any] | Problem:
        with self._lock:
            f = self._files.get(file_id)
            return f.as_object() if f is not None else _no_file(file_id)

    def content(self, file_id: str) -> bytes | Problem:
        with self._lock:
            f = self._files.get(file_id)
            return f.data if f is not None else _no_file(file_id)

    # -- batches ----------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any] | Problem:
        if not isinstance(body, dict):
            return Problem(400, "The request body must be a JSON object.")
        file_id = body.get("input_file_id")
        endpoint = body.get("endpoint")
        if not isinstance(file_id, str):
            return Problem(400, "'input_file_id' is required.")
        if endpoint != _CHAT_URL:
            return Problem(400, f"'endpoint' must be {_CHAT_URL!r}, not {endpoint!r}.")
        with self._lock:
            f = self._files.get(file_id)
            if f is None:
                return _no_file(file_id)
            lines, errors = _parse_lines(f.data)
            ending = self._endings.popleft() if self._endings else "completed"
            metadata = body.get("metadata")
            batch = _Batch(
                id=self._new_id("batch"),
                input_file_id=file_id,
                endpoint=endpoint,
                completion_window=str(body.get("completion_window", "24h")),
                metadata=metadata if isinstance(metadata, dict) else None,
                created_at=time.time(),
                ending="failed" if errors else ending,
                lines=lines,
                errors=errors,
            )
            self._batches[batch.id] = batch
            self.created += 1
            return batch.as_object()

    def retrieve(self, batch_id: str) -> dict[str, Any] | Problem:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return Problem(404, f"No batch with id '{batch_id}'.")
            if batch.status in ("in_progress", "cancelling") and (
                batch.status == "cancelling" or time.time() - batch.created_at >= self.delay
            ):
                self._end(batch, "cancelled" if batch.status == "cancelling" else batch.ending)
            return batch.as_object()

    def cancel(self, batch_id: str) -> dict[str, Any] | Problem:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                return Problem(404, f"No batch with id '{batch_id}'.")
            if batch.status == "in_progress":
                batch.status = "cancelling"
            return batch.as_object()

    def listing(self) -> dict[str, Any]:
        with self._lock:
            data = [b.as_object() for b in reversed(self._batches.values())]
        return {"object": "list", "data": data, "has_more": False}

    # -- ending a batch (under the lock) -----------------------------------------------

    def _end(self, batch: _Batch, ending: str) -> None:
        batch.ended_at = time.time()
        if ending == "failed":
            if not batch.errors:
                batch.errors = [{"code": "invalid_batch", "message": "Injected batch failure."}]
            batch.status = "failed"
            return
        answered = len(batch.lines)
        if ending == "expired":
            answered = len(batch.lines) // 2
        elif ending == "cancelled":
            answered = 0
        out: list[str] = []
        err: list[str] = []
        for i, line in enumerate(batch.lines):
            rid = f"batch_req_{batch.id}_{i}"
            if i >= answered:
                code = "batch_expired" if ending == "expired" else "batch_cancelled"
                message = (
                    "This request could not be executed before the completion window expired."
                    if ending == "expired"
                    else "This request was not executed: the batch was cancelled."
                )
                entry = {
                    "id": rid,
                    "custom_id": line["custom_id"],
                    "response": None,
                    "error": {"code": code, "message": message},
                }
                err.append(json.dumps(entry))
                batch.failed += 1
                continue
            status, payload = self._answer(line["body"])
            self.lines_answered += 1
            entry = {
                "id": rid,
                "custom_id": line["custom_id"],
                "response": {"status_code": status, "request_id": rid, "body": payload},
                "error": None,
            }
            if status == 200:
                out.append(json.dumps(entry))
                batch.completed += 1
            else:
                err.append(json.dumps(entry))
                batch.failed += 1
        if out:
            batch.output_file_id = self._store(f"{batch.id}_output.jsonl", out)
        if err:
            batch.error_file_id = self._store(f"{batch.id}_error.jsonl", err)
        batch.status = ending

    def _store(self, name: str, lines: list[str]) -> str:
        data = ("\n".join(lines) + "\n").encode()
        f = _File(self._new_id("file"), name, "batch_output", data, int(time.time()))
        self._files[f.id] = f
        return f.id

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What the chat endpoint would answer for ``body`` (no latency)."""
        messages = body.get("messages")
        if not isinstance(body.get("model"), str) or not isinstance(messages, list):
            return 400, _error_body("'model' and 'messages' are required.")
        try:
            directives = conversation_directives(messages)
        except ValueError as exc:
            return 400, _error_body(f"Bad directive: {exc}")
        content_key, digest = request_digests(body)
        attempt = self._attempts.next(content_key)
        fault = select_fault(directives.faults, attempt)
        if fault is not None:
            message = f"Injected fault {fault.kind} (attempt {attempt})."
            if fault.status is not None:
                return fault.status, _error_body(message)
            if fault.kind in ("hang", "disconnect", "truncate"):
                return 500, _error_body(message)
        payload = completion(body, directives, digest)
        if fault is not None:
            apply_body_fault(payload, fault)
        return 200, payload


def _error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _no_file(file_id: str) -> Problem:
    return Problem(404, f"No file with id '{file_id}'.")


def _parse_lines(data: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The request lines of an input file, and the problems that refuse the batch."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            errors.append({"code": "invalid_json_line", "message": "Not JSON.", "line": number})
            continue
        custom_id = line.get("custom_id") if isinstance(line, dict) else None
        ok = (
            isinstance(custom_id, str)
            and line.get("method") == "POST"
            and line.get("url") == _CHAT_URL
            and isinstance(line.get("body"), dict)
        )
        if not ok:
            errors.append(
                {
                    "code": "invalid_request",
                    "message": "A line needs custom_id, method POST, url and body.",
                    "line": number,
                }
            )
            continue
        if custom_id in seen:
            errors.append(
                {"code": "duplicate_custom_id", "message": "custom_id repeats.", "line": number}
            )
            continue
        seen.add(str(custom_id))
        lines.append(line)
    if not lines and not errors:
        errors.append({"code": "empty_file", "message": "The input file has no requests."})
    return lines, errors
