"""The command line: ``synthdsl validate | plan | run``.

Input: argv. Output: text on stdout/stderr and an exit code: 0 success, 2 invalid
recipe or usage, 1 run failure, 130 interrupted. Errors are rendered as
``file:line:col: error: ...`` with the source line and a caret; never a traceback
(set SYNTHDSL_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl import __version__
from synthdsl.errors import Diagnostic, RecipeError, SynthdslError, render_diagnostics

if TYPE_CHECKING:
    from synthdsl.compile import CompileOptions
    from synthdsl.ir import CompiledRecipe

__all__ = ["main"]

EXIT_OK, EXIT_RUN, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"synthdsl: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _add_recipe_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("recipe", help="path to a recipe YAML file")
    add_override_options(p)


def add_override_options(
    p: argparse.ArgumentParser,
    set_help: str = "override any recipe value, e.g. --set models.gen.temperature=0.2",
) -> None:
    """--model, --api-base and --set: running a recipe on your own model and settings."""
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME|ALIAS=NAME",
        help="use NAME for every model alias, or ALIAS=NAME for one (repeatable)",
    )
    p.add_argument("--api-base", metavar="URL", help="endpoint for the replaced models")
    p.add_argument(
        "--set",
        dest="set_values",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help=set_help,
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="synthdsl", description="Declarative recipes for synthetic LLM data.")
    p.add_argument("--version", action="version", version=f"synthdsl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    v = sub.add_parser("validate", help="check a recipe and report every problem")
    _add_recipe_options(v)
    pl = sub.add_parser("plan", help="show the compiled DAG, call counts and cost")
    _add_recipe_options(pl)
    pl.add_argument("--format", choices=["text", "json", "dot"], default="text")
    r = sub.add_parser("run", help="run a recipe and write the dataset")
    _add_recipe_options(r)
    r.add_argument("--out", metavar="DIR", help="output directory")
    r.add_argument("--limit", type=int, metavar="N", help="read at most N rows per source")
    r.add_argument("--concurrency", type=int, metavar="N", help="max concurrent calls per model")
    r.add_argument("--fresh", action="store_true", help="ignore cached calls (still cache new)")
    r.add_argument("--cache", metavar="PATH", help="call cache (default .synthdsl/cache.sqlite)")
    r.add_argument("--quiet", action="store_true", help="no progress display")
    r.add_argument("--no-report", action="store_true", help="do not write report.html")
    for name, (_module, text) in _EXTRA_COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return p


def _compile(args: argparse.Namespace, *, warn: bool = True) -> CompiledRecipe:
    """Compile the recipe named on the command line; print its warnings."""
    from synthdsl.compile import compile_recipe

    compiled = compile_recipe(args.recipe, _compile_options(args))
    if warn and compiled.warnings:
        sys.stderr.write(
            render_diagnostics(compiled.warnings, compiled.texts).replace("0 errors found\n", "")
        )
    return compiled


def compile_options(args: argparse.Namespace) -> CompileOptions:
    """The compile options the recipe flags (--model, --api-base, --set) ask for."""
    return _compile_options(args)


def _compile_options(args: argparse.Namespace) -> CompileOptions:
    from synthdsl.compile import CompileOptions

    opts = CompileOptions(set_values=list(args.set_values), api_base=args.api_base)
    for m in args.model:
        if "=" in m:
            alias, name = m.split("=", 1)
            if not alias or not name:
                raise RecipeError.single(None, f"--model expects NAME or ALIAS=NAME, got {m!r}")
            opts.model_aliases[alias] = name
        elif opts.model is not None:
            raise RecipeError.single(None, "--model NAME given twice; use ALIAS=NAME for one alias")
        else:
            opts.model = m
    return opts


def _sources_for(diags: Sequence[Diagnostic], known: dict[str, str]) -> dict[str, str]:
    out = dict(known)
    for d in diags:
        if d.span is not None and d.span.file not in out:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                out[d.span.file] = Path(d.span.file).read_text("utf-8")
    return out


def _print_diagnostics(diags: Sequence[Diagnostic], known: dict[str, str]) -> None:
    sys.stderr.write(render_diagnostics(diags, _sources_for(diags, known)))


def _cmd_validate(args: argparse.Namespace) -> int:
    compiled = _compile(args)

    def walk(graph: Any) -> list[Any]:
        nodes = list(graph.nodes.values())
        for n in list(nodes):
            if n.body is not None:
                nodes += walk(n.body)
        return nodes

    nodes = walk(compiled.graph)
    llm_nodes = sum(1 for n in nodes if n.kind in ("generate", "judge"))
    print(f"{args.recipe}: ok ({len(nodes)} nodes, {llm_nodes} LLM steps)")
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    from synthdsl.plan import build_plan

    plan = build_plan(_compile(args, warn=False))
    text = {"json": plan.to_json, "dot": plan.to_dot}.get(args.format, plan.to_text)()
    sys.stdout.write(text)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from synthdsl.api import RunOptions, execute
    from synthdsl.plan import build_plan
    from synthdsl.run.progress import make_progress

    compiled = _compile(args)
    plan = build_plan(compiled)
    progress = None if args.quiet else make_progress(compiled, sys.stderr)
    options = RunOptions(
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
            result = asyncio.run(execute(compiled, plan, options))
        finally:
            if progress:
                progress.stop()
    except KeyboardInterrupt:
        resume = (
            " ".join(["synthdsl", "run", *sys.argv[2:]]) if len(sys.argv) > 2 else "synthdsl run"
        )
        sys.stderr.write(
            "\ninterrupted: finished calls are cached and the manifest says 'interrupted'.\n"
            f"resume with: {resume}\n(finished calls are not repeated)\n"
        )
        return EXIT_INTERRUPTED
    m = result.manifest
    t = m["totals"]
    print(
        f"wrote {result.records} records to {result.dataset}\n"
        f"  calls {t['calls']}, cache hits {t['cache_hits']}, retries {t['retries']}, "
        f"tokens {t['prompt_tokens']}+{t['completion_tokens']}, dropped {t['dropped']}, "
        f"failed {t['failed']}\n"
        f"  manifest: {result.out_dir / 'manifest.json'}  rejects: "
        f"{result.out_dir / 'rejects.jsonl'}"
    )
    return EXIT_OK


# Commands whose modules import numpy and friends: loaded only when named, so that
# validate and plan start fast.
_EXTRA_COMMANDS = {
    "stats": ("synthdsl.cli.stats", "diversity metrics of a dataset, drift against real data"),
    "simulate": ("synthdsl.cli.simulate", "reproduce model collapse numerically"),
    "report": ("synthdsl.cli.report", "rebuild a run's report.html"),
    # One module registers all four document-QA verbs (docs/strategies/doc_qa.md).
    "ingest": ("synthdsl.cli.docqa", "read documents (Markdown, text, HTML, PDF) into JSONL"),
    "create": ("synthdsl.cli.docqa", "generate QA pairs, CoT pairs or summaries from documents"),
    "curate": ("synthdsl.cli.docqa", "judge pairs and keep those above a threshold"),
    "save-as": ("synthdsl.cli.docqa", "convert pairs to a fine-tuning format"),
}


def _extra_parser(command: str) -> tuple[argparse.ArgumentParser, Any]:
    import importlib

    module = importlib.import_module(_EXTRA_COMMANDS[command][0])
    parser = _Parser(prog="synthdsl")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    module.add_parser(sub)
    return parser, module.run


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers: dict[str, Any] = {"validate": _cmd_validate, "plan": _cmd_plan, "run": _cmd_run}
    if argv and argv[0] in _EXTRA_COMMANDS:
        parser, handler = _extra_parser(argv[0])
        handlers[argv[0]] = handler
    else:
        parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(handlers[args.command](args))
    except RecipeError as exc:
        _print_diagnostics(exc.diagnostics, {})
        return EXIT_USAGE
    except SynthdslError as exc:
        sys.stderr.write(f"synthdsl: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except Exception:
        if os.environ.get("SYNTHDSL_DEBUG"):
            raise
        sys.stderr.write("synthdsl: internal error (a bug); details:\n")
        sys.stderr.write("".join(traceback.format_exc(limit=3)))
        return EXIT_RUN


if __name__ == "__main__":
    raise SystemExit(main())
