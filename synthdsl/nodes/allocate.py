"""The ``allocate`` node: split a generation budget over groups of evaluation failures.

Input: evaluation results, one record per item (e.g. ``prompt``, ``reference``, the
model's ``answer``, ``correct`` or ``score``, optional ``category``). Config:
``budget`` (records to make), ``by`` (the field naming an item's group; optional),
``failed`` (an expression saying which items are failures; by default ``correct`` is
false, or else ``score < pass_score``), ``cluster`` (how items without a group value
are grouped: ``method: auto | embedding | lexical``, ``k``, ``field``, ``seed``),
``rate_power`` / ``size_power`` (the exponents of the weight), ``examples`` (failures
of the group shown with each slot) and ``into`` (the field receiving the slot).

Run: every item is read; items whose ``by`` value is missing, null or empty are
clustered on their ``cluster.field`` text (``textproc/clusters.py``): with MiniLM
sentence embeddings (``embedding``; the ``embed`` extra and the model package), with
TF-IDF word vectors (``lexical``), or ``auto``: embeddings when the model loads, else
TF-IDF, the fallback and its cause written in the note. Each group gets
``group_weight(size, failures)`` and a whole share of the budget
(``nodes/budget_split.py``: largest remainder, the shares sum to the budget). A group's
share is dealt round-robin over its failures in input order; a failure emits one
record per slot it got (a child with ``into``: group, label, slot, variant, variants,
failures, size, failure rate, and ``examples``: the data of up to ``examples`` failures
of the group, its own first). Items answered correctly are dropped (``answered
correctly``), failures that got no slot too (``no budget left for this failure``);
an item whose outcome cannot be read fails (kind ``no_outcome``). Emitted records carry
``target`` metadata (node and group), inherited by their descendants, so the run can
count per group what was generated, kept and dropped (``run/group_tally.py``). The
``allocation`` note holds the formula, the clustering used and per group size,
failures, failure rate, weight, exact quota and allocation.

Errors: problems in the config at ``file:line:col`` (``configure``); ``RunError`` when
``cluster.method: embedding`` is asked for and the model cannot load.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RecipeError, RunError, Span
from synthdsl.lang.expr import Expression, ExpressionRuntimeError, parse_expression
from synthdsl.lang.expr.types import FieldType
from synthdsl.lang.load import content_span
from synthdsl.nodes.base import (
    CheckContext,
    Estimate,
    Estimator,
    NodeKind,
    Outbox,
    Resolve,
    Runtime,
    StreamRunner,
    main_fields,
    read_all,
)
from synthdsl.nodes.budget_split import group_weight, quotas, split_budget
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Node

__all__ = ["KIND", "AllocateConfig", "ClusterConfig"]

ANSWERED = "answered correctly"
NO_BUDGET = "no budget left for this failure"
FORMULA = (
    "weight = (failures/size)^rate_power * size^size_power (0 without failures); "
    "quota = budget * weight / sum(weights); allocated = floor(quota), the rest one "
    "each by largest remainder"
)
METHODS = ("auto", "embedding", "lexical")


@dataclass
class ClusterConfig:
    method: str = "auto"
    k: int = 0  # 0: auto_k(items to cluster)
    field: str = "prompt"
    seed: int = 0


@dataclass
class AllocateConfig:
    budget: int
    by: str | None
    failed_text: str | None
    failed: Expression | None
    pass_score: float
    cluster: ClusterConfig
    rate_power: float
    size_power: float
    examples: int
    into: str
    main: list[str] = field(default_factory=list)

    def rule(self) -> str:
        if self.failed_text is not None:
            return self.failed_text
        return f"correct is false, else score < {self.pass_score:g}"


@dataclass
class _Group:
    name: str
    label: str = ""
    size: int = 0
    failures: list[int] = field(default_factory=list)  # positions in the input
    rank: dict[int, int] = field(default_factory=dict)  # input position -> index in failures


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        return value.strip().lower() in ("true", "yes")
    return None


class _Runner:
    def __init__(self, node: Node[AllocateConfig], rt: Runtime) -> None:
        self.node = node
        self.cfg = node.config
        self.rt = rt

    def _failed(self, data: dict[str, Any]) -> bool | str:
        """Whether the item is a failure, or why that cannot be told."""
        cfg = self.cfg
        if cfg.failed is not None:
            try:
                return bool(cfg.failed.evaluate(data))
            except ExpressionRuntimeError as exc:
                return f"'{cfg.failed_text}': {exc}"
        if data.get("correct") is not None:
            truth = _truth(data["correct"])
            if truth is None:
                return f"'correct' is {data['correct']!r}, not true or false"
            return not truth
        score = data.get("score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            return score < cfg.pass_score
        return "the item has neither 'correct' nor a numeric 'score' (or give failed: EXPR)"

    def _group_value(self, data: dict[str, Any]) -> str | None:
        if self.cfg.by is None:
            return None
        value = data.get(self.cfg.by)
        if value is None or isinstance(value, dict | list) or str(value).strip() == "":
            return None
        return str(value).strip()

    def _cluster(self, texts: list[str]) -> tuple[list[int], list[str], dict[str, Any]]:
        """Cluster labels, a readable label per cluster, and what was done."""
        # numpy and the clustering code load only when a run clusters
        from synthdsl.textproc.clusters import auto_k, kmeans, lexical_vectors, top_terms

        c = self.cfg.cluster
        k = c.k or auto_k(len(texts))
        info: dict[str, Any] = {"requested": c.method, "field": c.field, "k": k}
        vectors: Any = None
        if c.method in ("auto", "embedding"):
            try:
                # the encoder (tokenizers, safetensors, the model) only when embedding
                from synthdsl.textproc.embed import TextEncoder

                vectors = TextEncoder.load().encode(texts)
                info["method"] = "embedding"
            except RunError as exc:
                if c.method == "embedding":
                    raise RunError(
                        f"step '{self.node.id}': cluster.method embedding: {exc}"
                    ) from None
                info["fallback"] = f"embedding unavailable ({exc}); TF-IDF words instead"
        if vectors is None:
            vectors = lexical_vectors(texts)
            info["method"] = "lexical"
        labels = kmeans(vectors, k, c.seed)
        info["clusters"] = len(set(labels))
        names = [", ".join(terms) for terms in top_terms(texts, labels)]
        return labels, names, info

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        cfg = self.cfg
        buffers = await read_all(inputs)
        records = [rec for nid in cfg.main for rec in buffers.get(nid, [])]
        out.count_in(len(records))
        groups: dict[str, _Group] = {}
        member: list[str | None] = [None] * len(records)
        failed: list[bool] = [False] * len(records)
        unlabelled: list[int] = []
        for i, rec in enumerate(records):
            verdict = self._failed(rec.data)
            if isinstance(verdict, str):
                out.fail(rec, "no_outcome", verdict)
                continue
            failed[i] = verdict
            value = self._group_value(rec.data)
            if value is None:
                unlabelled.append(i)
            else:
                member[i] = value
        clustering: dict[str, Any] | None = None
        cluster_labels: dict[str, str] = {}
        if unlabelled:
            texts = [str(records[i].data.get(cfg.cluster.field) or "") for i in unlabelled]
            labels, names, clustering = await asyncio.to_thread(self._cluster, texts)
            for i, label in zip(unlabelled, labels, strict=True):
                member[i] = f"cluster {label + 1}"
                cluster_labels[f"cluster {label + 1}"] = names[label]
        for i, name in enumerate(member):  # groups in order of their first item
            if name is None:
                continue
            group = groups.setdefault(name, _Group(name, cluster_labels.get(name, "")))
            group.size += 1
            if failed[i]:
                group.rank[i] = len(group.failures)
                group.failures.append(i)
        ordered = list(groups.values())
        weights = [
            group_weight(g.size, len(g.failures), cfg.rate_power, cfg.size_power) for g in ordered
        ]
        shares = split_budget(weights, cfg.budget)
        exact = quotas(weights, cfg.budget)
        slots: dict[int, list[tuple[_Group, int]]] = {}
        for group, share in zip(ordered, shares, strict=True):
            for slot in range(share):
                owner = group.failures[slot % len(group.failures)]
                slots.setdefault(owner, []).append((group, slot))
        for i, rec in enumerate(records):
            if member[i] is None:
                continue  # failed above
            if not failed[i]:
                out.drop(rec, ANSWERED, None)
                continue
            mine = slots.get(i)
            if not mine:
                out.drop(rec, NO_BUDGET, {"group": member[i]})
                continue
            out.count_passed(1)
            for variant, (group, slot) in enumerate(mine):
                await out.emit(self._slot(i, records, group, slot, variant, len(mine)))
        self.rt.note(
            self.node.id,
            "allocation",
            self._note(records, ordered, weights, exact, shares, clustering),
        )

    def _slot(
        self,
        index: int,
        records: list[Record],
        group: _Group,
        slot: int,
        variant: int,
        variants: int,
    ) -> Record:
        cfg = self.cfg
        fails = group.failures
        own = group.rank[index]
        rec = records[index]
        # the group's other failures, starting further along with each variant
        others = fails[own + 1 :] + fails[:own]
        if others:
            turn = variant % len(others)
            others = others[turn:] + others[:turn]
        picked = [fails[own], *others[: cfg.examples - 1]]
        examples = [{k: v for k, v in records[i].data.items() if k != cfg.into} for i in picked]
        size = group.size
        data = dict(rec.data)
        data[cfg.into] = {
            "group": group.name,
            "label": group.label,
            "slot": slot + 1,
            "variant": variant + 1,
            "variants": variants,
            "failures": len(fails),
            "size": size,
            "failure_rate": round(len(fails) / size, 6),
            "examples": examples,
        }
        return rec.child(
            self.rt.node_key(self.node.id),
            data,
            index=variant,
            target={"node": self.node.id, "group": group.name},
        )

    def _note(
        self,
        records: list[Record],
        ordered: list[_Group],
        weights: list[float],
        exact: list[float],
        shares: list[int],
        clustering: dict[str, Any] | None,
    ) -> dict[str, Any]:
        cfg = self.cfg
        per_group: dict[str, Any] = {}
        for group, weight, quota, share in zip(ordered, weights, exact, shares, strict=True):
            entry: dict[str, Any] = {
                "size": group.size,
                "failures": len(group.failures),
                "failure_rate": round(len(group.failures) / group.size, 6),
                "weight": round(weight, 6),
                "quota": round(quota, 6),
                "allocated": share,
            }
            if group.label:
                entry["label"] = group.label
            per_group[group.name] = entry
        note: dict[str, Any] = {
            "budget": cfg.budget,
            "allocated": sum(shares),
            "items": len(records),
            "failures": sum(len(g.failures) for g in ordered),
            "by": cfg.by,
            "failed": cfg.rule(),
            "rate_power": cfg.rate_power,
            "size_power": cfg.size_power,
            "formula": FORMULA,
            "groups": per_group,
        }
        if clustering is not None:
            note["clustering"] = clustering
        return note


def _number(raw: Any, key: str, default: float) -> float:
    value = raw.get(key, default)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


class AllocateKind(NodeKind[AllocateConfig]):
    name = "allocate"

    def configure(self, raw: Any, ctx: CheckContext) -> AllocateConfig:
        failed_text: str | None = None
        failed: Expression | None = None
        if "failed" in raw:
            failed_text = str(raw["failed"])
            try:
                failed = parse_expression(failed_text, content_span(ctx.doc, ctx.span("failed")))
            except RecipeError as exc:
                ctx.diagnostics.extend(exc.diagnostics)
            if "pass_score" in raw:
                ctx.error(
                    ctx.key_span("pass_score"),
                    "give either 'failed' or 'pass_score', not both",
                    "pass_score only applies to the default rule (score < pass_score)",
                )
        raw_cluster = raw.get("cluster") or {}
        cluster = ClusterConfig(
            method=str(raw_cluster.get("method", "auto")),
            k=int(raw_cluster.get("k", 0)),
            field=str(raw_cluster.get("field", "prompt")),
            seed=int(raw_cluster.get("seed", 0)),
        )
        rate_power = _number(raw, "rate_power", 1.0)
        size_power = _number(raw, "size_power", 1.0)
        by = raw.get("by")
        into = str(raw.get("into", "target"))
        if by is not None and str(by) == into:
            ctx.error(ctx.span("by"), f"'by' and 'into' name the same field '{into}'")
        return AllocateConfig(
            budget=int(raw["budget"]),
            by=None if by is None else str(by),
            failed_text=failed_text,
            failed=failed,
            pass_score=_number(raw, "pass_score", 0.5),
            cluster=cluster,
            rate_power=rate_power,
            size_power=size_power,
            examples=int(raw.get("examples", 3)),
            into=into,
        )

    def supports_when(self, config: AllocateConfig) -> bool:
        return False  # it reads every item before it allocates

    def link(self, config: AllocateConfig, main: list[str], resolve: Resolve) -> list[str]:
        config.main = list(main)
        return []

    def upstream_fields(
        self, config: AllocateConfig, inputs: dict[str, list[str]]
    ) -> list[str] | None:
        return main_fields(config.main, inputs)

    def output_fields(self, config: AllocateConfig, upstream: list[str]) -> list[str]:
        return [*[f for f in upstream if f != config.into], config.into]

    def field_types(
        self, config: AllocateConfig, upstream: dict[str, FieldType]
    ) -> dict[str, FieldType]:
        return {k: v for k, v in upstream.items() if k != config.into}

    def expressions(self, config: AllocateConfig) -> list[Expression]:
        return [config.failed] if config.failed is not None else []

    def read_fields(self, config: AllocateConfig) -> list[tuple[str, Span]]:
        # ``by`` and ``cluster.field`` are optional per item: an item without a group
        # value is clustered, so they are not required of the input
        return list(config.failed.field_spans()) if config.failed is not None else []

    def estimate(self, node: Node[AllocateConfig], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(
            records=0 if n_in == 0 else node.config.budget,
            exact=False,
            note="the budget, when any item failed",
        )

    def describe(self, config: AllocateConfig) -> dict[str, Any]:
        out: dict[str, Any] = {
            "budget": config.budget,
            "by": config.by,
            "failed": config.rule(),
            "cluster": {
                "method": config.cluster.method,
                "k": config.cluster.k or "auto",
                "field": config.cluster.field,
                "seed": config.cluster.seed,
            },
            "rate_power": config.rate_power,
            "size_power": config.size_power,
            "examples": config.examples,
            "into": config.into,
        }
        return out

    def stream_runner(self, node: Node[AllocateConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = AllocateKind()
