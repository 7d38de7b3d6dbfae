"""Which models can go through a provider's batch API, and a batch alias's settings.

Input: a model string and its backend; the batch options of a model alias (``batch``,
``batch_window``, ``max_batch_requests``, ``max_batch_bytes``, ``poll_interval``,
``batch_fallback``, as (name, value) pairs). Output: ``batch_supported`` (no I/O) and
``BatchSettings`` with the defaults filled in (None: the alias runs online); the
``BatchLedger`` protocol a run's batch state implements (``run/batch_state.py``) and
its ``LedgerEntry``. Raises nothing: the recipe schema has checked the values.

Covered: OpenAI-compatible endpoints on the lean HTTP path (``openai/...``, or any
model with ``backend: http``), which serve ``/files`` and ``/batches``. Not covered:
the embedded ``local/`` model (its server has no batch API) and litellm's providers
(``docs/batch.md`` says which litellm could add).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from synthdsl.llm.types import LLMResponse

__all__ = [
    "BATCH_KEYS",
    "BatchLedger",
    "BatchSettings",
    "LedgerEntry",
    "batch_settings",
    "batch_supported",
]

BATCH_KEYS = (
    "batch",
    "batch_window",
    "max_batch_requests",
    "max_batch_bytes",
    "poll_interval",
    "batch_fallback",
)


@dataclass(frozen=True)
class BatchSettings:
    """How one alias's calls are batched (the defaults suit OpenAI's Batch API)."""

    window: float = 10.0  # seconds a batch keeps collecting after its first line
    max_requests: int = 1000  # lines per file (OpenAI allows 50,000)
    max_bytes: int = 100_000_000  # bytes per file (OpenAI allows 200 MB)
    poll_interval: float = 30.0  # seconds before the first poll; later ones back off
    fallback: str = "batch"  # where retries of failed lines go: "batch" or "online"


def batch_settings(options: Iterable[tuple[str, Any]]) -> BatchSettings | None:
    """The settings of an alias whose options say ``batch: true``, else None."""
    given = dict(options)
    if given.get("batch") is not True:
        return None
    d = BatchSettings()
    return BatchSettings(
        window=float(given.get("batch_window", d.window)),
        max_requests=int(given.get("max_batch_requests", d.max_requests)),
        max_bytes=int(given.get("max_batch_bytes", d.max_bytes)),
        poll_interval=float(given.get("poll_interval", d.poll_interval)),
        fallback=str(given.get("batch_fallback", d.fallback)),
    )


def batch_supported(model: str, backend: str) -> bool:
    """Whether calls of ``model`` on ``backend`` can go through a batch API."""
    if model.startswith("local/"):
        return False
    if backend == "http":
        return True
    return backend == "auto" and model.startswith("openai/")


@dataclass(frozen=True)
class LedgerEntry:
    """A batch the ledger knows and has not collected: its lines' keys, and how far its
    submission got (``file_id`` once uploaded, ``batch_id`` once created)."""

    local: str
    keys: tuple[str, ...]
    file_id: str | None
    batch_id: str | None


class BatchLedger(Protocol):
    """Where a run records its batches, each fact before the step that depends on it."""

    def prepared(self, model: str, api_base: str, data: bytes, keys: Sequence[str]) -> str:
        """Keep a batch's request lines; its local name."""
        ...

    def uploaded(self, local: str, file_id: str) -> None: ...

    def submitted(self, local: str, batch_id: str) -> None: ...

    def state(self, local: str, status: str, counts: Mapping[str, int]) -> None: ...

    def answered(self, key: str, response: LLMResponse) -> None:
        """A line's answer (the run caches it at once)."""
        ...

    def collected(self, local: str, outcome: str) -> None:
        """Every line of the batch is resolved (or it was abandoned): never resume it."""
        ...

    def unfinished(self, model: str, api_base: str) -> list[LedgerEntry]: ...
