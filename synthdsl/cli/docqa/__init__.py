"""The document-QA verbs: ``synthdsl ingest | create | curate | save-as``.

The synthetic-data-kit workflow, step by step, on top of the doc_qa strategy
(``recipes/doc_qa.yaml``, made of ``recipes/doc_qa_generate.yaml`` and
``recipes/doc_qa_curate.yaml``; see ``docs/strategies/doc_qa.md``):

- ``ingest PATH... --out DIR``: reads documents (Markdown, text, HTML, PDF files and
  folders of them, with ``synthdsl.io.readers``) and writes ``DIR/documents.jsonl``, one row
  per document: ``{"path", "title", "text", "pages"}``. ``path`` is the file as reached
  from the argument (``docs/guide.md``); ``title`` is the HTML or PDF title, else "";
  ``pages`` is the PDF page count, else null. No LLM.
- ``create INPUT --type qa|cot|summary --out DIR``: runs ``doc_qa_generate`` on INPUT (a
  ``documents.jsonl``, a folder holding one, a folder of documents or one document file)
  and writes the pairs as a run directory (``dataset.jsonl``, ``rejects.jsonl``,
  ``manifest.json``, ``report.html``).
- ``curate INPUT --threshold 8.5 --out DIR``: runs ``doc_qa_curate`` on pairs (a JSONL
  file or a run directory holding ``dataset.jsonl``); the judge prompt follows the pairs'
  mode (``doc_qa.mode``, else the fields present) unless ``--type`` is given.
- ``save-as INPUT --format openai|chatml|alpaca|sharegpt|preference|conversation|jsonl
  --out FILE``: converts records to a training shape through the path ``synthdsl run``
  writes with (``synthdsl.io.shaped_output``; provenance beside the file by default).
  No LLM.

``create`` and ``curate`` (``synthdsl.cli.docqa.strategy``) run the strategy's recipes
through the same run path as ``synthdsl run``; ``ingest`` and ``save-as`` are in
``synthdsl.cli.docqa.files``, the checks of their inputs in ``synthdsl.cli.docqa.inputs``.

Takes the parsed arguments (``add_parser`` registers the four verbs); gives files and a
summary on stdout, exit code 0. Raises ``RunError`` (exit 1) for inputs that cannot be
used, as ``file:line: message`` when a line is at fault (a record without the fields the
step needs, a line that is not JSON); ``RecipeError`` (exit 2) from compiling, as for
``synthdsl run``; ``Interrupted`` (exit 130) on Ctrl-C; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from synthdsl.cli import main as cli_main
from synthdsl.cli.docqa.files import FORMATS, ingest, save_as
from synthdsl.cli.docqa.inputs import DOCUMENT_SUFFIXES, MODES, infer_mode
from synthdsl.cli.docqa.strategy import create, curate
from synthdsl.cli.helptext import examples
from synthdsl.cli.options import (
    add_override_options,
    add_run_options,
    non_negative,
    positive,
)
from synthdsl.io.conversation import CONVERSATION_STYLES
from synthdsl.io.preference import PREFERENCE_STYLES
from synthdsl.io.provenance import PLACEMENTS

__all__ = [
    "COMMANDS",
    "DOCUMENT_SUFFIXES",
    "FORMATS",
    "MODES",
    "add_parser",
    "infer_mode",
    "main",
    "run",
]

#: The command names this module registers, with their one-line help.
COMMANDS: dict[str, str] = {
    "ingest": "read documents (Markdown, text, HTML, PDF) into documents.jsonl",
    "create": "generate QA pairs, chain-of-thought pairs or summaries from documents",
    "curate": "rate pairs with an LLM judge and keep those above a threshold",
    "save-as": "convert records to a training format (chat, preference, conversation)",
}
_DEFAULT_OUT = Path("out") / "doc_qa"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``ingest``, ``create``, ``curate`` and ``save-as`` on the sub-parsers."""
    p = subparsers.add_parser(
        "ingest",
        help=COMMANDS["ingest"],
        description=(
            "Read documents (Markdown, text, HTML, PDF; files or folders, walked "
            "recursively) and write DIR/documents.jsonl, one row per document: path, "
            "title, text, pages. See docs/strategies/doc_qa.md."
        ),
        **examples("synthdsl ingest examples/data/docs --out out/docs"),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="document files or folders")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=str(_DEFAULT_OUT / "documents"),
        help="output directory (default out/doc_qa/documents)",
    )

    c = subparsers.add_parser(
        "create",
        help=COMMANDS["create"],
        description=(
            "Cut documents into chunks and generate, per chunk, question-answer pairs "
            "(qa), question-reasoning-answer triples (cot) or a summary, one record each, "
            "with the doc_qa_generate recipe. Writes a run directory: dataset.jsonl, "
            "rejects.jsonl, manifest.json."
        ),
        **examples(
            "synthdsl create out/docs --type qa --num-pairs 2 --out out/pairs",
            "synthdsl create examples/data/docs/sourdough.md --type summary "
            "--set steps.create.with.temperature=0.2 --out out/summary",
        ),
    )
    c.add_argument(
        "input",
        metavar="INPUT",
        help="documents.jsonl (from ingest), a folder holding it, a folder of documents "
        "or one document",
    )
    c.add_argument("--type", dest="mode", choices=MODES, default="qa", help="what to generate")
    c.add_argument(
        "--num-pairs", type=positive, metavar="N", help="pairs per chunk, at most (default 5)"
    )
    c.add_argument(
        "--chunk-size", type=positive, metavar="N", help="tokens per chunk (default 512)"
    )
    c.add_argument(
        "--chunk-overlap",
        type=non_negative,
        metavar="N",
        help="tokens shared by consecutive chunks (default 64)",
    )
    _add_run_options(c, _DEFAULT_OUT / "generated", "steps.create.with.temperature=0.2")

    u = subparsers.add_parser(
        "curate",
        help=COMMANDS["curate"],
        description=(
            "Rate each pair from 1 to 10 with an LLM judge and keep those scoring at "
            "least the threshold, with the doc_qa_curate recipe. Scores are integers: "
            "8.5 keeps 9 and 10. Dropped pairs go to rejects.jsonl with their score and "
            "the judge's reason."
        ),
        **examples(
            "synthdsl curate out/pairs --threshold 7 --out out/curated",
            "synthdsl curate out/pairs/dataset.jsonl "
            "--set steps.curate.with.judge_max_tokens=128 --out out/curated-short",
        ),
    )
    u.add_argument(
        "input", metavar="INPUT", help="pairs: a JSONL file, or a run directory from create"
    )
    u.add_argument(
        "--threshold", type=float, metavar="SCORE", help="lowest score kept (default 8.5)"
    )
    u.add_argument(
        "--type",
        dest="mode",
        choices=MODES,
        help="judge prompt (default: the pairs' own mode, from doc_qa.mode or their fields)",
    )
    _add_run_options(u, _DEFAULT_OUT / "curated", "steps.curate.with.judge_max_tokens=128")

    s = subparsers.add_parser(
        "save-as",
        help=COMMANDS["save-as"],
        description=(
            "Convert records to a training format: openai (chat messages), chatml "
            "(messages plus the ChatML text), alpaca, sharegpt, preference (DPO "
            "prompt/chosen/rejected), conversation (multi-turn), or jsonl (the records "
            "themselves); the shapes and provenance rule of a run's output: block "
            "(docs/outputs.md). No LLM call."
        ),
        **examples(
            "synthdsl save-as out/curated --format openai --out out/train.jsonl",
            "synthdsl save-as out/curated --format alpaca --out out/train.parquet",
        ),
    )
    s.add_argument(
        "input", metavar="INPUT", help="records: a JSONL file, or a run directory (dataset.jsonl)"
    )
    s.add_argument("--format", choices=FORMATS, default="jsonl", help="output layout")
    s.add_argument(
        "--out",
        metavar="FILE",
        help="output file (.parquet writes Parquet; default: FORMAT.jsonl next to the input)",
    )
    s.add_argument(
        "--system", metavar="TEXT", help="a fixed system message (chat, conversational formats)"
    )
    s.add_argument(
        "--instruction-field",
        default="instruction",
        metavar="NAME",
        help="field holding the instruction or question (default instruction)",
    )
    s.add_argument(
        "--input-field",
        default="input",
        metavar="NAME",
        help="field holding an optional input beside the instruction (default input)",
    )
    s.add_argument(
        "--response-field",
        default="response",
        metavar="NAME",
        help="field holding the answer (default response)",
    )
    s.add_argument(
        "--prompt-field", default="prompt", metavar="NAME", help="preference: the prompt field"
    )
    s.add_argument(
        "--chosen-field", default="chosen", metavar="NAME", help="preference: the chosen answer"
    )
    s.add_argument(
        "--rejected-field",
        default="rejected",
        metavar="NAME",
        help="preference: the rejected answer",
    )
    s.add_argument(
        "--preference-style",
        choices=PREFERENCE_STYLES,
        default="standard",
        help="preference: strings, or lists of role/content messages",
    )
    s.add_argument(
        "--pairs-from",
        type=_pairs_from,
        metavar="GROUP_BY,SCORE,TEXT",
        help="preference: pair the best and worst scored TEXT of each GROUP_BY value",
    )
    s.add_argument("--turns-field", default="turns", metavar="NAME", help="conversation")
    s.add_argument("--style", choices=CONVERSATION_STYLES, default="openai", help="conversation")
    s.add_argument(
        "--provenance",
        nargs="?",
        const="inline",
        choices=PLACEMENTS,
        help=(
            "where each record's _provenance goes: inline (in each row; the flag alone; "
            "the default for jsonl), beside (in FILE's name with .provenance.jsonl; the "
            "default for the other formats) or none"
        ),
    )


def _pairs_from(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError("expected three field names: GROUP_BY,SCORE,TEXT")
    return (parts[0], parts[1], parts[2])


def _add_run_options(p: argparse.ArgumentParser, out: Path, set_example: str) -> None:
    add_override_options(p, f"any other override of the run's recipe, e.g. --set {set_example}")
    add_run_options(p, out=out, rows="input rows")


def run(args: argparse.Namespace) -> int:
    """Run the verb named by ``args.command``; returns 0 (raises, see the module
    docstring)."""
    handlers = {"ingest": ingest, "create": create, "curate": curate, "save-as": save_as}
    return handlers[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """The verbs as the CLI runs them (``python -m synthdsl.cli.docqa create ...``)."""
    return cli_main(sys.argv[1:] if argv is None else argv)
