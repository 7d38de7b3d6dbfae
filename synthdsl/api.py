"""The whole chain in one place: compile, plan, run, report.

``run_recipe(path)`` is what ``synthdsl run`` does::

    compiled = compile_recipe(path, compile_options)   # lang/ + compile/: load, check, expand
    plan = build_plan(compiled)                        # plan.py: deterministic, hashable
    result = await execute(compiled, plan, options)    # run/: graph, cache, client, manifest
    write_report(result.out_dir)                       # report/: report.html

Raises ``RecipeError`` (exit 2) for an invalid recipe, ``RunError`` (exit 1) when the
run cannot go on. A cancellation (Ctrl-C) stops cleanly: finished calls stay cached,
the manifest says "interrupted" and a re-run resumes without repeating them.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.compile import CompileOptions, compile_recipe
from synthdsl.ir import CompiledRecipe

if TYPE_CHECKING:
    from synthdsl.io.output_facts import OutputFacts
    from synthdsl.plan import Plan, build_plan, run_plan
    from synthdsl.run.options import ClusterOptions, RunOptions, RunResult, default_cache_path

# Loaded on first use (PEP 562), so that ``validate`` loads neither the planner nor the
# runtime's types: name -> module.
_LAZY = {
    "Plan": "synthdsl.plan",
    "build_plan": "synthdsl.plan",
    "run_plan": "synthdsl.plan",
    "ClusterOptions": "synthdsl.run.options",
    "RunOptions": "synthdsl.run.options",
    "RunResult": "synthdsl.run.options",
    "default_cache_path": "synthdsl.run.options",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthdsl.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ClusterOptions",
    "CompileOptions",
    "RunOptions",
    "RunResult",
    "build_plan",
    "default_cache_path",
    "execute",
    "plan",
    "run_plan",
    "run_recipe",
    "validate",
]


def validate(path: str | Path, options: CompileOptions | None = None) -> CompiledRecipe:
    """The checked, expanded recipe at ``path``; ``RecipeError`` lists every problem."""
    return compile_recipe(path, options)


def plan(path: str | Path, options: CompileOptions | None = None) -> Plan:
    """The deterministic plan of the recipe at ``path``."""
    from synthdsl.plan import build_plan  # the planner loads only when asked for

    return build_plan(validate(path, options))


def run_recipe(
    path: str | Path,
    compile_options: CompileOptions | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Compile, plan and run the recipe at ``path``; see the module docstring."""
    # the event loop, the planner and the runtime load only when a run starts
    import asyncio

    from synthdsl.plan import run_plan
    from synthdsl.run.options import RunOptions

    compiled = validate(path, compile_options)
    return asyncio.run(execute(compiled, run_plan(compiled), options or RunOptions()))


async def execute(compiled: CompiledRecipe, plan: Plan, options: RunOptions) -> RunResult:
    """Run a compiled recipe, with its dataset card (``report/card.py``, unless
    ``options.card`` names another builder), then write its report (also after a failed
    run)."""
    # the runtime (asyncio, the cache, the executor) loads only when a run starts:
    # validate and plan stay fast
    from synthdsl.run.session import execute as _execute
    from synthdsl.run.session import output_dir

    if options.card is None:
        options = dataclasses.replace(options, card=_build_card)
    result = None
    try:
        result = await _execute(compiled, plan, options)
        return result
    finally:
        if options.report:
            _write_report(output_dir(compiled, options), result.facts if result else None)


def _build_card(
    run_dir: Path, manifest: Any, facts: dict[str, Any], sample: list[dict[str, str]] | None
) -> str:
    """The dataset card of a completed run (``synthdsl.report.card``)."""
    from synthdsl.report.card import build_card  # the report layer: only when a run ends

    return build_card(run_dir, manifest, facts, sample)


def _write_report(out_dir: Path, facts: OutputFacts | None) -> None:
    """report.html next to the dataset; a report problem never changes the run's outcome.
    ``facts``: what the run gathered of its dataset and rejects as it wrote them."""
    from synthdsl.report import write_report  # numpy and friends: only when a run ends

    if not (out_dir / "manifest.json").is_file():
        return  # the run stopped before it had an output folder
    try:
        write_report(out_dir, facts=facts)
    except Exception as exc:  # the data and manifest are already safe on disk
        sys.stderr.write(f"synthdsl: warning: could not write report.html: {exc}\n")
