"""Kept records: a few rows of the dataset, shown beside the rejects' examples.

Input: a ``RunData`` (``kept_examples``: the first rows by record id, trimmed; the
dataset path and note). Output: ``kept_examples(data)`` → a ``<details>`` block (open)
with each row as a field table, so a reader sees what passed next to what did not.
Errors: none; no dataset or an empty one gives a note.
"""

from __future__ import annotations

from synthdsl.charts.svg import esc, fmt_num
from synthdsl.report.data import RunData
from synthdsl.report.sections.examples import example_table
from synthdsl.textproc.plural import plural

__all__ = ["kept_examples"]


def kept_examples(data: RunData) -> str:
    """The kept rows as example tables, or a note saying why there are none."""
    if data.dataset_path is None or not data.kept_examples:
        why = "no dataset" if data.dataset_path is None else "the dataset has no records"
        return f'<p class="note">Kept records: none to show ({esc(why)}).</p>'
    n = len(data.kept_examples)
    tables = "".join(example_table({"record": row}) for row in data.kept_examples)
    return (
        '<details class="reject kept" open><summary><span class="pill kept">kept</span> '
        f"<b>{esc(fmt_num(data.records_read))}</b> in "
        f"<code>{esc(data.dataset_path.name)}</code> · {plural(n, 'record')} shown, the "
        f"first by record id (long values cut)</summary>{tables}</details>"
    )
