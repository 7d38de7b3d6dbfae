"""The ``mix`` node: compose a dataset from parts with ratios.

Ratios must sum to 1 and hold on the counts that reach the mix (after every upstream
filter). With ``total`` the mix aims for that many rows; when a part is short, the total
shrinks until every ratio holds, and the manifest says which part limited it. Without
``total`` the mix takes the largest total the parts allow. Rows per part are rounded so
that the written mix holds the stage band and the real floor whenever some split can
(``nodes/mix_split.py``); a total no split can hold is a validate error (or warning, by
policy), and a written mix outside them is a run violation: fatal for a ``strict`` band
and for ``min_real``, else a warning. Which rows are kept is a seeded, deterministic
choice; rows not taken are recorded drops ("over quota").
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from synthdsl.errors import Diagnostic, Span
from synthdsl.ir import Graph, Node
from synthdsl.nodes import node_kind
from synthdsl.nodes.base import (
    CheckContext,
    Estimate,
    Estimator,
    GraphReport,
    NodeKind,
    Outbox,
    Resolve,
    Runtime,
    StreamRunner,
    link_refs,
    read_all,
)
from synthdsl.nodes.mix_split import STAGE_BANDS, ShareRules, split
from synthdsl.records import Record
from synthdsl.textproc.plural import plural

__all__ = ["KIND", "STAGE_BANDS", "MixConfig", "MixPart", "quotas"]


@dataclass
class MixPart:
    source: str
    span: Span
    ratio: float
    synthetic: bool | None
    node: str = ""
    refill_graph: Graph | None = None  # the part's upstream, set by the compiler


@dataclass
class Refill:
    max_rounds: int = 3
    max_calls: int | None = None
    max_cost_usd: float | None = None


@dataclass
class MixConfig:
    parts: list[MixPart]
    total: int | None
    seed: int
    report: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    stage_policy: str = "warn"
    min_real: float | None = None
    span: Span | None = None
    refill: Refill | None = None
    total_span: Span | None = None

    def synthetic_share(self) -> float:
        return sum(p.ratio for p in self.parts if p.synthetic)

    def rules(self) -> ShareRules:
        band = STAGE_BANDS[self.stage] if self.stage is not None else None
        return ShareRules(band, self.min_real)

    def band_status(self, synthetic: int, total: int) -> str:
        """ "ok", or "warn"/"fail" (by policy) when the share is outside the band (an
        empty mix has no share and holds)."""
        if self.rules().band_holds(synthetic, total):
            return "ok"
        return "fail" if self.stage_policy == "strict" else "warn"

    def ratio_band_status(self) -> str:
        """``band_status`` of the configured ratios."""
        if self.rules().share_in_band(self.synthetic_share()):
            return "ok"
        return "fail" if self.stage_policy == "strict" else "warn"


def quotas(
    counts: list[int],
    ratios: list[float],
    total: int | None,
    synthetic: list[bool] | None = None,
    rules: ShareRules | None = None,
) -> tuple[list[int], int, int | None]:
    """Per-part row counts whose shares match ``ratios`` (and hold ``rules`` when some
    split can): (quotas, achieved total, index of the limiting part or None). A part
    with ratio 0 gets 0 rows; see ``mix_split.split`` for the rounding."""
    done = split(counts, ratios, total, synthetic, rules)
    return done.quotas, done.total, done.limiting


def _taken_text(parts: list[MixPart], counts: list[int], qs: list[int]) -> str:
    return ", ".join(
        f"{p.source} {q} of {n} ({'synthetic' if p.synthetic else 'real'})"
        for p, n, q in zip(parts, counts, qs, strict=True)
    )


class _Runner:
    def __init__(self, node: Node[MixConfig], rt: Runtime) -> None:
        self.node = node
        self.rt = rt
        self.cfg = node.config

    def _spent(self) -> tuple[int, float]:
        stats = self.rt.stats.values()
        return sum(s.calls for s in stats), sum(s.cost for s in stats)

    async def _refill(self, buckets: dict[str, list[Record]], out: Outbox) -> dict[str, Any]:
        """Re-run short synthetic parts' upstream (new samples) until the total is met.

        Budgets are checked before each round, so the last round may pass them a little.
        """
        cfg = self.cfg
        refill = cfg.refill
        assert refill is not None and cfg.total is not None
        calls0, cost0 = self._spent()
        rounds = 0
        outcome = "target met"
        while True:
            counts = [len(buckets.get(p.node, [])) for p in cfg.parts]
            _, achieved, _ = quotas(counts, [p.ratio for p in cfg.parts], cfg.total)
            if achieved >= cfg.total:
                outcome = "target met"
                break
            short = [
                p
                for p, n in zip(cfg.parts, counts, strict=True)
                if n < math.ceil(cfg.total * p.ratio - 1e-9)
            ]
            if any(p.refill_graph is None for p in short):
                outcome = "a short part cannot be refilled: " + ", ".join(
                    p.source for p in short if p.refill_graph is None
                )
                break
            calls, cost = self._spent()
            if rounds >= refill.max_rounds:
                outcome = "max_rounds reached"
                break
            if refill.max_calls is not None and calls - calls0 >= refill.max_calls:
                outcome = "call budget reached"
                break
            if refill.max_cost_usd is not None and cost - cost0 >= refill.max_cost_usd:
                outcome = "cost budget reached"
                break
            rounds += 1
            gained = 0
            for part in short:
                assert part.refill_graph is not None
                new = await self.rt.run_subgraph(
                    part.refill_graph, {}, round_=None, scope=f"refill{rounds}"
                )
                bucket = buckets.setdefault(part.node, [])
                for rec in new:
                    out.count_in(1)
                    bucket.append(rec)
                gained += len(new)
            if gained == 0:
                outcome = "no progress (a refill round produced nothing)"
                break
        calls, cost = self._spent()
        return {
            "rounds": rounds,
            "outcome": outcome,
            "calls": calls - calls0,
            "cost_usd": round(cost - cost0, 6),
        }

    def _report_breaches(
        self, note: dict[str, Any], counts: list[int], qs: list[int], achieved: int
    ) -> None:
        """Tell the runtime when the written mix is outside its band or under its floor."""
        cfg, nid = self.cfg, self.node.id
        synth = note["synthetic_taken"]
        taken = _taken_text(cfg.parts, counts, qs)
        if note.get("real_status") == "fail" and cfg.min_real is not None:
            real = achieved - synth
            self.rt.violation(
                nid,
                f"mix '{nid}' wrote {real} real of {plural(achieved, 'record')} "
                f"({real / achieved:.1%}), below min_real {cfg.min_real:.0%}; taken: {taken}",
                fatal=True,
            )
        status = note.get("status", "ok")
        if status != "ok" and cfg.stage is not None:
            lo, hi = STAGE_BANDS[cfg.stage]
            self.rt.violation(
                nid,
                f"mix '{nid}' wrote {synth} synthetic of {plural(achieved, 'record')} "
                f"({synth / achieved:.1%}), outside the {cfg.stage} band {lo:.0%}-{hi:.0%}; "
                f"taken: {taken}",
                fatal=status == "fail",
            )

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None:
        buckets = await read_all(inputs)
        out.count_in(sum(len(b) for b in buckets.values()))
        refill_note = None
        if self.cfg.refill is not None and self.cfg.total:
            refill_note = await self._refill(buckets, out)
        parts = self.cfg.parts
        counts = [len(buckets.get(p.node, [])) for p in parts]
        ratios = [p.ratio for p in parts]
        flags = [bool(p.synthetic) for p in parts]
        qs, achieved, limiting = quotas(counts, ratios, self.cfg.total, flags, self.cfg.rules())
        rng = random.Random(self.cfg.seed)
        chosen: list[Record] = []
        for part, q in zip(parts, qs, strict=True):
            recs = buckets.get(part.node, [])
            idx = (
                sorted(rng.sample(range(len(recs)), q)) if q < len(recs) else list(range(len(recs)))
            )
            keep = set(idx)
            for i, rec in enumerate(recs):
                if i in keep:
                    chosen.append(rec)
                else:
                    out.drop(rec, f"mix: over quota for part '{part.source}'", None)
        rng.shuffle(chosen)
        taken_synth = sum(q for f, q in zip(flags, qs, strict=True) if f)
        share = taken_synth / achieved if achieved else 0.0
        stage_note: dict[str, Any] = {
            "synthetic_share": round(share, 4),
            "synthetic_taken": taken_synth,
            "configured_share": round(self.cfg.synthetic_share(), 4),
        }
        if self.cfg.stage is not None:
            stage_note["stage"] = self.cfg.stage
            stage_note["band"] = list(STAGE_BANDS[self.cfg.stage])
            stage_note["status"] = self.cfg.band_status(taken_synth, achieved)
        if self.cfg.min_real is not None:
            stage_note["min_real"] = self.cfg.min_real
            held = self.cfg.rules().floor_holds(taken_synth, achieved)
            stage_note["real_status"] = "ok" if held else "fail"
        if refill_note is not None:
            stage_note["refill"] = refill_note
        self._report_breaches(stage_note, counts, qs, achieved)
        self.rt.note(
            self.node.id,
            "mix",
            {
                **stage_note,
                "requested_total": self.cfg.total,
                "achieved_total": achieved,
                "limited_by": parts[limiting].source if limiting is not None else None,
                "parts": [
                    {
                        "from": p.source,
                        "ratio": p.ratio,
                        "available": n,
                        "taken": q,
                        "synthetic": p.synthetic,
                    }
                    for p, n, q in zip(parts, counts, qs, strict=True)
                ],
            },
        )
        for rec in chosen:
            out.count_passed(1)
            await out.emit(rec)


class MixKind(NodeKind[MixConfig]):
    name = "mix"

    def takes_from(self, raw: Any) -> bool:
        return False

    def link(self, config: MixConfig, main: list[str], resolve: Resolve) -> list[str]:
        return link_refs(config.parts, resolve)

    def upstream_fields(self, config: MixConfig, inputs: dict[str, list[str]]) -> list[str] | None:
        """The fields every part has (a mix's records may come from any part)."""
        lists = list(inputs.values())
        if not lists:
            return None
        common = set(lists[0]).intersection(*map(set, lists[1:]))
        return [f for f in lists[0] if f in common]

    def check_graph(self, node: Node[MixConfig], graph: Graph, report: GraphReport) -> None:
        """Label parts synthetic or real; check the stage band and the real-data floor.

        A part is synthetic when a model wrote its records (a kind that writes content,
        such as ``generate`` or a loop, upstream), unless the recipe says otherwise with
        ``synthetic:``. With ``refill``, a synthetic part keeps its upstream graph.
        """

        def generated(nid: str, seen: set[str]) -> bool:
            up = graph.nodes.get(nid)
            if up is None or nid in seen:
                return False
            seen.add(nid)
            if node_kind(up.kind).writes_content:
                return True
            return any(generated(i, seen) for i in up.inputs)

        cfg = node.config
        for part in cfg.parts:
            if part.synthetic is None:
                part.synthetic = generated(part.node, set())
            if cfg.refill is not None and part.synthetic and part.node in graph.nodes:
                part.refill_graph = graph.upstream(part.node)
        share = cfg.synthetic_share()
        rules = cfg.rules()
        if not rules.share_above_floor(share):
            report.error(
                Diagnostic(
                    cfg.span,
                    f"mix '{node.id}' has {1 - share:.0%} real data, below min_real "
                    f"{cfg.min_real:.0%}",
                    "raise the ratios of real parts (or mark parts with synthetic: false)",
                )
            )
        status = cfg.ratio_band_status()
        if status != "ok" and cfg.stage is not None:
            lo, hi = STAGE_BANDS[cfg.stage]
            diag = Diagnostic(
                cfg.span,
                f"mix '{node.id}' is {share:.0%} synthetic, outside the {cfg.stage} band "
                f"{lo:.0%}-{hi:.0%}",
                "adjust the ratios, or set stage_policy: warn to accept it"
                if status == "fail"
                else "set stage_policy: strict to make this an error",
                severity="error" if status == "fail" else "warning",
            )
            (report.error if status == "fail" else report.warning)(diag)
        elif rules.share_above_floor(share):
            self._check_total(node, report)

    def _check_total(self, node: Node[MixConfig], report: GraphReport) -> None:
        """With a fixed ``total``, some split of it must hold the band and the floor."""
        cfg = node.config
        total = cfg.total
        if not isinstance(total, int) or total <= 0 or cfg.total_span is None:
            return
        rules = cfg.rules()
        has_synth = any(p.synthetic and p.ratio > 0 for p in cfg.parts)
        has_real = any(not p.synthetic and p.ratio > 0 for p in cfg.parts)
        lo_s, hi_s = (0 if has_real else total), (total if has_synth else 0)
        if rules.synthetic_range(total, lo_s, hi_s):
            return
        floor_only = ShareRules(None, cfg.min_real)
        fatal = not floor_only.synthetic_range(total, lo_s, hi_s) or cfg.stage_policy == "strict"
        what = []
        if cfg.stage is not None:
            lo, hi = STAGE_BANDS[cfg.stage]
            what.append(f"the {cfg.stage} band {lo:.0%}-{hi:.0%} synthetic")
        if cfg.min_real is not None:
            what.append(f"min_real {cfg.min_real:.0%}")
        nearby = rules.feasible_totals(total, 3, has_synth, has_real)
        hint = "totals that can: " + ", ".join(map(str, nearby)) if nearby else None
        if not fatal:
            hint = (hint + "; " if hint else "") + "set stage_policy: strict to make this an error"
        diag = Diagnostic(
            cfg.total_span,
            f"mix '{node.id}': no split of total {total} into whole records holds "
            + " and ".join(what),
            hint,
            severity="error" if fatal else "warning",
        )
        (report.error if fatal else report.warning)(diag)

    def configure(self, raw: Any, ctx: CheckContext) -> MixConfig:
        parts = [
            MixPart(
                str(p["from"]), ctx.span("parts", i, "from"), float(p["ratio"]), p.get("synthetic")
            )
            for i, p in enumerate(raw["parts"])
        ]
        total = sum(p.ratio for p in parts)
        if abs(total - 1.0) > 1e-6:
            ctx.error(
                ctx.key_span("parts"),
                f"mix ratios sum to {total:g}, not 1",
                "make the parts' ratios add up to 1",
            )
        names = [p.source for p in parts]
        for i, p in enumerate(parts):
            if names.index(p.source) != i:
                ctx.error(p.span, f"part '{p.source}' appears twice in the mix")
        return MixConfig(
            parts=parts,
            total=raw.get("total"),
            seed=int(raw.get("seed", 0)),
            stage=raw.get("stage"),
            stage_policy=str(raw.get("stage_policy", "warn")),
            min_real=raw.get("min_real"),
            span=ctx.key_span("stage") if "stage" in raw else ctx.span(),
            refill=self._refill_config(raw, ctx),
            total_span=ctx.span("total") if "total" in raw else None,
        )

    def _refill_config(self, raw: Any, ctx: CheckContext) -> Refill | None:
        spec = raw.get("refill")
        if spec is None:
            return None
        if "total" not in raw:
            ctx.error(ctx.key_span("refill"), "refill needs a 'total' to aim for")
        return Refill(
            max_rounds=int(spec.get("max_rounds", 3)),
            max_calls=spec.get("max_calls"),
            max_cost_usd=spec.get("max_cost_usd"),
        )

    def estimate(self, node: Node[MixConfig], n_in: int | None, est: Estimator) -> Estimate:
        cfg = node.config
        return Estimate(records=cfg.total, exact=False)

    def describe(self, cfg: MixConfig) -> dict[str, Any]:
        out: dict[str, Any] = {
            "total": cfg.total,
            "seed": cfg.seed,
            "parts": [
                {"from": p.node or p.source, "ratio": p.ratio, "synthetic": p.synthetic}
                for p in cfg.parts
            ],
            "synthetic_share": round(cfg.synthetic_share(), 4),
        }
        if cfg.stage is not None:
            out["stage"] = cfg.stage
            out["band"] = list(STAGE_BANDS[cfg.stage])
            out["stage_policy"] = cfg.stage_policy
        if cfg.min_real is not None:
            out["min_real"] = cfg.min_real
        if cfg.refill is not None:
            out["refill"] = {
                "max_rounds": cfg.refill.max_rounds,
                "max_calls": cfg.refill.max_calls,
                "max_cost_usd": cfg.refill.max_cost_usd,
            }
        return out

    def stream_runner(self, node: Node[MixConfig], rt: Runtime) -> StreamRunner:
        return _Runner(node, rt)


KIND = MixKind()
