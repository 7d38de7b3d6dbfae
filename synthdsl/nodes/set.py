"""The ``set`` node: compute fields from a record with Jinja expressions.

``set: {field: "{{ expression }}", ...}`` evaluates each value in a sandboxed Jinja
environment: a value that is exactly one ``{{ ... }}`` gives that expression's value
as it is (a list, a mapping, a number, a string: never re-parsed), anything else is
rendered as text.
It keeps chains and labels without Python code, e.g. a critique/revision history:
``chain: "{{ (chain or []) + [{'critique': critique, 'revision': revision}] }}"``.
Fields are computed in order, each seeing the ones before it. Variables are checked at
compile time like prompt templates'; a value that cannot be computed fails the record
(kind ``set_error``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined
from jinja2.nativetypes import NativeEnvironment

from synthdsl.errors import Diagnostic, RecipeError
from synthdsl.lang.jinja_limits import BoundedSandbox, render_bounded
from synthdsl.lang.load import content_span
from synthdsl.lang.templates import Template, check_variables, inline_template
from synthdsl.nodes.base import (
    CheckContext,
    Emit,
    Estimate,
    Estimator,
    Fail,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "SetConfig"]


class _NativeSandbox(NativeEnvironment, BoundedSandbox):
    """Sandboxed and bounded (``lang.jinja_limits``), and native (values keep their
    Python type)."""


_ENV = _NativeSandbox(undefined=StrictUndefined, autoescape=False)
_TEXT_ENV = BoundedSandbox(undefined=StrictUndefined, autoescape=False)


def _single_expression(source: str) -> str | None:
    """The expression of a value that is exactly ``{{ expression }}``, else None."""
    from jinja2 import nodes

    body = _ENV.parse(source).body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    if isinstance(body[0].nodes[0], nodes.TemplateData):
        return None
    text = source.strip()
    if not (text.startswith("{{") and text.endswith("}}")):
        return None
    return text[2:-2].strip(" -")


def _evaluator(source: str) -> Callable[[dict[str, Any]], Any]:
    expr = _single_expression(source)
    if expr is not None:
        compiled = _ENV.compile_expression(expr, undefined_to_none=False)
        return lambda ctx: compiled(**ctx)
    template = _TEXT_ENV.from_string(source)
    return lambda ctx: render_bounded(template.generate(ctx))


@dataclass
class SetConfig:
    fields: list[tuple[str, Template]]
    params: dict[str, Any]

    def compiled(self) -> list[tuple[str, Callable[[dict[str, Any]], Any]]]:
        return [(name, _evaluator(t.source)) for name, t in self.fields]


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[SetConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config
        self.templates = self.cfg.compiled()

    async def process(self, record: Record) -> Outcome:
        data = dict(record.data)
        for name, evaluate in self.templates:
            try:
                data[name] = evaluate({**data, "params": self.cfg.params})
            except Exception as exc:  # undefined names, type errors, sandbox violations
                return Fail("set_error", f"set {name}: {type(exc).__name__}: {exc}")
        return Emit([record.child(self.rt.node_key(self.node.id), data)])


class SetKind(NodeKind[SetConfig]):
    name = "set"

    def supports_when(self, config: SetConfig) -> bool:
        return True

    def configure(self, raw: Any, ctx: CheckContext) -> SetConfig:
        fields: list[tuple[str, Template]] = []
        if not isinstance(raw, dict) or not raw:
            ctx.error(ctx.span(), 'set needs a mapping of field: "{{ expression }}"')
            return SetConfig([], dict(ctx.params))
        for name, text in raw.items():
            if not isinstance(name, str) or not name.isidentifier():
                ctx.error(ctx.key_span(name), f"'{name}' is not a valid field name")
                continue
            try:
                tmpl = inline_template(
                    str(text), content_span(ctx.doc, ctx.span(name)), f"{ctx.node_id}.{name}"
                )
                _evaluator(tmpl.source)
            except RecipeError as exc:
                ctx.diagnostics.extend(exc.diagnostics)
                continue
            except Exception as exc:
                ctx.error(ctx.span(name), f"set {name}: {exc}")
                continue
            fields.append((name, tmpl))
        return SetConfig(fields, dict(ctx.params))

    def templates(self, cfg: SetConfig) -> list[Template]:
        return [t for _, t in cfg.fields]

    def check_templates(self, cfg: SetConfig, available: list[str]) -> list[Diagnostic]:
        """Each value may read the fields computed before it in the same step."""
        seen = list(available)
        out: list[Diagnostic] = []
        for name, tmpl in cfg.fields:
            out += check_variables(tmpl, sorted(seen))
            seen.append(name)
        return out

    def output_fields(self, cfg: SetConfig, upstream: list[str]) -> list[str]:
        names = [n for n, _ in cfg.fields]
        return [*[f for f in upstream if f not in names], *names]

    def estimate(self, node: Node[SetConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, cfg: SetConfig) -> dict[str, Any]:
        return {name: t.source for name, t in cfg.fields}

    def map_runner(self, node: Node[SetConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = SetKind()
