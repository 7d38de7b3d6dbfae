"""``synthdsl push RUN_DIR REPO``: upload a run's dataset and card to the Hugging Face Hub.

Takes the parsed arguments: the run directory, the dataset repository
(``namespace/name``), ``--private``, ``--revision BRANCH`` and ``--endpoint URL``; the
token only from the environment (``HF_TOKEN``), never from the command line, and never
printed. Gives ``pushed N files to REPO@BRANCH: URL`` on stdout and exit 0
(``synthdsl.report.push``). Raises ``UsageError`` (exit 2) for a run directory that is
not a folder, a malformed repository id or endpoint; ``PushError`` (exit 1) when
``HF_TOKEN`` is not set or the upload fails (one line, no traceback).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from synthdsl.cli.exits import EXIT_OK, UsageError

__all__ = ["COMMANDS", "add_parser", "run"]

COMMANDS = {"push": "upload a run's dataset and card to the Hugging Face Hub"}

# The Hub's repository ids: an optional namespace, a name; letters, digits, - _ .
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")

# Not an "examples:" block: those are run by the help test, and a push needs a Hub.
USAGE_NOTE = """\
to push a run (a write token from https://huggingface.co/settings/tokens in HF_TOKEN):
  synthdsl push out/my-recipe me/my-dataset --private
  synthdsl push out/my-recipe me/my-dataset --revision v2
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "push",
        help=COMMANDS["push"],
        description="Upload the dataset files and the dataset card of a completed run to a\n"
        "dataset repository on the Hugging Face Hub (created when missing).\n"
        "The token comes from HF_TOKEN only.",
        epilog=USAGE_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="the output folder of 'synthdsl run'")
    p.add_argument("repo", metavar="REPO", help="the dataset repository, namespace/name")
    p.add_argument(
        "--private",
        action="store_true",
        help="create the repository private (refused when it exists and is public)",
    )
    p.add_argument(
        "--revision",
        metavar="BRANCH",
        help="the branch to commit to (made from main when missing); default main",
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="the Hub's URL (default: HF_ENDPOINT, else https://huggingface.co)",
    )


def run(args: argparse.Namespace) -> int:
    # huggingface_hub loads with the upload module, only for this command
    from synthdsl.report.push import PushError, push_run

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: not a directory (give the output folder of 'synthdsl run')")
    if not _REPO_ID.match(args.repo):
        raise UsageError(
            f"'{args.repo}' is not a repository id: namespace/name, with letters, digits, "
            "'-', '_' and '.'"
        )
    if args.endpoint is not None and not re.match(r"^https?://[^\s/]+", args.endpoint):
        raise UsageError(f"--endpoint '{args.endpoint}' is not an http(s) URL")
    if args.revision is not None and not re.match(r"^[\w.][\w./-]*$", args.revision):
        raise UsageError(f"--revision '{args.revision}' is not a branch name")
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        raise PushError(
            "HF_TOKEN is not set: export a write token "
            "(https://huggingface.co/settings/tokens) as HF_TOKEN"
        )
    pushed = push_run(
        run_dir,
        args.repo,
        token=token,
        private=args.private,
        revision=args.revision,
        endpoint=args.endpoint.rstrip("/") if args.endpoint else None,
    )
    print(
        f"pushed {len(pushed.files)} files to {pushed.repo_id}@{pushed.revision}: "
        f"{', '.join(pushed.files)}\n  {pushed.commit_url}"
    )
    return EXIT_OK
