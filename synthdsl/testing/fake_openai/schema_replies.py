"""JSON replies shaped by a JSON Schema, for ``response_format`` json_schema requests.

Takes a schema (a practical subset: objects, arrays with ``prefixItems``/``items``
and ``uniqueItems``, scalars with bounds, ``multipleOf``, string formats and lengths,
``enum``/``const``, the first non-null ``anyOf``/``oneOf`` branch, ``allOf``, local
``$ref``), an ``Rng`` and an optional forced ``score``; gives a value valid against it,
the same for the same digest. Integer/number properties named ``score`` take the forced
score when there is one. Raises nothing: unknown or unresolvable parts give ``{}``/None.
"""

from __future__ import annotations

import json
import math
from typing import Any, TypeVar

from synthdsl.testing.fake_openai.words import Rng, sentence

__all__ = ["JsonGen"]

_MAX_SCHEMA_DEPTH = 16

_N = TypeVar("_N", int, float)


def _bounds(lo: _N | None, hi: _N | None, width: _N) -> tuple[_N, _N]:
    """Both bounds of a range: a missing one is ``width`` away from the other, and
    with neither the range is [0, width]."""
    if lo is None and hi is None:
        return width - width, width
    if lo is None:
        assert hi is not None
        return hi - width, hi
    if hi is None:
        return lo, lo + width
    return lo, hi


class JsonGen:
    """Builds a value valid against a (practical subset of) JSON Schema."""

    def __init__(self, root: Any, rng: Rng, score: int | float | None) -> None:
        self._root = root
        self._rng = rng
        self._score = score

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self._root
        for raw in ref[1:].split("/"):
            if not raw:
                continue
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def _merge(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Fold ``$ref``, ``allOf`` and the first ``anyOf``/``oneOf`` branch into one dict."""
        merged: dict[str, Any] = dict(schema)
        for _ in range(_MAX_SCHEMA_DEPTH):
            changed = False
            ref = merged.pop("$ref", None)
            if isinstance(ref, str):
                target = self._resolve(ref)
                if isinstance(target, dict):
                    merged = {**target, **merged}
                changed = True
            subs = merged.pop("allOf", None)
            if isinstance(subs, list):
                for sub in subs:
                    if isinstance(sub, dict):
                        merged = self._combine(merged, sub)
                changed = True
            for key in ("anyOf", "oneOf"):
                branches = merged.pop(key, None)
                if isinstance(branches, list) and branches:
                    first = next(
                        (b for b in branches if isinstance(b, dict) and b.get("type") != "null"),
                        branches[0],
                    )
                    if isinstance(first, dict):
                        merged = self._combine(merged, first)
                    changed = True
            if not changed:
                break
        return merged

    @staticmethod
    def _combine(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        out = {**base, **extra}
        if isinstance(base.get("properties"), dict) and isinstance(extra.get("properties"), dict):
            out["properties"] = {**base["properties"], **extra["properties"]}
        if isinstance(base.get("required"), list) and isinstance(extra.get("required"), list):
            out["required"] = list(dict.fromkeys([*base["required"], *extra["required"]]))
        return out

    def value(self, schema: Any, name: str | None = None, depth: int = 0) -> Any:
        if depth > _MAX_SCHEMA_DEPTH or not isinstance(schema, dict):
            return None if schema is not True else self._rng.word()
        schema = self._merge(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[self._rng.below(len(enum))]
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else "null"
        if kind is None:
            if "properties" in schema or "required" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            elif any(k in schema for k in ("minimum", "maximum", "multipleOf")):
                kind = "number"
            else:
                kind = "string"
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind == "integer":
            if name == "score" and self._score is not None:
                return self._score
            return self._integer(schema)
        if kind == "number":
            if name == "score" and self._score is not None:
                return self._score
            return self._float(schema)
        if kind == "boolean":
            return self._rng.below(2) == 1
        if kind == "null":
            return None
        return self._string(schema)

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        props = schema.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                out[key] = self.value(sub, key, depth + 1)
        required = schema.get("required")
        if isinstance(required, list):
            extra = schema.get("additionalProperties")
            for key in required:
                if isinstance(key, str) and key not in out:
                    sub = extra if isinstance(extra, dict) else {}
                    out[key] = self.value(sub, key, depth + 1)
        return out

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        lo = int(schema.get("minItems", 1))
        hi = int(schema.get("maxItems", lo + 3))
        lo = min(lo, hi)
        count = self._rng.between(lo, max(lo, min(hi, lo + 3)))
        prefix = schema.get("prefixItems")
        items = schema.get("items", {})
        unique = bool(schema.get("uniqueItems"))
        out: list[Any] = []
        seen: set[str] = set()
        tries = 0
        while len(out) < count and tries < count * 8 + 8:
            tries += 1
            index = len(out)
            if isinstance(prefix, list) and index < len(prefix):
                item = self.value(prefix[index], None, depth + 1)
            elif isinstance(items, dict):
                item = self.value(items, None, depth + 1)
            else:
                break
            if unique:
                key = json.dumps(item, sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
            out.append(item)
        return out

    def _integer(self, schema: dict[str, Any]) -> int:
        lo: int | None = None
        hi: int | None = None
        if isinstance(schema.get("minimum"), (int, float)):
            lo = math.ceil(schema["minimum"])
        if isinstance(schema.get("exclusiveMinimum"), (int, float)):
            lo2 = math.floor(schema["exclusiveMinimum"]) + 1
            lo = lo2 if lo is None else max(lo, lo2)
        if isinstance(schema.get("maximum"), (int, float)):
            hi = math.floor(schema["maximum"])
        if isinstance(schema.get("exclusiveMaximum"), (int, float)):
            hi2 = math.ceil(schema["exclusiveMaximum"]) - 1
            hi = hi2 if hi is None else min(hi, hi2)
        lo, hi = _bounds(lo, hi, 100)
        hi = max(lo, hi)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0:
            first, last = -(-lo // step), hi // step
            if first <= last:
                return self._rng.between(first, last) * step
        return self._rng.between(lo, hi)

    def _float(self, schema: dict[str, Any]) -> float:
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        lo_f = float(lo) if isinstance(lo, (int, float)) else None
        hi_f = float(hi) if isinstance(hi, (int, float)) else None
        lo_f, hi_f = _bounds(lo_f, hi_f, 1.0)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and step > 0:
            first, last = math.ceil(lo_f / step), math.floor(hi_f / step)
            if first <= last:
                return float(self._rng.between(first, last) * step)
        value = round(lo_f + (hi_f - lo_f) * (0.05 + 0.9 * self._rng.unit()), 3)
        if not lo_f < value < hi_f:
            value = (lo_f + hi_f) / 2
        return value

    def _string(self, schema: dict[str, Any]) -> str:
        fmt = schema.get("format")
        rng = self._rng
        if fmt == "date":
            text = f"2024-{rng.between(1, 12):02d}-{rng.between(1, 28):02d}"
        elif fmt == "date-time":
            text = f"2024-{rng.between(1, 12):02d}-{rng.between(1, 28):02d}T12:00:00Z"
        elif fmt == "email":
            text = f"{rng.word()}@example.com"
        elif fmt in ("uri", "url"):
            text = f"https://example.com/{rng.word()}"
        else:
            text = sentence(rng, rng.between(2, 6), final_period=False)
        min_len = schema.get("minLength")
        max_len = schema.get("maxLength")
        if isinstance(min_len, int):
            while len(text) < min_len:
                text = f"{text} {rng.word()}"
        if isinstance(max_len, int) and len(text) > max_len:
            text = text[:max_len]
        return text
