"""``synthdsl stats FILE --contamination REF...``: the overlap of a dataset with benchmarks.

Input: the parsed ``stats`` arguments: the dataset FILE (``--field``), the evaluation
sets (each REF a file, named after its stem, or ``NAME=FILE``; their text field is
``--ref-field``, else ``--field``, else picked like ``stats`` picks it), the
n-gram size (``--ngram``, default 13) and the rule (``--coverage X``, else any shared
n-gram). Each benchmark's reference set is built once and cached beside the call cache
(``textproc/ngram_store.py``), as the ``decontaminate`` step does. Output: a table
(``--format text``) or one JSON object (``--format json``) on stdout: per benchmark its
items, the records that hit it, their share and example spans. Returns 0, or 1 with
``--fail-on-flags`` when any record hits.

Errors: ``RunError`` for an unreadable or empty file, a record without the text field
(as ``stats`` reports them), a REF naming a benchmark twice, or a cache folder that
cannot be written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from synthdsl.analysis.contamination import ContaminationReport, overlap
from synthdsl.cli.texts import iter_texts, pick_field, text_of
from synthdsl.errors import RunError
from synthdsl.io.readers import SourceReader
from synthdsl.textproc.ngram_store import default_folder, reference_set
from synthdsl.textproc.ngrams import NgramSettings, ReferenceSet

__all__ = ["parse_ref", "reference_items", "run_contamination"]


def parse_ref(ref: str) -> tuple[str, Path]:
    """``NAME=FILE`` → (NAME, FILE); a plain FILE is named after its stem."""
    name, sep, path = ref.partition("=")
    if sep and name and path and "/" not in name:
        return name, Path(path)
    return Path(ref).stem, Path(ref)


def reference_items(path: Path, field: str | None) -> list[tuple[str, list[str]]]:
    """A benchmark file's items: (its ``id``, else ``row N``; [its text])."""
    if not path.exists():
        raise RunError(f"{path}: no such file")
    items: list[tuple[str, list[str]]] = []
    used = field
    for number, row in enumerate(SourceReader(path), start=1):
        if used is None:
            try:
                used = pick_field(row)
            except RunError as exc:
                message = str(exc).replace("--field", "--ref-field")
                raise RunError(f"{path}: {message}") from None
        try:
            text = text_of(row, used)
        except (KeyError, TypeError) as exc:
            raise RunError(
                f"{path}: record {number}: no text in {used!r} ({exc}); "
                "choose the field with --ref-field"
            ) from None
        ident = row.get("id")
        keep = isinstance(ident, (str, int)) and not isinstance(ident, bool)
        items.append((str(ident) if keep else f"row {number}", [text]))
    if not items:
        raise RunError(f"{path}: no records")
    return items


def _render(args: argparse.Namespace, field: str, report: ContaminationReport) -> str:
    lines = [
        f"synthdsl stats --contamination: {args.file} (text field: {field})",
        f"{report.ngram}-grams, {report.rule}; {report.records:,} records, "
        f"{report.contaminated:,} contaminated ({report.share(report.contaminated):.2%})",
        "",
    ]
    rows = [("benchmark", "items", "records hit", "share")]
    rows += [
        (b.name, f"{b.items:,}", f"{b.hits:,}", f"{report.share(b.hits):.2%}")
        for b in report.benchmarks
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        right = [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        cells = [row[0].ljust(widths[0]), *right]
        lines.append("  ".join(cells).rstrip())
    for b in report.benchmarks:
        if b.examples:
            lines += ["", f"{b.name}: first hits"]
            lines += [
                f"  record {h.record} ~ {h.item} (coverage {h.coverage:.2f}): {h.span!r}"
                for h in b.examples
            ]
    return "\n".join(lines) + "\n"


def run_contamination(args: argparse.Namespace) -> int:
    """Run the contamination report (see the module docstring)."""
    settings = NgramSettings(n=args.ngram)
    benchmarks: list[tuple[str, ReferenceSet]] = []
    paths: dict[str, str] = {}
    for ref in args.contamination:
        name, path = parse_ref(ref)
        if name in paths:
            raise RunError(f"--contamination names the benchmark {name!r} twice; use NAME=FILE")
        paths[name] = str(path)
        items = reference_items(path, args.ref_field or args.field)
        folder = default_folder()
        try:
            built, _ = reference_set(items, settings, folder)
        except OSError as exc:
            raise RunError(f"cannot write the n-gram cache in {folder}: {exc}") from None
        benchmarks.append((name, built))
    chosen: list[str] = []
    texts = iter_texts(Path(args.file), args.field, chosen)
    report = overlap(texts, benchmarks, settings.n, args.coverage)
    if args.format == "json":
        payload: dict[str, Any] = {"file": str(args.file), "field": chosen[0], **report.to_dict()}
        for name, entry in payload["benchmarks"].items():
            entry["path"] = paths[name]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_render(args, chosen[0], report))
    return 1 if report.contaminated and args.fail_on_flags else 0
