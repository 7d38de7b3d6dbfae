"""The whole chain in one place: compile, plan, run, write.

``run_recipe(path)`` is what ``synthdsl run`` does::

    compiled = compile_recipe(path, options)          # load, schema, expand, check
    plan = build_plan(compiled)                       # deterministic, hashable
    with CallCache(cache_path) as cache:              # content-addressed LLM calls
        result = asyncio.run(execute(compiled, plan, cache, out_dir))
    # out_dir: dataset.jsonl | .parquet, rejects.jsonl, manifest.json

Raises ``RecipeError`` (exit 2) for an invalid recipe, ``RunError`` (exit 1) when the
run cannot go on. A KeyboardInterrupt stops cleanly: finished calls stay cached, the
manifest says "interrupted" and a re-run resumes without repeating them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl import __version__
from synthdsl.compile import CompileOptions, compile_recipe
from synthdsl.errors import RunError
from synthdsl.ir import CompiledRecipe
from synthdsl.plan import Plan, build_plan
from synthdsl.records import Record
from synthdsl.run.context import RunContext
from synthdsl.run.stats import NodeStats

__all__ = ["RunOptions", "RunResult", "default_cache_path", "execute", "run_recipe"]


@dataclass
class RunOptions:
    out_dir: str | None = None
    limit: int | None = None
    concurrency: int | None = None
    fresh: bool = False
    cache_path: str | None = None
    retry_base: float = field(
        default_factory=lambda: float(os.environ.get("SYNTHDSL_RETRY_BASE", "0.5"))
    )
    retry_cap: float = 30.0
    report: bool = True
    on_progress: Callable[[RunContext], None] | None = None


@dataclass
class RunResult:
    out_dir: Path
    dataset: Path
    manifest: dict[str, Any]
    status: str
    records: int
    stats: dict[str, NodeStats] = field(default_factory=dict)


def default_cache_path() -> Path:
    env = os.environ.get("SYNTHDSL_CACHE")
    return Path(env) if env else Path(".synthdsl") / "cache.sqlite"


def run_recipe(
    path: str | Path,
    compile_options: CompileOptions | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Compile and run the recipe at ``path``; see the module docstring."""
    options = options or RunOptions()
    compiled = compile_recipe(path, compile_options)
    plan = build_plan(compiled)
    return asyncio.run(execute(compiled, plan, options))


def _output_dir(compiled: CompiledRecipe, options: RunOptions) -> Path:
    if options.out_dir:
        return Path(options.out_dir)
    if compiled.output.dir:
        return Path(compiled.output.dir)
    return Path("out") / compiled.name


async def execute(compiled: CompiledRecipe, plan: Plan, options: RunOptions) -> RunResult:
    """Run a compiled recipe and write its outputs."""
    from synthdsl.io.writers import RejectsWriter
    from synthdsl.llm.client import ProviderPool
    from synthdsl.run.cache import CallCache
    from synthdsl.run.executor import collect_subgraph, run_graph
    from synthdsl.run.output import DatasetSink

    out_dir = _output_dir(compiled, options)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    cache_path = Path(options.cache_path) if options.cache_path else default_cache_path()
    cache = CallCache(cache_path)
    rejects_path = out_dir / "rejects.jsonl"
    if rejects_path.exists():
        rejects_path.unlink()
    rejects = RejectsWriter(rejects_path)
    pool = ProviderPool(retry_base=options.retry_base, retry_cap=options.retry_cap)
    rt = RunContext(
        compiled=compiled,
        pool=pool,
        cache=cache,
        rejects=rejects,
        limit=options.limit,
        concurrency=options.concurrency,
        subgraph_runner=collect_subgraph,
        cache_reads=not options.fresh,
    )
    sink = DatasetSink(compiled.output, out_dir, rt)
    started = time.time()
    t0 = time.monotonic()
    status = "failed"
    error: str | None = None
    progress_task = None
    if options.on_progress is not None:
        progress_task = asyncio.create_task(_progress_loop(rt, options.on_progress))

    async def consume(records: AsyncIterator[Record]) -> None:
        await sink.consume(records)

    try:
        await run_graph(rt, compiled.graph, consume)
        status = "completed"
    except asyncio.CancelledError:
        status = "interrupted"
        raise
    except RunError as exc:
        error = str(exc)
        raise
    finally:
        if progress_task is not None:
            progress_task.cancel()
        sink.close(completed=status == "completed")
        rejects.close()
        manifest = _manifest(
            compiled,
            plan,
            rt,
            status,
            error,
            started,
            time.monotonic() - t0,
            sink,
            cache_path,
            options,
        )
        from synthdsl.io.writers import write_json_atomic

        write_json_atomic(out_dir / "manifest.json", manifest)
        if options.report:
            _write_report(out_dir)
        try:
            await pool.aclose()
        finally:
            cache.close()
    return RunResult(out_dir, sink.path, manifest, status, sink.written, rt.stats)


