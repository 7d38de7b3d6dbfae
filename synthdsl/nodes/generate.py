"""The ``generate`` node: an LLM map from a record to one or more completions.

Config: ``prompt`` (template file) or ``template`` (inline), optional ``system``,
``model`` alias, ``into`` (field receiving the text, default ``response``), ``n``
samples per record, ``json`` (ask for JSON: true, or a JSON Schema; the parsed value
goes into the field, and a reply that does not match the schema is a failed sample,
kind ``schema_mismatch``, unless ``json_check: false``), ``logprobs`` (ask for token
log-probabilities and store the mean surprisal, -mean(logprob) in nats per token, in
``<into>_surprisal``; null when the provider returns none), ``drop_truncated`` (a reply
cut at ``max_tokens`` is a failed sample; a record whose samples were all cut is
dropped) and sampling ``params`` overrides. A failed call becomes a recorded failure of
that record; the other samples still count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.lang.reply_schema import ReplySchema, schema_problem
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
from synthdsl.records import Record
from synthdsl.textproc.extract import ExtractError, extract_json

if TYPE_CHECKING:
    from synthdsl.ir import Node
    from synthdsl.lang.templates import Template

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
        checked = isinstance(self.cfg.json, dict) and self.cfg.json_check
        self.reply_schema = (
            ReplySchema(self.cfg.json) if checked and isinstance(self.cfg.json, dict) else None
        )

    async def process(self, record: Record) -> Outcome:
        out: list[Record] = []
        failures: list[Fail] = []
        for i in range(self.cfg.n):
            result = await call_model(
                self.rt,
                self.node.id,
                self.cfg.prompt,
                record,
                sample_index=i,
                response_format=self.response_format,
                logprobs=self.cfg.logprobs,
            )
            if isinstance(result, Fail):
                failures.append(result)
                continue
            response, spec, prompt_hash = result
            if self.cfg.drop_truncated and response.finish_reason == "length":
                failures.append(Fail("truncated", "reply cut at max_tokens (finish_reason length)"))
                continue
            value: Any = response.text
            if self.cfg.json is not False:
                try:
                    value = extract_json(response.text)
                except ExtractError as exc:
                    failures.append(Fail("invalid_json", f"model output is not JSON: {exc}"))
                    continue
                problem = self.reply_schema.problem(value) if self.reply_schema else None
                if problem is not None:
                    failures.append(
                        Fail("schema_mismatch", f"reply does not match the json schema: {problem}")
                    )
                    continue
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
                counter = self.rt.node_stats(self.node.id, "generate").sample_failures
                for f in failures:
                    counter[f.kind] += 1
            return Emit(out)
        return failures[0] if failures else Fail("internal", "no sample produced")


class GenerateKind(NodeKind[GenerateConfig]):
    name = "generate"

    def supports_when(self, config: GenerateConfig) -> bool:
        return True

    uses_llm = True
    writes_content = True

    def configure(self, raw: Any, ctx: CheckContext) -> GenerateConfig:
        schema = raw.get("json", False)
        if isinstance(schema, dict):
            problem = schema_problem(schema)
            if problem is not None:
                ctx.error(ctx.span("json"), f"json: {problem}")
                schema = True
        return GenerateConfig(
            prompt=configure_prompt(raw, ctx),
            into=str(raw.get("into", "response")),
            n=int(raw.get("n", 1)),
            json=schema,
            logprobs=bool(raw.get("logprobs", False)),
            drop_truncated=bool(raw.get("drop_truncated", False)),
            json_check=bool(raw.get("json_check", True)),
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
        return out

    def map_runner(self, node: Node[GenerateConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = GenerateKind()
