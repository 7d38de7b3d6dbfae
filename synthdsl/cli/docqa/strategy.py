"""The document-QA verbs that run the strategy's recipes: ``create`` and ``curate``.

``create`` runs ``doc_qa_generate`` on documents, ``curate`` runs ``doc_qa_curate`` on
pairs, through the ordinary run path (``synthdsl.cli.running``). The verb writes a
small recipe into the run directory (``doc_qa-create.yaml`` / ``doc_qa-curate.yaml``:
one source, one ``use:`` step) whose header shows the equivalent ``synthdsl run``
command line, and compiles it with the verb's options as ``--set
steps.<verb>.with.<param>=...`` overrides, plus ``--model``/``--api-base`` and any
further ``--set``. The strategy is looked up as ``use:`` does from the current
directory (``recipes/<name>.yaml``), then in the synthdsl source tree.

Takes the parsed arguments; prints the run's summary and the next step; returns 0.
Raises ``RunError`` (exit 1) for unusable inputs, ``RecipeError`` (exit 2) from
compiling, ``Interrupted`` (exit 130) on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from synthdsl.api import RunResult
from synthdsl.cli.docqa.files import make_dir
from synthdsl.cli.docqa.inputs import (
    MODE_FIELDS,
    documents_source,
    fields,
    first_record,
    infer_mode,
    pairs_file,
)
from synthdsl.cli.options import compile_options
from synthdsl.cli.running import compile_recipe, run_compiled
from synthdsl.compile.resolve import builtin_recipe
from synthdsl.errors import RunError

__all__ = ["create", "curate"]

_GENERATE = "doc_qa_generate"
_CURATE = "doc_qa_curate"
_RESUME = "run the same command again to resume (finished calls are not repeated)\n"


def create(args: argparse.Namespace) -> int:
    """``synthdsl create INPUT --type MODE --out DIR``: pairs from documents."""
    source = documents_source(args.input)
    result = _run_strategy(
        args,
        "create",
        "documents",
        source,
        _GENERATE,
        {
            "mode": args.mode,
            "max_pairs": args.num_pairs,
            "chunk_size": args.chunk_size,
            "chunk_overlap": args.chunk_overlap,
        },
    )
    print(f"  next: synthdsl curate {result.dataset} --threshold 8.5")
    return 0


def curate(args: argparse.Namespace) -> int:
    """``synthdsl curate INPUT --threshold SCORE --out DIR``: the pairs the judge keeps.

    The judge prompt follows the pairs' mode (``doc_qa.mode``, else the fields present)
    unless ``--type`` is given; the first record must have that mode's fields."""
    source = pairs_file(args.input)
    first = first_record(source) if source.suffix.lower() in (".jsonl", ".ndjson") else None
    mode = args.mode
    if first is not None:
        number, row = first
        mode = mode or infer_mode(row)
        missing = [f for f in MODE_FIELDS[mode] if f not in row]
        if missing:
            raise RunError(
                f"{source}:{number}: a {mode} pair needs {', '.join(MODE_FIELDS[mode])}; "
                f"this record has: {fields(row)}"
                + ("" if args.mode else " (choose the judge prompt with --type)")
            )
    result = _run_strategy(
        args,
        "curate",
        "pairs",
        source,
        _CURATE,
        {"mode": mode or "qa", "threshold": args.threshold},
    )
    print(f"  next: synthdsl save-as {result.dataset} --format openai")
    return 0


def _run_strategy(
    args: argparse.Namespace,
    verb: str,
    port: str,
    source: Path,
    strategy: str,
    with_values: dict[str, Any],
) -> RunResult:
    """Write the verb's recipe into the run directory, compile it with the overrides
    and run it; returns the result (the summary is printed)."""
    out_dir = Path(args.out)
    make_dir(out_dir, f"output directory {out_dir}")
    recipe = out_dir / f"doc_qa-{verb}.yaml"
    sets = [
        f"steps.{verb}.with.{name}={_value(value)}"
        for name, value in with_values.items()
        if value is not None
    ] + list(args.set_values)
    options = compile_options(args, sets)
    # The input was named on the command line: the written recipe may read it wherever
    # it is (a recipe otherwise reads only inside its project).
    allowed = source.resolve() if source.is_dir() else source.resolve().parent
    options.allow_read.append(str(allowed))
    command = shlex.join(
        ["synthdsl", "run", str(recipe), "--allow-read", str(allowed)]
        + [arg for s in sets for arg in ("--set", s)]
        + [arg for m in args.model for arg in ("--model", m)]
        + (["--api-base", args.api_base] if args.api_base else [])
        + ["--out", str(out_dir)]
    )
    text = _wrapper_text(verb, port, source.resolve(), _strategy(strategy), command)
    try:
        recipe.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RunError(f"cannot write {recipe}: {exc.strerror}") from None
    compiled = compile_recipe(recipe, options)
    return run_compiled(compiled, args, resume=_RESUME, note=f"  recipe: {recipe}")


def _strategy(name: str) -> Path:
    """``recipes/<name>.yaml`` under the current directory, else the built-in one."""
    candidates = builtin_recipe(name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise RunError(
        f"cannot find the {name} recipe (looked for {', '.join(map(str, candidates))}); "
        "the doc_qa recipes ship in the synthdsl source tree's recipes/ folder"
    )


def _value(value: Any) -> str:
    """A ``--set`` value: JSON is YAML, so strings stay strings (``a: b``, ``#``, ``~``)."""
    return json.dumps(value, ensure_ascii=False)


def _wrapper_text(verb: str, port: str, source: Path, strategy: Path, command: str) -> str:
    return (
        f"# Written by `synthdsl {verb}`: the {strategy.stem} recipe on {source.name}.\n"
        f"# The same run: {command}\n"
        "synthdsl: 1\n"
        f"name: doc_qa-{verb}\n"
        "sources:\n"
        f"  {port}: {{path: {_value(str(source))}}}\n"
        "steps:\n"
        f"  - id: {verb}\n"
        f"    from: {port}\n"
        f"    use: {_value(str(strategy))}\n"
        f"output: {{from: {verb}}}\n"
    )
