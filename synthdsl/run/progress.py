"""Live progress of a run: a per-node table on a terminal, plain lines otherwise.

Input: the run context's per-node stats, sampled twice a second, and at the end the
manifest. Output: on a TTY a ``rich`` live view of ``render_frame``: two summary lines
(elapsed time, LLM calls done against the plan's estimate, ETA, cache hits, retries,
tokens, cost so far, "—" when a model has no known price) and one row per node in DAG
order, loop bodies indented under their loop (records in and out, dropped, failed,
calls, cache hits, and records per second for LLM steps), fitted to the terminal's
width. Elsewhere the summary lines every ``PLAIN_EVERY`` seconds. The last frame is
drawn from the manifest's counts (``finish``), after the dataset is flushed, so it
shows exactly what the manifest says. Raises nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from synthdsl.ir import Graph
from synthdsl.nodes import node_kind
from synthdsl.textproc.plural import plural

if TYPE_CHECKING:
    from synthdsl.ir import CompiledRecipe
    from synthdsl.run.context import RunContext
    from synthdsl.run.options import Manifest

__all__ = ["PLAIN_EVERY", "Frame", "PlanBounds", "make_progress", "render_frame", "table_rows"]

PLAIN_EVERY = 10.0
OUTPUT_ROW = "output"  # the writer's accounting row (run/output.py), drawn last

# (title, width, right-aligned); the node column takes what is left of the line.
_COLUMNS = (
    ("kind", 9, False),
    ("in", 7, True),
    ("out", 7, True),
    ("drop", 6, True),
    ("fail", 6, True),
    ("calls", 7, True),
    ("hits", 6, True),
    ("rate", 9, True),
)
_FIXED = sum(w for _, w, _ in _COLUMNS)
_NODE_MIN, _NODE_MAX = 12, 40


@dataclass(frozen=True)
class TableRow:
    """One node of the table: its id, nesting depth under loops, and shown label."""

    id: str
    depth: int
    label: str
    llm: bool


def table_rows(graph: Graph) -> list[TableRow]:
    """Every node in DAG order, each loop's body right after it one level deeper, then
    the output writer. A body node's label drops its loop's id prefix."""
    rows: list[TableRow] = []

    def walk(g: Graph, depth: int, prefix: str) -> None:
        for nid, node in g.nodes.items():
            label = nid[len(prefix) :] if prefix and nid.startswith(prefix) else nid
            rows.append(TableRow(nid, depth, label, node_kind(node.kind).uses_llm))
            if node.body is not None:
                walk(node.body, depth + 1, nid + ".")

    walk(graph, 0, "")
    rows.append(TableRow(OUTPUT_ROW, 0, OUTPUT_ROW, False))
    return rows


@dataclass(frozen=True)
class PlanBounds:
    """What the plan says ahead: its bound on LLM calls (None: unknown, no ETA) and
    whether every model's price is known."""

    calls: int | None
    priced: bool


@dataclass(frozen=True)
class Frame:
    """What one frame shows: per-node counts in the manifest's shape (``NodeStats
    .to_json``), the run's elapsed seconds, the plan's call bound, the status (None
    while running), and whether the plan knows every model's price (before the first
    call, the cost so far is unknown when it does not)."""

    name: str
    nodes: Mapping[str, Mapping[str, Any]]
    elapsed: float
    plan_calls: int | None
    status: str | None = None
    plan_priced: bool = True


def _count(n: int) -> str:
    if n < 1_000_000:
        return str(n)
    return f"{n / 1_000_000:.1f}M"


def _tokens(n: int) -> str:
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def _duration(seconds: float) -> str:
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _cost(cost: float | None) -> str:
    if cost is None:
        return "—"  # a model without a known price: unknown, never $0
    return f"${cost:.2f}" if cost >= 1 else f"${cost:.4f}"


def _rate(done: int, wall: float) -> str:
    if done == 0 or wall < 0.05:
        return ""
    r = done / wall
    return f"{r:.1f}/s" if r < 10 else f"{r:.0f}/s" if r < 10_000 else ">9999/s"


