"""ProviderPool: every LLM call of a run goes through one pool.

Input: ``LLMRequest`` objects (each carrying its ``ModelSpec``). Output: ``LLMResponse``
objects with ``retries`` counted, and per-model statistics (``stats()``). Raises
``LLMError`` (the last attempt's error, kind as in ``synthdsl.llm.wire``, with a
``retries`` attribute) and ``RunError`` (an unknown backend, a missing local model).

For each spec the pool resolves an ``Endpoint`` and a backend:

- ``backend="auto"``: the lean HTTP backend for ``openai/...`` and ``local/...``
  models, litellm for everything else; ``"http"`` / ``"litellm"`` force one;
- ``openai/...`` calls its ``api_base`` (https://api.openai.com/v1 by default) with the
  key in ``OPENAI_API_KEY`` unless ``api_key_env`` names another variable; with an
  ``api_base`` that variable may be unset (no key is sent);
- ``local/...`` starts the embedded llama.cpp server once and calls it like a remote
  OpenAI-compatible endpoint (see ``local_model``).

A spec in batch mode (``batch: true``, OpenAI-compatible on the HTTP path) skips the
limiter and hedging: each attempt is a line of a batch (``batch``), priced at the batch
price, retried by the same policy in a later batch (or online, ``batch_fallback``).

One limiter per (model string, api_base) is shared by every caller (the first spec seen
sets its limits and adapts its concurrency to 429s, see ``limits``): a ``ModelLimiter``
in this process, or what the ``limiters`` factory gives (a limiter service several
processes share).

An attempt far slower than the model's recent ones (several times their 95th
percentile) gets a twin and the first answer wins (``hedge``), so a hung connection
costs its record about one typical latency, not its timeout plus a retry.

A dead endpoint stops the run: when a call has used up its retries failing to connect
(refused, unknown host, TLS: kind "unreachable") and no attempt of any call reached that
endpoint while it tried (at least ``DEAD_AFTER_ATTEMPTS`` attempts in a row failed to
connect), ``complete`` raises ``RunError`` naming the endpoint instead of failing the
record, like a 401 does. Attempts
hold a limiter slot only while on the wire: backoff sleeps release it. API keys are read
at call time and scrubbed from any error message that would echo one.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import LLMError, RunError
from synthdsl.llm.batch import BatchQueue
from synthdsl.llm.batch_support import BatchLedger, batch_settings
from synthdsl.llm.hedge import LatencyWindow, race
from synthdsl.llm.limits import Limiter, ModelLimiter, estimate_tokens
from synthdsl.llm.local_model import ensure_local_server, repeatable, stop_local_servers
from synthdsl.llm.pricing import batch_price_per_token, price_per_token
from synthdsl.llm.retry import RetryPolicy
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.llm.wire import OPENAI_API_BASE, Endpoint

if TYPE_CHECKING:
    from synthdsl.llm.http_backend import HTTPBackend
    from synthdsl.llm.litellm_backend import LiteLLMBackend

__all__ = ["BACKENDS", "DEAD_AFTER_ATTEMPTS", "ProviderPool", "resolve_backend"]

BACKENDS = ("auto", "http", "litellm")
DEAD_AFTER_ATTEMPTS = 3


@dataclass
class _Reach:
    """Whether an endpoint answers at all: when an attempt last reached it, and how many
    attempts in a row have failed to connect since."""

    last_reached: float = float("-inf")
    unreachable_streak: int = 0

    def saw(self, error: LLMError | None, now: float) -> None:
        if error is not None and error.kind == "unreachable":
            self.unreachable_streak += 1
        else:  # an answer, even an error status, comes from a live server
            self.last_reached = now
            self.unreachable_streak = 0

    def dead_since(self, started: float) -> bool:
        """Nothing reached the endpoint since ``started`` and the streak is long enough."""
        return self.last_reached < started and self.unreachable_streak >= DEAD_AFTER_ATTEMPTS


def resolve_backend(spec: ModelSpec) -> str:
    """The backend ("http" or "litellm") for a spec, no I/O. Raises RunError if unknown."""
    if spec.backend not in BACKENDS:
        raise RunError(
            f"model {spec.alias!r}: unknown backend {spec.backend!r} "
            f"(expected one of {', '.join(BACKENDS)})"
        )
    if spec.backend != "auto":
        return spec.backend
    if spec.model.startswith(("openai/", "local/")):
        return "http"
    return "litellm"


@dataclass
class _ModelStats:
    backend: str = ""
    calls: int = 0
    ok: int = 0
    failed: int = 0
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    cost_known: bool = False
    rate_limit_wait_s: float = 0.0
    backoff_s: float = 0.0
    latency_s: float = 0.0
    hedged: int = 0
    batched: int = 0  # calls answered through a batch API

    def as_dict(self) -> dict[str, Any]:
        extra = {"batched": self.batched} if self.batched else {}
        return {
            **extra,
            "backend": self.backend,
            "calls": self.calls,
            "ok": self.ok,
            "failed": self.failed,
            "retries": self.retries,
            "errors": dict(sorted(self.errors.items())),
            "failures": dict(sorted(self.failures.items())),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": round(self.cost, 10) if self.cost_known else None,
            "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
            "backoff_s": round(self.backoff_s, 3),
            "latency_s": round(self.latency_s, 3),
            "hedged": self.hedged,
        }


@dataclass
class _Route:
    """What the calls of one spec share, resolved at its first call."""

    endpoint: Endpoint
    limiter: Limiter
    backend: HTTPBackend | LiteLLMBackend
    stats: _ModelStats
    reach: _Reach
    latencies: LatencyWindow
    queue: BatchQueue | None
    max_tokens: Any
    prices: tuple[float, float] | None  # USD per (prompt, completion) token; None: unknown


def _redacted(error: LLMError, secret: str | None) -> LLMError:
    """The same error with ``secret`` cut out of its message (the error itself if absent)."""
    if not secret or secret not in str(error):
        return error
    clean = LLMError(
        str(error).replace(secret, "***"),
        kind=error.kind,
        transient=error.transient,
        status=error.status,
        retry_after=error.retry_after,
    )
    return clean


class ProviderPool:
    """Backends, limiters, retries and statistics for all the models of a run.

    Implements the ``LLMClient`` protocol. Belongs to one event loop; call ``aclose()``
    when done (it closes HTTP sessions and stops the local servers it started).
    ``retry_base``/``retry_cap`` set the exponential backoff (seconds); ``hedge``
    lets an attempt far slower than its model's recent ones get a twin (``hedge``).
    Specs in batch mode go through one ``BatchQueue`` per (model, api_base): each line's
    ``custom_id`` is ``batch_keys(request)`` (the runtime's cache key; by default a
    number), and ``batch_ledger`` is the run's batch state (resume; None: none kept).
    """

    def __init__(
        self,
        *,
        retry_base: float = 0.5,
        retry_cap: float = 30.0,
        hedge: bool = True,
        batch_keys: Callable[[LLMRequest], str] | None = None,
        batch_ledger: BatchLedger | None = None,
        limiters: Callable[[ModelSpec], Limiter] | None = None,
    ) -> None:
        self._policy = RetryPolicy(base=retry_base, cap=retry_cap)
        # Where a model's limits come from (None: a ModelLimiter in this process).
        self._make_limiter = limiters
        self._endpoints: dict[tuple[str, str | None, str | None, str, bool], Endpoint] = {}
        self._endpoint_locks: dict[str, asyncio.Lock] = {}
        self._limiters: dict[tuple[str, str | None], Limiter] = {}
        self._http: dict[tuple[str, str | None], HTTPBackend] = {}
        self._litellm: LiteLLMBackend | None = None
        self._stats: dict[str, _ModelStats] = {}
        self._reach: dict[tuple[str, str | None], _Reach] = {}
        self._latencies: dict[tuple[str, str | None], LatencyWindow] = {}
        self._hedge = hedge
        self._local_used = False
        self._batches: dict[tuple[str, str | None], BatchQueue] = {}
        numbers = itertools.count(1)
        self._batch_keys = batch_keys or (lambda _request: f"call-{next(numbers)}")
        self._batch_ledger = batch_ledger
        self._routes: dict[int, tuple[ModelSpec, _Route]] = {}

    # ------------------------------------------------------------------ resolution

    async def endpoint_for(self, spec: ModelSpec) -> Endpoint:
        """Where and how ``spec`` is called (starts the local server for ``local/...``)."""
        key = (spec.model, spec.api_base, spec.api_key_env, spec.backend, wants_repeatable(spec))
        found = self._endpoints.get(key)
        if found is not None:
            return found
        backend = resolve_backend(spec)
        if spec.model.startswith("local/"):
            lock = self._endpoint_locks.setdefault(spec.model, asyncio.Lock())
            async with lock:
                found = self._endpoints.get(key)
                if found is not None:
                    return found

                api_base, served = await asyncio.to_thread(
                    ensure_local_server,
                    spec.model,
                    owner=self,
                    deterministic=wants_repeatable(spec),
                )
                self._local_used = True
                endpoint = Endpoint(
                    model=spec.model,
                    wire_model=served,
                    litellm_model=f"openai/{served}",
                    api_base=api_base,
                    api_key_env=None,
                    backend=backend,
                )
        elif spec.model.startswith("openai/"):
            # OPENAI_API_KEY unless the alias names another variable, as OpenAI's own
            # clients do; optional for another api_base (a local server needs none).
            endpoint = Endpoint(
                model=spec.model,
                wire_model=spec.model[len("openai/") :],
                litellm_model=spec.model,
                api_base=spec.api_base or OPENAI_API_BASE,
                api_key_env=spec.api_key_env or "OPENAI_API_KEY",
                backend=backend,
                key_optional=spec.api_key_env is None and spec.api_base is not None,
            )
        else:
            if backend == "http" and spec.api_base is None:
                raise RunError(
                    f"model {spec.alias!r} ({spec.model}): backend 'http' needs an api_base"
                )
            wire = spec.model.split("/", 1)[1] if "/" in spec.model else spec.model
            endpoint = Endpoint(
                model=spec.model,
                wire_model=wire,
                litellm_model=spec.model,
                api_base=spec.api_base,
                api_key_env=spec.api_key_env,
                backend=backend,
            )
        self._endpoints[key] = endpoint
        return endpoint

    def limiter_for(self, spec: ModelSpec) -> Limiter:
        """The limiter shared by every caller of (model, api_base)."""
        key = (spec.model, spec.api_base)
        limiter = self._limiters.get(key)
        if limiter is None:
            if self._make_limiter is not None:
                limiter = self._make_limiter(spec)
            else:
                limiter = ModelLimiter(spec.concurrency, spec.rpm, spec.tpm)
            self._limiters[key] = limiter
        return limiter

    def _backend(self, spec: ModelSpec, endpoint: Endpoint) -> HTTPBackend | LiteLLMBackend:
        if endpoint.backend == "litellm":
            if self._litellm is None:
                # litellm's glue loads with the first call it makes, not with the run
                from synthdsl.llm.litellm_backend import LiteLLMBackend

                self._litellm = LiteLLMBackend()
            return self._litellm
        return self._http_backend(spec)

    def _http_backend(self, spec: ModelSpec) -> HTTPBackend:
        key = (spec.model, spec.api_base)
        http = self._http.get(key)
        if http is None:
            # aiohttp (~0.1 s to import) loads with the first call over HTTP: a run
            # answered from the cache never pays for it
            from synthdsl.llm.http_backend import HTTPBackend

            http = HTTPBackend(spec.concurrency)
            self._http[key] = http
        return http

    def _batch_queue(self, spec: ModelSpec, endpoint: Endpoint) -> BatchQueue | None:
        """The batch queue of a spec in batch mode on the HTTP path, else None."""
        settings = batch_settings(spec.batch)
        if settings is None or endpoint.backend != "http":
            return None
        key = (spec.model, spec.api_base)
        queue = self._batches.get(key)
        if queue is None:
            http = self._http_backend(spec)
            queue = BatchQueue(endpoint, settings, http, self._batch_ledger)
            self._batches[key] = queue
        return queue

    def _stats_for(self, model: str) -> _ModelStats:
        stats = self._stats.get(model)
        if stats is None:
            stats = _ModelStats()
            self._stats[model] = stats
        return stats

    # ------------------------------------------------------------------------ calls

    async def _route(self, spec: ModelSpec) -> _Route:
        """What every call of ``spec`` shares (endpoint, limiter, backend, statistics),
        resolved once per spec: a call then looks up one dict entry instead of six."""
        found = self._routes.get(id(spec))
        if found is not None and found[0] is spec:
            return found[1]
        stats = self._stats_for(spec.model)
        try:
            endpoint = await self.endpoint_for(spec)
        except RunError as exc:
            kind = exc.kind if isinstance(exc, LLMError) else "setup"
            stats.calls += 1
            stats.failed += 1
            stats.failures[kind] = stats.failures.get(kind, 0) + 1
            raise
        key = (spec.model, spec.api_base)
        reach = self._reach.get(key)
        if reach is None:
            reach = self._reach[key] = _Reach()
        latencies = self._latencies.get(key)
        if latencies is None:
            latencies = self._latencies[key] = LatencyWindow()
        params = spec.param_dict()
        route = _Route(
            endpoint=endpoint,
            limiter=self.limiter_for(spec),
            backend=self._backend(spec, endpoint),
            stats=stats,
            reach=reach,
            latencies=latencies,
            queue=self._batch_queue(spec, endpoint),
            max_tokens=params.get("max_tokens", params.get("max_completion_tokens")),
            prices=price_per_token(spec.model),
        )
        # by identity (the runtime reuses one spec per alias and overrides; hashing a
        # spec costs more): the spec is kept, so its id is not reused while listed
        self._routes[id(spec)] = (spec, route)
        return route

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Run one request with limits and retries. Raises LLMError / RunError."""
        spec = request.spec
        route = await self._route(spec)
        stats = route.stats
        stats.calls += 1
        stats.backend = route.endpoint.backend
        max_tokens = route.max_tokens
        if request.extra:
            params = spec.param_dict()
            params.update(dict(request.extra))
            max_tokens = params.get("max_tokens", params.get("max_completion_tokens"))
        prompt_chars = sum(len(str(m.get("content", ""))) for m in request.messages)
        estimate = estimate_tokens(
            prompt_chars, max_tokens if isinstance(max_tokens, int) else None
        )
        loop = asyncio.get_running_loop()
        call_started = loop.time()
        queue = route.queue
        tries = 0
        via_batch = False

        def online() -> Awaitable[LLMResponse]:
            return self._hedged(route, request, estimate)

        async def batch_attempt() -> LLMResponse:
            # the first attempt joins a batch; retries too, unless they may go online
            nonlocal tries, via_batch
            tries += 1
            assert queue is not None
            if tries > 1 and queue.settings.fallback == "online":
                via_batch = False
                return await online()
            via_batch = True
            started = loop.time()
            try:
                return await queue.call(request, self._batch_keys(request))
            except LLMError as exc:
                stats.errors[exc.kind] = stats.errors.get(exc.kind, 0) + 1
                raise
            finally:
                stats.latency_s += loop.time() - started

        def on_retry(error: LLMError, sleep: float) -> None:
            stats.retries += 1
            stats.backoff_s += sleep

        try:
            if queue is None:
                # the first attempt here, not in the policy: most calls need no retry,
                # and each coroutine layer costs every call on each of its wake-ups
                first_error: LLMError | None = None
                try:
                    response, retries = await online(), 0
                except LLMError as exc:
                    first_error = exc
                if first_error is not None:  # retried outside the handler: no chained errors
                    response, retries = await self._policy.run_after(
                        first_error, online, max_retries=spec.max_retries, on_retry=on_retry
                    )
            else:
                response, retries = await self._policy.run(
                    batch_attempt, max_retries=spec.max_retries, on_retry=on_retry
                )
        except LLMError as exc:
            stats.failed += 1
            stats.failures[exc.kind] = stats.failures.get(exc.kind, 0) + 1
            reach = route.reach
            if exc.kind == "unreachable" and reach.dead_since(call_started):
                raise RunError(
                    f"{exc}; no call reached it in {loop.time() - call_started:.0f} s "
                    f"({reach.unreachable_streak} attempts in a row failed to connect). "
                    "Stopping the run: is the server running, and is the api_base right?"
                ) from None
            raise
        response.retries = retries
        if via_batch:
            stats.batched += 1
            response.cost = _price(spec.model, response, batch=True)
        elif response.cost is None:  # the HTTP path, or a model litellm cannot price
            prices = route.prices
            response.cost = (
                None
                if prices is None
                else prices[0] * response.prompt_tokens + prices[1] * response.completion_tokens
            )
        stats.ok += 1
        stats.prompt_tokens += response.prompt_tokens
        stats.completion_tokens += response.completion_tokens
        if response.cost is not None:
            stats.cost += response.cost
            stats.cost_known = True
        return response

    async def _hedged(self, route: _Route, request: LLMRequest, estimate: int) -> LLMResponse:
        """One online attempt, raced by a twin when it is far slower than usual."""
        delay = route.latencies.hedge_delay() if self._hedge else None
        if delay is None:
            return await self._attempt(route, request, estimate)
        response, twin = await race(
            functools.partial(self._attempt, route, request, estimate), delay
        )
        if twin:
            route.stats.hedged += 1
        return response

    async def _attempt(self, route: _Route, request: LLMRequest, estimate: int) -> LLMResponse:
        """One attempt on the wire, holding a limiter slot."""
        limiter, stats, reach = route.limiter, route.stats, route.reach
        loop = asyncio.get_running_loop()
        async with limiter.slot(estimate) as permit:
            stats.rate_limit_wait_s += permit.waited
            started = loop.time()
            try:
                response = await route.backend.complete(request, route.endpoint)
            except LLMError as exc:
                reach.saw(exc, loop.time())
                stats.errors[exc.kind] = stats.errors.get(exc.kind, 0) + 1
                if exc.kind == "rate_limit":
                    limiter.rate_limited(exc.retry_after, permit)
                else:
                    limiter.answered(grow=False)
                clean = _redacted(exc, _secret(route.endpoint))
                if clean is exc:
                    raise
                raise clean from None
            finally:
                stats.latency_s += loop.time() - started
            now = loop.time()
            reach.saw(None, now)
            limiter.answered()
            route.latencies.add(now - started)
            used = response.prompt_tokens + response.completion_tokens
            if used > 0:
                permit.settle(used)
            return response

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per model string: calls, ok, failed, retries, errors (failed attempts by
        kind), failures (failed calls by kind), prompt/completion tokens, cost (None when
        unknown), rate_limit_wait_s (cool-down and rpm/tpm waits), backoff_s, latency_s,
        hedged (attempts that got a twin); batched (calls answered through a batch API),
        when any."""
        return {model: stats.as_dict() for model, stats in sorted(self._stats.items())}

    async def aclose(self) -> None:
        """Stop following batches (the provider's go on), close HTTP sessions, litellm's
        cached clients and the local servers started."""
        queues, self._batches = list(self._batches.values()), {}
        for queue in queues:
            await queue.aclose()
        http, self._http = list(self._http.values()), {}
        for backend in http:
            await backend.aclose()
        if self._litellm is not None:
            await self._litellm.aclose()
            self._litellm = None
        if self._local_used:
            await asyncio.to_thread(stop_local_servers, self)
            self._local_used = False
        self._endpoints.clear()
        self._routes.clear()

    async def __aenter__(self) -> ProviderPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def wants_repeatable(spec: ModelSpec) -> bool:
    """An alias with a seed or at temperature 0 asks for the same reply every time."""
    return repeatable(spec.param_dict())


def _secret(endpoint: Endpoint) -> str | None:
    if endpoint.api_key_env is None:
        return None
    value = os.environ.get(endpoint.api_key_env)
    return value if value and len(value) >= 4 else None


def _price(model: str, response: LLMResponse, *, batch: bool = False) -> float | None:
    prices = batch_price_per_token(model) if batch else price_per_token(model)
    if prices is None:
        return None
    return prices[0] * response.prompt_tokens + prices[1] * response.completion_tokens
