"""Per-token prices for cost estimates, without importing litellm.

Input: a model string ("openai/gpt-4o-mini", "gpt-4o-mini", "local/smollm2").
Output: ``(input, output)`` USD per token, or None when the price is unknown; the
same through a batch API (``batch_price_per_token``: the table's batch prices, else half).
Raises nothing: a missing or unreadable table means "unknown".

Prices come from the JSON table bundled with the installed litellm package
(``model_prices_and_context_window_backup.json``). The file is located with
``importlib.util.find_spec``, which finds the package directory without running its
``__init__`` (importing litellm takes seconds; ``synthdsl plan`` must start fast).
Embedded ``local/...`` models cost nothing.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

__all__ = [
    "BATCH_DISCOUNT",
    "batch_price_per_token",
    "known_models",
    "price_per_token",
    "price_table_path",
]

# The share of the online price a batch call costs when the table has no batch price.
BATCH_DISCOUNT = 0.5

_TABLE_NAME = "model_prices_and_context_window_backup.json"


def price_table_path() -> Path | None:
    """Where litellm's bundled price table is, or None when litellm is not installed."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / _TABLE_NAME
        if candidate.is_file():
            return candidate
    return None


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    path = price_table_path()
    if path is None:
        return {}
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    data.pop("sample_spec", None)
    return data


@functools.lru_cache(maxsize=1)
def known_models() -> frozenset[str]:
    """The model names litellm's table lists (empty when litellm is not installed)."""
    return frozenset(_table())


def _prices(entry: object) -> tuple[float, float] | None:
    if not isinstance(entry, dict):
        return None
    cost_in = entry.get("input_cost_per_token")
    cost_out = entry.get("output_cost_per_token")
    if not isinstance(cost_in, (int, float)) or isinstance(cost_in, bool):
        return None
    if cost_out is None:
        cost_out = 0.0
    if not isinstance(cost_out, (int, float)) or isinstance(cost_out, bool):
        return None
    return float(cost_in), float(cost_out)


def _names(model: str) -> list[str]:
    return [model, model.split("/", 1)[1]] if "/" in model else [model]


def batch_price_per_token(model: str) -> tuple[float, float] | None:
    """``(input, output)`` USD per token for a call through a batch API: the table's
    ``*_cost_per_token_batches`` when it has them, else ``BATCH_DISCOUNT`` times the
    online price; None when unknown."""
    online = price_per_token(model)
    if online is None:
        return None
    table = _table()
    for name in _names(model):
        entry = table.get(name)
        if isinstance(entry, dict):
            found = _prices(
                {
                    "input_cost_per_token": entry.get("input_cost_per_token_batches"),
                    "output_cost_per_token": entry.get("output_cost_per_token_batches"),
                }
            )
            if found is not None:
                return found
    return online[0] * BATCH_DISCOUNT, online[1] * BATCH_DISCOUNT


def price_per_token(model: str) -> tuple[float, float] | None:
    """``(input, output)`` USD per token for ``model``, or None when unknown.

    Tries the model string as given, then without its provider prefix
    ("openai/gpt-4o-mini" → "gpt-4o-mini").
    """
    if model.startswith("local/"):
        return (0.0, 0.0)
    table = _table()
    for name in _names(model):
        found = _prices(table.get(name))
        if found is not None:
            return found
    return None
