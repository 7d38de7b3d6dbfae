"""The ``redact_emails`` step kind: e-mail addresses in one field become a placeholder.

    - id: clean
      redact_emails: {field: response, placeholder: "[email]"}

One record at a time, so a step may carry ``when:`` and be a case of a ``switch:``.
Records pass with the same fields; a field that is not text is a failure of that record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from synthdsl.errors import Span
from synthdsl.ir import Node
from synthdsl.nodes.base import (
    CheckContext,
    Emit,
    Fail,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record
from synthdsl_example_plugin import EMAIL


@dataclass(frozen=True)
class RedactConfig:
    field: str
    placeholder: str
    field_span: Span


class _Runner:
    concurrency = 1

    def __init__(self, node: Node[RedactConfig], rt: Runtime) -> None:
        self.config = node.config
        self.key = rt.node_key(node.id)

    async def process(self, record: Record) -> Outcome:
        value = record.data.get(self.config.field)
        if not isinstance(value, str):
            return Fail("not_text", f"'{self.config.field}' is not text")
        data = {**record.data, self.config.field: EMAIL.sub(self.config.placeholder, value)}
        return Emit([record.child(self.key, data)])


class RedactEmails(NodeKind[RedactConfig]):
    name = "redact_emails"
    record_at_a_time = True
    # The config under the step's `redact_emails:` key; synthdsl checks it, with
    # positions, before `configure` sees it.
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["field"],
        "properties": {
            "field": {"type": "string", "minLength": 1},
            "placeholder": {"type": "string"},
        },
        "description": "Replace e-mail addresses in a text field with a placeholder.",
    }

    def configure(self, raw: Any, ctx: CheckContext) -> RedactConfig:
        return RedactConfig(
            field=raw["field"],
            placeholder=raw.get("placeholder", "[email]"),
            field_span=ctx.span("field"),
        )

    def read_fields(self, config: RedactConfig) -> list[tuple[str, Span]]:
        return [(config.field, config.field_span)]

    def describe(self, config: RedactConfig) -> dict[str, Any]:
        return {"field": config.field, "placeholder": config.placeholder}

    def map_runner(self, node: Node[RedactConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = RedactEmails()
