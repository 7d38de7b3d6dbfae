"""The dataset card: a run's own facts as a Hugging Face ``README.md``.

Input: a run folder (the attempt folder of a run about to be published: its dataset and
rejects), the run's manifest and the recipe's facts (``run/card_facts.py``: plain data,
so this module, like the rest of the report, never imports the compiler). Output:
``build_card(run_dir, manifest, facts) -> str``, a card in the Hugging Face
format: a YAML metadata block (``license`` when the recipe's ``output:`` declares one,
``task_categories``, ``size_categories``, ``tags`` with ``synthetic`` and ``synthdsl``,
``configs`` whose ``data_files`` name the dataset files) and Markdown: the recipe and
its hash, the models (alias, model, provider; never a key or a base URL), the counts per
node (in, out, dropped, failed) with each step's settings, the drops and their reasons
(filters and thresholds), each mix's composition and synthetic share against its stage
band, the collapse flags of the report's diversity metrics, the sources and their
declared licenses, and how to reproduce the run. ``data_files(run_dir)`` lists the
dataset files a card points at and ``synthdsl push`` uploads.

The session ends the card with its marker (``run/attempt.py``: a new run replaces a card
with the marker and never a README without it). Nothing here reads the environment, and
no path outside the run folder is written into the card (file names only). Raises
nothing of its own; the session turns an unexpected error into a warning (the data is
already safe).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from synthdsl.report import textstats
from synthdsl.report.data import RunData, load_run
from synthdsl.report.sections import markup as mk
from synthdsl.report.sections.mix import synthetic_share
from synthdsl.report.textstats import opt_float

__all__ = ["DATA_FILES", "PROVENANCE_FILE", "build_card", "data_files", "size_category"]

# The dataset files of a completed run, in the order a card lists them (``format: hf``
# writes dataset.jsonl beside its save_to_disk folder: the Hub reads the JSONL).
DATA_FILES = ("dataset.jsonl", "dataset.parquet")
# Each row's provenance, when it goes beside the data (training shapes).
PROVENANCE_FILE = "dataset.provenance.jsonl"
# Hugging Face's size buckets: (upper bound, name); the last is open-ended.
_SIZES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


def data_files(run_dir: Path) -> list[str]:
    """The dataset files present in ``run_dir`` (names, never a partial dataset)."""
    return [name for name in DATA_FILES if (run_dir / name).is_file()]


def size_category(n: int) -> str:
    """Hugging Face's ``size_categories`` bucket of ``n`` records."""
    for bound, name in _SIZES:
        if n < bound:
            return name
    return "n>1B"


def build_card(
    run_dir: Path,
    manifest: Mapping[str, Any],
    facts: Mapping[str, Any],
    sample: Sequence[Mapping[str, str]] | None = None,
) -> str:
    """The card of the run in ``run_dir`` (see the module docstring). ``sample``: the
    text fields of the rows the sink sampled as it wrote them (``io/row_sample.py``);
    None: the dataset file is read for it."""
    if sample is not None:
        data = RunData(run_dir=run_dir, manifest=dict(manifest), sample=[dict(r) for r in sample])
    else:
        data = load_run(run_dir, manifest=manifest)
    ts = textstats.text_stats(data, None)
    div = textstats.diversity(ts)
    m = data.manifest
    records = mk.as_int(mk.as_dict(m.get("output")).get("records"))
    files = data_files(run_dir)
    front = yaml.safe_dump(
        _metadata(facts, records, files), sort_keys=False, allow_unicode=True, width=1000
    )
    parts = [
        f"---\n{front}---\n",
        _overview(run_dir, facts, m, records, files),
        _models(facts, m),
        _steps(facts, m),
        _drops(m),
        _mixes(m),
        _collapse(div, ts),
        _sources(facts),
        _reproduce(facts, m),
    ]
    return "\n".join(p for p in parts if p)


def _metadata(facts: Mapping[str, Any], records: int, files: Sequence[str]) -> dict[str, Any]:
    output = mk.as_dict(facts.get("output"))
    tags = ["synthetic", "synthdsl"]
    if output.get("shape") not in (None, "records"):
        tags.append(str(output["shape"]))
    meta: dict[str, Any] = {}
    if output.get("license"):
        meta["license"] = str(output["license"])
    meta["pretty_name"] = str(facts.get("name", ""))
    meta["task_categories"] = ["text-generation"]
    meta["size_categories"] = [size_category(records)]
    meta["tags"] = tags
    if files:
        meta["configs"] = [
            {
                "config_name": "default",
                "data_files": [{"split": "train", "path": name} for name in files],
            }
        ]
    return meta


def _text(value: Any) -> str:
    """``value`` as Markdown text: no raw HTML, no line breaks."""
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    s = s.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(s.split())


