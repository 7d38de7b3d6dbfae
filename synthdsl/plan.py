"""Plans: the compiled DAG as a typed, versioned, deterministic document.

Input: a ``CompiledRecipe``. Output: a ``Plan``: the expanded nodes (``PlanNode``: origin,
inputs, fields, the kind's config summary, a loop's body) with a ``NodeEstimate`` each
(upper bounds of records and LLM calls, from the node's kind; a cost where litellm's
bundled price table knows the model, at the batch price for aliases in batch mode),
the models, the output, the totals, and the recipe hash, a digest of everything that
affects results (estimates and batch settings excluded; the plugins the recipe uses,
with their versions, included). It
renders as JSON (``plan_version`` 1), text or Graphviz dot. Nothing here touches the
network or imports litellm. Raises nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from synthdsl.ir import CompiledRecipe, Graph, Node
from synthdsl.llm.batch_support import batch_settings
from synthdsl.llm.pricing import batch_price_per_token, price_per_token
from synthdsl.nodes import node_kind
from synthdsl.records import stable_hash

__all__ = ["PLAN_VERSION", "NodeEstimate", "Plan", "PlanNode", "build_plan", "run_plan"]

PLAN_VERSION = 1
_PROMPT_TOKENS_GUESS = 400  # per call, when a template's rendered size is unknown


@dataclass(frozen=True)
class NodeEstimate:
    """Upper bounds for one node (None: unknown); ``cost_usd`` only for LLM nodes."""

    records: int | None
    calls: int | None
    exact: bool
    priced: bool = False  # an LLM node with known calls: cost_usd is its estimate
    cost_usd: float | None = None  # None when priced: a model is not in the price table

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"records": self.records, "calls": self.calls, "exact": self.exact}
        if self.priced:
            out["cost_usd"] = self.cost_usd
        return out


@dataclass(frozen=True)
class PlanNode:
    id: str
    kind: str
    inputs: tuple[str, ...]
    fields: tuple[str, ...]
    estimate: NodeEstimate
    origin: str | None = None  # the used recipe a node came from
    when: str | None = None
    case: str | None = None  # a switch's case: which, and on what condition
    config: dict[str, Any] | None = None  # the kind's summary (None: nothing to show)
    note: str | None = None  # how a nested estimate was made
    body: tuple[PlanNode, ...] | None = None  # a loop's first round

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "inputs": list(self.inputs),
            "fields": list(self.fields),
        }
        if self.origin:
            out["origin"] = self.origin
        if self.when is not None:
            out["when"] = self.when
        if self.case is not None:
            out["case"] = self.case
        if self.config is not None:
            out["config"] = self.config
        if self.body is not None:
            out["body"] = [n.to_dict() for n in self.body]
        if self.note:
            out["estimate_note"] = self.note
        out["estimate"] = self.estimate.to_dict()
        return out


@dataclass(frozen=True)
class Plan:
    name: str
    recipe_hash: str
    params: dict[str, Any]
    models: dict[str, list[dict[str, Any]]]  # alias -> entries (no secrets: env names only)
    nodes: tuple[PlanNode, ...]
    output: dict[str, Any]
    llm_calls_max: int | None
    cost_usd_max: float | None  # None: a model is not in the price table
    plugins: tuple[dict[str, str], ...] = ()  # group, name, package, version

    @property
    def data(self) -> dict[str, Any]:
        """The JSON document (``plan_version`` 1); ``plugins`` only when some are used."""
        out: dict[str, Any] = {
            "plan_version": PLAN_VERSION,
            "recipe": {"name": self.name, "hash": self.recipe_hash},
            "params": self.params,
            "models": self.models,
            "nodes": [n.to_dict() for n in self.nodes],
            "output": self.output,
            "totals": {"llm_calls_max": self.llm_calls_max, "cost_usd_max": self.cost_usd_max},
        }
        if self.plugins:
            out["plugins"] = [dict(p) for p in self.plugins]
        return out

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        return _render_text(self.data)

    def to_dot(self) -> str:
        return _render_dot(self.data)


def _models(compiled: CompiledRecipe) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alias, decl in sorted(compiled.models.items()):
        entries = []
        for e in decl.entries:
            entry: dict[str, Any] = {"model": e.model, "params": dict(e.params)}
            if decl.is_pool:
                entry["weight"] = e.weight
            if e.api_base:
                entry["api_base"] = e.api_base
            if e.api_key_env:
                entry["api_key_env"] = e.api_key_env  # the variable's name, never its value
            for key in ("rpm", "tpm"):
                if getattr(e, key) is not None:
                    entry[key] = getattr(e, key)
            entry["concurrency"] = e.concurrency
            settings = batch_settings(e.batch)
            if settings is not None:  # priced at the batch price; not part of the hash
                entry["batch"] = {
                    "window_s": settings.window,
                    "max_requests": settings.max_requests,
                    "max_bytes": settings.max_bytes,
                    "poll_interval_s": settings.poll_interval,
                    "fallback": settings.fallback,
                }
            entries.append(entry)
        out[alias] = entries
    return out


def _max_tokens(compiled: CompiledRecipe, alias: str | None, overrides: dict[str, Any]) -> int:
    if "max_tokens" in overrides:
        return int(overrides["max_tokens"])
    decl = compiled.models.get(alias or "default")
    if decl is None:
        return 512
    return max(int(dict(e.params).get("max_tokens", 512)) for e in decl.entries)


def _cost(
    compiled: CompiledRecipe, alias: str | None, calls: int, prompt_tokens: int, max_out: int
) -> float | None:
    decl = compiled.models.get(alias or "default")
    if decl is None or calls == 0:
        return 0.0
    total_w = sum(e.weight for e in decl.entries)
    cost = 0.0
    for e in decl.entries:
        if e.model.startswith("local/"):
            continue
        batched = batch_settings(e.batch) is not None
        price = batch_price_per_token(e.model) if batched else price_per_token(e.model)
        if price is None:
            return None
        share = calls * e.weight / total_w
        cost += share * (prompt_tokens * price[0] + max_out * price[1])
    return cost


@dataclass
class _Totals:
    calls: int | None = 0
    cost: float = 0.0
    cost_known: bool = True


class _Estimator:
    """Estimates one graph's nodes; kinds with a body call ``body`` once per pass."""

    def __init__(
        self,
        compiled: CompiledRecipe,
        pool_records: int | None,
        totals: _Totals,
        count_sources: bool = True,
    ) -> None:
        self.compiled = compiled
        self._pool_records = pool_records
        self.totals = totals
        self.counts_sources = count_sources
        self.first_body: tuple[PlanNode, ...] | None = None

    @property
    def pool_records(self) -> int | None:
        return self._pool_records

    def body(self, graph: Graph, pool_records: int | None) -> tuple[int | None, int | None]:
        sub = _Totals()
        entries = _graph_nodes(self.compiled, graph, pool_records, sub, self.counts_sources)
        self.totals.cost += sub.cost
        self.totals.cost_known = self.totals.cost_known and sub.cost_known
        if self.first_body is None:
            self.first_body = entries
        made = next((b.estimate.records for b in entries if b.id == graph.output), None)
        return made, sub.calls


