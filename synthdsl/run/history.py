"""The runs under an output root, read back from their manifests.

Input: a folder (``out/`` by default: where ``synthdsl run`` writes ``out/<name>``).
Output: ``list_runs(root)``, one ``PastRun`` per run folder found at the root or up to
``MAX_DEPTH`` folders below it (a folder holding ``manifest.json``), newest first; a
manifest that cannot be read or lacks what a run summary needs is listed as
``unreadable`` with the reason, after the readable ones. ``STATUS_WORDS`` maps a
manifest's status to the word shown (``completed`` → ``done``, ``stopped`` →
``budget-stopped``). Raises nothing: a folder that cannot be listed is skipped.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from synthdsl.run.attempt import ATTEMPT_DIR, MANIFEST

__all__ = ["MAX_DEPTH", "STATUS_WORDS", "PastRun", "list_runs"]

MAX_DEPTH = 3
STATUS_WORDS = {
    "completed": "done",
    "failed": "failed",
    "interrupted": "interrupted",
    "stopped": "budget-stopped",
}


@dataclass(frozen=True)
class PastRun:
    """One run folder: what its manifest says (``status`` is ``unreadable`` and
    ``problem`` says why when it could not be read)."""

    path: str
    status: str
    started_at: str | None = None
    recipe: str | None = None
    records: int | None = None
    calls: int | None = None
    failed: int | None = None
    cost_usd: float | None = None  # None: unknown (a model without a price), never 0
    reason: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def list_runs(root: Path) -> list[PastRun]:
    """Every run folder under ``root``, newest first, unreadable ones last."""
    found = [_read(folder) for folder in _run_folders(root, 0)]
    readable = sorted(
        (r for r in found if r.status != "unreadable"),
        key=lambda r: (r.started_at or "", r.path),
        reverse=True,
    )
    unreadable = sorted((r for r in found if r.status == "unreadable"), key=lambda r: r.path)
    return [*readable, *unreadable]


def _run_folders(folder: Path, depth: int) -> list[Path]:
    out = [folder] if (folder / MANIFEST).is_file() else []
    if depth >= MAX_DEPTH:
        return out
    try:
        children = sorted(e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False))
    except OSError:
        return out
    for child in children:
        if Path(child).name != ATTEMPT_DIR:
            out += _run_folders(Path(child), depth + 1)
    return out


def _read(folder: Path) -> PastRun:
    path = str(folder)
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return PastRun(path, "unreadable", problem=f"{MANIFEST}: {_short(exc)}")
    try:
        totals = data["totals"]
        cost = totals.get("cost_usd")
        status = str(data["status"])
        return PastRun(
            path,
            STATUS_WORDS.get(status, status),
            started_at=str(data["started_at"]),
            recipe=str(data["recipe"]["name"]),
            records=int(data["output"]["records"]),
            calls=int(totals["calls"]),
            failed=int(totals["failed"]),
            cost_usd=None if cost is None else float(cost),
            reason=data.get("reason"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"{MANIFEST}: not a run manifest ({_short(exc)})"
        return PastRun(path, "unreadable", problem=problem)


def _short(exc: BaseException) -> str:
    text = str(exc) if not isinstance(exc, KeyError) else f"no {exc}"
    return text.splitlines()[0][:120] if text else type(exc).__name__
