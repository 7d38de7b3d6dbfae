"""Check a loaded recipe against the closed JSON Schema of its format version.

Input: a ``Document`` from ``synthdsl.load``. Output: a list of ``Diagnostic``s, each at
the ``file:line:col`` of the offending key or value (jsonschema's ``absolute_path``
mapped through the document's span table), with "did you mean" hints for unknown keys
and enum values. An unsupported or missing format version is reported before any other
check, since the rest of the schema would not apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from synthdsl.errors import Diagnostic, did_you_mean
from synthdsl.load import Document, Path_

__all__ = ["SUPPORTED_VERSIONS", "check_document", "recipe_schema"]

SUPPORTED_VERSIONS = (1,)

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


@lru_cache(maxsize=1)
def recipe_schema() -> dict[str, Any]:
    """The JSON Schema of recipe format version 1."""
    text = resources.files("synthdsl.schema").joinpath("recipe.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(recipe_schema())


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _where(path: Path_) -> str:
    if not path:
        return "the recipe"
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _expected_types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    return []


def _diagnose(error: Any, doc: Document) -> list[Diagnostic]:
    path: Path_ = tuple(error.absolute_path)
    spans = doc.spans
    validator = error.validator
    label = _where(path)
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        instance = error.instance if isinstance(error.instance, dict) else {}
        extra = sorted(str(k) for k in instance if k not in error.schema.get("properties", {}))
        out = []
        for key in extra:
            hint = did_you_mean(key, allowed) or (
                f"allowed keys here: {', '.join(allowed)}" if allowed else None
            )
            out.append(Diagnostic(spans.key((*path, key)), f"unknown key '{key}' in {label}", hint))
        return out
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        return [Diagnostic(spans.value(path), f"missing required key '{missing}' in {label}")]
    if validator == "type":
        expected = " or ".join(_TYPE_NAMES.get(t, t) for t in _expected_types(error.schema))
        return [
            Diagnostic(
                spans.value(path),
                f"{label} must be {expected}, found {_describe(error.instance)}",
            )
        ]
    if validator == "enum":
        options = [str(o) for o in error.schema["enum"]]
        hint = (
            did_you_mean(str(error.instance), options) if isinstance(error.instance, str) else None
        )
        return [
            Diagnostic(
                spans.value(path),
                f"{label} must be one of: {', '.join(options)} (found {error.instance!r})",
                hint,
            )
        ]
    if validator == "const":
        return [
            Diagnostic(
                spans.value(path),
                f"{label} must be {error.schema['const']!r}, found {error.instance!r}",
            )
        ]
    if validator == "pattern":
        if (path and path[-1] in ("id", "from")) or (len(path) >= 2 and path[-2] == "from"):
            what = "an identifier (letters, digits, '_' or '-', not starting with a digit)"
        elif path and path[-1] == "name":
            what = "a name made of letters, digits, '_', '.' or '-'"
        else:
            what = "a valid name (letters, digits and '_')"
        return [Diagnostic(spans.value(path), f"{label} must be {what}, found {error.instance!r}")]
    if validator == "propertyNames":
        bad = error.instance
        return [
            Diagnostic(
                spans.value(path),
                f"invalid name {bad!r} in {label}: use letters, digits, '_' or '-', "
                "not starting with a digit",
            )
        ]
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = error.schema[validator]
        words = {
            "minimum": f"at least {bound}",
            "maximum": f"at most {bound}",
            "exclusiveMinimum": f"greater than {bound}",
            "exclusiveMaximum": f"less than {bound}",
        }[validator]
        return [Diagnostic(spans.value(path), f"{label} must be {words}, found {error.instance!r}")]
    if validator in ("minItems", "maxItems"):
        n = error.schema[validator]
        words = f"at least {n}" if validator == "minItems" else f"at most {n}"
        return [Diagnostic(spans.value(path), f"{label} must have {words} item(s)")]
    if validator == "minLength":
        return [Diagnostic(spans.value(path), f"{label} must not be empty")]
    if validator in ("anyOf", "oneOf"):
        return _diagnose_any_of(error, doc)
    return [Diagnostic(spans.value(path), f"{label}: {error.message}")]


def _diagnose_any_of(error: Any, doc: Document) -> list[Diagnostic]:
    """Report the errors of the branch the value was most likely meant for."""
    path: Path_ = tuple(error.absolute_path)
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    candidates = []
    for idx, errs in branches.items():
        type_miss = any(e.validator == "type" and tuple(e.absolute_path) == path for e in errs)
        if not type_miss:
            candidates.append((len(errs), idx, errs))
    if candidates:
        # A mapping with 'pool' is a pool; otherwise prefer the branch with fewest errors.
        inst = error.instance
        if isinstance(inst, dict) and "pool" in inst:
            for _, _idx, errs in candidates:
                if any("pool" in (e.schema.get("properties") or {}) for e in errs):
                    return [d for e in errs for d in _diagnose(e, doc)]
        candidates.sort(key=lambda c: (c[0], c[1]))
        return [d for e in candidates[0][2] for d in _diagnose(e, doc)]
    expected: list[str] = []
    for sub in error.context:
        for t in _expected_types(sub.schema):
            name = _TYPE_NAMES.get(t, t)
            if name not in expected:
                expected.append(name)
    label = _where(path)
    return [
        Diagnostic(
            doc.spans.value(path),
            f"{label} must be {' or '.join(expected) or 'valid'}, found {_describe(error.instance)}",
        )
    ]


def check_version(doc: Document) -> list[Diagnostic]:
    data = doc.data
    if "synthdsl" not in data:
        return [
            Diagnostic(
                doc.spans.value(()),
                "missing format version: add 'synthdsl: 1' at the top of the recipe",
            )
        ]
    version = data["synthdsl"]
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        return [
            Diagnostic(
                doc.spans.value(("synthdsl",)),
                f"unsupported recipe format version {version!r}",
                f"this synthdsl reads format version(s) {supported}",
            )
        ]
    return []


def check_document(doc: Document) -> list[Diagnostic]:
    """Every schema problem of ``doc``, deduplicated and sorted by position."""
    version_problems = check_version(doc)
    if version_problems:
        return version_problems
    errors: Iterable[Any] = _validator().iter_errors(doc.data)
    seen: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for err in errors:
        for diag in _diagnose(err, doc):
            key = (diag.span, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
    return sorted(out, key=Diagnostic.sort_key)
