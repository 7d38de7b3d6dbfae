"""The recipe JSON Schema, shipped as package data.

``shipped_schema()`` reads it once (the schema of the built-in step kinds);
``check.recipe_schema`` adds the step kinds of installed plugins (``plugin_steps``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["shipped_schema"]


@lru_cache(maxsize=1)
def shipped_schema() -> dict[str, Any]:
    """The JSON Schema of recipe format version 1, as shipped (no plugin kinds)."""
    text = resources.files("synthdsl.lang.schema").joinpath("recipe.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
