"""The ``dedup`` node: drop exact and near duplicates, keeping the first seen.

``method: exact`` compares normalised text (Unicode NFKC, case-folded, whitespace
collapsed) by hash, so memory holds one digest per distinct record: a 16-byte digest
and the first record's id in ``textproc/digest_table.py``'s flat table, ~55 bytes per
distinct record (a memory-mapped temporary file past 256 MiB). ``method: rouge_l``
drops a record whose ROUGE-L F against any kept record is ≥ ``threshold`` (default 0.7),
using an exact pruned index; the drop records the nearest neighbour and its score.
``method: minhash`` drops a record whose estimated Jaccard similarity of word
``shingle``-grams (default 3) with a kept record is ≥ ``threshold`` (default 0.8), found
with MinHash LSH (datasketch; ``num_perm`` default 128): sub-linear at any scale, at the
cost of 512 bytes per kept record and an estimate instead of an exact score.
``method: embedding`` (the ``embed`` extra) drops a record whose MiniLM sentence
embedding has cosine similarity ≥ ``threshold`` (default 0.9) with a kept record's,
found exactly by brute force (1.5 KB per kept record; ~150 records/s to encode on one
core): paraphrases that share few words.
Every method also drops exact duplicates first. Records are processed in arrival order,
which the executor keeps deterministic. ``against: [names]`` adds reference inputs
(e.g. a loop's ``pool``): their records are indexed first, never emitted, and a record
near any of them is a duplicate too (Self-Instruct's filter against the task pool).
With ``against``, ROUGE-L decides a large main input (references and input together
100,000 records or more) in blocks of 4,096, the pool check on two processes
(``textproc/rouge_blocks.py``), with the same outcomes in the same order as one record
at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from hashlib import blake2b as _blake2b
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Span
from synthdsl.lang.expr.types import FieldType
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Estimate,
    Estimator,
    MapRunner,
    NodeKind,
    Outbox,
    Outcome,
    Resolve,
    Runtime,
    StreamRunner,
    count_references,
    link_refs,
    main_fields,
    read_all,
)
from synthdsl.records import Record
from synthdsl.textproc.digest_table import DigestTable
from synthdsl.textproc.tokens import normalize_for_exact, tokenize

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "DedupConfig"]

# ROUGE-L against references: when references and main input together reach
# BLOCKS_FROM records (and the main input two blocks), the main input is decided
# BLOCK_SIZE records at a time, the pool check on BLOCK_WORKERS processes
# (textproc/rouge_blocks.py); otherwise one record at a time, in this process. Below
# ~100k the block path's extra CPU (in-block checks) outweighs the second core
# (docs/benchmarks.md).
BLOCKS_FROM = 100_000
BLOCK_SIZE = 4096
BLOCK_WORKERS = 2


@dataclass
class _Ref:
    source: str
    span: Span
    node: str = ""


@dataclass
class DedupConfig:
    fields: list[str]
    spans: list[Span]
    method: str
    threshold: float
    num_perm: int = 128
    shingle: int = 3
    parts: list[_Ref] = field(default_factory=list)  # ``against`` inputs, resolved
    main: list[str] = field(default_factory=list)

    @property
    def against(self) -> list[_Ref]:
        return self.parts


def _key_text(record: Record, fields: list[str]) -> str:
    parts = []
    for f in fields:
        v = record.data.get(f)
        parts.append(v if isinstance(v, str) else ("" if v is None else str(v)))
    return "\n".join(parts)


class _MinHashIndex:
    """MinHash LSH over word shingles; keeps each kept record's signature (uint32s)."""

    def __init__(self, threshold: float, num_perm: int, shingle: int) -> None:
        from datasketch import MinHash, MinHashLSH

        self.template = MinHash(num_perm=num_perm, seed=1)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.signatures: dict[str, Any] = {}
        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle

    def _signature(self, text: str) -> Any:
        from datasketch import MinHash

        tokens = tokenize(text)
        k = min(self.shingle, max(len(tokens), 1))
        grams = {" ".join(tokens[i : i + k]).encode() for i in range(max(len(tokens) - k + 1, 1))}
        m = MinHash(
            num_perm=self.num_perm,
            seed=1,
            permutations=self.template.permutations,
            scheme=self.template.scheme,
        )
        m.update_batch(sorted(grams))
        return m

    def add(self, record_id: str, text: str) -> None:
        if record_id in self.signatures:
            return
        m = self._signature(text)
        self.lsh.insert(record_id, m, check_duplication=False)
        self.signatures[record_id] = m.hashvalues.copy()

    def check_and_add(self, record_id: str, text: str) -> tuple[str, float] | None:
        m = self._signature(text)
        best: tuple[str, float] | None = None
        for other in sorted(self.lsh.query(m)):
            score = float((self.signatures[other] == m.hashvalues).mean())
            if score >= self.threshold and (best is None or score > best[1]):
                best = (other, score)
        if best is not None:
            return best
        self.lsh.insert(record_id, m, check_duplication=False)
        self.signatures[record_id] = m.hashvalues.copy()
        return None