def _graph_nodes(
    compiled: CompiledRecipe,
    graph: Graph,
    pool_records: int | None,
    totals: _Totals,
    count_sources: bool = True,
) -> tuple[PlanNode, ...]:
    estimates: dict[str, int | None] = {}
    out: list[PlanNode] = []
    for node in graph.nodes.values():
        kind = node_kind(node.kind)
        counted = node.inputs
        if kind.references_stay:  # ``against:`` inputs are read, not passed on
            counted = list(getattr(node.config, "main", None) or node.inputs)
        ins = [estimates.get(i) for i in counted]
        n_in = None if not ins or any(x is None for x in ins) else sum(x or 0 for x in ins)
        est_ctx = _Estimator(compiled, pool_records, totals, count_sources)
        est = kind.estimate(node, n_in, est_ctx)
        calls = None if kind.uses_llm and n_in is None else est.calls
        estimates[node.id] = est.records
        estimate = NodeEstimate(est.records, calls, est.exact)
        use = kind.llm_use(node.config)
        if use is not None and calls is not None:
            prompt_tokens = use.prompt_chars // 4 + _PROMPT_TOKENS_GUESS
            max_out = _max_tokens(compiled, use.model, use.params)
            cost = _cost(compiled, use.model, calls, prompt_tokens, max_out)
            estimate = replace(
                estimate, priced=True, cost_usd=None if cost is None else round(cost, 6)
            )
            if cost is None:
                totals.cost_known = False
            else:
                totals.cost += cost
        if totals.calls is not None:
            totals.calls = None if calls is None else totals.calls + calls
        out.append(
            PlanNode(
                id=node.id,
                kind=node.kind,
                inputs=tuple(node.inputs),
                fields=tuple(f for f in node.fields if f != "*"),
                estimate=estimate,
                origin=node.origin,
                when=node.when.source if node.when is not None else None,
                case=_case_text(node),
                config=kind.describe(node.config),
                note=est.note,
                body=est_ctx.first_body,
            )
        )
    return tuple(out)