def _write_report(out_dir: Path) -> None:
    """report.html next to the dataset; a report problem never changes the run's outcome."""
    import sys

    try:
        from synthdsl.report import write_report

        write_report(out_dir)
    except Exception as exc:  # the data and manifest are already safe on disk
        sys.stderr.write(f"synthdsl: warning: could not write report.html: {exc}\n")


def _node_order(graph: Any) -> list[str]:
    out: list[str] = []
    for nid, node in graph.nodes.items():
        out.append(nid)
        if node.body is not None:
            out += [b for b in _node_order(node.body) if b not in out]
    return out


async def _progress_loop(rt: RunContext, cb: Callable[[RunContext], None]) -> None:
    while True:
        cb(rt)
        await asyncio.sleep(0.5)


def _manifest(
    compiled: CompiledRecipe,
    plan: Plan,
    rt: RunContext,
    status: str,
    error: str | None,
    started: float,
    wall: float,
    sink: Any,
    cache_path: Path,
    options: RunOptions,
) -> dict[str, Any]:
    nodes = {nid: st.to_json() for nid, st in rt.stats.items()}
    for nid, notes in rt.notes.items():
        nodes.setdefault(nid, {}).update(notes)
    totals = {
        "calls": sum(s.calls for s in rt.stats.values()),
        "cache_hits": sum(s.cache_hits for s in rt.stats.values()),
        "retries": sum(s.retries for s in rt.stats.values()),
        "prompt_tokens": sum(s.prompt_tokens for s in rt.stats.values()),
        "completion_tokens": sum(s.completion_tokens for s in rt.stats.values()),
        "cost_usd": round(sum(s.cost for s in rt.stats.values()), 6),
        "dropped": sum(sum(s.dropped.values()) + s.discarded for s in rt.stats.values()),
        "failed": sum(sum(s.failed.values()) for s in rt.stats.values()),
    }
    return {
        "synthdsl_version": __version__,
        "manifest_version": 1,
        "recipe": {"name": compiled.name, "path": compiled.path, "hash": plan.recipe_hash},
        "status": status,
        "error": error,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_time_s": round(wall, 3),
        "options": {
            "limit": options.limit,
            "concurrency": options.concurrency,
            "fresh": options.fresh,
        },
        "cache": str(cache_path),
        "output": {
            "path": str(sink.path if status == "completed" else sink.partial_path),
            "records": sink.written,
            "format": sink.format,
        },
        "rejects": {
            "path": "rejects.jsonl",
            "dropped": totals["dropped"],
            "failed": totals["failed"],
        },
        "totals": totals,
        "accounting_balanced": all(s.balanced for s in rt.stats.values()),
        "models": dict(sorted(rt.model_usage.items())),
        "provider": rt.pool.stats(),
        "nodes": nodes,
        "node_order": [*_node_order(compiled.graph), "output"],
    }