class _EmbeddingDedup:
    """Cosine similarity of MiniLM sentence embeddings (the ``embed`` extra), exact."""

    def __init__(self, threshold: float) -> None:
        # numpy, tokenizers and the model load only for embedding dedup
        from synthdsl.textproc.embed import EmbeddingIndex, TextEncoder

        self.encoder = TextEncoder.load()
        self.index = EmbeddingIndex(threshold)

    def add(self, record_id: str, text: str) -> None:
        if record_id not in self.index:
            self.index.add(record_id, self.encoder.encode([text])[0])

    def check_and_add(self, record_id: str, text: str) -> tuple[str, float] | None:
        vector = self.encoder.encode([text])[0]
        found = self.index.nearest(vector)
        if found is not None:
            return str(found[0]), float(found[1])
        self.index.add(record_id, vector)
        return None


class _Runner:
    concurrency = 1
    quick = True  # process() never waits: it may run in its producer's task

    def __init__(self, node: Node[DedupConfig], rt: Runtime) -> None:
        self.node = node
        self.cfg = node.config
        self.seen = DigestTable()
        self.exact_only = self.cfg.method == "exact"
        self.index: Any = None
        self.minhash: _MinHashIndex | None = None
        self.embedding: _EmbeddingDedup | None = None
        if self.cfg.method == "embedding":
            self.embedding = _EmbeddingDedup(self.cfg.threshold)
        if self.cfg.method == "rouge_l":
            from synthdsl.textproc.similarity import RougeIndex  # rapidfuzz: on use only

            self.index = RougeIndex(min_threshold=self.cfg.threshold)
        elif self.cfg.method == "minhash":
            self.minhash = _MinHashIndex(self.cfg.threshold, self.cfg.num_perm, self.cfg.shingle)
        if self.exact_only:
            # the executor's block path calls it instead of process (no coroutine)
            self.decide = self._decide_exact

    def add_reference(self, record: Record) -> None:
        """Index a record of an ``against`` input: later records near it are duplicates."""
        text = _key_text(record, self.cfg.fields)
        digest = hashlib.blake2b(normalize_for_exact(text).encode("utf-8"), digest_size=16).digest()
        if self.seen.first(digest, record.id) is not None:
            return
        if self.index is not None and record.id not in self.index:
            self.index.add(record.id, text)
        if self.minhash is not None:
            self.minhash.add(record.id, text)
        if self.embedding is not None:
            self.embedding.add(record.id, text)

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        """With ``against``: index the reference inputs, then dedup the main input."""
        buffers = await read_all(inputs)
        for ref in self.cfg.against:
            for rec in buffers.get(ref.node, []):
                self.add_reference(rec)
        count_references(buffers, self.cfg.main, out)
        records = [rec for nid in self.cfg.main for rec in buffers.get(nid, [])]
        del buffers
        if (
            self.index is not None
            and len(records) >= 2 * BLOCK_SIZE
            and len(self.index) + len(records) >= BLOCKS_FROM
        ):
            await self._rouge_blocks(records, out)
            return
        for rec in records:
            out.count_in(1)
            outcome = await self.process(rec)
            if isinstance(outcome, Drop):
                out.drop(rec, outcome.reason, outcome.detail)
            else:
                out.count_passed(1)
                await out.emit(rec)

    async def _rouge_blocks(self, records: list[Record], out: Outbox) -> None:
        """ROUGE-L dedup of a read input, a block at a time on two processes.

        The same outcomes, in the same order, as ``process`` one record at a time: a
        record whose digest a kept record has is an exact duplicate; a block ends
        before a record repeating the digest of one in it (which may yet be kept).
        """
        # fork-based workers: imported with the rouge_l path only
        from synthdsl.textproc.rouge_blocks import dedup_block

        threshold = self.cfg.threshold
        pending: list[tuple[Record, bytes, str, str | None]] = []  # (.., exact duplicate of)
        digests: set[bytes] = set()

        async def flush() -> None:
            block = [(rec.id, text) for rec, _, text, first in pending if first is None]
            found = iter(dedup_block(self.index, block, threshold, workers=BLOCK_WORKERS))
            for rec, digest, _, first in pending:
                out.count_in(1)
                if first is not None:
                    out.drop(rec, "duplicate (exact)", {"duplicate_of": first})
                    continue
                match = next(found)
                if match is None:
                    self.seen.add(digest, rec.id)
                    out.count_passed(1)
                    await out.emit(rec)
                else:
                    other, score = match
                    out.drop(
                        rec,
                        f"near duplicate (rouge_l >= {threshold})",
                        {"duplicate_of": other, "score": round(score, 4)},
                    )
            pending.clear()
            digests.clear()

        for rec in records:
            text = _key_text(rec, self.cfg.fields)
            digest = hashlib.blake2b(
                normalize_for_exact(text).encode("utf-8"), digest_size=16
            ).digest()
            if digest in digests:
                await flush()
            first = self.seen.get(digest)
            if first is None:
                digests.add(digest)
            pending.append((rec, digest, text, first))
            if len(pending) >= BLOCK_SIZE:
                await flush()
        if pending:
            await flush()

    def _decide_exact(self, record: Record) -> Outcome | None:
        """``method: exact``'s verdict: None (the record is new and passes) or its Drop."""
        fields = self.cfg.fields
        if len(fields) == 1:
            v = record.data.get(fields[0])
            text = v if isinstance(v, str) else ("" if v is None else str(v))
        else:
            text = _key_text(record, fields)
        digest = _blake2b(normalize_for_exact(text).encode("utf-8"), digest_size=16).digest()
        first = self.seen.first(digest, record.id)
        if first is None:
            return None
        return Drop("duplicate (exact)", {"duplicate_of": first})

    async def process(self, record: Record) -> Outcome:
        text = _key_text(record, self.cfg.fields)
        digest = hashlib.blake2b(normalize_for_exact(text).encode("utf-8"), digest_size=16).digest()
        if self.exact_only:  # one probe: the digest is noted as it is looked up
            first = self.seen.first(digest, record.id)
            if first is not None:
                return Drop("duplicate (exact)", {"duplicate_of": first})
            return Emit([record])
        first = self.seen.get(digest)
        if first is not None:
            return Drop("duplicate (exact)", {"duplicate_of": first})
        if self.index is not None:
            match = self.index.nearest(text, self.cfg.threshold)
            if match is not None:
                other, score = match
                return Drop(
                    f"near duplicate (rouge_l >= {self.cfg.threshold})",
                    {"duplicate_of": other, "score": round(score, 4)},
                )
            self.index.add(record.id, text)
        if self.embedding is not None:
            found = self.embedding.check_and_add(record.id, text)
            if found is not None:
                other, score = found
                return Drop(
                    f"near duplicate (embedding cosine >= {self.cfg.threshold})",
                    {"duplicate_of": other, "score": round(score, 4)},
                )
        if self.minhash is not None:
            near = self.minhash.check_and_add(record.id, text)
            if near is not None:
                other, score = near
                return Drop(
                    f"near duplicate (minhash jaccard >= {self.cfg.threshold})",
                    {"duplicate_of": other, "score": round(score, 4)},
                )
        self.seen.add(digest, record.id)
        return Emit([record])