def _case_text(node: Node[Any]) -> str | None:
    """``case 2 of pairs: <condition>`` (``otherwise`` for a case with no condition)."""
    case = node.case
    if case is None:
        return None
    cond = case.conditions[case.index]
    text = cond.source if cond is not None else "otherwise"
    return f"case {case.index + 1} of {case.switch}: {text}"


def run_plan(compiled: CompiledRecipe) -> Plan:
    """The plan a run needs: its hash, settings and bounds on calls and cost. With no LLM
    step there is nothing to bound, so source files are not read to count their rows
    (a 1M-row JSONL source: ~6 % of a run that filters and dedups it)."""
    uses_llm = any(node_kind(node.kind).uses_llm for node in compiled.graph.walk())
    return build_plan(compiled, count_sources=uses_llm)


def build_plan(compiled: CompiledRecipe, *, count_sources: bool = True) -> Plan:
    """The deterministic plan of a compiled recipe. ``count_sources=False`` leaves the
    record counts of file sources unknown instead of reading the files (the hash does
    not depend on estimates)."""
    totals = _Totals()
    nodes = _graph_nodes(compiled, compiled.graph, None, totals, count_sources)
    o = compiled.output
    output: dict[str, Any] = {
        "from": compiled.graph.output,
        "format": o.format,
        "shape": o.shape,
        "provenance": o.provenance,
    }
    if o.fields is not None:
        output["fields"] = list(o.fields)
    if o.shape == "preference":
        output["preference_style"] = o.preference_style
        if o.pairs_from is not None:
            p = o.pairs_from
            output["pairs_from"] = {"group_by": p.group_by, "score": p.score, "text": p.text}
        else:
            output["read"] = [o.prompt_field, o.chosen_field, o.rejected_field]
    if o.shape == "conversation":
        output["style"] = o.style
        output["read"] = [o.turns_field]
    plan = Plan(
        name=compiled.name,
        recipe_hash="",
        params=compiled.params,
        models=_models(compiled),
        nodes=nodes,
        output=output,
        llm_calls_max=totals.calls,
        cost_usd_max=round(totals.cost, 6) if totals.cost_known else None,
        plugins=tuple(compiled.plugins),
    )
    digest_input = {k: v for k, v in plan.data.items() if k != "totals"}
    digest_input["recipe"] = {"name": compiled.name}
    digest_input["models"] = {  # how calls travel (batch or not) does not change results
        alias: [{k: v for k, v in e.items() if k != "batch"} for e in entries]
        for alias, entries in plan.models.items()
    }
    return replace(plan, recipe_hash=stable_hash(_strip_estimates(digest_input), length=16))


