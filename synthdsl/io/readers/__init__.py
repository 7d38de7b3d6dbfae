"""Streaming readers for recipe sources, one module per format.

Input: a path to a JSONL, JSON, CSV, Parquet, Arrow, text/Markdown, HTML, PDF or YAML
file (or any text file read as ``lines``), a folder of them, or a folder ``datasets``
saved (``save_to_disk``); or a dataset ``datasets.load_dataset`` streams (``hf:``).
Output: plain ``dict`` rows, yielded lazily (memory does not grow with the file: JSONL
and lines are read line by line, CSV through ``csv.DictReader``, Parquet batch by batch;
a document file is one row, a YAML list is loaded whole); plus ``peek_fields`` (field
names of the first rows, for compile-time template checks), ``has_rows``, ``source_files`` and
``source_fingerprint`` (a cheap identity of the files, for manifests), and
``html_to_text``.

Formats, when ``fmt="auto"``, come from the extension: ``.jsonl``/``.ndjson`` → jsonl,
``.csv`` → csv, ``.parquet``/``.pq`` → parquet, ``.arrow`` → arrow,
``.txt``/``.md``/``.markdown`` → text, ``.html``/``.htm`` → html, ``.pdf`` → pdf,
``.yaml``/``.yml`` → yaml. The layout: ``base`` (formats, ``SourceError``, the context a
format reader gets), ``files`` (folder walking, fingerprints), ``dispatch``
(``SourceReader``: picks and drives the format readers), and one module per format:
``jsonl``, ``json_array``, ``csv_table``, ``parquet``, ``arrow_file``, ``text``,
``lines``, ``html_page``, ``pdf``, ``yaml_list``; ``hf_disk`` (the shards of a
``save_to_disk`` folder) and ``hf_hub`` (``HubSource``, ``hub_fields``: ``hf:`` sources
through ``datasets``).

Raises ``SourceError`` (a ``RunError``); see ``dispatch`` and each format module for
what, and ``SourceReader`` for skipping bad lines instead.
"""

from __future__ import annotations

from synthdsl.io.readers.base import FORMATS, SourceError, detect_format
from synthdsl.io.readers.dispatch import SourceReader, has_rows, peek_fields, read_source
from synthdsl.io.readers.files import source_files, source_fingerprint
from synthdsl.io.readers.hf_disk import disk_kind, disk_splits
from synthdsl.io.readers.hf_hub import (
    HF_INSTALL,
    HubSource,
    datasets_available,
    hf_target,
    hub_fields,
    is_hub_name,
)
from synthdsl.io.readers.html_page import html_to_text

__all__ = [
    "FORMATS",
    "HF_INSTALL",
    "HubSource",
    "SourceError",
    "SourceReader",
    "datasets_available",
    "detect_format",
    "disk_kind",
    "disk_splits",
    "has_rows",
    "hf_target",
    "html_to_text",
    "hub_fields",
    "is_hub_name",
    "peek_fields",
    "read_source",
    "source_files",
    "source_fingerprint",
]