def _cell(value: Any) -> str:
    return _text(value).replace("|", "\\|") if value not in (None, "") else "–"


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _overview(
    run_dir: Path,
    facts: Mapping[str, Any],
    m: Mapping[str, Any],
    records: int,
    files: Sequence[str],
) -> str:
    totals = mk.as_dict(m.get("totals"))
    output = mk.as_dict(facts.get("output"))
    cost = totals.get("cost_usd")
    lines = [f"# {_text(facts.get('name', ''))}", ""]
    if facts.get("description"):
        lines += [_text(facts["description"]), ""]
    lines += [
        f"Synthetic data generated by [synthdsl](https://pypi.org/project/synthdsl/) "
        f"{_text(m.get('synthdsl_version', '?'))} from the recipe `{facts.get('file')}` "
        f"(`{facts.get('name')}`), recipe hash `{facts.get('hash')}`.",
        "",
        f"- records: {records}" + (f" in {', '.join(f'`{f}`' for f in files)}" if files else ""),
        f"- shape: `{output.get('shape')}`, format `{output.get('format')}`"
        + (
            f"; each row's provenance in `{PROVENANCE_FILE}`"
            if (run_dir / PROVENANCE_FILE).is_file()
            else ""
        ),
        f"- run started {_text(m.get('started_at', '?'))}, status "
        f"{_text(m.get('status', '?'))}, {mk.as_float(m.get('wall_time_s')):.1f} s",
        f"- LLM calls {mk.as_int(totals.get('calls'))}, cache hits "
        f"{mk.as_int(totals.get('cache_hits'))}, tokens "
        f"{mk.as_int(totals.get('prompt_tokens'))} prompt + "
        f"{mk.as_int(totals.get('completion_tokens'))} completion, cost "
        + (f"${mk.as_float(cost):.4f}" if isinstance(cost, int | float) else "unknown"),
        f"- dropped {mk.as_int(totals.get('dropped'))}, failed "
        f"{mk.as_int(totals.get('failed'))} (every record is accounted for: "
        f"{'yes' if m.get('accounting_balanced') else 'no'})",
        "",
    ]
    return "\n".join(lines)


def _models(facts: Mapping[str, Any], m: Mapping[str, Any]) -> str:
    usage = mk.as_dict(m.get("models"))
    rows = []
    for alias, entries in mk.as_dict(facts.get("models")).items():
        for entry in entries if isinstance(entries, list) else []:
            used = mk.as_dict(usage.get(entry.get("model")))
            if not used:
                continue  # declared, never asked
            params = ", ".join(f"{k}={v}" for k, v in mk.as_dict(entry.get("params")).items())
            rows.append(
                (
                    f"`{alias}`",
                    f"`{entry.get('model')}`",
                    entry.get("provider"),
                    params,
                    mk.as_int(used.get("calls")),
                    mk.as_int(used.get("cache_hits")),
                )
            )
    if not rows:
        return ""
    return "## Models\n\n" + _table(
        ["alias", "model", "provider", "parameters", "calls", "cache hits"], rows
    )


def _settings(settings: Any) -> str:
    return "; ".join(
        f"{k}: {v if isinstance(v, str) else _text(v)}" for k, v in mk.as_dict(settings).items()
    )


def _steps(facts: Mapping[str, Any], m: Mapping[str, Any]) -> str:
    nodes = mk.as_dict(m.get("nodes"))
    order = m.get("node_order")
    ids = [str(x) for x in order] if isinstance(order, list) else list(nodes)
    settings = mk.as_dict(facts.get("steps"))
    rows = []
    for nid in ids:
        st = mk.as_dict(nodes.get(nid))
        if not st:
            continue
        rows.append(
            (
                f"`{nid}`",
                st.get("kind", ""),
                mk.as_int(st.get("in")),
                mk.as_int(st.get("out")),
                sum(mk.as_counts(st.get("dropped")).values()) + mk.as_int(st.get("discarded")),
                sum(mk.as_counts(st.get("failed")).values()),
                _settings(settings.get(nid)),
            )
        )
    return "## Steps\n\nRecords per step, in the order of the recipe's graph.\n\n" + _table(
        ["step", "kind", "in", "out", "dropped", "failed", "settings"], rows
    )


def _drops(m: Mapping[str, Any]) -> str:
    rows = []
    for nid, st in mk.as_dict(m.get("nodes")).items():
        st = mk.as_dict(st)
        for status in ("dropped", "failed"):
            for reason, n in sorted(mk.as_counts(st.get(status)).items()):
                rows.append((f"`{nid}`", status, reason, n))
    if not rows:
        return "## Filters and thresholds\n\nNo record was dropped or failed.\n"
    rows.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[2])))
    return (
        "## Filters and thresholds\n\nWhy records left the pipeline (each step's "
        "thresholds are in its settings above).\n\n"
        + _table(["step", "status", "reason", "records"], rows)
    )


