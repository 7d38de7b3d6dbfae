"""The ``synthdsl stats`` command: diversity metrics, drift and model-collapse flags.

Input: command-line arguments (``add_parser`` registers them on the CLI's
sub-parsers): a dataset FILE (JSONL, or Parquet when pyarrow is installed; CSV and
text files are read too), optionally a reference dataset ``--against REAL``, the text
field, the output format and the self-BLEU sample size. Output: a table (``--format
text``) or one JSON object (``--format json``) on stdout with every metric of
``synthdsl.analysis.diversity``, the drift against the reference and the collapse flags with
their reasons, then the metrics of installed plugins (group ``synthdsl.metrics``,
``analysis/diversity/plugin_metrics.py``), each with its package and version. ``run``
returns the exit code: 0, or 1 with ``--fail-on-flags`` when any metric is flagged.
With ``--contamination REF...`` it reports the overlap of the dataset with evaluation
sets instead (``cli/stats_contamination.py``).

Which text is measured (``--field``, default: picked from the first record):

1. a chat record with ``messages`` (a list of ``{"role", "content"}``): the contents
   of all messages, joined by newlines;
2. a record with both ``instruction`` and ``response``: the two joined by a blank line;
3. otherwise the first of ``response``, ``text``, ``output``, ``completion`` present.

``--field NAME`` names the field instead (a string, or a list of messages as above);
``--against-field`` does the same for the reference (default: picked the same way).

Errors: ``RunError`` (``SourceError`` from ``synthdsl.io.readers`` for unreadable files):
a missing file, a bad JSONL line, Parquet without pyarrow, a record without the text
field or with a value that is not text, a dataset with no record; ``PluginError`` (exit
1) for a metric plugin that does not load or fails.

The module imports only the standard library at load time (numpy and the metrics are
imported when the command runs), so registering it keeps ``synthdsl validate`` fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.cli import main as cli_main
from synthdsl.cli.helptext import examples
from synthdsl.cli.texts import TEXT_FIELDS, iter_texts, pick_field, text_of

if TYPE_CHECKING:
    from synthdsl.analysis.diversity import DiversityReport, DriftReport, Flag, Thresholds

__all__ = ["TEXT_FIELDS", "add_parser", "iter_texts", "main", "pick_field", "run", "text_of"]

_SHOWN_MODES = 10


# --------------------------------------------------------------------------- parser


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``stats`` on the CLI's sub-parsers; returns the new parser."""
    p = subparsers.add_parser(
        "stats",
        help="diversity metrics and model-collapse flags of a dataset",
        description=(
            "Measure the diversity of a dataset (distinct-n, entropy, compression, "
            "self-BLEU, lengths) and, with --against, its drift from a reference set "
            "(JS divergence, variance ratios, vocabulary, mode coverage); flag the "
            "signs of model collapse. See docs/collapse-metrics.md."
        ),
        **examples(
            "synthdsl stats out/quick/dataset.jsonl",
            "synthdsl stats out/quick/dataset.jsonl --field response "
            "--against examples/data/human.jsonl --format json",
        ),
    )
    p.add_argument("file", metavar="FILE", help="dataset to measure (JSONL or Parquet)")
    p.add_argument(
        "--against",
        metavar="REAL",
        help="reference dataset (real data, JSONL or Parquet) to measure drift against",
    )
    p.add_argument(
        "--field",
        metavar="NAME",
        help="text field of FILE (default: messages, instruction+response, then the "
        "first of response, text, output, completion)",
    )
    p.add_argument(
        "--against-field",
        metavar="NAME",
        help="text field of REAL (default: picked like --field)",
    )
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    p.add_argument(
        "--sample",
        type=_sample_size,
        default=200,
        metavar="N",
        help="texts sampled for self-BLEU (default 200)",
    )
    p.add_argument(
        "--embed",
        type=_sample_size,
        default=0,
        metavar="N",
        help="embedding diversity (Vendi score, mean pairwise cosine distance) on N sampled "
        "texts; needs the embed extra",
    )
    p.add_argument(
        "--fail-on-flags",
        action="store_true",
        help="exit with status 1 when any metric is flagged (with --contamination: when "
        "any record hits a benchmark)",
    )
    p.add_argument(
        "--contamination",
        nargs="+",
        metavar="REF",
        help="instead of diversity: the overlap of FILE with evaluation sets, each REF a "
        "file or NAME=FILE (docs/decontamination.md)",
    )
    p.add_argument(
        "--ref-field",
        metavar="NAME",
        help="text field of the --contamination files (default: --field, else picked alike)",
    )
    p.add_argument(
        "--ngram",
        type=_ngram_size,
        default=13,
        metavar="N",
        help="n-gram size in words for --contamination (default 13)",
    )
    p.add_argument(
        "--coverage",
        type=_share,
        metavar="X",
        help="with --contamination: a record hits when at least this share of its n-grams "
        "is in the benchmark (default: any shared n-gram)",
    )
    return p


