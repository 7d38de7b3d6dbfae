"""Where synthdsl keeps what it can rebuild: the call cache and the folders beside it.

Output: ``call_cache_path()`` is ``$SYNTHDSL_CACHE`` or ``.synthdsl/cache.sqlite``;
``beside_call_cache(name)`` is the folder ``name`` next to that file (``ngrams/`` for
reference n-gram sets, ``textstats/`` for the dataset card's text statistics). Every
cache that is keyed by content lives here, so one environment variable moves them all
and deleting the folder only costs recomputation. Errors: none (nothing is created).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["beside_call_cache", "call_cache_path"]


def call_cache_path() -> Path:
    """The SQLite file of the content cache of calls."""
    env = os.environ.get("SYNTHDSL_CACHE")
    return Path(env) if env else Path(".synthdsl") / "cache.sqlite"


def beside_call_cache(name: str) -> Path:
    """The folder ``name`` beside the call cache's file."""
    return call_cache_path().parent / name
