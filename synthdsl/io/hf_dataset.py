"""A Hugging Face ``datasets`` folder (``save_to_disk``) from a finished JSONL dataset.

Input: the JSONL file and the folder to make. Output: the folder, which
``datasets.load_from_disk`` loads with the same rows in the same order. The rows go
through ``synthdsl.io.writers.ParquetWriter`` first (one Arrow type per column inferred
from every row; a column whose values share no type holds their JSON text, as in a
Parquet output), then ``datasets`` reads that file and saves the folder itself. The
folder is built under ``<folder>.tmp`` and renamed into place; the scratch files are
removed either way. Memory stays bounded by a batch (``datasets`` memory-maps).

Raises ``SinkError``: ``datasets`` is not installed (``pip install "synthdsl[hf]"``;
``require_datasets`` says so up front), or a file cannot be written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from synthdsl.io.json_text import SinkError
from synthdsl.io.writers import ParquetWriter

__all__ = ["require_datasets", "write_hf_dataset"]


def require_datasets() -> Any:
    """The ``datasets`` module; SinkError saying what to install when it is missing.
    Called when an ``hf`` output opens, so a run stops before it makes any call."""
    try:
        # Imported here: datasets is heavy and optional; only format: hf needs it.
        import datasets
    except ImportError as exc:
        raise SinkError(
            'format: hf needs the datasets library: pip install "synthdsl[hf]"'
        ) from exc
    return datasets


def write_hf_dataset(jsonl: Path, folder: Path) -> None:
    """Make ``folder`` from the rows of ``jsonl``; see the module docstring."""
    datasets = require_datasets()
    scratch = folder.with_name(folder.name + ".build")
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    parquet = scratch / "rows.parquet"
    try:
        with ParquetWriter(parquet) as writer, jsonl.open("rb") as fh:
            for line in fh:
                writer.write(json.loads(line))
        bars = datasets.is_progress_bar_enabled()
        datasets.disable_progress_bars()
        try:
            if writer.rows:
                ds = datasets.Dataset.from_parquet(str(parquet), cache_dir=str(scratch / "cache"))
            else:  # no rows, so no columns: Parquet without a column is no input for datasets
                ds = datasets.Dataset.from_dict({})
            ds.save_to_disk(str(tmp))
        except OSError:
            raise
        except Exception as exc:  # datasets' own errors (DatasetGenerationError, ...)
            raise SinkError(f"cannot write {folder}: {type(exc).__name__}: {exc}") from exc
        finally:
            if bars:
                datasets.enable_progress_bars()
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError as exc:
        raise SinkError(f"cannot write {folder}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