def _strip_estimates(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_estimates(v)
            for k, v in value.items()
            if k not in ("estimate", "estimate_note", "name")
        }
    if isinstance(value, list):
        return [_strip_estimates(v) for v in value]
    return value


def _fmt_count(n: Any) -> str:
    return "?" if n is None else str(n)


def _render_nodes(nodes: list[dict[str, Any]], indent: str, lines: list[str]) -> None:
    width = max((len(n["id"]) for n in nodes), default=4)
    for n in nodes:
        est = n.get("estimate", {})
        cfg = n.get("config", {})
        summary = ", ".join(
            f"{k}={json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}"
            for k, v in cfg.items()
            if k not in ("prompt_hash", "system_hash")
        )
        bound = "" if est.get("exact") else "≤ "
        calls = est.get("calls")
        call_text = f", {bound}{_fmt_count(calls)} calls" if calls else ""
        cost = est.get("cost_usd")
        cost_text = f", ${cost:.4f}" if isinstance(cost, float) and cost > 0 else ""
        src = f" <- {', '.join(n['inputs'])}" if n["inputs"] else ""
        origin = f"  [from {n['origin']}]" if n.get("origin") else ""
        if n.get("when"):
            origin += f"  when {n['when']}"
        if n.get("case"):
            origin += f"  {n['case']}"
        lines.append(
            f"{indent}{n['id']:<{width}}  {n['kind']:<8} {bound}{_fmt_count(est.get('records'))} "
            f"records{call_text}{cost_text}{src}{origin}"
        )
        if summary:
            lines.append(f"{indent}{'':<{width}}  {'':<8} {summary}")
        if "body" in n:
            lines.append(f"{indent}{'':<{width}}  loop body ({n.get('estimate_note', '')}):")
            _render_nodes(n["body"], indent + "    ", lines)


def _render_text(data: dict[str, Any]) -> str:
    lines = [f"recipe {data['recipe']['name']}  (hash {data['recipe']['hash']})", "models:"]
    for alias, entries in data["models"].items():
        for e in entries:
            weight = f" weight={e['weight']}" if "weight" in e else ""
            base = f" api_base={e['api_base']}" if "api_base" in e else ""
            batch = " (batch API)" if "batch" in e else ""
            lines.append(f"  {alias:<12} {e['model']}{weight}{base}{batch}")
    lines.append("nodes:")
    _render_nodes(data["nodes"], "  ", lines)
    out = data["output"]
    lines.append(f"output: {out['from']} -> {out['shape']} {out['format']}")
    t = data["totals"]
    calls = _fmt_count(t["llm_calls_max"])
    cost = t["cost_usd_max"]
    cost_text = (
        "cost unknown (a model is not in the price table)"
        if cost is None
        else f"estimated cost ≤ ${cost:.4f}"
    )
    if cost is not None and any("batch" in e for es in data["models"].values() for e in es):
        cost_text += " (batch-mode aliases at the batch price)"
    lines.append(f"total: ≤ {calls} LLM calls, {cost_text}")
    if data.get("plugins"):
        lines.append("plugins:")
        for p in data["plugins"]:
            what = "step kind" if p["group"] == "synthdsl.nodes" else "function"
            lines.append(f"  {what} {p['name']} from {p['package']} {p['version']}")
    return "\n".join(lines) + "\n"


def _render_dot(data: dict[str, Any]) -> str:
    lines = ["digraph recipe {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']

    def add(nodes: list[dict[str, Any]], indent: str) -> None:
        for n in nodes:
            label = f"{n['id']}\\n{n['kind']}"
            lines.append(f'{indent}"{n["id"]}" [label="{label}"];')
            for i in n["inputs"]:
                lines.append(f'{indent}"{i}" -> "{n["id"]}";')
            if "body" in n:
                lines.append(f'{indent}subgraph "cluster_{n["id"]}" {{')
                lines.append(f'{indent}  label="loop {n["id"]}";')
                add(n["body"], indent + "  ")
                lines.append(f"{indent}}}")

    add(data["nodes"], "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"
