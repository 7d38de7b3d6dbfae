"""The recipe commands: ``synthdsl validate | plan | run RECIPE``.

- ``validate``: compiles the recipe, prints its warnings and
  ``RECIPE: ok (N nodes, M LLM steps)``.
- ``plan``: prints the compiled DAG with call counts and cost (``--format text``,
  ``json`` or ``dot``).
- ``run``: runs the recipe (``synthdsl.cli.running.run_compiled``) and prints the
  summary; on Ctrl-C, the command line that resumes it. ``--dry-run [-n N]`` prints
  the plan and the first prompts instead, calling nothing (``synthdsl.cli.dry_run``);
  ``--executor ray [--address A] [--workers N]`` runs it on Ray (``docs/scale.md``).

Takes the parsed arguments (``add_parser`` registers the three commands); gives
output on stdout and exit code 0. Raises ``RecipeError`` (exit 2), ``RunError``
(exit 1) and ``Interrupted`` (exit 130); ``synthdsl.cli.exits`` maps them.
"""

from __future__ import annotations

import argparse
import sys

from synthdsl import api
from synthdsl.cli.exits import EXIT_OK
from synthdsl.cli.helptext import examples
from synthdsl.cli.options import (
    add_executor_options,
    add_override_options,
    add_run_options,
    compile_options,
    positive,
)
from synthdsl.cli.running import compile_recipe, run_compiled
from synthdsl.nodes import node_kind
from synthdsl.textproc.plural import plural

__all__ = ["COMMANDS", "add_parser", "run"]

#: The command names this module registers, with their one-line help.
COMMANDS: dict[str, str] = {
    "validate": "check a recipe and report every problem",
    "plan": "show the compiled DAG, call counts and cost",
    "run": "run a recipe and write the dataset",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``validate``, ``plan`` and ``run`` on the CLI's sub-parsers."""
    v = subparsers.add_parser(
        "validate",
        help=COMMANDS["validate"],
        description="Check a recipe without running it: its YAML, the schema, models, "
        "sources, templates, expressions and the fields every step reads. Every problem is "
        "reported at once as file:line:col with the line and a caret; exit 2 when there "
        "is one. See docs/recipes.md.",
        **examples(
            "synthdsl validate examples/quickstart.yaml",
            "synthdsl validate examples/evol_instruct.yaml --model openai/gpt-4o-mini",
            "synthdsl validate examples/quickstart.yaml --set models.gen.temperature=0.2",
        ),
    )
    _add_recipe_options(v)
    pl = subparsers.add_parser(
        "plan",
        help=COMMANDS["plan"],
        description="Show what a run would do, without calling a model: the expanded "
        "steps in order, the records and LLM calls each may make (upper bounds, marked "
        "≤), and the cost where the models' prices are known.",
        **examples(
            "synthdsl plan examples/quickstart.yaml",
            "synthdsl plan examples/self_instruct.yaml --format json",
            "synthdsl plan examples/quickstart.yaml --set models.gen.temperature=0.2 --format dot",
        ),
    )
    _add_recipe_options(pl)
    pl.add_argument(
        "--format",
        choices=["text", "json", "dot"],
        default="text",
        help="text for reading (default), json (versioned and deterministic, for tools), "
        "dot (Graphviz)",
    )
    r = subparsers.add_parser(
        "run",
        help=COMMANDS["run"],
        description="Run a recipe: write the dataset, rejects.jsonl (every dropped or "
        "failed record and why), manifest.json and report.html into the output folder. "
        "Calls are cached, so a stopped run resumes where it was and an unchanged "
        "re-run makes no call.",
        **examples(
            "synthdsl run examples/quickstart.yaml --limit 2 --out out/quick",
            "synthdsl run examples/quickstart.yaml --set models.gen.temperature=0.2",
        ),
    )
    _add_recipe_options(r)
    add_run_options(r)
    add_executor_options(r)
    r.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the first prompts of every LLM step, rendered from real "
        "source rows; call nothing, write nothing",
    )
    r.add_argument(
        "-n",
        dest="show",
        type=positive,
        default=3,
        metavar="N",
        help="with --dry-run: prompts per LLM step (default 3)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the command named by ``args.command``; returns 0 (raises, see above)."""
    handlers = {"validate": _validate, "plan": _plan, "run": _run}
    return handlers[args.command](args)


def _add_recipe_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to a recipe YAML file")
    add_override_options(p)


def _validate(args: argparse.Namespace) -> int:
    compiled = compile_recipe(args.recipe, compile_options(args))

    nodes = list(compiled.graph.walk())
    llm_nodes = sum(1 for n in nodes if node_kind(n.kind).uses_llm)
    print(f"{args.recipe}: ok ({plural(len(nodes), 'node')}, {plural(llm_nodes, 'LLM step')})")
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    plan = api.plan(args.recipe, compile_options(args))
    text = {"json": plan.to_json, "dot": plan.to_dot}.get(args.format, plan.to_text)()
    sys.stdout.write(text)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    compiled = compile_recipe(args.recipe, compile_options(args))
    if args.dry_run:
        from synthdsl.cli.dry_run import dry_run  # the renderer loads only when asked for

        sys.stdout.write(dry_run(compiled, args.show))
        return EXIT_OK
    resume = " ".join(["synthdsl", "run", *sys.argv[2:]]) if len(sys.argv) > 2 else "synthdsl run"
    run_compiled(
        compiled,
        args,
        resume=f"resume with: {resume}\n(finished calls are not repeated)\n",
    )
    return EXIT_OK
