"""Per-node accounting: every record that enters a node is accounted for.

``in = passed + dropped + failed`` for every node: ``passed`` inputs led to at least one
output, ``dropped`` were removed on purpose (counted by reason), ``failed`` raised
(counted by error kind). ``out`` counts records emitted (a node that samples several
completions or explodes a list emits more than it passes). Loops also count
``discarded``: records their body made past the loop's target. A node sampling ``n``
completions counts the samples that failed while others of the same record succeeded
in ``sample_failures`` (the record itself passed). A step with ``when:`` counts the
records that passed by unchanged in ``bypassed`` (they are also ``passed``). A node
that checks replies against a JSON Schema (``json:``) counts ``schema_retries`` (the
follow-up calls that fed a validation error back) and ``schema_failures`` (samples
whose last allowed reply still did not fit; each is also a failure or a sample failure).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NodeStats"]


@dataclass
class NodeStats:
    kind: str
    records_in: int = 0
    passed: int = 0
    out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    discarded: int = 0
    sample_failures: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    bypassed: int = 0
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    unpriced_calls: int = 0  # calls whose model has no known price: the cost is unknown
    checks_replies: bool = False  # a json: step: the schema counts below are reported
    schema_retries: int = 0
    schema_failures: int = 0
    started: float | None = None
    finished: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def finish(self) -> None:
        self.finished = time.monotonic()

    @property
    def balanced(self) -> bool:
        return self.records_in == self.passed + sum(self.dropped.values()) + sum(
            self.failed.values()
        )

    def to_json(self) -> dict[str, Any]:
        wall = (self.finished or time.monotonic()) - self.started if self.started else 0.0
        out: dict[str, Any] = {
            "kind": self.kind,
            "in": self.records_in,
            "passed": self.passed,
            "out": self.out,
            "dropped": dict(sorted(self.dropped.items())),
            "failed": dict(sorted(self.failed.items())),
            "balanced": self.balanced,
            "wall_time_s": round(wall, 3),
        }
        if self.discarded:
            out["discarded"] = self.discarded
        if self.bypassed:
            out["bypassed"] = self.bypassed
        if self.models:
            out["models"] = dict(sorted(self.models.items()))
        if self.sample_failures:
            out["sample_failures"] = dict(sorted(self.sample_failures.items()))
        if self.checks_replies:
            out["schema_retries"] = self.schema_retries
            out["schema_failures"] = self.schema_failures
        if self.calls or self.cache_hits:
            out.update(
                {
                    "calls": self.calls,
                    "cache_hits": self.cache_hits,
                    "retries": self.retries,
                    "prompt_tokens": self.prompt_tokens,
                    "completion_tokens": self.completion_tokens,
                    # None: a call's model has no known price (not "$0")
                    "cost_usd": None if self.unpriced_calls else round(self.cost, 6),
                }
            )
            if self.unpriced_calls:
                out["unpriced_calls"] = self.unpriced_calls
        return out
