"""Calls through a provider's batch API: collected into files, submitted, polled, answered.

Input: chat requests of one batch-mode endpoint, each with its ``custom_id`` (the
runtime's cache key); the endpoint's ``BatchSettings``; the HTTP backend that sends the
Batch API's requests; optionally a ``BatchLedger`` (the run's batch state,
``run/batch_state.py``). Output: ``BatchQueue.call(request, key)``, the answer of that
request's line once its batch ends. Raises the ``LLMError`` of the line (kinds of
``batch_lines``), or of the upload / creation / polling that failed; the pool's retry
policy decides what happens next (a later batch, or online).

One ``BatchQueue`` per (model, api_base). Lines wait in the queue until it holds
``max_requests`` lines, the next one would pass ``max_bytes``, or ``window`` seconds
after the first came in; then one task per batch writes the lines to the ledger, uploads
them (``POST /files``, purpose ``batch``), records the file id, creates the batch
(``POST /batches``), records its id, and polls ``GET /batches/{id}`` after
``poll_interval``, each wait 1.5x the last up to 10x (transient poll errors are retried
``POLL_ERRORS`` times in a row; past that, or after an error that is not transient, the
lines fail with the kind "batch_unfollowed", not retried: the batch may still be
answered and paid for, and the ledger keeps it for a re-run). When the batch ends it
downloads the output and error files and resolves every line: an answer, the line's
error, or the error of the batch's ending (expired, cancelled, failed). Identical keys
share one line.

Resume: the first call of a queue reads the ledger's unfinished batches for its
endpoint. A batch with an id is polled again (the first poll at once); an uploaded
file whose batch has no recorded id is looked for among the provider's batches by its
input file id, and submitted only when none was made from it. Their lines' keys wait
for those batches instead of joining new ones. A resumed batch that cannot be
followed (gone, refused) releases its keys with the transient kind "batch_lost", so
their calls are submitted again. Every answer is handed to ``ledger.answered`` (the
run caches it) before the batch is marked collected.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import LLMError
from synthdsl.llm.batch_lines import (
    CHAT_URL,
    ENDED,
    ending_error,
    missing,
    request_line,
    result_lines,
)
from synthdsl.llm.batch_support import BatchLedger, BatchSettings, LedgerEntry
from synthdsl.llm.types import LLMRequest, LLMResponse
from synthdsl.llm.wire import Endpoint

if TYPE_CHECKING:  # the pool hands one in: importing this module loads no aiohttp
    from synthdsl.llm.http_backend import HTTPBackend

__all__ = ["POLL_ERRORS", "BatchQueue"]

POLL_ERRORS = 8  # transient errors in a row while following a batch before giving up
_BACKOFF = 1.5
_CAP = 10.0  # the longest wait between polls, in poll intervals


@dataclass
class _Line:
    key: str
    data: bytes
    future: asyncio.Future[LLMResponse]


def _quiet(future: asyncio.Future[LLMResponse]) -> None:
    """Mark a future's exception as seen (an adopted line nobody asked for again)."""
    if not future.cancelled():
        future.exception()


