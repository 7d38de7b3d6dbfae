"""Recipe documents → declarations: models, sources and the output.

Input: a checked ``Document``. Output: ``ModelDecl``, ``SourceDecl`` and ``OutputDecl``
values (types in ``synthdsl.ir``). Raises nothing itself: problems come back as
``Diagnostic``s so that all of them reach the user in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthdsl.errors import Diagnostic, Span, did_you_mean
from synthdsl.io.provenance import placement
from synthdsl.ir import ModelDecl, ModelEntry, OutputDecl, PairsFrom, SourceDecl
from synthdsl.lang.load import Document, Path_
from synthdsl.lang.source_checks import check_source_data
from synthdsl.llm.batch_support import BATCH_KEYS
from synthdsl.llm.local_model import local_slots

__all__ = ["SAMPLING_KEYS", "parse_models", "parse_output", "parse_sources"]

SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed", "stop")


def _default_concurrency(raw: dict[str, Any]) -> int:
    """16 calls in flight; for the embedded model, as many as its server decodes at
    once (more would only queue there, and time out under load)."""
    slots = local_slots(str(raw.get("model", "")), raw)
    return 16 if slots is None else slots


def _entry(raw: dict[str, Any], weight: float = 1.0) -> ModelEntry:
    params = tuple(sorted((k, raw[k]) for k in SAMPLING_KEYS if k in raw))
    extra = tuple(sorted((raw.get("extra") or {}).items()))
    return ModelEntry(
        model=str(raw["model"]),
        weight=float(raw.get("weight", weight)),
        params=params,
        api_base=raw.get("api_base"),
        api_key_env=raw.get("api_key_env"),
        concurrency=int(raw.get("concurrency", _default_concurrency(raw))),
        rpm=raw.get("rpm"),
        tpm=raw.get("tpm"),
        timeout=float(raw.get("timeout", 120.0)),
        max_retries=int(raw.get("max_retries", 6)),
        backend=str(raw.get("backend", "auto")),
        extra=extra,
        batch=tuple(sorted((k, raw[k]) for k in BATCH_KEYS if k in raw)),
    )


def parse_models(doc: Document, prefix: Path_ = ("models",)) -> dict[str, ModelDecl]:
    out: dict[str, ModelDecl] = {}
    for alias, raw in (doc.data.get("models") or {}).items():
        span = doc.spans.key((*prefix, alias))
        entries = tuple(_entry(e) for e in raw["pool"]) if "pool" in raw else (_entry(raw),)
        out[str(alias)] = ModelDecl(str(alias), entries, span)
    return out


def parse_sources(
    doc: Document, base_dir: Path, *, check_files: bool = True
) -> tuple[dict[str, SourceDecl], list[Diagnostic]]:
    """The recipe's sources; with ``check_files``, a ``path:`` that does not exist
    (relative to ``base_dir``, the recipe's directory), or that leads outside the
    document's read boundary (a pack's recipe), is reported at the path's value, and
    the data is looked at (``lang/source_checks.py``: ``hf:``, splits, columns, no
    rows)."""
    out: dict[str, SourceDecl] = {}
    diags: list[Diagnostic] = []
    for name, raw in (doc.data.get("sources") or {}).items():
        span = doc.spans.key(("sources", name))
        kinds = [k for k in ("path", "hf", "records", "input") if k in raw]
        if len(kinds) != 1:
            if kinds:
                quoted = [f"'{k}'" for k in kinds]
                both = "both " if len(kinds) == 2 else ""
                diags.append(
                    Diagnostic(
                        doc.spans.key(("sources", name, kinds[1])),
                        f"source '{name}' has {both}{', '.join(quoted[:-1])} and {quoted[-1]}",
                        "keep only one of them",
                    )
                )
            else:
                diags.append(
                    Diagnostic(
                        span,
                        f"source '{name}' has no 'path', 'hf', 'records' or 'input'",
                        "give it 'path:' (a JSONL, CSV, Parquet or text file), 'hf:' (a "
                        "datasets name), inline 'records:', or 'input: true' to make it an "
                        "input of a strategy",
                    )
                )
            # Still declare it, with unknown fields, so that steps reading it are not
            # reported as well.
            out[str(name)] = SourceDecl(
                name=str(name), span=span, records=(), fields=("*",), base_dir=str(base_dir)
            )
            continue
        if check_files:
            problem = None
            if "path" in raw:
                path_span = doc.spans.value(("sources", name, "path"))
                problem = _missing_path(str(raw["path"]), base_dir, path_span)
                if problem is None and doc.boundary is not None:
                    written = Path(str(raw["path"])).expanduser()
                    full = written if written.is_absolute() else base_dir / written
                    problem = doc.boundary.problem(full, path_span, "source", str(raw["path"]))
            if problem is not None:
                diags.append(problem)
            else:
                diags += check_source_data(doc, str(name), raw, base_dir)
        fields = tuple(raw["fields"]) if "fields" in raw else None
        records = tuple(raw["records"]) if "records" in raw else None
        out[str(name)] = SourceDecl(
            name=str(name),
            span=span,
            path=raw.get("path"),
            records=records,
            is_input=bool(raw.get("input", False)),
            format=raw.get("format", "auto"),
            text_field=raw.get("text_field", "text"),
            glob=raw.get("glob"),
            limit=raw.get("limit"),
            fields=fields,
            base_dir=str(base_dir),
            allow_empty=bool(raw.get("allow_empty", False)),
            hf=raw.get("hf"),
            split=raw.get("split"),
            revision=raw.get("revision"),
            config=raw.get("config"),
            columns=tuple(raw["columns"]) if "columns" in raw else None,
            license=raw.get("license"),
        )
    return out, diags


def _missing_path(path: str, base_dir: Path, span: Span) -> Diagnostic | None:
    """A diagnostic when the source ``path`` (relative to ``base_dir``) does not exist."""
    written = Path(path).expanduser()
    full = written if written.is_absolute() else base_dir / written
    if full.exists():
        return None
    relative = "source paths are relative to the recipe's folder"
    if base_dir not in (Path(""), Path(".")):
        relative += f" ({base_dir.as_posix()})"
    hint: str | None = None
    parent = full.parent
    if parent.is_dir():
        names = sorted(p.name for p in parent.iterdir() if not p.name.startswith("."))
        close = did_you_mean(written.name, names)
        if close is not None:
            match = close.split("'")[1]
            prefix = path[: len(path) - len(written.name)] if path.endswith(written.name) else ""
            hint = f"did you mean '{prefix}{match}'?"
    else:
        hint = f"folder '{written.parent.as_posix()}' does not exist; {relative}"
    if hint is None:
        hint = relative
    return Diagnostic(span, f"source file not found: {path}", hint)


def parse_output(doc: Document) -> OutputDecl:
    raw = doc.data.get("output") or {}
    shape = raw.get("shape", "records")
    pairs = raw.get("pairs_from")
    return OutputDecl(
        from_=raw.get("from"),
        dir=raw.get("dir"),
        format=raw.get("format", "jsonl"),
        shape=shape,
        fields=tuple(raw["fields"]) if "fields" in raw else None,
        instruction_field=raw.get("instruction_field", "instruction"),
        input_field=raw.get("input_field", "input"),
        response_field=raw.get("response_field", "response"),
        system=raw.get("system"),
        provenance=placement(shape, raw.get("provenance")),
        prompt_field=raw.get("prompt_field", "prompt"),
        chosen_field=raw.get("chosen_field", "chosen"),
        rejected_field=raw.get("rejected_field", "rejected"),
        preference_style=raw.get("preference_style", "standard"),
        pairs_from=PairsFrom(**pairs) if isinstance(pairs, dict) else None,
        turns_field=raw.get("turns_field", "turns"),
        style=raw.get("style", "openai"),
        span=doc.spans.key(("output",)) if "output" in doc.data else None,
        card=bool(raw.get("card", True)),
        license=raw.get("license"),
    )
