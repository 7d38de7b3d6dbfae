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

__all__ = ["ATTEMPT_DIR", "MANIFEST", "PUBLISHED", "begin", "publish"]

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
    except OSError as exc:
        raise RunError(f"cannot publish the run into {out_dir}: {exc}") from None
    write_json_atomic(out_dir / MANIFEST, manifest)
    shutil.rmtree(attempt, ignore_errors=True)
