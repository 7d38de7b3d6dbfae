"""One example record as a field table: the rejects' examples and the kept records.

Input: an example row (``record``, and for a reject its ``error``, ``detail`` and
``round``), already trimmed by ``report/data.py``. Output: ``example_table(ex)`` → a
``<table class="example">``: the record's fields, then the meta rows and the
``_provenance``, every value escaped. Raises nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from synthdsl.charts.svg import esc

__all__ = ["example_table"]


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def example_table(ex: Mapping[str, Any]) -> str:
    """One record: its fields as rows, then error, detail, round and provenance."""
    rows: list[str] = []
    record = ex.get("record")
    prov: Any = None
    if isinstance(record, Mapping):
        prov = record.get("_provenance")
        for k, v in record.items():
            if k != "_provenance":
                rows.append(f"<tr><th>{esc(k)}</th><td>{esc(_value_text(v))}</td></tr>")
    elif record is not None:
        rows.append(f"<tr><th>record</th><td>{esc(_value_text(record))}</td></tr>")
    for k in ("error", "detail", "round"):
        if ex.get(k) is not None:
            rows.append(
                f'<tr class="meta"><th>{esc(k)}</th><td>{esc(_value_text(ex[k]))}</td></tr>'
            )
    if prov is not None:
        rows.append(f'<tr class="meta"><th>_provenance</th><td>{esc(_value_text(prov))}</td></tr>')
    return f'<table class="example">{"".join(rows)}</table>'
