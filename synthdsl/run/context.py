"""What nodes see at run time: models, the call cache, accounting and rejects.

Input: a compiled recipe, an LLM client, a call cache and a rejects writer. Output:
``complete()`` (every LLM call goes through here: cache first, then the budget, then the
provider with its limits and retries; tokens, cost and retries are counted per node), model choice
for pools of models, per-node stats and notes for the manifest. The executor adds
``run_subgraph`` (``run/executor.py``, ``ExecContext``). Raises ``LLMError`` from
``complete`` when a call fails for good.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from synthdsl.errors import LLMError
from synthdsl.llm.batch_support import batch_settings
from synthdsl.llm.types import LLMClient, LLMRequest, LLMResponse, ModelSpec
from synthdsl.nodes.accounting import NodeStats
from synthdsl.records import Record
from synthdsl.run.group_tally import GroupTally
from synthdsl.run.trace import RecordEvent

if TYPE_CHECKING:
    from synthdsl.io.writers import RejectsWriter
    from synthdsl.ir import CompiledRecipe, ModelEntry
    from synthdsl.run.batch_state import BatchState
    from synthdsl.run.budget import Budget
    from synthdsl.run.cache import CallCache
    from synthdsl.run.call_log import CallLog

__all__ = ["COMMIT_EVERY_S", "RunContext"]

# Completed calls reach the cache file within this many seconds (group commit).
COMMIT_EVERY_S = 0.005


@dataclass
class RunContext:
    compiled: CompiledRecipe
    client: LLMClient
    cache: CallCache | None
    rejects: RejectsWriter | None
    limit: int | None = None
    concurrency: int | None = None
    round: int | None = None
    scope: str = ""  # set while a mix refills a part: makes new records and new calls
    cache_reads: bool = True
    # Stops new calls at --max-calls / --max-cost (shared by sub-graph contexts).
    budget: Budget | None = None
    # The prompts and replies, one line per answer (calls.jsonl; shared like the stats).
    calls: CallLog | None = None
    # Told of every record a node hands on, drops or fails (``synthdsl preview``).
    on_record: Callable[[RecordEvent], None] | None = None
    # What the run submitted to batch APIs (``run/batch_state.py``; the manifest's batches).
    batches: BatchState | None = None
    stats: dict[str, NodeStats] = field(default_factory=dict)
    # What became of the records made for each group of an ``allocate`` step.
    tally: GroupTally = field(default_factory=GroupTally)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_usage: dict[str, dict[str, int]] = field(default_factory=dict)
    # The first error message of each (node, failure kind): the failure-rate report's
    # examples (shared by sub-graph contexts, like the stats).
    failure_examples: dict[tuple[str, str], str] = field(default_factory=dict)
    # Rules of the recipe the written records break (``Runtime.violation``; shared by
    # sub-graph contexts): {"node", "message", "fatal"}.
    violations: list[dict[str, Any]] = field(default_factory=list)
    # What the enclosing runner hands a sub-graph (a loop round's pools), by feed key.
    feeds: dict[str, list[Record]] = field(default_factory=dict)
    _commit_scheduled: bool = False
    _specs: dict[Any, ModelSpec] = field(default_factory=dict)
    # Calls under way by cache key: identical requests wait for the first (shared by
    # the contexts of sub-graphs, like the stats).
    _inflight: dict[str, asyncio.Future[LLMResponse | None]] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return self.compiled.params

    def feed(self, key: str) -> list[Record]:
        return self.feeds.get(key, [])

    def node_stats(self, node_id: str, kind: str) -> NodeStats:
        st = self.stats.get(node_id)
        if st is None:
            st = self.stats[node_id] = NodeStats(kind)
        return st

    def node_key(self, node_id: str) -> str:
        """The node path used in record ids: loop rounds and refills make distinct records."""
        key = f"{node_id}@{self.scope}" if self.scope else node_id
        return key if self.round is None else f"{key}@r{self.round}"

    @property
    def salt(self) -> str:
        """What makes the same prompt a different call here (cache key only)."""
        parts = []
        if self.scope:
            parts.append(self.scope)
        if self.round is not None:
            parts.append(f"round={self.round}")
        return ";".join(parts)

    # -- models --------------------------------------------------------------------

    def spec_for(self, alias: str | None, key: str, overrides: dict[str, Any]) -> ModelSpec:
        """The model for one call: a pool picks by weight, stably for ``key``."""
        decl = self.compiled.models[alias or "default"]
        entries = decl.entries
        entry = entries[0]
        memo_key = None
        if len(entries) == 1:
            memo_key = (decl.alias, tuple(sorted(overrides.items())))
            memo = self._specs.get(memo_key)
            if memo is not None:
                return memo
        else:
            total = sum(e.weight for e in entries)
            h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64
            acc = 0.0
            for e in entries:
                acc += e.weight / total
                if h < acc:
                    entry = e
                    break
            else:
                entry = entries[-1]
        params = dict(entry.params)
        params.update(overrides)
        concurrency = self.concurrency or _waiting_calls(entry)
        spec = ModelSpec(
            alias=decl.alias,
            model=entry.model,
            params=tuple(sorted(params.items())),
            api_base=entry.api_base,
            api_key_env=entry.api_key_env,
            concurrency=concurrency,
            rpm=entry.rpm,
            tpm=entry.tpm,
            timeout=entry.timeout,
            max_retries=entry.max_retries,
            backend=entry.backend,
            batch=entry.batch,
        )
        if memo_key is not None:
            self._specs[memo_key] = spec
        return spec

    def provider_extra(self, alias: str | None, spec: ModelSpec) -> tuple[tuple[str, Any], ...]:
        """The ``extra:`` provider parameters of the entry ``spec`` was made from."""
        decl = self.compiled.models[alias or "default"]
        for e in decl.entries:
            if e.model == spec.model and e.api_base == spec.api_base:
                return e.extra
        return ()

    def concurrency_for(self, alias: str | None) -> int:
        if self.concurrency:
            return self.concurrency
        decl = self.compiled.models.get(alias or "default")
        if decl is None:
            return 1
        return max(1, sum(_waiting_calls(e) for e in decl.entries))

    async def complete(self, node_id: str, request: LLMRequest, record: str = "") -> LLMResponse:
        """Answer ``request`` (rendered from the record whose id is ``record``): from the
        cache, from an identical call already in flight (both count as cache hits, so call
        counts do not depend on timing), or from the client (its response is cached).
        Every answer, and every call that failed for good, goes to the call log."""
        st = self.node_stats(node_id, "")
        st.models[request.spec.model] += 1
        usage = self.model_usage.setdefault(request.spec.model, {"calls": 0, "cache_hits": 0})
        key = None
        shared: asyncio.Future[LLMResponse | None] | None = None
        if self.cache is not None:
            key = self.cache.key_for(request)
            while self.cache_reads:
                hit = self.cache.get(key)
                waiting = self._inflight.get(key) if hit is None else None
                if hit is None and waiting is not None:
                    # an identical call is under way: its answer is this one's too
                    answer = await asyncio.shield(waiting)
                    if answer is None:
                        continue  # it failed: look again, then call if nobody else does
                    hit = replace(answer, cached=True, retries=0)
                if hit is not None:
                    st.cache_hits += 1
                    usage["cache_hits"] += 1
                    self._log(node_id, record, request, hit.text, cached=True)
                    return hit
                shared = asyncio.get_running_loop().create_future()
                self._inflight[key] = shared
                break
        response: LLMResponse | None = None
        admitted = False
        try:
            if self.budget is not None:
                await self.budget.admit()  # waits for ever once the budget is spent
                admitted = True
            st.calls += 1
            usage["calls"] += 1
            response = await self.client.complete(request)
        except LLMError as exc:  # a failed call's retries count too (the summary's total)
            st.retries += int(getattr(exc, "retries", 0))
            self._log(node_id, record, request, None, cached=False, error=exc.kind)
            raise
        finally:
            if admitted and self.budget is not None:
                self.budget.done(response.cost if response is not None else 0.0)  # failed: no cost
            if shared is not None and key is not None:
                del self._inflight[key]
                shared.set_result(response)
        self._log(node_id, record, request, response.text, cached=False)
        st.retries += response.retries
        st.prompt_tokens += response.prompt_tokens
        st.completion_tokens += response.completion_tokens
        if response.cost is None:
            st.unpriced_calls += 1
        else:
            st.cost += response.cost
        if self.cache is not None and key is not None:
            self.cache.put(key, response, defer=True)
            if not self._commit_scheduled:
                self._commit_scheduled = True
                asyncio.get_running_loop().call_later(COMMIT_EVERY_S, self._commit)
        return response

    def _log(
        self,
        node_id: str,
        record: str,
        request: LLMRequest,
        reply: str | None,
        *,
        cached: bool,
        error: str | None = None,
    ) -> None:
        if self.calls is not None:
            self.calls.write(
                node_id, record, request, reply=reply, cached=cached, round_=self.round, error=error
            )

    def _commit(self) -> None:
        self._commit_scheduled = False
        if self.cache is not None and not self.cache.closed:
            self.cache.commit()

    # -- accounting helpers -----------------------------------------------------------

    def failed(self, node_id: str, kind: str, message: str) -> None:
        """Keep the first message of each (node, failure kind) as its example."""
        self.failure_examples.setdefault((node_id, kind), message[:300])

    def note(self, node_id: str, name: str, value: Any) -> None:
        self.notes.setdefault(node_id, {})[name] = value

    def violation(self, node_id: str, message: str, fatal: bool) -> None:
        self.violations.append({"node": node_id, "message": message, "fatal": fatal})

    def discard(self, node_id: str, record: Record, reason: str) -> None:
        """A record made by a loop body past the loop's target."""
        self.node_stats(node_id, "").discarded += 1  # the loop's stats exist by now
        self.tally.dropped(record, reason)
        if self.on_record is not None:
            self.on_record(RecordEvent(node_id, "dropped", record, reason))
        if self.rejects is not None:
            self.rejects.write(node_id, "dropped", reason, record)


def _waiting_calls(entry: ModelEntry) -> int:
    """How many calls of ``entry`` a node keeps under way: its concurrency, or in batch
    mode at least a full batch (records wait for a batch to fill)."""
    settings = batch_settings(entry.batch)
    if settings is None:
        return entry.concurrency
    return max(entry.concurrency, settings.max_requests)