class BatchQueue:
    """The batch path of one endpoint (see the module docstring)."""

    def __init__(
        self,
        endpoint: Endpoint,
        settings: BatchSettings,
        http: HTTPBackend,
        ledger: BatchLedger | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.settings = settings
        self._http = http
        self._ledger = ledger
        self._pending: list[_Line] = []
        self._pending_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: dict[str, asyncio.Future[LLMResponse]] = {}
        self._adopted: dict[str, asyncio.Future[LLMResponse]] = {}
        self._resumed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.lines_sent = 0
        self.batches_sent = 0

    @property
    def _model(self) -> str:
        return self.endpoint.model

    @property
    def _base(self) -> str:
        return self.endpoint.api_base or ""

    # -- calls ---------------------------------------------------------------------------

    async def call(self, request: LLMRequest, key: str) -> LLMResponse:
        """The answer of ``request``'s line (see the module docstring)."""
        if not self._resumed:
            self._resumed = True
            self._resume()
        future = self._adopted.pop(key, None) or self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._enqueue(_Line(key, request_line(key, request, self.endpoint.wire_model), future))
        return await asyncio.shield(future)

    def _enqueue(self, line: _Line) -> None:
        s = self.settings
        if self._pending and self._pending_bytes + len(line.data) > s.max_bytes:
            self._flush()
        self._pending.append(line)
        self._pending_bytes += len(line.data)
        self._waiting[line.key] = line.future
        if len(self._pending) >= s.max_requests or self._pending_bytes >= s.max_bytes:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(s.window, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        lines, self._pending, self._pending_bytes = self._pending, [], 0
        if lines:
            self._spawn(self._send(lines))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one batch -----------------------------------------------------------------------

    async def _send(self, lines: list[_Line]) -> None:
        futures = {line.key: line.future for line in lines}
        data = b"".join(line.data for line in lines)
        local = None
        if self._ledger is not None:
            local = self._ledger.prepared(self._model, self._base, data, list(futures))
        try:
            file_id = await self._upload(data, f"synthdsl-{local or 'batch'}.jsonl")
            if local is not None and self._ledger is not None:
                self._ledger.uploaded(local, file_id)
            batch = await self._create(file_id)
        except LLMError as exc:
            self._settle(futures, exc)
            if local is not None and self._ledger is not None:
                self._ledger.collected(local, "not submitted")
            return
        self.lines_sent += len(lines)
        self.batches_sent += 1
        await self._follow(local, batch, futures, first_wait=self.settings.poll_interval)

    async def _follow(
        self,
        local: str | None,
        batch: Mapping[str, Any],
        futures: dict[str, asyncio.Future[LLMResponse]],
        *,
        first_wait: float,
    ) -> None:
        """Poll ``batch`` until it ends, then resolve ``futures`` from its files."""
        ledger = self._ledger
        batch_id = str(batch.get("id"))
        if local is not None and ledger is not None:
            ledger.submitted(local, batch_id)
        wait, errors = first_wait, 0
        status = str(batch.get("status"))
        try:
            while status not in ENDED:
                await asyncio.sleep(wait)
                wait = min(
                    max(wait, self.settings.poll_interval) * _BACKOFF,
                    self.settings.poll_interval * _CAP,
                )
                try:
                    batch = await self._json("GET", f"/batches/{batch_id}")
                except LLMError as exc:
                    errors += 1
                    if not exc.transient or errors > POLL_ERRORS:
                        raise
                    continue
                errors = 0
                status = str(batch.get("status"))
                if local is not None and ledger is not None:
                    ledger.state(local, status, _counts(batch))
            answers = await self._results(batch)
        except LLMError as exc:
            # The batch may still end at the provider, paid for: its lines fail for good
            # here (a retry would pay again) and the ledger keeps it for a re-run.
            self._settle(
                futures,
                LLMError(
                    f"{self._model}: batch {batch_id} could not be followed ({exc}); it "
                    "stays in the run's batch state: re-run to collect it",
                    kind="batch_unfollowed",
                    transient=False,
                ),
            )
            return
        for key, answer in answers.items():
            if key in futures and isinstance(answer, LLMResponse) and ledger is not None:
                ledger.answered(key, answer)
        lost = ending_error(status, batch, model=self._model)
        self._settle(futures, None, answers, lost)
        if local is not None and ledger is not None:
            ledger.collected(local, status)

    async def _results(self, batch: Mapping[str, Any]) -> dict[str, LLMResponse | LLMError]:
        answers: dict[str, LLMResponse | LLMError] = {}
        for name in ("output_file_id", "error_file_id"):
            file_id = batch.get(name)
            if not isinstance(file_id, str):
                continue
            data = await self._download(file_id)
            answers.update(result_lines(data, model=self._model))
        return answers

    def _settle(
        self,
        futures: dict[str, asyncio.Future[LLMResponse]],
        error: LLMError | None,
        answers: Mapping[str, LLMResponse | LLMError] | None = None,
        unanswered: LLMError | None = None,
    ) -> None:
        """Resolve every future: from ``answers``, else ``error`` / ``unanswered``."""
        for key, future in futures.items():
            if self._waiting.get(key) is future:
                del self._waiting[key]
            if future.done():
                continue
            found = answers.get(key) if answers is not None else None
            outcome: LLMResponse | LLMError = (
                found if found is not None else error or unanswered or missing(self._model)
            )
            if isinstance(outcome, LLMResponse):
                future.set_result(outcome)
            else:
                future.set_exception(outcome)

    # -- resume --------------------------------------------------------------------------

    def _resume(self) -> None:
        if self._ledger is None:
            return
        loop = asyncio.get_running_loop()
        for entry in self._ledger.unfinished(self._model, self._base):
            if entry.file_id is None:  # never uploaded: nothing was paid for
                self._ledger.collected(entry.local, "not submitted")
                continue
            futures: dict[str, asyncio.Future[LLMResponse]] = {}
            for key in entry.keys:
                future: asyncio.Future[LLMResponse] = loop.create_future()
                future.add_done_callback(_quiet)
                futures[key] = future
            self._adopted.update(futures)
            self._spawn(self._adopt(entry, futures))

    async def _adopt(
        self, entry: LedgerEntry, futures: dict[str, asyncio.Future[LLMResponse]]
    ) -> None:
        try:
            if entry.batch_id is not None:
                batch: Mapping[str, Any] = await self._json("GET", f"/batches/{entry.batch_id}")
            else:
                batch = await self._made_from(entry.file_id or "") or await self._create(
                    entry.file_id or ""
                )
        except LLMError as exc:
            if exc.transient and entry.batch_id is not None:  # follow it: it polls again
                batch = {"id": entry.batch_id, "status": "unknown"}
            else:  # gone, or refused: nothing more to collect
                self._release(entry, futures, exc)
                return
        await self._follow(entry.local, batch, futures, first_wait=0.0)
        for key in futures:
            self._adopted.pop(key, None)

    def _release(
        self, entry: LedgerEntry, futures: dict[str, asyncio.Future[LLMResponse]], why: LLMError
    ) -> None:
        for key, future in futures.items():
            if self._adopted.get(key) is future:
                del self._adopted[key]
            if not future.done():
                future.set_exception(
                    LLMError(
                        f"{self._model}: an earlier run's batch cannot be collected ({why}); "
                        "submitting again",
                        kind="batch_lost",
                        transient=True,
                    )
                )
        if self._ledger is not None:
            self._ledger.collected(entry.local, "lost")

    async def _made_from(self, file_id: str) -> Mapping[str, Any] | None:
        """A batch already created from ``file_id`` (its creation's answer was lost)."""
        listing = await self._json("GET", "/batches?limit=100")
        data = listing.get("data")
        for batch in data if isinstance(data, list) else []:
            if isinstance(batch, Mapping) and batch.get("input_file_id") == file_id:
                return batch
        return None

    # -- requests ------------------------------------------------------------------------

    async def _upload(self, data: bytes, name: str) -> str:
        body = await self._retrying(
            lambda: self._http.send(
                self.endpoint, "POST", "/files", upload=(name, data, {"purpose": "batch"})
            )
        )
        file_id = _decode(body, self._model).get("id")
        if not isinstance(file_id, str):
            raise LLMError(
                f"{self._model}: file upload answered no id", kind="malformed", transient=True
            )
        return file_id

    async def _create(self, file_id: str) -> Mapping[str, Any]:
        batch = await self._json(
            "POST",
            "/batches",
            {"input_file_id": file_id, "endpoint": CHAT_URL, "completion_window": "24h"},
        )
        if not isinstance(batch.get("id"), str):
            raise LLMError(
                f"{self._model}: batch creation answered no id", kind="malformed", transient=True
            )
        return batch

    async def _download(self, file_id: str) -> bytes:
        return await self._retrying(
            lambda: self._http.send(self.endpoint, "GET", f"/files/{file_id}/content")
        )

    async def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Mapping[str, Any]:
        raw = await self._http.send(self.endpoint, method, path, json_body=body)
        return _decode(raw, self._model)

    async def _retrying(self, send: Callable[[], Awaitable[bytes]]) -> bytes:
        """A file transfer, tried again after transient errors (a few, quickly)."""
        for attempt in range(3):
            try:
                return await send()
            except LLMError as exc:
                if not exc.transient or attempt == 2:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Stop waiting (the provider's batches go on; the ledger keeps them)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stats(self) -> dict[str, int]:
        return {"batches": self.batches_sent, "batch_lines": self.lines_sent}


def _decode(raw: bytes, model: str) -> Mapping[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, Mapping):
        raise LLMError(f"{model}: malformed Batch API answer", kind="malformed", transient=True)
    return body


def _counts(batch: Mapping[str, Any]) -> dict[str, int]:
    counts = batch.get("request_counts")
    out: dict[str, int] = {}
    if isinstance(counts, Mapping):
        for name in ("total", "completed", "failed"):
            value = counts.get(name)
            if isinstance(value, int):
                out[name] = value
    return out
