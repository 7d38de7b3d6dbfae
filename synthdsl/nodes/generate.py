"""The ``generate`` node: an LLM map from a record to one or more completions.

Config: ``prompt`` (template file) or ``template`` (inline), optional ``system``,
``model`` alias, ``into`` (field receiving the text, default ``response``), ``n``
samples per record, ``json`` (ask for JSON: true, a JSON Schema, or ``{schema: NAME}``
naming one an installed plugin registers; the parsed value goes into the field; a reply
that is not JSON, or does not match the schema unless ``json_check: false``, is
answered with a follow-up turn naming the error, up to ``json_retries`` times, default
2, see ``structured_reply``; then it is a failed sample, kind ``invalid_json`` or
``schema_mismatch``, carrying the error and the reply), ``logprobs`` (ask for token
log-probabilities and store the mean surprisal, -mean(logprob) in nats per token, in
``<into>_surprisal``; null when the provider returns none), ``drop_truncated`` (a reply
cut at ``max_tokens`` is a failed sample; a record whose samples were all cut is
dropped) and sampling ``params`` overrides. A failed call becomes a recorded failure of
that record; the other samples still count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.lang.plugin_schemas import named_schema, schema_names
from synthdsl.lang.reply_schema import schema_problem
from synthdsl.llm.types import LLMResponse, ModelSpec
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    Fail,
    LLMUse,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.nodes.prompting import PromptConfig, call_model, configure_prompt
from synthdsl.nodes.structured_reply import (
    DEFAULT_JSON_RETRIES,
    InvalidReply,
    ReplyReader,
    followup,
)
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node
    from synthdsl.lang.templates import Template
    from synthdsl.nodes.accounting import NodeStats

__all__ = ["KIND", "GenerateConfig"]


@dataclass
class GenerateConfig:
    prompt: PromptConfig
    into: str
    n: int
    json: bool | dict[str, Any]
    logprobs: bool = False
    drop_truncated: bool = False
    json_check: bool = True
    json_retries: int = DEFAULT_JSON_RETRIES

    @property
    def surprisal_field(self) -> str:
        return f"{self.into}_surprisal"


def response_format_for(spec: bool | dict[str, Any]) -> dict[str, Any] | None:
    if spec is True:
        return {"type": "json_object"}
    if isinstance(spec, dict):
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": spec}}
    return None


class _Runner:
    def __init__(self, node: Node[GenerateConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        self.concurrency = rt.concurrency_for(self.cfg.prompt.model)
        self.response_format = response_format_for(self.cfg.json)
        self.reader = ReplyReader(self.cfg.json, self.cfg.json_check)
        if self.cfg.json is not False:
            self._stats().checks_replies = True

    def _stats(self) -> NodeStats:
        return self.rt.node_stats(self.node.id, "generate")

    async def _sample(
        self, record: Record, i: int
    ) -> tuple[Any, LLMResponse, ModelSpec, str] | Fail:
        """One sample: a call, then (for a json step) corrected replies asked for while
        the reply is not valid JSON or breaks the schema, at most ``json_retries``."""
        turns: tuple[dict[str, str], ...] = ()
        for attempt in range(self.cfg.json_retries + 1):
            result = await call_model(
                self.rt,
                self.node.id,
                self.cfg.prompt,
                record,
                sample_index=i,
                response_format=self.response_format,
                logprobs=self.cfg.logprobs,
                followup=turns,
            )
            if isinstance(result, Fail):
                return result
            response, spec, prompt_hash = result
            if self.cfg.drop_truncated and response.finish_reason == "length":
                return Fail("truncated", "reply cut at max_tokens (finish_reason length)")
            if self.cfg.json is False:
                return response.text, response, spec, prompt_hash
            value = self.reader.read(response.text)
            if not isinstance(value, InvalidReply):
                return value, response, spec, prompt_hash
            if attempt == self.cfg.json_retries:
                self._stats().schema_failures += 1
                return value.fail(response.text, attempt + 1)
            self._stats().schema_retries += 1
            turns = (*turns, *followup(response.text, value))
        raise AssertionError("unreachable: the last attempt returns")

    async def process(self, record: Record) -> Outcome:
        out: list[Record] = []
        failures: list[Fail] = []
        for i in range(self.cfg.n):
            result = await self._sample(record, i)
            if isinstance(result, Fail):
                failures.append(result)
                continue
            value, response, spec, prompt_hash = result
            data = dict(record.data)
            data[self.cfg.into] = value
            if self.cfg.logprobs:
                lp = response.logprobs
                data[self.cfg.surprisal_field] = -sum(lp) / len(lp) if lp else None
            out.append(
                record.child(
                    self.rt.node_key(self.node.id),
                    data,
                    index=i,
                    model=spec.model,
                    prompt_hash=prompt_hash,
                    sample=i if self.cfg.n > 1 else None,
                    round=self.rt.round,
                )
            )
        if not out and failures and all(f.kind == "truncated" for f in failures):
            return Drop("truncated reply (max_tokens reached)")
        if out:
            if failures:
                counter = self._stats().sample_failures
                for f in failures:
                    counter[f.kind] += 1
            return Emit(out)
        return failures[0] if failures else Fail("internal", "no sample produced")


def _names_a_schema(spec: Any) -> bool:
    """``json: {schema: NAME}``: a schema a plugin registers (JSON Schema has no
    ``schema`` keyword, so a mapping of that one key is never a schema itself)."""
    return isinstance(spec, dict) and set(spec) == {"schema"} and isinstance(spec["schema"], str)


def _plugin_schema(ref: str, ctx: CheckContext) -> dict[str, Any] | bool:
    found = named_schema(ref)
    if found is not None:
        return found
    names = schema_names()
    if names:
        hint = f"schemas installed plugins register: {', '.join(names)}"
    elif os.environ.get("SYNTHDSL_NO_PLUGINS") == "1":
        hint = "plugins are turned off (SYNTHDSL_NO_PLUGINS=1)"
    else:
        hint = "no installed plugin registers a schema (entry point group synthdsl.schemas)"
    ctx.error(
        ctx.span("json", "schema"),
        f"json: no installed plugin registers the schema {ref!r}; a recipe never imports "
        "a Python module by name",
        hint,
    )
    return True


class GenerateKind(NodeKind[GenerateConfig]):
    name = "generate"
    ship_records = True

    def supports_when(self, config: GenerateConfig) -> bool:
        return True

    uses_llm = True
    writes_content = True

    def configure(self, raw: Any, ctx: CheckContext) -> GenerateConfig:
        schema = raw.get("json", False)
        if _names_a_schema(schema):
            schema = _plugin_schema(str(schema["schema"]), ctx)
        elif isinstance(schema, dict):
            problem = schema_problem(schema)
            if problem is not None:
                ctx.error(ctx.span("json"), f"json: {problem}")
                schema = True
        retries = int(raw.get("json_retries", DEFAULT_JSON_RETRIES))
        if "json_retries" in raw and schema is False:
            ctx.error(ctx.key_span("json_retries"), "json_retries needs json: (true or a schema)")
        return GenerateConfig(
            prompt=configure_prompt(raw, ctx),
            into=str(raw.get("into", "response")),
            n=int(raw.get("n", 1)),
            json=schema,
            logprobs=bool(raw.get("logprobs", False)),
            drop_truncated=bool(raw.get("drop_truncated", False)),
            json_check=bool(raw.get("json_check", True)),
            json_retries=retries,
        )

    def templates(self, cfg: GenerateConfig) -> list[Template]:
        return cfg.prompt.templates()

    def prompt(self, cfg: GenerateConfig) -> PromptConfig:
        return cfg.prompt

    def model_refs(self, cfg: GenerateConfig) -> list[tuple[str | None, Span]]:
        return [(cfg.prompt.model, cfg.prompt.model_span)]

    def output_fields(self, cfg: GenerateConfig, upstream: list[str]) -> list[str]:
        added = [cfg.into] + ([cfg.surprisal_field] if cfg.logprobs else [])
        return [*[f for f in upstream if f not in added], *added]

    def estimate(self, node: Node[GenerateConfig], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        if n_in is None:
            return Estimate(records=None, calls=0, exact=False)
        return Estimate(records=n_in * cfg.n, calls=n_in * cfg.n)

    def llm_use(self, config: GenerateConfig) -> LLMUse:
        return config.prompt.llm_use()

    def describe(self, cfg: GenerateConfig) -> dict[str, Any]:
        out = cfg.prompt.describe()
        out.update({"into": cfg.into, "n": cfg.n})
        if cfg.json is not False:
            out["json"] = json.loads(json.dumps(cfg.json))
        if cfg.logprobs:
            out["logprobs"] = True
        if cfg.drop_truncated:
            out["drop_truncated"] = True
        if isinstance(cfg.json, dict) and not cfg.json_check:
            out["json_check"] = False
        if cfg.json is not False and cfg.json_retries != DEFAULT_JSON_RETRIES:
            out["json_retries"] = cfg.json_retries
        return out

    def map_runner(self, node: Node[GenerateConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = GenerateKind()