class DedupKind(NodeKind[DedupConfig]):
    name = "dedup"
    references_stay = True

    def field_types(self, cfg: DedupConfig, upstream: dict[str, FieldType]) -> dict[str, FieldType]:
        return dict(upstream)  # values pass unchanged

    def link(self, config: DedupConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return link_refs(config.parts, resolve)

    def upstream_fields(
        self, config: DedupConfig, inputs: dict[str, list[str]]
    ) -> list[str] | None:
        return main_fields(config.main, inputs)

    def supports_when(self, config: DedupConfig) -> bool:
        return not getattr(config, "against", None)

    def configure(self, raw: Any, ctx: CheckContext) -> DedupConfig:
        if "field" in raw and "fields" in raw:
            ctx.error(ctx.key_span("fields"), "give either 'field' or 'fields', not both")
        if "field" in raw:
            fields, spans = [str(raw["field"])], [ctx.span("field")]
        elif "fields" in raw:
            fields = [str(f) for f in raw["fields"]]
            spans = [ctx.span("fields", i) for i in range(len(fields))]
        else:
            ctx.error(ctx.span(), "dedup needs 'field' (or 'fields') to compare")
            fields, spans = [], []
        method = str(raw.get("method", "exact"))
        if "threshold" in raw and method == "exact":
            ctx.error(
                ctx.key_span("threshold"),
                "'threshold' applies to near-duplicate methods (rouge_l, minhash, embedding)",
            )
        for key in ("num_perm", "shingle"):
            if key in raw and method != "minhash":
                ctx.error(ctx.key_span(key), f"'{key}' applies to method: minhash only")
        default = {"minhash": 0.8, "embedding": 0.9}.get(method, 0.7)
        return DedupConfig(
            fields,
            spans,
            method,
            float(raw.get("threshold", default)),
            int(raw.get("num_perm", 128)),
            int(raw.get("shingle", 3)),
            [
                _Ref(str(name), ctx.span("against", i))
                for i, name in enumerate(raw.get("against", []))
            ],
        )

    def read_fields(self, cfg: DedupConfig) -> list[tuple[str, Span]]:
        return list(zip(cfg.fields, cfg.spans, strict=True))

    def estimate(self, node: Node[DedupConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in, exact=False)

    def describe(self, cfg: DedupConfig) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": cfg.fields, "method": cfg.method}
        if cfg.method != "exact":
            out["threshold"] = cfg.threshold
        if cfg.method == "minhash":
            out.update({"num_perm": cfg.num_perm, "shingle": cfg.shingle})
        if cfg.against:
            out["against"] = [r.node or r.source for r in cfg.against]
        return out

    def map_runner(self, node: Node[DedupConfig], rt: Runtime) -> MapRunner | None:
        cfg: DedupConfig = node.config
        return None if cfg.against else _Runner(node, rt)

    def stream_runner(self, node: Node[DedupConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = DedupKind()