def _ngram_size(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, got {number}")
    return number


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {value}")
    return number


def _sample_size(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {number}")
    return number


# --------------------------------------------------------------------------- output


def _fmt(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}f}"


def _dataset_rows(report: DiversityReport) -> list[tuple[str, str]]:
    ln = report.length
    return [
        ("records", _fmt(report.records)),
        ("tokens", _fmt(report.tokens)),
        ("vocabulary", _fmt(report.vocabulary_size)),
        ("length mean ± std", f"{ln.mean:.1f} ± {ln.std:.1f}"),
        ("length min/p10/p50/p90/max", f"{ln.min}/{ln.p10:g}/{ln.p50:g}/{ln.p90:g}/{ln.max}"),
        ("distinct-1", _fmt(report.distinct_1)),
        ("distinct-2", _fmt(report.distinct_2)),
        ("distinct-3", _fmt(report.distinct_3)),
        ("distinct-2 at 10k bigrams", _fmt(report.distinct_2_at_10k)),
        ("entropy 1-gram (bits)", _fmt(report.entropy_1, 2)),
        ("entropy 2-gram (bits)", _fmt(report.entropy_2, 2)),
        ("entropy 3-gram (bits)", _fmt(report.entropy_3, 2)),
        (
            "record entropy mean ± std",
            f"{report.record_entropy_mean:.2f} ± {report.record_entropy_std:.2f}",
        ),
        ("compression ratio", _fmt(report.compression_ratio, 2)),
        (f"self-BLEU (sample {report.self_bleu_sample})", _fmt(report.self_bleu)),
    ]


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _render_text(
    args: argparse.Namespace,
    fields: tuple[str, str | None],
    report: DiversityReport,
    reference: DiversityReport | None,
    drift: DriftReport | None,
    judged: bool,
    flags: list[Flag],
    thresholds: Thresholds,
) -> str:
    lines = [f"synthdsl stats: {args.file} (text field: {fields[0]})"]
    if args.against:
        lines.append(f"reference: {args.against} (text field: {fields[1]})")
    lines.append("")
    ours = _dataset_rows(report)
    if reference is None:
        lines += _table([("metric", "dataset"), *ours])
    else:
        theirs = _dataset_rows(reference)
        lines += _table(
            [("metric", "dataset", "reference")]
            + [(a[0], a[1], b[1]) for a, b in zip(ours, theirs, strict=True)]
        )
    if drift is not None:
        lines += ["", "drift against the reference"]
        covered = sum(m.covered for m in drift.modes)
        modes = f"{_fmt(drift.mode_coverage, 2)} ({covered} of {len(drift.modes)} modes)"
        rows = [
            ("JS divergence, unigrams", _fmt(drift.js_unigram)),
            ("JS divergence, bigrams", _fmt(drift.js_bigram)),
            ("length variance ratio", _fmt(drift.length_variance_ratio)),
            ("entropy variance ratio", _fmt(drift.entropy_variance_ratio)),
            (
                f"vocabulary ratio (at {drift.vocabulary_tokens:,} tokens)",
                _fmt(drift.vocabulary_ratio),
            ),
            ("mode coverage", modes),
        ]
        lines += _table(rows)
        if drift.lost_modes:
            lost = ", ".join(
                f"{m.term} ({m.reference_share:.1%} → {m.synthetic_share:.1%})"
                for m in drift.lost_modes[:_SHOWN_MODES]
            )
            more = len(drift.lost_modes) - _SHOWN_MODES
            lines.append(f"lost modes: {lost}" + (f" and {more} more" if more > 0 else ""))
        if not judged:
            lines.append(
                f"(drift not flagged: fewer than {thresholds.min_records} records on one side)"
            )
    lines.append("")
    if flags:
        lines.append(f"flags ({len(flags)}):")
        lines += [f"  - {f.message}" for f in flags]
    else:
        lines.append("no collapse flags")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- command


def embedding_diversity(texts: Iterator[str], n: int, seed: int = 0) -> dict[str, float]:
    """Vendi score and mean pairwise cosine distance of a seeded sample of ``n`` texts."""
    import random

    # the embedding model loads only with --embed
    from synthdsl.textproc.embed import TextEncoder, mean_pairwise_cosine_distance, vendi_score

    rng = random.Random(seed)
    sample: list[str] = []
    for i, text in enumerate(texts):  # reservoir sampling: one pass, n texts in memory
        if i < n:
            sample.append(text)
        else:
            j = rng.randint(0, i)
            if j < n:
                sample[j] = text
    if len(sample) < 2:
        return {"texts": float(len(sample))}
    vectors = TextEncoder.load().encode(sample)
    return {
        "texts": float(len(sample)),
        "vendi_score": float(vendi_score(vectors)),
        "mean_pairwise_cosine_distance": float(mean_pairwise_cosine_distance(vectors)),
    }


def _plugin_metrics(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """The metrics of installed plugins on the dataset (and the reference), by name."""
    # only stats loads metric plugins (and numpy, which they may use)
    from synthdsl.analysis.diversity.plugin_metrics import compute, plugin_metrics

    out: dict[str, dict[str, Any]] = {}
    for metric in plugin_metrics():
        entry: dict[str, Any] = {
            "description": metric.spec.description,
            "package": metric.plugin.package,
            "version": metric.plugin.version,
            "dataset": compute(metric, iter_texts(Path(args.file), args.field, [])),
        }
        if args.against:
            ref = iter_texts(Path(args.against), args.against_field, [])
            entry["reference"] = compute(metric, ref)
        out[metric.spec.name] = entry
    return out


def _render_plugin_metrics(values: dict[str, dict[str, Any]], against: bool) -> str:
    if not values:
        return ""
    head = ("plugin metric", "dataset", "reference") if against else ("plugin metric", "dataset")
    rows = [head]
    for name, v in values.items():
        row = (name, _fmt(v["dataset"]))
        rows.append((*row, _fmt(v.get("reference"))) if against else row)
    lines = ["", *_table(rows)]
    lines += [
        f"  {n}: {v['description']} ({v['package']} {v['version']})" for n, v in values.items()
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run ``synthdsl stats``; returns the exit code (raises RunError, see above)."""
    from dataclasses import asdict

    # numpy: imported when the command runs, not when its parser is registered
    from synthdsl.analysis.diversity import (
        TextProfile,
        Thresholds,
        collapse_flags,
        compare_profiles,
        drift_judged,
    )

    if args.contamination:
        # the n-gram machinery loads only for --contamination
        from synthdsl.cli.stats_contamination import run_contamination

        return run_contamination(args)
    thresholds = Thresholds()
    chosen: list[str] = []
    path = Path(args.file)
    profile = TextProfile(sample=args.sample).update(iter_texts(path, args.field, chosen))
    report = profile.report()
    fields: tuple[str, str | None] = (chosen[0], None)

    reference = drift = None
    judged = False
    if args.against:
        ref_chosen: list[str] = []
        ref_path = Path(args.against)
        ref_profile = TextProfile(sample=args.sample).update(
            iter_texts(ref_path, args.against_field, ref_chosen)
        )
        reference = ref_profile.report()
        drift = compare_profiles(profile, ref_profile)
        judged = drift_judged(drift, thresholds)
        fields = (chosen[0], ref_chosen[0])
    flags = collapse_flags(report, drift, thresholds)
    embedded: dict[str, dict[str, float]] = {}
    if getattr(args, "embed", 0):
        embedded["dataset"] = embedding_diversity(iter_texts(path, args.field, []), args.embed)
        if args.against:
            embedded["reference"] = embedding_diversity(
                iter_texts(Path(args.against), args.against_field, []), args.embed
            )

    plugin_values = _plugin_metrics(args)

    if args.format == "json":
        payload = {
            "file": str(args.file),
            "field": fields[0],
            "report": report.to_dict(),
            "against": str(args.against) if args.against else None,
            "against_field": fields[1],
            "reference": reference.to_dict() if reference else None,
            "drift": drift.to_dict() if drift else None,
            "drift_judged": judged,
            "flags": [asdict(f) for f in flags],
            "thresholds": asdict(thresholds),
            "embedding": embedded or None,
            "plugin_metrics": plugin_values,
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            _render_text(args, fields, report, reference, drift, judged, flags, thresholds)
        )
        sys.stdout.write(_render_plugin_metrics(plugin_values, bool(args.against)))
        for name, values in embedded.items():
            if "vendi_score" in values:
                sys.stdout.write(
                    f"embedding diversity ({name}, {int(values['texts'])} texts): Vendi score "
                    f"{values['vendi_score']:.2f}, mean pairwise cosine distance "
                    f"{values['mean_pairwise_cosine_distance']:.3f}\n"
                )
    return 1 if flags and args.fail_on_flags else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``synthdsl stats`` on its own (for tests and ``python -m synthdsl.cli.stats``):
    ``argv`` is what follows ``stats``; errors end as in the full CLI."""
    return cli_main(["stats", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
