"""The one run path of the command line, for ``synthdsl run`` and the doc_qa verbs.

- ``compile_recipe(path, options)``: the compiled recipe (``synthdsl.api.validate``),
  its warnings printed on stderr.
- ``run_compiled(compiled, args, resume=...)``: plans it, shows the live progress
  (unless ``--quiet``), runs it with ``synthdsl.api.execute`` and the run options of
  ``synthdsl.cli.options.add_run_options``, prints the summary (files written, calls,
  cache hits, retries, tokens, dropped, failed, the dataset card) and returns the
  ``RunResult``.

Raises what the library raises (``RecipeError``, ``RunError``, the latter also when a
step fails more than ``--max-failure-rate`` of its records), and ``Interrupted`` on
Ctrl-C or SIGTERM (exit 130 / 143), carrying the message: finished calls are cached,
the manifest says "interrupted", and ``resume`` (the caller's line) says how to go on.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from synthdsl import api
from synthdsl.cli.exits import EXIT_TERMINATED, Interrupted
from synthdsl.errors import render_diagnostics
from synthdsl.run.progress import PlanBounds, make_progress
from synthdsl.textproc.plural import plural

if TYPE_CHECKING:
    from synthdsl.ir import CompiledRecipe

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
    compiled: CompiledRecipe, args: argparse.Namespace, *, resume: str, note: str = ""
) -> api.RunResult:
    """Run ``compiled`` with the run options in ``args`` and print the summary, whose
    last line ends with ``note``. ``resume`` ends the message printed on Ctrl-C."""
    import asyncio  # the event loop loads only when a run starts (validate stays fast)

    plan = api.build_plan(compiled)
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
        stop_reason=lambda: "SIGTERM" if terminated else "SIGINT",
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
    except asyncio.CancelledError:
        if not terminated:
            raise
        raise Interrupted(stopped("terminated (SIGTERM)"), EXIT_TERMINATED) from None
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
