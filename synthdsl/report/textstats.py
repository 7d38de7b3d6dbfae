"""Text statistics of a dataset sample: fields, token counts, entropy, diversity.

Input: the ``RunData`` sample (text fields of up to ``MAX_SAMPLE`` records) and the
manifest's ``generated_fields`` (measured first when the dataset has them). Output:
``text_stats(data, fields) -> TextStats`` (per field: token count and Shannon token
entropy per record) and ``diversity(ts) -> Diversity`` (metrics, thresholds and
collapse flags from ``synthdsl.analysis.diversity`` when it is importable). ``diversity``
remembers its last results by the texts measured: a run's dataset card and its report
measure the same sample, so the statistics and metrics are computed once per run
(``MEMO.computed`` counts the diversity computations). They are also kept on disk,
in ``textstats/`` beside the call cache (``DISK``), by a digest of the texts and of the
code that measures them: a re-run whose dataset did not change (a fully cached re-run)
reads them back instead of tokenizing and measuring 10,000 texts again. Errors: none on
purpose: a missing or failing ``synthdsl.analysis.diversity`` gives ``Diversity(available=False,
reason=...)``; token entropy is ``synthdsl.textproc.tokens.entropy``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import importlib.util
import json
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from synthdsl.report.data import RunData
from synthdsl.textproc import tokens as _tokens_module
from synthdsl.textproc.cache_folders import beside_call_cache
from synthdsl.textproc.tokens import entropy, tokenize

__all__ = [
    "DISK",
    "MAX_DIVERSITY_TEXTS",
    "MEMO",
    "METRIC_HELP",
    "MIN_TEXTS_TO_JUDGE",
    "Diversity",
    "FlagRow",
    "TextStats",
    "diversity",
    "generated",
    "opt_float",
    "pick_fields",
    "text_stats",
]

_T = TypeVar("_T")

MAX_FIELDS = 3
MAX_DIVERSITY_TEXTS = 10_000
# Below this many texts in a field, its metrics are shown but not judged: no collapse
# flag is raised and the report says there are too few records to judge.
MIN_TEXTS_TO_JUDGE = 50


_DIVERSITY = "synthdsl.analysis.diversity"


def _diversity_module() -> tuple[Any, str]:
    try:
        return importlib.import_module(_DIVERSITY), ""
    except Exception as exc:  # not written yet, or broken: the report still renders
        return None, f"{type(exc).__name__}: {exc}"


@dataclass
class TextStats:
    """Per field: token count and token entropy of each sampled record having it."""

    fields: list[str]
    tokens: dict[str, list[int]] = field(default_factory=dict)
    entropy: dict[str, list[float]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)


def generated(manifest: Mapping[str, Any]) -> list[str]:
    """The output fields a model wrote, as the manifest records them (none if it does not)."""
    recorded = manifest.get("generated_fields")
    return [str(k) for k in recorded] if isinstance(recorded, Mapping) else []


def pick_fields(
    sample: Sequence[Mapping[str, str]],
    limit: int = MAX_FIELDS,
    prefer: Sequence[str] = (),
) -> list[str]:
    """The main text fields: present in ≥ 30 % of rows, longest first, at most ``limit``.

    When some of the ``prefer`` fields (those a model wrote) are among them, only those
    are chosen: a source field such as ``topic`` says little about generated text.
    """
    if not sample:
        return []
    present: Counter[str] = Counter()
    length: Counter[str] = Counter()
    for row in sample[:2000]:
        for k, v in row.items():
            present[k] += 1
            length[k] += len(v.split())
    n = min(len(sample), 2000)
    common = [k for k in present if present[k] >= 0.3 * n]
    common = [k for k in common if k in prefer] or common
    mean = {k: length[k] / present[k] for k in common}
    ranked = sorted(common, key=lambda k: (-mean[k], k))
    wordy = [k for k in ranked if mean[k] >= 2]
    return (wordy or ranked)[:limit]


def text_stats(data: RunData, fields: Sequence[str] | None) -> TextStats:
    """Token count and token entropy per sampled record of each chosen field."""
    chosen = list(fields) if fields else pick_fields(data.sample, prefer=generated(data.manifest))
    stats = TextStats(fields=chosen)
    for f in chosen:
        stats.texts[f] = [row[f] for row in data.sample if f in row]
    key = MEMO.key(stats.fields, stats.texts)
    found = MEMO.get_stats(key)
    if found is None:
        found = DISK.get_stats(key, stats)
        if found is not None:
            MEMO.put_stats(key, found)
    if found is not None:
        return found
    for f in chosen:
        texts = stats.texts[f]
        counts: list[int] = []
        ent: list[float] = []
        for t in texts:
            tokens = tokenize(t)
            counts.append(len(tokens))
            ent.append(entropy(tokens))
        stats.tokens[f] = counts
        stats.entropy[f] = ent
    MEMO.put_stats(key, stats)
    DISK.put_stats(key, stats)
    return stats


@dataclass(frozen=True)
class FlagRow:
    field: str
    metric: str
    value: float | None
    threshold: float | None
    message: str


@dataclass
class Diversity:
    """Diversity metrics per field from ``synthdsl.analysis.diversity``, if it is importable.

    ``thresholds`` maps a metric to (comparison, limit): ``("≥", 0.25)`` means values
    below 0.25 are flagged.
    """

    available: bool
    reason: str = ""
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)
    thresholds: dict[str, tuple[str, float]] = field(default_factory=dict)
    flags: list[FlagRow] = field(default_factory=list)
    # fields measured on fewer than MIN_TEXTS_TO_JUDGE texts (never flagged): count
    too_few: dict[str, int] = field(default_factory=dict)


# metric -> (field of synthdsl.analysis.diversity.Thresholds, comparison that is ok)
_KNOWN_THRESHOLDS = {
    "distinct_2_at_10k": ("min_distinct_2", "≥"),
    "self_bleu": ("max_self_bleu", "≤"),
    "compression_ratio": ("max_compression_ratio", "≤"),
}
METRIC_HELP = {
    "records": "texts measured",
    "tokens": "tokens in all texts",
    "vocabulary_size": "distinct tokens",
    "distinct_1": "distinct unigrams / unigrams",
    "distinct_2": "distinct bigrams / bigrams",
    "distinct_3": "distinct trigrams / trigrams",
    "distinct_2_at_10k": "distinct-2 rarefied to 10,000 bigrams (size-independent)",
    "entropy_1": "entropy of the unigram distribution (bits)",
    "entropy_2": "entropy of the bigram distribution (bits)",
    "entropy_3": "entropy of the trigram distribution (bits)",
    "compression_ratio": "raw / deflated bytes (higher = more repetitive)",
    "self_bleu": "mean BLEU-4 of sampled texts against each other (higher = more alike)",
    "record_entropy_mean": "mean per-record token entropy (bits)",
    "record_entropy_std": "spread of per-record token entropy (bits)",
}


def _flatten(obj: Any, prefix: str = "") -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if str(k) in ("thresholds", "flags"):
                continue
            if isinstance(v, Mapping):
                out.update(_flatten(v, key))
            elif v is None:
                out[key] = None
            elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                out[key] = float(v)
    return out


def opt_float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _module_thresholds(mod: Any) -> dict[str, tuple[str, float]]:
    """The limits of ``synthdsl.analysis.diversity.Thresholds()`` that apply to one dataset."""
    cls = getattr(mod, "Thresholds", None)
    try:
        t = cls() if callable(cls) else None
    except Exception:
        t = None
    out: dict[str, tuple[str, float]] = {}
    for metric, (attr, op) in _KNOWN_THRESHOLDS.items():
        limit = opt_float(getattr(t, attr, None))
        if limit is not None:
            out[metric] = (op, limit)
    return out


def _report_dict(report: Any) -> Any:
    for name in ("to_dict", "to_json"):
        fn = getattr(report, name, None)
        if callable(fn):
            raw = fn()
            return json.loads(raw) if isinstance(raw, str) else raw
    return {}


class TextMemo:
    """The last few text statistics and diversity results, by a digest of the texts measured.

    A run's dataset card and its report read the same sample: the second one finds the
    tokens, entropies and metrics of the first here instead of computing them again.
    """

    SIZE = 4

    def __init__(self) -> None:
        self.stats: dict[str, TextStats] = {}
        self.diversity: dict[str, Diversity] = {}
        self.computed = 0  # how many times the diversity metrics were computed

    @staticmethod
    def key(fields: Sequence[str], texts: Mapping[str, Sequence[str]]) -> str:
        digest = hashlib.sha256()
        for f in fields:
            measured = texts.get(f, [])
            digest.update(f"{len(f)}:{f}:{len(measured)}\n".encode())
            for t in measured:
                raw = t.encode("utf-8", "surrogatepass")
                digest.update(f"{len(raw)}:".encode() + raw)
        return digest.hexdigest()

    def get_stats(self, key: str) -> TextStats | None:
        return _copy(self.stats.get(key))

    def put_stats(self, key: str, stats: TextStats) -> None:
        _remember(self.stats, key, stats, self.SIZE)

    def get_diversity(self, key: str) -> Diversity | None:
        return _copy(self.diversity.get(key))

    def put_diversity(self, key: str, result: Diversity) -> None:
        _remember(self.diversity, key, result, self.SIZE)


def _copy(found: _T | None) -> _T | None:
    # a copy: a caller changing its result must not change the next caller's
    return copy.deepcopy(found) if found is not None else None


def _remember(store: dict[str, _T], key: str, value: _T, size: int) -> None:
    store.pop(key, None)
    store[key] = copy.deepcopy(value)
    while len(store) > size:
        del store[next(iter(store))]


MEMO = TextMemo()


class DiskMemo:
    """Text statistics and diversity results as small JSON files, by content digest.

    ``folder=None`` means ``textstats/`` beside the call cache, looked up at each use (the
    environment may change between runs in one process, as it does in tests). A file that
    does not read back as expected is ignored (and rewritten); a folder that cannot be
    written only costs the next run the computation. At most ``KEEP`` files are kept:
    the oldest go first.
    """

    FORMAT = "synthdsl-textstats-1"  # in every key: a new layout never reads an old file
    KEEP = 64

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder
        self.reads = 0  # results read back from disk (tests and benchmarks look)
        self._code: dict[str, str] = {}

    def where(self) -> Path:
        return self.folder if self.folder is not None else beside_call_cache("textstats")

    def code_digest(self, origin: str) -> str:
        """A digest of the code that measures: this file, the tokenizer and the package
        whose ``__init__`` is ``origin`` (names, sizes and modification times, not
        contents: cheap, and an edit changes them)."""
        found = self._code.get(origin)
        if found is not None:
            return found
        files = [Path(__file__), Path(str(_tokens_module.__file__))]
        files.extend(sorted(Path(origin).parent.glob("*.py")))
        h = hashlib.blake2b(self.FORMAT.encode(), digest_size=16)
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        self._code[origin] = digest = h.hexdigest()
        return digest

    def _path(self, kind: str, key: str) -> Path:
        name = hashlib.blake2b(f"{self.FORMAT}:{kind}:{key}".encode(), digest_size=20)
        return self.where() / f"{kind}-{name.hexdigest()}.json"

    def _read(self, path: Path) -> Any:
        try:
            with path.open(encoding="utf-8") as fh:
                found = json.load(fh)
        except (OSError, ValueError):
            return None
        if not isinstance(found, dict) or found.get("format") != self.FORMAT:
            return None
        return found

    def _write(self, path: Path, body: dict[str, Any]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"format": self.FORMAT, **body}, fh, separators=(",", ":"))
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._prune(path.parent)
        except OSError:
            return  # a read-only or full disk: the next run computes again

    def _prune(self, folder: Path) -> None:
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for old in files[: max(0, len(files) - self.KEEP)]:
            old.unlink(missing_ok=True)

    def get_stats(self, key: str, like: TextStats) -> TextStats | None:
        found = self._read(self._path("stats", key))
        if found is None:
            return None
        try:
            tokens = {f: [int(x) for x in found["tokens"][f]] for f in like.fields}
            ent = {f: [float(x) for x in found["entropy"][f]] for f in like.fields}
        except (KeyError, TypeError, ValueError):
            return None
        if any(len(tokens[f]) != len(like.texts[f]) for f in like.fields):
            return None
        self.reads += 1
        return TextStats(
            list(like.fields), tokens, ent, {f: list(like.texts[f]) for f in like.fields}
        )

    def put_stats(self, key: str, stats: TextStats) -> None:
        self._write(self._path("stats", key), {"tokens": stats.tokens, "entropy": stats.entropy})

    def get_diversity(self, key: str) -> Diversity | None:
        found = self._read(self._path("diversity", key))
        if found is None:
            return None
        try:
            result = Diversity(
                True,
                metrics={
                    str(f): {str(k): opt_float(v) for k, v in m.items()}
                    for f, m in found["metrics"].items()
                },
                thresholds={
                    str(k): (str(op), float(limit))
                    for k, (op, limit) in found["thresholds"].items()
                },
                flags=[
                    FlagRow(str(f), str(metric), opt_float(v), opt_float(t), str(msg))
                    for f, metric, v, t, msg in found["flags"]
                ],
                too_few={str(k): int(v) for k, v in found["too_few"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self.reads += 1
        return result

    def put_diversity(self, key: str, result: Diversity) -> None:
        body = {
            "metrics": result.metrics,
            "thresholds": {k: list(v) for k, v in result.thresholds.items()},
            "flags": [[r.field, r.metric, r.value, r.threshold, r.message] for r in result.flags],
            "too_few": result.too_few,
        }
        self._write(self._path("diversity", key), body)


DISK = DiskMemo()


def diversity(ts: TextStats) -> Diversity:
    """The diversity metrics of ``ts``: remembered if these texts were measured before by
    the same ``synthdsl.analysis.diversity`` module (in this process, or on disk by a
    digest of its code; a disk hit does not even import it, nor numpy)."""
    texts = {f: ts.texts.get(f, [])[:MAX_DIVERSITY_TEXTS] for f in ts.fields}
    text_key = MEMO.key(ts.fields, texts)
    loaded = sys.modules.get(_DIVERSITY)
    origin = getattr(loaded, "__file__", None) if loaded is not None else _origin(_DIVERSITY)
    disk_key = f"{DISK.code_digest(origin)}:{text_key}" if origin else None
    key = f"{id(loaded)}:{text_key}" if loaded is not None else None
    found = MEMO.get_diversity(key) if key is not None else None
    if found is None and disk_key is not None:
        found = DISK.get_diversity(disk_key)
    if found is not None:
        return found
    mod, why = _diversity_module()
    if mod is None:
        return Diversity(False, f"the synthdsl.analysis.diversity module is not available ({why})")
    key = f"{id(mod)}:{text_key}"
    found = MEMO.get_diversity(key)
    if found is not None:
        return found
    MEMO.computed += 1
    result = _compute(ts, mod)
    if result.available:  # a failure is not remembered: the next caller tries again
        MEMO.put_diversity(key, result)
        if disk_key is not None and getattr(mod, "__file__", None) == origin:
            DISK.put_diversity(disk_key, result)
    return result


def _origin(name: str) -> str | None:
    """The file a module would load from, without importing it (None: not found)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _compute(ts: TextStats, mod: Any) -> Diversity:
    """Run ``summarize`` and ``collapse_flags`` of the diversity module on each field."""
    summarize = getattr(mod, "summarize", None)
    flags_fn = getattr(mod, "collapse_flags", None)
    if not callable(summarize):
        return Diversity(False, "synthdsl.analysis.diversity has no summarize()")
    result = Diversity(True, thresholds=_module_thresholds(mod))
    try:
        for f in ts.fields:
            texts = ts.texts.get(f, [])[:MAX_DIVERSITY_TEXTS]
            if not texts:
                continue
            report = summarize(texts)
            flat = _flatten(_report_dict(report))
            result.metrics[f] = {
                k: v
                for k, v in flat.items()
                if not k.startswith("length.") and k != "self_bleu_sample"
            }
            if len(texts) < MIN_TEXTS_TO_JUDGE:
                result.too_few[f] = len(texts)
            elif callable(flags_fn):
                for flag in flags_fn(report, None) or []:
                    row = FlagRow(
                        f,
                        str(getattr(flag, "metric", "?")),
                        opt_float(getattr(flag, "value", None)),
                        opt_float(getattr(flag, "threshold", None)),
                        str(getattr(flag, "message", "")),
                    )
                    result.flags.append(row)
                    if row.threshold is not None and row.metric not in result.thresholds:
                        result.thresholds[row.metric] = ("", row.threshold)
    except Exception as exc:  # another module's bug must not lose the whole report
        return Diversity(False, f"synthdsl.analysis.diversity raised {type(exc).__name__}: {exc}")
    return result
