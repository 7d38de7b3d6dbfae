"""The one run path of the command line, for ``synthdsl run`` and the doc_qa verbs.

- ``compile_recipe(path, options)``: the compiled recipe (``synthdsl.api.validate``),
  its warnings printed on stderr.
- ``run_compiled(compiled, args, resume=...)``: plans it, shows the live progress
  (unless ``--quiet``), runs it with ``synthdsl.api.execute`` and the run options of
  ``synthdsl.cli.options.add_run_options``, prints the summary (files written, calls,
  cache hits, retries, tokens, dropped, failed, the dataset card) and returns the
  ``RunResult``.

Raises what the library raises (``RecipeError``, ``RunError``, the latter also when a
step fails more than ``--max-failure-rate`` of its records), ``UsageError`` (exit 2) for
``--max-cost`` on a model of unknown price without ``--max-calls``, and ``Interrupted``
on Ctrl-C or SIGTERM (exit 130 / 143) or at the ``--max-calls`` / ``--max-cost`` budget
(exit 3), carrying the message: finished calls are cached, the manifest says
"interrupted" (or "stopped"), and ``resume`` (the caller's line) says how to go on.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from synthdsl import api
from synthdsl.cli.exits import EXIT_BUDGET, EXIT_TERMINATED, Interrupted, UsageError
from synthdsl.cli.options import executor_options
from synthdsl.errors import render_diagnostics
from synthdsl.run.progress import PlanBounds, make_progress
from synthdsl.textproc.plural import plural

if TYPE_CHECKING:
    from collections.abc import Callable

    from synthdsl.ir import CompiledRecipe
    from synthdsl.run import budget as run_budget
    from synthdsl.run.trace import RecordEvent

__all__ = ["compile_recipe", "run_compiled"]


def compile_recipe(
    path: str | Path, options: api.CompileOptions, *, warn: bool = True
) -> CompiledRecipe:
    """The checked, expanded recipe at ``path``; with ``warn``, its warnings on stderr."""
    compiled = api.validate(path, options)
    if warn and compiled.warnings:
        sys.stderr.write(
            render_diagnostics(compiled.warnings, compiled.texts).replace("0 errors found\n", "")
        )
    return compiled


def run_compiled(
    compiled: CompiledRecipe,
    args: argparse.Namespace,
    *,
    resume: str,
    note: str = "",
    on_record: Callable[[RecordEvent], None] | None = None,
    summary: bool = True,
) -> api.RunResult:
    """Run ``compiled`` with the run options in ``args`` and print the summary (unless
    not ``summary``), whose last line ends with ``note``. ``resume`` ends the message
    printed on Ctrl-C; ``on_record`` is told what each step did to each record."""
    import asyncio  # the event loop loads only when a run starts (validate stays fast)

    from synthdsl.run.budget import BudgetReached  # the runtime, too: only when a run starts

    _check_budget(compiled, args)
    cluster = executor_options(args)
    if cluster is not None:
        batched = sorted(
            alias
            for alias, decl in compiled.models.items()
            if any(dict(e.batch).get("batch") is True for e in decl.entries)
        )
        if batched:
            raise UsageError(
                f"batch mode ({', '.join(batched)}) is not supported with --executor ray yet: "
                "batches are collected by one process (run it with the local executor)"
            )
    plan = api.run_plan(compiled)
    # the plan's call bound does not know --limit: no ETA against it then
    bounds = PlanBounds(
        None if args.limit is not None else plan.llm_calls_max, plan.cost_usd_max is not None
    )
    progress = None if args.quiet else make_progress(compiled, sys.stderr, bounds)
    terminated: list[str] = []
    options = api.RunOptions(
        out_dir=args.out,
        limit=args.limit,
        concurrency=args.concurrency,
        fresh=args.fresh,
        cache_path=args.cache,
        report=not args.no_report,
        max_failure_rate=getattr(args, "max_failure_rate", None),
        hedge=not getattr(args, "no_hedge", False),
        on_progress=progress.update if progress else None,
        on_finish=progress.finish if progress else None,
        max_calls=getattr(args, "max_calls", None),
        max_cost=getattr(args, "max_cost", None),
        stop_reason=lambda: "SIGTERM" if terminated else "SIGINT",
        on_record=on_record,
        cluster=cluster,
    )

    async def execute() -> api.RunResult:
        # SIGTERM (Kubernetes, Slurm, systemd, Ray) stops the run as Ctrl-C does
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_term() -> None:
            terminated.append("SIGTERM")
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_term)
        try:
            return await api.execute(compiled, plan, options)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    def stopped(what: str) -> str:
        return (
            f"\n{what}: finished calls are cached and the manifest says 'interrupted'.\n" + resume
        )

    try:
        if progress:
            progress.start()
        try:
            result = asyncio.run(execute())
        finally:
            if progress:
                progress.stop()
    except KeyboardInterrupt:
        raise Interrupted(stopped("interrupted")) from None
    except BudgetReached as exc:
        raise Interrupted(_budget_message(exc, resume), EXIT_BUDGET) from None
    except asyncio.CancelledError:
        if not terminated:
            raise
        raise Interrupted(stopped("terminated (SIGTERM)"), EXIT_TERMINATED) from None
    if not summary:
        return result
    t = result.manifest["totals"]
    print(
        f"wrote {plural(result.records, 'record')} to {result.dataset}\n"
        f"  calls {t['calls']}, cache hits {t['cache_hits']}, retries {t['retries']}, "
        f"tokens {t['prompt_tokens']}+{t['completion_tokens']}, dropped {t['dropped']}, "
        f"failed {t['failed']}\n"
        f"  manifest: {result.out_dir / 'manifest.json'}  rejects: "
        f"{result.out_dir / 'rejects.jsonl'}{_card_line(result)}{note}"
    )
    return result


def _card_line(result: api.RunResult) -> str:
    """Where the dataset card went, and why when it is not README.md."""
    name = result.manifest.get("card")
    if not name:
        return ""
    line = f"\n  card: {result.out_dir / name}"
    if name != "README.md":
        line += f" ({result.out_dir / 'README.md'} is not synthdsl's: left as it is)"
    return line


def _check_budget(compiled: CompiledRecipe, args: argparse.Namespace) -> None:
    """``--max-cost`` needs every model's price, unless ``--max-calls`` bounds the
    calls too (then the unpriced calls count towards that one only)."""
    if getattr(args, "max_cost", None) is None:
        return
    from synthdsl.run.budget import unpriced_models  # with the runtime: only for a run

    unpriced = unpriced_models(compiled)
    if not unpriced:
        return
    names = ", ".join(unpriced)
    if getattr(args, "max_calls", None) is None:
        raise UsageError(
            f"--max-cost cannot count the calls of {names}: no known price. "
            "Add --max-calls N to bound them (--max-cost then counts the priced calls only)"
        )
    sys.stderr.write(
        f"synthdsl: warning: no known price for {names}: --max-cost counts the other "
        "models' calls, --max-calls counts them all\n"
    )


def _budget_message(exc: run_budget.BudgetReached, resume: str) -> str:
    """What a budget stop prints: what was done and kept, and how to go on."""
    b = exc.budget
    if not b.unpriced:
        cost = f"${b.cost:.6f} spent"
    elif b.cost:
        cost = f"${b.cost:.6f} spent on priced calls, {b.unpriced} calls of unknown price"
    else:
        cost = "cost unknown (no known price)"
    raise_to = (
        f"--max-calls {2 * (b.max_calls or 0)}"
        if b.reason == "max_calls"
        else f"--max-cost {2 * (b.max_cost or 0):g}"
    )
    return (
        f"\nbudget reached ({b.describe_limit()}): {b.calls} calls made, {cost}; "
        f"the calls in flight finished and no new one started.\n"
        f"the rows written so far are in {exc.partial}, every finished call is cached and "
        f"the manifest says 'stopped'.\n"
        f"to go on, run again (the budget counts only the new calls), raise it (e.g. "
        f"{raise_to}) or leave it out to finish:\n" + resume
    )
