"""Reading a run directory for the report: manifest, rejects and a dataset sample.

Input: a run directory (``manifest.json``, ``rejects.jsonl``, ``dataset.jsonl`` or
``dataset.partial.jsonl``, or the Parquet equivalents when pyarrow is importable).
Output: a ``RunData`` with the manifest, reject groups (counts and a few examples),
per-loop round counts, the first records kept (by record id), the judge scores of kept
and rejected records (by the ``scores`` notes of judge nodes) and a deterministic
reservoir sample of at most ``max_sample``
records reduced to their text fields. Files are streamed, never loaded whole. The
node order is the manifest's ``node_order``: the recipe is never read or recompiled,
so the report depends on the run directory alone.

Errors: ``RunError`` when the directory or its manifest is missing or not valid JSON.
Unreadable lines of ``rejects.jsonl`` and the dataset (a run killed mid-write leaves
a cut last line) are skipped and counted, never fatal.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.errors import RunError
from synthdsl.io.output_facts import FirstRows, OutputFacts, RejectGroup, RejectGroups
from synthdsl.io.readers.jsonl import json_line_values
from synthdsl.io.row_sample import MAX_SAMPLE, RowSample, text_fields

__all__ = [
    "MAX_SAMPLE",
    "RejectGroup",
    "RunData",
    "load_run",
    "loop_of",
    "score_fields",
    "text_fields",
]

_ROUND_SUFFIX = re.compile(r"@r\d+")


@dataclass
class RunData:
    """What the report draws from; see the module docstring."""

    run_dir: Path
    manifest: dict[str, Any]
    dataset_path: Path | None = None
    dataset_note: str = ""
    records_read: int = 0
    bad_dataset_lines: int = 0
    sample: list[dict[str, str]] = field(default_factory=list)
    # loop id -> category ("in dataset", "discarded", "dropped in body", ...) -> round -> n
    rounds: dict[str, dict[str, Counter[int]]] = field(default_factory=dict)
    reject_groups: list[RejectGroup] = field(default_factory=list)
    rejects_total: int = 0
    bad_reject_lines: int = 0
    rejects_present: bool = False
    # node ids along the recipe's DAG from the manifest's node_order, else []
    dag_order: list[str] = field(default_factory=list)
    # the first MAX_EXAMPLES dataset rows by record id (_provenance.id; rows without
    # one after, by position), trimmed
    kept_examples: list[dict[str, Any]] = field(default_factory=list)
    # judge score field -> "kept" (dataset rows) or a reject status -> score -> records
    scores: dict[str, dict[str, Counter[float]]] = field(default_factory=dict)

    @property
    def nodes(self) -> dict[str, dict[str, Any]]:
        nodes = self.manifest.get("nodes")
        return nodes if isinstance(nodes, dict) else {}

    @property
    def loops(self) -> list[str]:
        return [nid for nid, st in self.nodes.items() if _kind(st) == "loop"]


def score_fields(manifest: dict[str, Any]) -> list[str]:
    """The fields judges wrote their scores into, from their manifest notes."""
    nodes = manifest.get("nodes")
    out: list[str] = []
    for st in nodes.values() if isinstance(nodes, dict) else []:
        note = st.get("scores") if isinstance(st, dict) else None
        name = note.get("field") if isinstance(note, dict) else None
        if isinstance(name, str) and name not in out:
            out.append(name)
    return out


def _count_scores(data: RunData, row: Any, category: str) -> None:
    if not isinstance(row, dict):
        return
    for name, by_category in data.scores.items():
        value = row.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            by_category.setdefault(category, Counter())[float(value)] += 1


def _kind(st: Any) -> str:
    return str(st.get("kind", "")) if isinstance(st, dict) else ""


def loop_of(node: str, loops: list[str]) -> str | None:
    """The innermost loop whose body holds ``node`` (or that is ``node``), if any."""
    if not loops:  # most recipes: no regex per row read
        return None
    node = _ROUND_SUFFIX.sub("", node)
    best: str | None = None
    for lp in loops:
        if (node == lp or node.startswith(lp + ".")) and (best is None or len(lp) > len(best)):
            best = lp
    return best


def _read_manifest(run_dir: Path) -> dict[str, Any]:
    if not run_dir.exists():
        raise RunError(f"{run_dir}: no such run directory")
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory (give the run directory of 'synthdsl run')")
    path = run_dir / "manifest.json"
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise RunError(
            f"{run_dir}: no manifest.json here; is this the output directory of 'synthdsl run'?"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes", {}), dict):
        raise RunError(f"{path}: not a synthdsl manifest (expected an object with 'nodes')")
    return data


def _jsonl_rows(path: Path, bad: list[int]) -> Iterator[dict[str, Any]]:
    for value in json_line_values(path):  # BAD_LINE is not a dict either
        if isinstance(value, dict):
            yield value
        else:
            bad[0] += 1


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq  # optional and heavy: only for a Parquet dataset

    pf = pq.ParquetFile(str(path))
    try:
        for batch in pf.iter_batches(batch_size=2048):
            for row in batch.to_pylist():
                if isinstance(row, dict):
                    yield row
    finally:
        pf.close()


def _dataset_candidates(run_dir: Path, manifest: dict[str, Any]) -> list[Path]:
    output = manifest.get("output")
    fmt = str(output.get("format", "jsonl")) if isinstance(output, dict) else "jsonl"
    exts = ["parquet", "jsonl"] if fmt == "parquet" else ["jsonl", "parquet"]
    return [run_dir / f"dataset{part}.{ext}" for ext in exts for part in ("", ".partial")]


def _round_of(row: dict[str, Any]) -> tuple[int | None, str]:
    """(round, provenance node) of a dataset row or a rejected record."""
    prov = row.get("_provenance")
    if not isinstance(prov, dict):
        return None, ""
    rnd = prov.get("round")
    return (rnd if isinstance(rnd, int) and not isinstance(rnd, bool) else None), str(
        prov.get("node", "")
    )


def _add_round(
    data: RunData, loops: list[str], loop: str | None, category: str, rnd: int | None
) -> None:
    if rnd is None:
        return
    if loop is None and len(loops) == 1:
        loop = loops[0]
    if loop is None:
        return
    data.rounds.setdefault(loop, {}).setdefault(category, Counter())[rnd] += 1


def _read_dataset(data: RunData, max_sample: int) -> None:
    path = next((p for p in _dataset_candidates(data.run_dir, data.manifest) if p.exists()), None)
    if path is None:
        data.dataset_note = "no dataset file in the run directory"
        return
    data.dataset_path = path
    if ".partial." in path.name:
        data.dataset_note = "partial dataset: the records written before the run stopped"
    bad = [0]
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet  # noqa: F401  # optional: is it installed at all?
        except ImportError:
            data.dataset_note = f"{path.name}: install pyarrow to include the Parquet dataset"
            data.dataset_path = None
            return
        rows: Iterator[dict[str, Any]] = _parquet_rows(path)
    else:
        rows = _jsonl_rows(path, bad)
    reservoir = RowSample(max_sample)
    first = FirstRows()
    loops = data.loops
    try:
        for row in rows:
            data.records_read += 1
            if data.scores:
                _count_scores(data, row, "kept")
            first.add(row)
            if loops:  # rounds are counted for loops only
                rnd, node = _round_of(row)
                if rnd is not None:
                    _add_round(data, loops, loop_of(node, loops), "in dataset", rnd)
            reservoir.add(row)
    except Exception as exc:  # a damaged Parquet file: report what was read
        data.dataset_note = f"{path.name}: stopped reading after {data.records_read} rows ({exc})"
    data.bad_dataset_lines = bad[0]
    data.kept_examples = [_trim(row) for row in first.rows()]
    data.sample = reservoir.rows()


def _trim(value: Any, limit: int = 300, depth: int = 0) -> Any:
    """A copy of ``value`` small enough to show: long strings and lists cut."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f"… (+{len(value) - limit} chars)"
    if depth > 6:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {str(k): _trim(v, limit, depth + 1) for k, v in items[:30]}
        if len(items) > 30:
            out["…"] = f"{len(items) - 30} more keys"
        return out
    if isinstance(value, list):
        trimmed = [_trim(v, limit, depth + 1) for v in value[:10]]
        if len(value) > 10:
            trimmed.append(f"… {len(value) - 10} more items")
        return trimmed
    return value


