"""The ``chunk`` node: cut a long text field into overlapping chunks, one record each.

Input: records with a text field (``field``, default ``text``), typically documents from
a text, HTML or PDF source. Output: for each input record, one record per chunk (see
``synthdsl.textproc.chunking.chunk_text``) with ``into`` (default ``chunk``) = the chunk's text,
``chunk_index`` (from 0), ``chunk_count``, ``chunk_start`` and ``chunk_end`` (character
offsets into the original text), plus every other field of the input (``path``,
``title``, ...: each chunk, and each record made from it, keeps the document it came
from). The original text field is left out of the output unless ``keep_text: true``.

Config: ``field``, ``size`` (default 512), ``overlap`` (default 64), ``unit``
(``tokens``, the default, or ``chars``), ``into``, ``keep_text`` (default false).
Compile errors (diagnostics): an overlap not smaller than the size, and ``into`` equal
to ``field`` with ``keep_text: true``. Run time: a missing or non-string field and an
empty or whitespace-only text are recorded drops with the reason; nothing raises.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    MapRunner,
    NodeKind,
    Outcome,
    Runtime,
)
from synthdsl.records import Record
from synthdsl.textproc.chunking import Unit, chunk_text

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["CHUNK_FIELDS", "KIND", "ChunkConfig"]

DEFAULT_SIZE = 512
DEFAULT_OVERLAP = 64
_THREAD_ABOVE = 100_000  # characters; shorter texts are chunked inline
# The fields every output record gets besides ``into``.
CHUNK_FIELDS = ("chunk_index", "chunk_count", "chunk_start", "chunk_end")


@dataclass
class ChunkConfig:
    field: str
    field_span: Span
    size: int
    overlap: int
    unit: Unit
    into: str
    keep_text: bool


class _Runner:
    concurrency = 1

    def __init__(self, node: Node[ChunkConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    async def process(self, record: Record) -> Outcome:
        cfg = self.cfg
        if cfg.field not in record.data:
            return Drop(f"chunk: no field '{cfg.field}'")
        text = record.data[cfg.field]
        if not isinstance(text, str):
            return Drop(f"chunk: field '{cfg.field}' is not text", {"type": type(text).__name__})
        if not text.strip():
            return Drop("chunk: empty text")
        if len(text) > _THREAD_ABOVE:
            # ~0.5 s per MB: off the event loop, so LLM calls elsewhere keep flowing.
            chunks = await asyncio.to_thread(
                chunk_text, text, size=cfg.size, overlap=cfg.overlap, unit=cfg.unit
            )
        else:
            chunks = chunk_text(text, size=cfg.size, overlap=cfg.overlap, unit=cfg.unit)
        if not chunks:  # defensive: text with no tokens at all
            return Drop("chunk: empty text")
        base = {
            k: v
            for k, v in record.data.items()
            if (cfg.keep_text or k != cfg.field) and k != cfg.into and k not in CHUNK_FIELDS
        }
        key = self.rt.node_key(self.node.id)
        count = len(chunks)
        return Emit(
            [
                record.child(
                    key,
                    {
                        **base,
                        cfg.into: c.text,
                        "chunk_index": c.index,
                        "chunk_count": count,
                        "chunk_start": c.start_char,
                        "chunk_end": c.end_char,
                    },
                    index=c.index,
                )
                for c in chunks
            ]
        )


def _int_option(raw: dict[str, Any], key: str, default: int, ctx: CheckContext) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.error(ctx.span(key), f"'{key}' must be a whole number, got {value!r}")
        return default
    return value


class ChunkKind(NodeKind[ChunkConfig]):
    name = "chunk"

    def configure(self, raw: Any, ctx: CheckContext) -> ChunkConfig:
        raw = raw if isinstance(raw, dict) else {}
        size = _int_option(raw, "size", DEFAULT_SIZE, ctx)
        overlap = _int_option(raw, "overlap", DEFAULT_OVERLAP, ctx)
        if size < 1:
            ctx.error(ctx.span("size"), f"'size' must be at least 1, got {size}")
        if overlap < 0:
            ctx.error(ctx.span("overlap"), f"'overlap' must be 0 or more, got {overlap}")
        elif size >= 1 and overlap >= size:
            where = ctx.span("overlap") if "overlap" in raw else ctx.span("size")
            default = "" if "overlap" in raw else f" (the default is {DEFAULT_OVERLAP})"
            ctx.error(
                where,
                f"chunk overlap ({overlap}) must be smaller than size ({size})",
                f"set overlap below {size}{default}, e.g. overlap: {size // 8}",
            )
        unit = str(raw.get("unit", "tokens"))
        if unit not in ("tokens", "chars"):
            ctx.error(ctx.span("unit"), f"unknown unit {unit!r}", "use 'tokens' or 'chars'")
        field = str(raw.get("field", "text"))
        into = str(raw.get("into", "chunk"))
        keep_text = bool(raw.get("keep_text", False))
        if keep_text and into == field:
            ctx.error(
                ctx.span("into"),
                f"'into' is '{field}', the field being chunked, and keep_text is true",
                "write the chunks to another field (the default is 'chunk')",
            )
        return ChunkConfig(
            field=field,
            field_span=ctx.span("field") if "field" in raw else ctx.key_span(),
            size=size,
            overlap=overlap,
            unit="chars" if unit == "chars" else "tokens",
            into=into,
            keep_text=keep_text,
        )

    def read_fields(self, cfg: ChunkConfig) -> list[tuple[str, Span]]:
        return [(cfg.field, cfg.field_span)]

    def output_fields(self, cfg: ChunkConfig, upstream: list[str]) -> list[str]:
        added = (cfg.into, *CHUNK_FIELDS)
        kept = [f for f in upstream if f not in added and (cfg.keep_text or f != cfg.field)]
        return [*kept, *added]

    def estimate(self, node: Node[ChunkConfig], n_in: int | None, est: Estimator) -> Estimate:
        # The number of chunks depends on the text lengths, unknown before the run.
        return Estimate(records=0 if n_in == 0 else None, exact=False)

    def describe(self, cfg: ChunkConfig) -> dict[str, Any]:
        return {
            "field": cfg.field,
            "size": cfg.size,
            "overlap": cfg.overlap,
            "unit": cfg.unit,
            "into": cfg.into,
            "keep_text": cfg.keep_text,
        }

    def map_runner(self, node: Node[ChunkConfig], rt: Runtime) -> MapRunner:
        return _Runner(node, rt)


KIND = ChunkKind()
