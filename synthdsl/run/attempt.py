"""One attempt at a run: its files are written aside and swapped in at the end.

Input: the output folder. Output: ``begin(out_dir)``, a fresh ``.attempt`` folder inside
it (a stale one, left by a killed run, is removed), where the dataset and the rejects are
written while the run goes on; ``publish(out_dir, attempt, manifest)`` moves the
attempt's files into the output folder, removes the files of the previous run that this
attempt did not make (``dataset.jsonl`` after an interrupted re-run, say), writes the
manifest and removes the attempt folder. A folder (``dataset/``, format ``hf``) is moved
aside into the attempt folder and removed before the new one is moved in.

Until ``publish`` starts, the previous run's files stand untouched, so a run killed
part-way (SIGKILL, power loss) never leaves an old manifest saying ``completed`` beside a
deleted dataset. ``publish`` first removes the old manifest, then moves the files, then
writes the new manifest atomically: at every instant, a manifest present describes the
files beside it. Raises ``RunError`` when the folder cannot be written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.io.writers import write_json_atomic

__all__ = [
    "ATTEMPT_DIR",
    "CARD_FILES",
    "CARD_MARKER",
    "MANIFEST",
    "PUBLISHED",
    "begin",
    "card_name",
    "is_own_card",
    "mark_card",
    "publish",
]

ATTEMPT_DIR = ".attempt"
MANIFEST = "manifest.json"
# What an attempt may make, and so what a new attempt replaces or removes.
PUBLISHED = (
    "dataset.jsonl",
    "dataset.partial.jsonl",
    "dataset.parquet",
    "dataset.partial.parquet",
    "dataset.provenance.jsonl",
    "dataset.partial.provenance.jsonl",
    "dataset",  # the datasets folder of format: hf
    "rejects.jsonl",
    "calls.jsonl",  # the prompts and replies (run/call_log.py)
)
# The dataset card's names: README.md, or DATASET_CARD.md beside a README of the user's.
CARD_FILES = ("README.md", "DATASET_CARD.md")
# The line that marks a card as synthdsl's own (what a new run may replace or remove).
CARD_MARKER = "<!-- synthdsl:dataset-card -->"
_MARKER_WINDOW = 4096  # the marker ends the card: only a file's tail is read


def mark_card(text: str) -> str:
    """``text`` ending with the marker of synthdsl's own cards."""
    return text.rstrip("\n") + "\n\n" + CARD_MARKER + "\n"


def is_own_card(path: Path) -> bool:
    """Whether ``path`` is a card written by synthdsl (its marker at the end)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _MARKER_WINDOW))
            tail = fh.read()
    except OSError:
        return False
    return CARD_MARKER.encode() in tail


def card_name(out_dir: Path) -> str:
    """``README.md``, unless ``out_dir`` has a README.md that is not synthdsl's."""
    readme = out_dir / CARD_FILES[0]
    if readme.exists() and not is_own_card(readme):
        return CARD_FILES[1]
    return CARD_FILES[0]


def begin(out_dir: Path) -> Path:
    """A new, empty attempt folder inside ``out_dir``."""
    attempt = out_dir / ATTEMPT_DIR
    shutil.rmtree(attempt, ignore_errors=True)
    try:
        attempt.mkdir(parents=True)
    except OSError as exc:
        raise RunError(f"cannot create {attempt}: {exc.strerror}") from None
    return attempt


def publish(out_dir: Path, attempt: Path, manifest: Any) -> None:
    """Swap the attempt's files in, then write ``manifest`` beside them."""
    try:
        (out_dir / MANIFEST).unlink(missing_ok=True)
        for name in PUBLISHED:
            made, old = attempt / name, out_dir / name
            if old.is_dir() and not old.is_symlink():
                # a folder cannot be replaced in one move: set the old one aside first
                aside = attempt / f"{name}.previous"
                os.replace(old, aside)
                shutil.rmtree(aside)
            if made.exists():
                os.replace(made, old)
            else:
                old.unlink(missing_ok=True)
        for name in CARD_FILES:
            made, old = attempt / name, out_dir / name
            if old.exists() and not is_own_card(old):
                made.unlink(missing_ok=True)  # the user's file wins, even over a late card
            elif made.exists():
                os.replace(made, old)
            else:
                old.unlink(missing_ok=True)  # our card of an earlier run
    except OSError as exc:
        raise RunError(f"cannot publish the run into {out_dir}: {exc}") from None
    write_json_atomic(out_dir / MANIFEST, manifest)
    shutil.rmtree(attempt, ignore_errors=True)