def _fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its start cut (ids end in the part
    that tells nodes apart)."""
    return text if len(text) <= width else "…" + text[len(text) - width + 1 :]


def _failed(node: Mapping[str, Any]) -> int:
    return sum(int(v) for v in node.get("failed", {}).values())


def _done(node: Mapping[str, Any]) -> int:
    return int(node.get("passed", 0)) + _dropped(node) + _failed(node)


def _dropped(node: Mapping[str, Any]) -> int:
    return sum(int(v) for v in node.get("dropped", {}).values()) + int(node.get("discarded", 0))


def _summary(frame: Frame) -> list[str]:
    nodes = list(frame.nodes.values())
    made = sum(int(n.get("calls", 0)) for n in nodes)
    hits = sum(int(n.get("cache_hits", 0)) for n in nodes)
    retries = sum(int(n.get("retries", 0)) for n in nodes)
    tokens = sum(int(n.get("prompt_tokens", 0)) + int(n.get("completion_tokens", 0)) for n in nodes)
    priced: list[float | None] = [n.get("cost_usd") for n in nodes if "cost_usd" in n]
    known = [c for c in priced if c is not None]
    unknown = len(known) < len(priced) or (not priced and not frame.plan_priced)
    cost = None if unknown else sum(known)
    done = made + hits
    head = [f"synthdsl run {frame.name}"]
    if frame.status is None:
        head.append(_duration(frame.elapsed))
    else:
        head.append(f"{frame.status} in {_duration(frame.elapsed)}")
    if frame.plan_calls is None:
        head.append(f"calls {done}")
    else:
        head.append(f"calls {done}/≤{frame.plan_calls}")
        if frame.status is None and frame.plan_calls > 0:
            if done:
                left = max(frame.plan_calls - done, 0) * frame.elapsed / done
                head.append(f"ETA ≤{_duration(left)}")
            else:
                head.append("ETA —")
    tail = [
        f"{made} made, {hits} cached, {plural(retries, 'retry', 'retries')}",
        f"tokens {_tokens(tokens)}",
        f"cost {_cost(cost)}",
    ]
    return [" · ".join(head), "  " + " · ".join(tail)]


def render_frame(frame: Frame, rows: list[TableRow], width: int = 80) -> list[str]:
    """The frame's lines, none longer than ``width`` (at least the columns' minimum)."""
    node_w = max(_NODE_MIN, min(_NODE_MAX, width - _FIXED))
    lines = [_fit(line, width) for line in _summary(frame)]
    head = "node".ljust(node_w) + "".join(
        (t.rjust(w) if right else " " + t.ljust(w - 1)) for t, w, right in _COLUMNS
    )
    lines.append(head)
    for row in rows:
        node = frame.nodes.get(row.id, {})
        indent = "  " * row.depth
        label = (indent + _fit(row.label, node_w - 1 - len(indent))).ljust(node_w)
        calls = int(node.get("calls", 0))
        hits = int(node.get("cache_hits", 0))
        cells = (
            _fit(str(node.get("kind", "")), 8),
            _count(int(node.get("in", 0))),
            _count(int(node.get("out", 0))),
            _count(_dropped(node)),
            _count(_failed(node)),
            _count(calls) if row.llm else "",
            _count(hits) if row.llm else "",
            _rate(_done(node), float(node.get("wall_time_s", 0.0))) if row.llm else "",
        )
        cols = "".join(
            (c.rjust(w) if right else " " + c.ljust(w - 1))
            for c, (_, w, right) in zip(cells, _COLUMNS, strict=True)
        )
        lines.append((label + cols).rstrip())
    return lines


def _live_nodes(rt: RunContext) -> dict[str, dict[str, Any]]:
    return {nid: st.to_json() for nid, st in list(rt.stats.items())}


class _Base:
    def __init__(self, compiled: CompiledRecipe, plan: PlanBounds) -> None:
        self.name = compiled.name
        self.rows = table_rows(compiled.graph)
        self.plan = plan
        self.t0 = time.monotonic()

    def live_frame(self, rt: RunContext) -> Frame:
        return Frame(
            self.name,
            _live_nodes(rt),
            time.monotonic() - self.t0,
            self.plan.calls,
            plan_priced=self.plan.priced,
        )

    def final_frame(self, manifest: Manifest) -> Frame:
        return Frame(
            self.name,
            manifest["nodes"],
            float(manifest["wall_time_s"]),
            self.plan.calls,
            str(manifest["status"]),
            self.plan.priced,
        )


class _RichProgress(_Base):
    def __init__(self, compiled: CompiledRecipe, plan: PlanBounds, stream: IO[str]) -> None:
        # rich loads only when a run shows its progress (validate stays fast)
        from rich.console import Console
        from rich.live import Live

        super().__init__(compiled, plan)
        self.console = Console(file=stream)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def _show(self, frame: Frame) -> None:
        # rich loads only when a run shows its progress (validate stays fast)
        from rich.text import Text

        lines = render_frame(frame, self.rows, self.console.width)
        self.live.update(Text("\n".join(lines), no_wrap=True, overflow="crop"), refresh=True)

    def update(self, rt: RunContext) -> None:
        self._show(self.live_frame(rt))

    def finish(self, manifest: Manifest) -> None:
        self._show(self.final_frame(manifest))


class _PlainProgress(_Base):
    def __init__(self, compiled: CompiledRecipe, plan: PlanBounds, stream: IO[str]) -> None:
        super().__init__(compiled, plan)
        self.stream = stream
        self.last = self.t0

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def _write(self, frame: Frame) -> None:
        self.stream.write("".join(line + "\n" for line in _summary(frame)))
        self.stream.flush()

    def update(self, rt: RunContext) -> None:
        now = time.monotonic()
        if now - self.last < PLAIN_EVERY:
            return
        self.last = now
        self._write(self.live_frame(rt))

    def finish(self, manifest: Manifest) -> None:
        del manifest  # the summary printed after the run says the final counts


def make_progress(
    compiled: CompiledRecipe, stream: IO[str], plan: PlanBounds | None = None
) -> _RichProgress | _PlainProgress:
    """The display for ``stream``: a live table on a terminal, plain lines elsewhere."""
    bounds = plan or PlanBounds(None, True)
    if stream.isatty():
        return _RichProgress(compiled, bounds, stream)
    return _PlainProgress(compiled, bounds, stream)