def _read_rejects(data: RunData) -> None:
    path = data.run_dir / "rejects.jsonl"
    if not path.exists():
        return
    data.rejects_present = True
    groups = RejectGroups()
    loops = data.loops
    bad = [0]
    for row in _jsonl_rows(path, bad):
        groups.add(row)
        node = str(row.get("node", "?"))
        status = str(row.get("status", "?"))
        record = row.get("record")
        if data.scores:
            _count_scores(data, record, status)
        if not loops:  # rounds are counted for loops only
            continue
        rnd = row.get("round")
        if not isinstance(rnd, int) or isinstance(rnd, bool):
            rnd, _ = _round_of(record) if isinstance(record, dict) else (None, "")
        loop = loop_of(node, loops)
        if loop is not None:
            if node == loop:
                category = "discarded" if status == "dropped" else f"{status} at the loop"
            else:
                category = f"{status} in body"
            _add_round(data, loops, loop, category, rnd)
    data.bad_reject_lines = bad[0]
    _take_groups(data, groups)


def _take_groups(data: RunData, groups: RejectGroups) -> None:
    """The groups as the report shows them: each example row cut to its record and
    what it says of the reject (error, detail, round), trimmed."""
    data.rejects_total = groups.total
    data.reject_groups = [
        RejectGroup(g.node, g.status, g.reason, g.count, [_example(row) for row in g.examples])
        for g in groups.ordered()
    ]