def _mixes(m: Mapping[str, Any]) -> str:
    blocks = []
    for nid, st in mk.as_dict(m.get("nodes")).items():
        note = mk.as_dict(mk.as_dict(st).get("mix"))
        if not note:
            continue
        share = synthetic_share(note)
        line = f"### Mix `{nid}`\n\nWritten synthetic share {mk.share(share)}"
        configured = opt_float(note.get("configured_share"))
        if configured is not None:
            line += f" (configured {mk.share(configured)})"
        if note.get("stage") is not None:
            line += f" for stage `{_text(note['stage'])}`"
        if isinstance(note.get("band"), list):
            line += f", band {mk.band_text(note['band'])} ({_text(note.get('status', '?'))})"
        floor = opt_float(note.get("min_real"))
        if floor is not None:
            line += (
                f"; written real share {mk.share(1.0 - share)}, min_real {mk.share(floor)} "
                f"({_text(note.get('real_status', '?'))})"
            )
        line += f"; {mk.as_int(note.get('achieved_total'))} records taken"
        if note.get("limited_by"):
            line += f", limited by `{_text(note['limited_by'])}`"
        parts = [p for p in note.get("parts", []) if isinstance(p, dict)]
        rows = [
            (
                f"`{p.get('from', '?')}`",
                "synthetic" if p.get("synthetic") is True else "real",
                p.get("ratio"),
                mk.as_int(p.get("available")),
                mk.as_int(p.get("taken")),
            )
            for p in parts
        ]
        blocks.append(
            line + ".\n\n" + _table(["part", "kind", "target ratio", "available", "taken"], rows)
        )
    return "## Mix composition\n\n" + "\n".join(blocks) if blocks else ""


def _collapse(div: textstats.Diversity, ts: textstats.TextStats) -> str:
    head = "## Collapse flags\n\n"
    if not div.available:
        return head + f"Diversity metrics were not computed: {_text(div.reason)}.\n"
    measured = {
        f: min(len(ts.texts.get(f, [])), textstats.MAX_DIVERSITY_TEXTS)
        for f in ts.fields
        if f in div.metrics
    }
    if not measured:
        return head + "No text field to measure.\n"
    judged = [f for f in measured if f not in div.too_few]
    few = [f for f in measured if f in div.too_few]
    note = ""
    if few:
        note = (
            "Too few records to judge "
            + ", ".join(f"`{f}` ({measured[f]} texts)" for f in few)
            + f": the metrics need about {textstats.MIN_TEXTS_TO_JUDGE} texts per field to "
            "mean anything, so they are not flagged.\n"
        )
    if not judged:
        return head + note
    where = ", ".join(f"`{f}` ({measured[f]} texts)" for f in judged)
    if not div.flags:
        return (
            head
            + f"None: every thresholded diversity metric is within its limit on {where}.\n"
            + ("\n" + note if note else "")
        )
    rows = [
        (f"`{f.field}`", f.metric, mk.fmt_metric(f.value), mk.fmt_metric(f.threshold), f.message)
        for f in div.flags
    ]
    return (
        head
        + f"{len(div.flags)} flag{'s' if len(div.flags) != 1 else ''} on {where}:\n\n"
        + _table(["field", "metric", "value", "threshold", "what it means"], rows)
        + ("\n" + note if note else "")
    )


def _sources(facts: Mapping[str, Any]) -> str:
    rows = [
        (
            f"`{src.get('name')}`",
            src.get("file") or "inline records",
            src.get("license") or "not declared",
        )
        for src in facts.get("sources", [])
        if isinstance(src, dict)
    ]
    if not rows:
        return ""
    return "## Sources\n\n" + _table(["source", "file", "license"], rows)


def _reproduce(facts: Mapping[str, Any], m: Mapping[str, Any]) -> str:
    recipe = facts.get("file")
    limit = mk.as_dict(m.get("options")).get("limit")
    command = f"synthdsl run {recipe}" + (f" --limit {limit}" if limit else "")
    return (
        "## How to reproduce\n\n"
        f"With the recipe `{recipe}` and the files it reads:\n\n"
        f"```sh\nsynthdsl plan {recipe} --format json   # recipe.hash must be "
        f"{facts.get('hash')}\n{command}\n```\n\n"
        "The hash covers everything that affects the data (steps, prompts, models and "
        "their parameters, plugins). With the same call cache the run repeats no call and "
        "gives the same records; without it, the records are as repeatable as the models "
        "are (temperature, seed).\n"
    )
