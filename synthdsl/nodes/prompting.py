"""Prompt handling shared by the LLM node kinds (generate, judge).

Compile time: the prompt (a template file or an inline template), an optional system
template, the model alias and parameter overrides, checked with positions. Run time:
render the messages for a record, pick the model (a pool picks by weight, stably per
record), and make the call through the run context (cache, limits, retries).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from synthdsl.errors import LLMError, RecipeError, RunError, Span
from synthdsl.lang.load import content_span
from synthdsl.lang.templates import Template, TemplateRenderError, inline_template, load_template
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.nodes.base import CheckContext, Fail, LLMUse, Prompt, Runtime
from synthdsl.records import Record, stable_hash

__all__ = ["FATAL_KINDS", "PromptConfig", "call_model", "configure_prompt", "render_messages"]

# Failures that no record can escape: the run stops instead of failing every record.
FATAL_KINDS = frozenset({"missing_api_key", "auth"})


@dataclass
class PromptConfig:
    user: Template | None
    system: Template | None
    model: str | None
    model_span: Span
    params: dict[str, Any]
    recipe_params: dict[str, Any] = field(default_factory=dict)

    def templates(self) -> list[Template]:
        return [t for t in (self.system, self.user) if t is not None]

    def llm_use(self) -> LLMUse:
        chars = sum(len(t.source) for t in self.templates())
        return LLMUse(model=self.model, params=dict(self.params), prompt_chars=chars)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model or "default"}
        if self.user is not None:
            out["prompt"] = self.user.name
            out["prompt_hash"] = stable_hash(self.user.source)
        if self.system is not None:
            out["system_hash"] = stable_hash(self.system.source)
        if self.params:
            out["params"] = dict(sorted(self.params.items()))
        return out


def configure_prompt(raw: dict[str, Any], ctx: CheckContext) -> PromptConfig:
    user: Template | None = None
    system: Template | None = None
    if "prompt" in raw and "template" in raw:
        ctx.error(
            ctx.key_span("template"),
            "give either 'prompt' (a file) or 'template' (inline text), not both",
        )
    elif "prompt" not in raw and "template" not in raw:
        ctx.error(ctx.span(), "missing 'prompt' (a template file) or 'template' (inline text)")
    try:
        if "prompt" in raw:
            user = load_template(
                str(raw["prompt"]),
                ref_span=ctx.span("prompt"),
                search_dirs=ctx.search_dirs,
                boundary=ctx.doc.boundary,
            )
        elif "template" in raw:
            user = inline_template(
                str(raw["template"]),
                content_span(ctx.doc, ctx.span("template")),
                f"{ctx.node_id}.template",
                search_dirs=ctx.search_dirs,
            )
    except RecipeError as exc:
        ctx.diagnostics.extend(exc.diagnostics)
    try:
        if "system" in raw:
            system = inline_template(
                str(raw["system"]),
                content_span(ctx.doc, ctx.span("system")),
                f"{ctx.node_id}.system",
                search_dirs=ctx.search_dirs,
            )
    except RecipeError as exc:
        ctx.diagnostics.extend(exc.diagnostics)
    model = raw.get("model")
    return PromptConfig(
        user=user,
        system=system,
        model=str(model) if model is not None else None,
        model_span=ctx.span("model") if model is not None else ctx.span(),
        params=dict(raw.get("params") or {}),
        recipe_params=dict(ctx.params),
    )


def prompt_hash(messages: tuple[dict[str, str], ...]) -> str:
    """A short digest of the rendered messages (roles and contents)."""
    h = hashlib.sha256()
    for m in messages:
        h.update(m["role"].encode())
        h.update(b"\x1e")
        h.update(m["content"].encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def render_messages(
    cfg: Prompt, data: Mapping[str, Any]
) -> tuple[tuple[dict[str, str], ...], Fail | None]:
    """The messages (system, then user) for a record's ``data``, or the render error."""
    context = dict(data)
    context["params"] = cfg.recipe_params
    messages: list[dict[str, str]] = []
    try:
        if cfg.system is not None:
            messages.append({"role": "system", "content": cfg.system.render(context)})
        if cfg.user is not None:
            messages.append({"role": "user", "content": cfg.user.render(context)})
    except TemplateRenderError as exc:
        return (), Fail("template", str(exc))
    return tuple(messages), None


def _vary_seed(spec: ModelSpec, sample_index: int, salt: str) -> ModelSpec:
    """A seeded model's seed for sample i in a scope (loop round, refill).

    Sample i uses seed + i, and a salted scope shifts the seed by a stable offset, so
    that n samples, or the same prompt in another round or refill, are not copies.
    """
    params = dict(spec.params)
    seed = params.get("seed")
    if not isinstance(seed, int) or (not sample_index and not salt):
        return spec
    offset = int(hashlib.sha256(salt.encode()).hexdigest()[:6], 16) if salt else 0
    params["seed"] = seed + sample_index + offset
    return replace(spec, params=tuple(sorted(params.items())))


async def call_model(
    rt: Runtime,
    node_id: str,
    cfg: PromptConfig,
    record: Record,
    *,
    sample_index: int = 0,
    response_format: dict[str, Any] | None = None,
    logprobs: bool = False,
    followup: tuple[dict[str, str], ...] = (),
) -> tuple[LLMResponse, ModelSpec, str] | Fail:
    """Render and send one request; return (response, spec, prompt hash) or a ``Fail``.

    ``followup`` are turns sent after the rendered messages (a structured reply's retry:
    the bad reply and the error); they are part of the request, hence of its cache key,
    but not of the prompt hash, which names the rendered prompt."""
    rendered, fail = render_messages(cfg, record.data)
    if fail is not None:
        return fail
    messages = rendered + followup
    spec = rt.spec_for(cfg.model, f"{node_id}:{record.id}:{sample_index}", cfg.params)
    if sample_index or rt.salt:
        spec = _vary_seed(spec, sample_index, rt.salt)
    request = LLMRequest(
        spec=spec,
        messages=messages,
        response_format=response_format,
        sample_index=sample_index,
        extra=rt.provider_extra(cfg.model, spec) + ((("logprobs", True),) if logprobs else ()),
        salt=rt.salt,
    )
    try:
        response = await rt.complete(node_id, request, record.id)
    except LLMError as exc:
        if exc.kind in FATAL_KINDS:
            raise RunError(
                f"{exc} (stopping the run: every call to this model would fail the same way)"
            ) from None
        return Fail(exc.kind, str(exc))
    return response, spec, prompt_hash(rendered)