def _example(row: dict[str, Any]) -> dict[str, Any]:
    example = {k: row[k] for k in ("error", "detail", "round") if row.get(k) is not None}
    example["record"] = row.get("record")
    return dict(_trim(example))


def _from_facts(data: RunData, facts: OutputFacts, max_sample: int) -> bool:
    """Take the dataset's and the rejects' figures from what the run gathered while it
    wrote them (``io/output_facts.py``) instead of reading the files back: the same
    figures, when the run completed into ``dataset.jsonl`` and the report counts no
    judge scores or loop rounds (those are read back). False: read the files."""
    dataset = data.run_dir / "dataset.jsonl"
    if data.scores or data.loops or facts.sample.size != max_sample or not dataset.is_file():
        return False
    if _dataset_candidates(data.run_dir, data.manifest)[0] != dataset:
        return False
    settled = facts.settled()
    data.dataset_path = dataset
    data.records_read = settled.rows
    data.kept_examples = [_trim(row) for row in settled.first.rows()]
    data.sample = settled.sample.rows()
    if (data.run_dir / "rejects.jsonl").exists():
        data.rejects_present = True
        _take_groups(data, settled.rejects)
    return True


def dag_order(manifest: dict[str, Any]) -> list[str]:
    """The node ids along the recipe's DAG, loop bodies after their loop, as recorded.

    Every manifest written by ``synthdsl run`` records them as ``node_order``; an older
    manifest without it gives ``[]`` and the report keeps the manifest's own order
    (sources first, the writer last). The recipe is never read: the report depends on
    the run directory alone.
    """
    recorded = manifest.get("node_order")
    if isinstance(recorded, list) and all(isinstance(x, str) for x in recorded):
        return [str(x) for x in recorded]
    return []


def load_run(
    run_dir: Path,
    max_sample: int = MAX_SAMPLE,
    manifest: Mapping[str, Any] | None = None,
    facts: OutputFacts | None = None,
) -> RunData:
    """Read ``run_dir`` (see the module docstring); ``manifest`` given, it is used in
    place of ``run_dir/manifest.json`` (a run's attempt folder, before it is published);
    ``facts`` given (the run that just wrote ``run_dir``), the dataset and rejects are
    not read back where they can stand in (``_from_facts``)."""
    run_dir = Path(run_dir)
    read = dict(manifest) if manifest is not None else _read_manifest(run_dir)
    data = RunData(run_dir=run_dir, manifest=read)
    data.dag_order = dag_order(data.manifest)
    data.scores = {name: {} for name in score_fields(data.manifest)}
    if facts is None or not _from_facts(data, facts, max_sample):
        _read_rejects(data)
        _read_dataset(data, max_sample)
    return data
