"""Plain data passed between the runtime and the provider layer.

A ``ModelSpec`` is a resolved model alias; an ``LLMRequest`` is one call; an
``LLMResponse`` is its result. The ``LLMClient`` protocol is what the executor calls:
a backend (litellm, the lean HTTP path, or a test double) implements it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["LLMClient", "LLMRequest", "LLMResponse", "ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """A model alias resolved for calling.

    ``model`` is a litellm model string ("openai/gpt-4o-mini", "anthropic/claude-...",
    "local/smollm2", "local/path/to/file.gguf"). ``params`` are sampling parameters sent
    with every call (temperature, max_tokens, top_p, seed, stop, ...).
    ``api_key_env`` names the environment variable holding the key: the key itself is
    read at call time and never stored in a spec, a plan, a cache or a log.
    ``backend`` is "auto" (lean HTTP path for OpenAI-compatible endpoints, litellm
    otherwise), "litellm" or "http". ``batch`` holds the alias's batch options.
    """

    alias: str
    model: str
    params: tuple[tuple[str, Any], ...] = ()
    api_base: str | None = None
    api_key_env: str | None = None
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 120.0
    max_retries: int = 6
    backend: str = "auto"
    # The alias's batch options as (name, value) pairs (``llm/batch_support.py``); its
    # calls go through the provider's batch API when they say ``batch: true``.
    batch: tuple[tuple[str, Any], ...] = ()

    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class LLMRequest:
    """One chat-completion call.

    ``sample_index`` distinguishes repeated samples of the same prompt (it is part of
    the cache key; a seeded model's sample i is sent seed + i by the generate node).
    ``response_format`` is an OpenAI-style response_format (e.g. a json_schema).
    ``extra`` are provider parameters sent as they are (a model's ``extra:``); ``salt``
    only enters the cache key (a loop round makes distinct calls for the same prompt).
    """

    spec: ModelSpec
    messages: tuple[dict[str, str], ...]
    response_format: dict[str, Any] | None = None
    sample_index: int = 0
    extra: tuple[tuple[str, Any], ...] = ()
    salt: str = ""


@dataclass
class LLMResponse:
    """What a call returned (or what the cache held for it)."""

    text: str
    model: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    retries: int = 0
    cached: bool = False
    logprobs: list[float] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class LLMClient(Protocol):
    """Anything that can complete a request. Raises ``synthdsl.errors.LLMError``.

    ``ProviderPool`` (``llm/client.py``) is the real one; tests and other executors
    pass their own through ``RunOptions.client``. ``stats()`` is per model (retries,
    errors, waits) for the manifest.
    """

    async def complete(self, request: LLMRequest) -> LLMResponse: ...

    def stats(self) -> dict[str, dict[str, Any]]: ...

    async def aclose(self) -> None: ...
