"""The one run path of the command line, for ``synthdsl run`` and the doc_qa verbs.

- ``compile_recipe(path, options)``: the compiled recipe (``synthdsl.api.validate``),
  its warnings printed on stderr.
- ``run_compiled(compiled, args, resume=...)``: plans it, shows the live progress
  (unless ``--quiet``), runs it with ``synthdsl.api.execute`` and the run options of
  ``synthdsl.cli.options.add_run_options``, prints the summary (files written, calls,
  cache hits, retries, tokens, dropped, failed) and returns the ``RunResult``.

Raises what the library raises (``RecipeError``, ``RunError``), and ``Interrupted``
on Ctrl-C, carrying the message: finished calls are cached, the manifest says
"interrupted", and ``resume`` (the caller's line) says how to go on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from synthdsl import api
from synthdsl.cli.exits import Interrupted
from synthdsl.errors import render_diagnostics
from synthdsl.run.progress import make_progress

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
    progress = None if args.quiet else make_progress(compiled, sys.stderr)
    options = api.RunOptions(
        out_dir=args.out,
        limit=args.limit,
        concurrency=args.concurrency,
        fresh=args.fresh,
        cache_path=args.cache,
        report=not args.no_report,
        on_progress=progress.update if progress else None,
    )
    try:
        if progress:
            progress.start()
        try:
            result = asyncio.run(api.execute(compiled, plan, options))
        finally:
            if progress:
                progress.stop()
    except KeyboardInterrupt:
        raise Interrupted(
            "\ninterrupted: finished calls are cached and the manifest says 'interrupted'.\n"
            + resume
        ) from None
    t = result.manifest["totals"]
    print(
        f"wrote {result.records} records to {result.dataset}\n"
        f"  calls {t['calls']}, cache hits {t['cache_hits']}, retries {t['retries']}, "
        f"tokens {t['prompt_tokens']}+{t['completion_tokens']}, dropped {t['dropped']}, "
        f"failed {t['failed']}\n"
        f"  manifest: {result.out_dir / 'manifest.json'}  rejects: "
        f"{result.out_dir / 'rejects.jsonl'}{note}"
    )
    return result
