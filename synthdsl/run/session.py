"""One run of a compiled recipe: output folder, cache, client, graph, manifest.

Input: a ``CompiledRecipe``, its ``Plan`` and ``RunOptions``. Output: the dataset,
``rejects.jsonl``, ``calls.jsonl`` (the prompts and replies, ``run/call_log.py``), the
dataset card of a completed run (``options.card``, unless the recipe says ``card: false``)
and ``manifest.json`` in the output folder, and a ``RunResult``. The files are written
in an attempt folder and swapped in at the end (``run/attempt.py``), so a killed run
leaves the previous run's files as they were; a card that cannot be built is a warning
on stderr, never the run's failure.
The LLM client is ``options.client`` when given (tests, other executors), else a
``ProviderPool`` made here and closed at the end, with the run's batch state
(``run/batch_state.py``, in ``<out>/.batches/``) for aliases in batch mode. With
``options.cluster`` the heavy record-at-a-time steps run on Ray (``run/cluster/``);
everything else stays here. Raises ``RunError`` when the run cannot go on, when a step
failed more than ``max_failure_rate`` of its records (``run/failure_rate.py``), or when
the written data breaks a rule a node reported as fatal (``Runtime.violation``: a mix
outside a strict stage band or under ``min_real``; the manifest then says ``failed`` and
why); a cancellation leaves the manifest ``interrupted`` and every finished call cached.
With a budget (``max_calls``, ``max_cost``; ``run/budget.py``), no call starts past it:
the calls in flight finish, the run stops, the manifest says ``stopped`` and
``BudgetReached`` is raised.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.errors import RunError
from synthdsl.io.output_facts import OutputFacts
from synthdsl.io.writers import RejectsWriter
from synthdsl.ir import CompiledRecipe
from synthdsl.llm.types import LLMClient
from synthdsl.plan import Plan
from synthdsl.records import Record
from synthdsl.run import attempt
from synthdsl.run.batch_state import BATCH_DIR, BatchState
from synthdsl.run.budget import Budget, BudgetReached
from synthdsl.run.cache import CallCache
from synthdsl.run.call_log import CALLS_FILE, CallLog
from synthdsl.run.card_facts import recipe_facts
from synthdsl.run.context import RunContext
from synthdsl.run.executor import ExecContext, run_graph
from synthdsl.run.failure_rate import FailureReport, check_failure_rate, threshold_for
from synthdsl.run.manifest import Outcome, build_manifest
from synthdsl.run.options import Manifest, RunOptions, RunResult, default_cache_path
from synthdsl.run.output import DatasetSink

if TYPE_CHECKING:
    from synthdsl.run.cluster.driver import Cluster

__all__ = ["SETTLE_S", "execute", "output_dir"]

# After a budget stop, how long nothing may move before the run's records are written.
SETTLE_S = 0.1


def output_dir(compiled: CompiledRecipe, options: RunOptions) -> Path:
    if options.out_dir:
        return Path(options.out_dir)
    if compiled.output.dir:
        return Path(compiled.output.dir)
    return Path("out") / compiled.name


def _provider_pool(options: RunOptions, cache: CallCache, batches: BatchState) -> LLMClient:
    # aiohttp and the provider backends load only when no client is passed in
    from synthdsl.llm.client import ProviderPool

    return ProviderPool(
        retry_base=options.retry_base,
        retry_cap=options.retry_cap,
        hedge=options.hedge,
        batch_keys=cache.key_for,
        batch_ledger=batches,
    )


def _start_cluster(compiled: CompiledRecipe, cache_path: Path, options: RunOptions) -> Cluster:
    # Ray loads only when a run asks for it (the ray extra)
    from synthdsl.run.cluster.driver import start_cluster
    from synthdsl.run.cluster.setup import WorkerSetup

    assert options.cluster is not None
    setup = WorkerSetup.make(
        compiled,
        cache_path,
        fresh=options.fresh,
        concurrency=options.concurrency,
        limit=options.limit,
        retry_base=options.retry_base,
        retry_cap=options.retry_cap,
        hedge=options.hedge,
    )
    return start_cluster(options.cluster, setup)


def cluster_client(local: LLMClient, cluster: Cluster) -> LLMClient:
    # the Ray executor's module is loaded already: _start_cluster made the cluster
    from synthdsl.run.cluster.driver import ClusterClient

    return ClusterClient(local, cluster)


async def execute(compiled: CompiledRecipe, plan: Plan, options: RunOptions) -> RunResult:
    """Run a compiled recipe and write its outputs (the report is the caller's)."""
    out_dir = output_dir(compiled, options)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunError(f"cannot create output directory {out_dir}: {exc.strerror}") from None
    cache_path = Path(options.cache_path) if options.cache_path else default_cache_path()
    cache = CallCache(cache_path)
    work = attempt.begin(out_dir)  # the previous run's files stay until the swap
    rejects = RejectsWriter(work / "rejects.jsonl")
    calls = CallLog(work / CALLS_FILE)
    batches = BatchState(out_dir / BATCH_DIR, cache)  # outside the attempt: survives a kill
    client = options.client or _provider_pool(options, cache, batches)
    cluster = None
    if options.cluster is not None:
        cluster = _start_cluster(compiled, cache_path, options)
        client = cluster_client(client, cluster)
    rt = ExecContext(
        compiled=compiled,
        client=client,
        cache=cache,
        rejects=rejects,
        limit=options.limit,
        concurrency=options.concurrency,
        cache_reads=not options.fresh,
        calls=calls,
        on_record=options.on_record,
        batches=batches,
        dispatch=cluster.dispatch if cluster is not None else None,
    )
    sink = DatasetSink(compiled.output, out_dir, rt, work_dir=work)
    started = time.time()
    t0 = time.monotonic()
    status = "failed"
    reason: str | None = "error"
    error: str | None = None
    threshold = threshold_for(options.max_failure_rate, compiled.run_settings)
    failures = FailureReport(threshold)
    progress_task = None
    if options.on_progress is not None:
        progress_task = asyncio.create_task(_progress_loop(rt, options.on_progress))

    async def consume(records: AsyncIterator[Record]) -> None:
        await sink.consume(records)

    budget = None
    if options.max_calls is not None or options.max_cost is not None:
        budget = rt.budget = Budget(options.max_calls, options.max_cost)
    try:
        if budget is None:
            await run_graph(rt, compiled.graph, consume)
        elif await _within_budget(run_graph(rt, compiled.graph, consume), budget, rt, sink):
            status, reason = "stopped", budget.reason
            raise BudgetReached(budget, out_dir, sink.partial_path)
        _warn_violations(rt)
        fatal = [v["message"] for v in rt.violations if v["fatal"]]
        if fatal:
            reason = "violation"
            raise RunError("\n  ".join(["the written data breaks the recipe's rules:", *fatal]))
        failures = check_failure_rate(rt.stats, rt.failure_examples, threshold)
        if failures.exceeded:
            reason = "max_failure_rate"
            raise RunError(failures.message)
        status, reason = "completed", None
        batches.finish()
    except asyncio.CancelledError:
        status, reason = "interrupted", options.stop_reason()
        raise
    except BudgetReached:
        raise
    except RunError as exc:
        error = str(exc)
        raise
    finally:
        if progress_task is not None:
            progress_task.cancel()
        if cluster is not None:
            await cluster.close()  # the workers' provider statistics, for the manifest
        sink.close(completed=status == "completed")
        rejects.close()
        calls.close()
        outcome = Outcome(status, error, started, time.monotonic() - t0, reason, failures.to_json())
        manifest = build_manifest(compiled, plan, rt, outcome, sink, cache_path, options)
        if cluster is not None:
            manifest["cluster"] = cluster.summary()
        if status == "completed":
            sample = sink.files.sample.rows()  # the rows as written: no reading them back
            manifest["card"] = _write_card(options, work, out_dir, compiled, plan, manifest, sample)
        attempt.publish(out_dir, work, manifest)
        if options.on_finish is not None:
            options.on_finish(manifest)
        try:
            if options.client is None:  # a client passed in belongs to the caller
                await client.aclose()
        finally:
            cache.close()
    facts = None
    if status == "completed":
        files = sink.files
        facts = OutputFacts(files.rows, files.first, files.sample, rejects.groups)
    return RunResult(out_dir, sink.path, manifest, status, sink.written, rt.stats, facts)


def _warn_violations(rt: RunContext) -> None:
    """Non-fatal violations (a mix outside a band under stage_policy: warn) on stderr."""
    for v in rt.violations:
        if not v["fatal"]:
            sys.stderr.write(f"synthdsl: warning: {v['message']}\n")


def _write_card(
    options: RunOptions,
    work: Path,
    out_dir: Path,
    compiled: CompiledRecipe,
    plan: Plan,
    manifest: Manifest,
    sample: list[dict[str, str]],
) -> str | None:
    """The card's file name once written into the attempt folder; None: no card."""
    if options.card is None or not compiled.output.card:
        return None
    name = attempt.card_name(out_dir)
    try:
        text = options.card(work, manifest, recipe_facts(compiled, plan), sample)
        (work / name).write_text(attempt.mark_card(text), encoding="utf-8", newline="\n")
    except Exception as exc:  # the data is written: a card problem must not lose it
        sys.stderr.write(f"synthdsl: warning: could not write the dataset card: {exc}\n")
        return None
    return name


async def _within_budget(
    graph: Coroutine[Any, Any, None], budget: Budget, rt: RunContext, sink: DatasetSink
) -> bool:
    """Run ``graph`` until it ends (False) or its budget is reached (True): once a call
    is held back and none is in flight, let the records already answered flow on until
    nothing moves for ``SETTLE_S``, then stop the graph."""
    task = asyncio.ensure_future(graph)
    watch = asyncio.ensure_future(budget.reached.wait())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
        while not task.done():
            moved = _moved(rt, sink)
            await asyncio.wait({task}, timeout=SETTLE_S)
            if moved == _moved(rt, sink):
                break
        if task.done():
            task.result()  # raises what the graph raised
            return False
        return True
    finally:
        for t in (task, watch):
            t.cancel()
        await asyncio.gather(task, watch, return_exceptions=True)


def _moved(rt: RunContext, sink: DatasetSink) -> tuple[int, int]:
    return sum(s.out + s.records_in for s in rt.stats.values()), sink.written


async def _progress_loop(rt: RunContext, cb: Callable[[RunContext], None]) -> None:
    while True:
        cb(rt)
        await asyncio.sleep(0.5)
