"""The ``output:`` block against its shape and the output step's fields.

Input: the document, the parsed ``OutputDecl`` and the ordered graph (fields known).
Output: diagnostics, at the key or value they concern, for

- a key the shape does not use (``pairs_from`` with ``shape: openai``, ``style`` with
  ``shape: preference``...), and ``system`` with a standard preference (a DPO row of
  strings has no place for it);
- a field the shape reads (``instruction_field``/``response_field`` for chat shapes;
  ``prompt_field``/``chosen_field``/``rejected_field``, or ``pairs_from``'s three, for
  ``preference``; ``turns_field`` for ``conversation``) or that ``fields`` keeps, which
  the output step does not provide.
"""

from __future__ import annotations

from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, Span, did_you_mean
from synthdsl.ir import Graph, OutputDecl
from synthdsl.lang.load import Document

__all__ = ["check_output"]

_CHAT = ("openai", "chatml", "alpaca", "sharegpt")
# key -> the shapes that read it
_KEY_SHAPES: dict[str, tuple[str, ...]] = {
    "instruction_field": _CHAT,
    "input_field": _CHAT,
    "response_field": _CHAT,
    "system": (*_CHAT, "preference", "conversation"),
    "prompt_field": ("preference",),
    "chosen_field": ("preference",),
    "rejected_field": ("preference",),
    "preference_style": ("preference",),
    "pairs_from": ("preference",),
    "turns_field": ("conversation",),
    "style": ("conversation",),
}


def _check_keys(c: Compiler, doc: Document, output: OutputDecl) -> None:
    raw = doc.data.get("output") or {}
    for key, shapes in _KEY_SHAPES.items():
        if key in raw and output.shape not in shapes:
            c.error(
                Diagnostic(
                    doc.spans.key(("output", key)),
                    f"output.{key} does not apply to shape '{output.shape}'",
                    f"it applies to shape {' / '.join(shapes)}",
                )
            )
    if output.shape == "preference" and output.preference_style == "standard" and "system" in raw:
        c.error(
            Diagnostic(
                doc.spans.key(("output", "system")),
                "output.system needs preference_style: conversational",
                "a standard preference row holds strings: the prompt has no system turn",
            )
        )
    if output.pairs_from is not None:
        for key in ("chosen_field", "rejected_field", "prompt_field"):
            if key in raw:
                c.error(
                    Diagnostic(
                        doc.spans.key(("output", key)),
                        f"output.{key} does not apply with pairs_from",
                        "pairs_from names the prompt (group_by) and response (text) fields",
                    )
                )


def _shape_fields(doc: Document, output: OutputDecl) -> list[tuple[str, Span]]:
    """The fields the shape reads, each with the span of the key that names it."""
    raw = doc.data.get("output") or {}
    if output.shape in _CHAT:
        keys = ["instruction_field", "response_field"]
    elif output.shape == "preference" and output.pairs_from is not None:
        spec = output.pairs_from
        return [
            (getattr(spec, k), doc.spans.value(("output", "pairs_from", k)))
            for k in ("group_by", "score", "text")
        ]
    elif output.shape == "preference":
        keys = ["prompt_field", "chosen_field", "rejected_field"]
    elif output.shape == "conversation":
        keys = ["turns_field"]
    else:
        return []
    return [
        (
            getattr(output, key),
            doc.spans.value(("output", key if key in raw else "shape")),
        )
        for key in keys
    ]


def check_output(c: Compiler, doc: Document, output: OutputDecl, graph: Graph) -> None:
    """See the module docstring."""
    _check_keys(c, doc, output)
    available = graph.nodes[graph.output].fields
    if "*" in available:
        return
    wanted = [
        (name, doc.spans.value(("output", "fields", i)))
        for i, name in enumerate(output.fields or ())
    ]
    kept = set(output.fields) if output.fields is not None else None
    for name, span in _shape_fields(doc, output):
        if kept is None or name not in kept:
            wanted.append((name, span))
    seen: set[str] = set()
    for name, span in wanted:
        if name in available or name in seen:
            continue
        seen.add(name)
        c.error(
            Diagnostic(
                span,
                f"output field '{name}' is not provided by step '{graph.output}'",
                did_you_mean(name, available) or f"its fields: {', '.join(available)}",
            )
        )
