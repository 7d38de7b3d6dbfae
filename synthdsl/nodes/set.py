"""The ``set`` node: compute fields from a record with Jinja expressions.

``set: {field: "{{ expression }}", ...}`` renders each value in a sandboxed Jinja
environment that keeps native Python types: a value that is exactly one ``{{ ... }}``
gives that expression's value (a list, a mapping, a number), anything else gives text.
It keeps chains and labels without Python code, e.g. a critique/revision history:
``chain: "{{ (chain or []) + [{'critique': critique, 'revision': revision}] }}"``.
Fields are computed in order, each seeing the ones before it. Variables are checked at
compile time like prompt templates'; a value that cannot be computed fails the record
(kind ``set_error``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import SandboxedEnvironment

from synthdsl.errors import RecipeError
from synthdsl.nodes.base import CheckContext, Emit, Estimate, Fail, MapRunner, NodeKind, Outcome
from synthdsl.recipe import content_span
from synthdsl.records import Record

if TYPE_CHECKING:
    from jinja2 import Template as JinjaTemplate

    from synthdsl.compile import Node
    from synthdsl.run.context import RunContext
    from synthdsl.templates import Template

__all__ = ["KIND", "SetConfig"]


class _NativeSandbox(NativeEnvironment, SandboxedEnvironment):
    """Sandboxed (no attribute escapes) and native (values keep their Python type)."""


_ENV = _NativeSandbox(undefined=StrictUndefined, autoescape=False)


@dataclass
class SetConfig:
    fields: list[tuple[str, Template]]
    params: dict[str, Any]

    def compiled(self) -> list[tuple[str, JinjaTemplate]]:
        return [(name, _ENV.from_string(t.source)) for name, t in self.fields]


class _Runner:
    concurrency = 1

    def __init__(self, node: Node, rt: RunContext) -> None:
        self.node = node
        self.rt = rt
        self.cfg: SetConfig = node.config
        self.templates = self.cfg.compiled()

    async def process(self, record: Record) -> Outcome:
        data = dict(record.data)
        for name, tmpl in self.templates:
            try:
                data[name] = tmpl.render({**data, "params": self.cfg.params})
            except Exception as exc:  # undefined names, type errors, sandbox violations
                return Fail("set_error", f"set {name}: {type(exc).__name__}: {exc}")
        return Emit([record.child(self.rt.node_key(self.node.id), data)])


class SetKind(NodeKind):
    name = "set"

    def supports_when(self, config: Any) -> bool:
        return True

    def configure(self, raw: Any, ctx: CheckContext) -> SetConfig:
        from synthdsl.templates import inline_template

        fields: list[tuple[str, Template]] = []
        if not isinstance(raw, dict) or not raw:
            ctx.error(ctx.span(), "set needs a mapping of field: \"{{ expression }}\"")
            return SetConfig([], dict(ctx.params))
        for name, text in raw.items():
            if not isinstance(name, str) or not name.isidentifier():
                ctx.error(ctx.key_span(name), f"'{name}' is not a valid field name")
                continue
            try:
                tmpl = inline_template(
                    str(text), content_span(ctx.doc, ctx.span(name)), f"{ctx.node_id}.{name}"
                )
                _ENV.from_string(tmpl.source)
            except RecipeError as exc:
                ctx.diagnostics.extend(exc.diagnostics)
                continue
            except Exception as exc:
                ctx.error(ctx.span(name), f"set {name}: {exc}")
                continue
            fields.append((name, tmpl))
        return SetConfig(fields, dict(ctx.params))

    def templates(self, config: Any) -> list[Template]:
        cfg: SetConfig = config
        return [t for _, t in cfg.fields]

    def output_fields(self, config: Any, upstream: list[str]) -> list[str]:
        cfg: SetConfig = config
        names = [n for n, _ in cfg.fields]
        return [*[f for f in upstream if f not in names], *names]

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, config: Any) -> dict[str, Any]:
        cfg: SetConfig = config
        return {name: t.source for name, t in cfg.fields}

    def map_runner(self, node: Node, rt: RunContext) -> MapRunner:
        return _Runner(node, rt)


KIND = SetKind()
