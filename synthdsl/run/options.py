"""What a run is asked to do, and what it gives back.

``RunOptions``: output folder, row limit, concurrency, cache, retry timing, report,
progress callback and the LLM client (None: the run makes and closes a provider pool).
``RunResult``: the output folder, dataset path, manifest, status, record count and
per-node stats. ``default_cache_path()``: ``$SYNTHDSL_CACHE`` or
``.synthdsl/cache.sqlite``. Plain data; raises nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.llm.types import LLMClient
from synthdsl.nodes.accounting import NodeStats
from synthdsl.run.context import RunContext

__all__ = ["RunOptions", "RunResult", "default_cache_path"]


@dataclass
class RunOptions:
    out_dir: str | None = None
    limit: int | None = None
    concurrency: int | None = None
    fresh: bool = False
    cache_path: str | None = None
    retry_base: float = field(
        default_factory=lambda: float(os.environ.get("SYNTHDSL_RETRY_BASE", "0.5"))
    )
    retry_cap: float = 30.0
    report: bool = True
    on_progress: Callable[[RunContext], None] | None = None
    # The LLM client; None: a ProviderPool owned (and closed) by the run.
    client: LLMClient | None = None


@dataclass
class RunResult:
    out_dir: Path
    dataset: Path
    manifest: dict[str, Any]
    status: str
    records: int
    stats: dict[str, NodeStats] = field(default_factory=dict)


def default_cache_path() -> Path:
    env = os.environ.get("SYNTHDSL_CACHE")
    return Path(env) if env else Path(".synthdsl") / "cache.sqlite"
