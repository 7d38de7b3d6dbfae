"""The ``judge`` node: an LLM scores each record on an integer scale.

The model is asked for JSON constrained by a schema (``{"score": int in [lo, hi],
"reason": str}``), which keeps scores reliable even from a small model. The score goes
into ``into`` (default ``score``) and the rationale into ``reason`` when named. A reply
that is not valid JSON or whose score is outside the scale is a recorded failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import (
    CheckContext,
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

__all__ = ["KIND", "JudgeConfig"]


@dataclass
class JudgeConfig:
    prompt: PromptConfig
    into: str
    reason: str | None
    scale: tuple[int, int]

    def response_format(self) -> dict[str, Any]:
        lo, hi = self.scale
        schema = {
            "type": "object",
            "properties": {
                "score": {"type": "integer", "minimum": lo, "maximum": hi},
                "reason": {"type": "string", "maxLength": 300},
            },
            "required": ["score", "reason"],
            "additionalProperties": False,
        }
        return {"type": "json_schema", "json_schema": {"name": "judgement", "schema": schema}}


_SCORE_RE = re.compile(r'"score"\s*:\s*(-?\d+(?:\.\d+)?)')


def parse_score(text: str, scale: tuple[int, int]) -> tuple[int, str] | str:
    """The (score, reason) in a judge reply, or an error message.

    The schema puts ``score`` first, so a reply cut short by ``max_tokens`` while
    writing its reason still carries a complete score, which is taken.
    """
    try:
        value = extract_json(text)
    except ExtractError as exc:
        m = _SCORE_RE.search(text)
        if m is None:
            return f"judge reply is not JSON: {exc}"
        value = {"score": float(m.group(1)), "reason": ""}
    if not isinstance(value, dict) or "score" not in value:
        return "judge reply has no 'score'"
    score = value["score"]
    if isinstance(score, str):
        try:
            score = float(score.strip())
        except ValueError:
            return f"judge score {value['score']!r} is not a number"
    if isinstance(score, bool) or not isinstance(score, int | float):
        return f"judge score {score!r} is not a number"
    if score != int(score):
        return f"judge score {score} is not an integer"
    lo, hi = scale
    if not lo <= score <= hi:
        return f"judge score {score} is outside the scale [{lo}, {hi}]"
    return int(score), str(value.get("reason", ""))


class _Runner:
    def __init__(self, node: Node[JudgeConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        self.concurrency = rt.concurrency_for(self.cfg.prompt.model)
        self.fmt = self.cfg.response_format()
        # the report charts the scores of this field on this scale
        rt.note(node.id, "scores", {"field": self.cfg.into, "scale": list(self.cfg.scale)})

    async def process(self, record: Record) -> Outcome:
        result = await call_model(
            self.rt, self.node.id, self.cfg.prompt, record, response_format=self.fmt
        )
        if isinstance(result, Fail):
            return result
        response, spec, prompt_hash = result
        parsed = parse_score(response.text, self.cfg.scale)
        if isinstance(parsed, str):
            return Fail("invalid_judgement", parsed)
        score, reason = parsed
        data = dict(record.data)
        data[self.cfg.into] = score
        if self.cfg.reason:
            data[self.cfg.reason] = reason
        child = record.child(
            self.rt.node_key(self.node.id),
            data,
            model=spec.model,
            prompt_hash=prompt_hash,
            round=self.rt.round,
        )
        return Emit([child])


class JudgeKind(NodeKind[JudgeConfig]):
    name = "judge"
    ship_records = True

    def supports_when(self, config: JudgeConfig) -> bool:
        return True

    uses_llm = True

    def configure(self, raw: Any, ctx: CheckContext) -> JudgeConfig:
        scale = raw.get("scale", [1, 10])
        lo, hi = int(scale[0]), int(scale[1])
        if lo >= hi:
            ctx.error(ctx.span("scale"), f"judge scale [{lo}, {hi}] must go from low to high")
        return JudgeConfig(
            prompt=configure_prompt(raw, ctx),
            into=str(raw.get("into", "score")),
            reason=raw.get("reason"),
            scale=(lo, hi),
        )

    def templates(self, cfg: JudgeConfig) -> list[Template]:
        return cfg.prompt.templates()

    def prompt(self, cfg: JudgeConfig) -> PromptConfig:
        return cfg.prompt

    def model_refs(self, cfg: JudgeConfig) -> list[tuple[str | None, Span]]:
        return [(cfg.prompt.model, cfg.prompt.model_span)]

    def output_fields(self, cfg: JudgeConfig, upstream: list[str]) -> list[str]:
        added = [cfg.into] + ([cfg.reason] if cfg.reason else [])
        return [*[f for f in upstream if f not in added], *added]

    def estimate(self, node: Node[JudgeConfig], n_in: int | None, est: Estimator) -> Estimate:
        if n_in is None:
            return Estimate(records=None, exact=False)
        return Estimate(records=n_in, calls=n_in)

    def llm_use(self, config: JudgeConfig) -> LLMUse:
        return config.prompt.llm_use()

    def describe(self, cfg: JudgeConfig) -> dict[str, Any]:
        out = cfg.prompt.describe()
        out.update({"into": cfg.into, "scale": list(cfg.scale)})
        if cfg.reason:
            out["reason"] = cfg.reason
        return out

    def map_runner(self, node: Node[JudgeConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = JudgeKind()
