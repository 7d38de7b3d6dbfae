"""Check a loaded recipe against the closed JSON Schema of its format version.

Input: a ``Document`` from ``synthdsl.lang.load``. Output: a list of ``Diagnostic``s, each at
the ``file:line:col`` of the offending key or value (jsonschema's ``absolute_path``
mapped through the document's span table), with "did you mean" hints for unknown keys
and enum values. An unsupported or missing format version is reported before any other
check, since the rest of the schema would not apply. A recipe the shipped schema
rejects is checked again with the step kinds of installed plugins
(``plugin_steps.py``), so a plugin step's config is checked like a built-in one; an
unknown step key names the plugin kinds installed. Raises ``PluginError`` (exit 1)
only for a broken plugin.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from synthdsl.errors import Diagnostic, Span, did_you_mean
from synthdsl.lang.load import Document, Path_, Spans
from synthdsl.lang.paramtypes import param_defaults
from synthdsl.lang.schema import shipped_schema
from synthdsl.lang.schema.plugin_steps import merged_schema, plugin_kinds

__all__ = [
    "PARAM_RE",
    "SUPPORTED_VERSIONS",
    "check_document",
    "check_substituted",
    "param_key",
    "recipe_schema",
    "substitute_placeholders",
]

SUPPORTED_VERSIONS = (1,)
PARAM_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A parameter reference, ``${name}``."""

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def recipe_schema(with_plugins: bool = False) -> dict[str, Any]:
    """The JSON Schema of recipe format version 1; ``with_plugins``: with the step kinds
    of installed plugins (discovers them; may raise ``PluginError``)."""
    if with_plugins:
        return merged_schema()
    return shipped_schema()


@lru_cache(maxsize=2)
def _validator(with_plugins: bool = False) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(recipe_schema(with_plugins))


def _schema_errors(validator: Callable[[bool], Any], data: Any) -> list[Any]:
    """The errors of ``data``; checked again with the plugin step kinds when one of them
    is an unknown key in a step (which may name a plugin's kind).

    Plugins are looked for only then, so a recipe of built-in kinds never pays for their
    discovery, and a broken plugin does not hide a recipe's own problems.
    """
    errors = list(validator(False).iter_errors(data))
    if any(_unknown_step_key(e) for e in errors) and plugin_kinds():
        errors = list(validator(True).iter_errors(data))
    return errors


def _is_step_schema(schema: Any) -> bool:
    """A step's or a switch case's schema (both have ``id`` and ``when``)."""
    known = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return "id" in known and "when" in known


def _unknown_step_key(error: Any) -> bool:
    if error.validator == "additionalProperties" and _is_step_schema(error.schema):
        return True
    return any(_unknown_step_key(sub) for sub in error.context or ())


def _step_key_hint(key: str) -> str:
    """What to say about an unknown key in a step: it may be a plugin's step kind."""
    if os.environ.get("SYNTHDSL_NO_PLUGINS") == "1":
        return "if it is a step kind from a plugin: plugins are turned off (SYNTHDSL_NO_PLUGINS=1)"
    kinds = plugin_kinds()
    if key in kinds:  # known, but not here: a switch case takes record-at-a-time kinds
        return (
            f"'{key}' (from {kinds[key].plugin.package}) handles whole streams, so it cannot "
            "be a case of a switch"
        )
    if kinds:
        return f"step kinds from installed plugins: {', '.join(sorted(kinds))}"
    return "no installed plugin adds a step kind (see docs/plugins.md)"


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


def _show(value: Any) -> str:
    """A value the way it reads in YAML, for the 'found ...' part of messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "an empty value (null)"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {text!r}"
    return _describe(value)


def _dotted(path: Path_) -> str:
    parts: list[str] = []
    for p in path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _where(path: Path_, data: Any = None) -> str:
    """A readable name for the place at ``path``, e.g. ``generate.n in step 'ask'``.

    Inside a step that has an id, the (innermost) step is named by its id rather than by
    its index in ``steps``.
    """
    if not path:
        return "the recipe"
    step_at: int | None = None
    step_id = ""
    node = data
    for i, p in enumerate(path):
        in_dict = isinstance(node, dict) and p in node
        in_list = isinstance(node, list) and isinstance(p, int) and 0 <= p < len(node)
        if not (in_dict or in_list):
            break
        node = node[p]
        if isinstance(p, int) and i > 0 and path[i - 1] == "steps" and isinstance(node, dict):
            sid = node.get("id")
            if isinstance(sid, str) and sid:
                step_at, step_id = i, sid
    if step_at is None:
        return _dotted(path)
    rest = path[step_at + 1 :]
    return f"{_dotted(rest)} in step '{step_id}'" if rest else f"step '{step_id}'"


_REQUIRED_HINTS = {
    "model": "name the model, e.g. 'model: local/smollm2' or 'model: openai/gpt-4o-mini'",
    "steps": "add 'steps:' with at least one step",
    "id": "give every step a unique 'id:'",
    "field": "name the field holding the text, e.g. 'field: response'",
    "as": "say what to extract: 'as: list', 'as: json' or 'as: code'",
    "rounds": "say how many rounds to run, e.g. 'rounds: 3'",
    "parts": "list the parts to mix, each with 'from:' and 'ratio:'",
    "from": "name the source or step this part takes rows from",
    "ratio": "give each part a 'ratio:' between 0 and 1; the ratios add up to 1",
    "expr": "put the filter expression in 'expr:'",
}


def _type_hint(value: Any, types: list[str]) -> str | None:
    if isinstance(value, str) and {"integer", "number"} & set(types):
        try:
            float(value)
        except ValueError:
            return None
        return "write the number without quotes"
    if isinstance(value, str) and "boolean" in types:
        if value.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
            return "write true or false without quotes"
        return None
    if value is None:
        return "the key is there but has no value: give it one, or remove the key"
    if isinstance(value, str) and "array" in types:
        return "write a list, e.g. [a, b], or one '- ' item per line"
    return None


def _param_hint(value: Any, path: Path_, doc: Document) -> str | None:
    """Why a ``${name}`` placeholder was not replaced by a value of the right type."""
    whole = PARAM_RE.fullmatch(value) if isinstance(value, str) else None
    if whole is None:
        return None
    if not path or path[0] in _NOT_SUBSTITUTED:
        return "parameters (${...}) are not replaced here"
    params = doc.data.get("params")
    declared = sorted(params) if isinstance(params, dict) else []
    name = whole.group(1)
    close = did_you_mean(name, declared)
    return f"'{name}' is not declared under 'params:'" + (f"; {close}" if close else "")


_NOT_SUBSTITUTED = ("synthdsl", "params")


def _key_param_hint(name: Any, doc: Document) -> str | None:
    """Why a key ``${name}`` was not replaced by a field name."""
    whole = PARAM_RE.fullmatch(name) if isinstance(name, str) else None
    if whole is None:
        if isinstance(name, str) and PARAM_RE.search(name):
            return "a key takes a parameter whole ('${name}'), not inside text"
        return None
    params = doc.data.get("params")
    declared = sorted(params) if isinstance(params, dict) else []
    if whole.group(1) in declared:
        return f"a key takes the text of a parameter, and '{whole.group(1)}' is not text"
    close = did_you_mean(whole.group(1), declared)
    return f"'{whole.group(1)}' is not declared under 'params:'" + (f"; {close}" if close else "")


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value)


def _expected_types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    return []


def _key_text(doc: Document, span: Span, key: Any) -> str:
    """A mapping key as written in the file (``yes``, ``1``, ``~``), not as YAML read it."""
    if isinstance(key, str):
        return key
    lines = doc.text.splitlines()
    if 1 <= span.line <= len(lines):
        token = lines[span.line - 1][span.col - 1 :].split(":", 1)[0].strip()
        if token:
            return token
    return str(key)


def _diagnose(error: Any, doc: Document, prefix: Path_ = ()) -> list[Diagnostic]:
    path: Path_ = (*prefix, *error.absolute_path)
    spans = doc.spans
    validator = error.validator
    label = _where(path, doc.data)
    if validator == "additionalProperties":
        known = error.schema.get("properties", {})
        allowed = sorted(known)
        instance = error.instance if isinstance(error.instance, dict) else {}
        out = []
        for key in sorted((k for k in instance if k not in known), key=str):
            span = spans.key((*path, key if isinstance(key, str | int) else str(key)))
            text = _key_text(doc, span, key)
            hint = did_you_mean(text, allowed) or (
                f"allowed keys here: {', '.join(allowed)}" if allowed else None
            )
            if _is_step_schema(error.schema):  # a step or a switch case
                close = did_you_mean(text, allowed)
                if close is None:
                    hint = _step_key_hint(text)
                elif os.environ.get("SYNTHDSL_NO_PLUGINS") == "1":
                    hint = f"{close} Or {_step_key_hint(text)}"
            if isinstance(key, bool):
                hint = f"YAML reads '{text}' as {_yaml_scalar(key)}; quote the key if you meant it"
            out.append(Diagnostic(span, f"unknown key '{text}' in {label}", hint))
        return out
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else str(error.message)
        # At the key naming the incomplete mapping, not at the mapping's first entry.
        where = spans.key(path) if path and isinstance(path[-1], str) else spans.value(path)
        return [
            Diagnostic(
                where, f"missing required key '{missing}' in {label}", _REQUIRED_HINTS.get(missing)
            )
        ]
    if validator == "type":
        types = _expected_types(error.schema)
        expected = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
        return [
            Diagnostic(
                spans.value(path),
                f"{label} must be {expected}, found {_show(error.instance)}",
                _param_hint(error.instance, path, doc) or _type_hint(error.instance, types),
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
                f"{label} must be {_yaml_scalar(error.schema['const'])}, "
                f"found {_show(error.instance)}",
            )
        ]
    if validator == "pattern":
        if (path and path[-1] in ("id", "from")) or (len(path) >= 2 and path[-2] == "from"):
            what = "an identifier (letters, digits, '_' or '-', not starting with a digit)"
        elif path and path[-1] == "name":
            what = "a name made of letters, digits, '_', '.' or '-'"
        else:
            what = "a valid name (letters, digits and '_')"
        return [
            Diagnostic(
                spans.value(path),
                f"{label} must be {what}, found {error.instance!r}",
                _key_param_hint(error.instance, doc),
            )
        ]
    if validator == "propertyNames":
        bad = error.instance
        return [
            Diagnostic(
                spans.key((*path, bad)) if isinstance(bad, str | int) else spans.value(path),
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
        noun = "item" if n == 1 else "items"
        return [Diagnostic(spans.value(path), f"{label} must have {words} {noun}")]
    if validator == "minLength":
        return [Diagnostic(spans.value(path), f"{label} must not be empty")]
    if validator in ("anyOf", "oneOf"):
        return _diagnose_any_of(error, doc, prefix)
    return [Diagnostic(spans.value(path), f"{label}: {error.message}")]


def _diagnose_any_of(error: Any, doc: Document, prefix: Path_ = ()) -> list[Diagnostic]:
    """Report the errors of the branch the value was most likely meant for."""
    rel: Path_ = tuple(error.absolute_path)
    path: Path_ = (*prefix, *rel)
    branches: dict[int, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    candidates = []
    for idx, errs in branches.items():
        type_miss = any(e.validator == "type" and tuple(e.absolute_path) == rel for e in errs)
        if not type_miss:
            candidates.append((len(errs), idx, errs))
    if candidates:
        # A mapping with 'pool' is a pool; otherwise prefer the branch with fewest errors.
        inst = error.instance
        if isinstance(inst, dict) and "pool" in inst:
            for _, _idx, errs in candidates:
                if any("pool" in (e.schema.get("properties") or {}) for e in errs):
                    return [d for e in errs for d in _diagnose(e, doc, prefix)]
        candidates.sort(key=lambda c: (c[0], c[1]))
        return [d for e in candidates[0][2] for d in _diagnose(e, doc, prefix)]
    expected: list[str] = []
    for sub in error.context:
        for t in _expected_types(sub.schema):
            name = _TYPE_NAMES.get(t, t)
            if name not in expected:
                expected.append(name)
    label = _where(path, doc.data)
    return [
        Diagnostic(
            doc.spans.value(path),
            f"{label} must be {' or '.join(expected) or 'valid'}, found {_show(error.instance)}",
        )
    ]


def check_version(doc: Document) -> list[Diagnostic]:
    data = doc.data
    if "synthdsl" not in data:
        return [
            Diagnostic(
                doc.spans.value(()),
                "missing format version: the recipe has no 'synthdsl:' key",
                f"add 'synthdsl: {SUPPORTED_VERSIONS[-1]}' as the first line of the recipe",
            )
        ]
    version = data["synthdsl"]
    if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        return [
            Diagnostic(
                doc.spans.value(("synthdsl",)),
                f"unsupported recipe format version {_yaml_scalar(version)}",
                f"write the number without quotes: 'synthdsl: {version}'"
                if isinstance(version, str) and version.strip() in map(str, SUPPORTED_VERSIONS)
                else f"this synthdsl reads format version {supported}",
            )
        ]
    return []


def param_key(key: Any, params: dict[str, Any]) -> str | None:
    """The parameter a mapping key that is exactly ``${name}`` names (a field named by a
    parameter, e.g. ``set: {${answer_field}: ...}``), when ``params`` has it; else None."""
    whole = PARAM_RE.fullmatch(key) if isinstance(key, str) else None
    if whole is None or whole.group(1) not in params:
        return None
    return whole.group(1)


def substitute_placeholders(
    value: Any,
    params: dict[str, Any],
    path: Path_,
    changed: dict[Path_, str],
    spans: Spans | None = None,
) -> Any:
    """``value`` with every string that is exactly ``${name}`` (a parameter in ``params``)
    replaced by the parameter's value, and every mapping key that is exactly ``${name}``
    by the parameter's text (``spans`` then learns the positions under the new key);
    ``changed`` receives each replaced path and name."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            name = param_key(k, params)
            key = params[name] if name is not None and isinstance(params[name], str) else k
            if key != k and spans is not None:
                spans.alias((*path, k), (*path, key))
            out[key] = substitute_placeholders(v, params, (*path, key), changed, spans)
        return out
    if isinstance(value, list):
        return [
            substitute_placeholders(v, params, (*path, i), changed, spans)
            for i, v in enumerate(value)
        ]
    if isinstance(value, str):
        whole = PARAM_RE.fullmatch(value)
        if whole and whole.group(1) in params:
            changed[path] = whole.group(1)
            return params[whole.group(1)]
    return value


def _collect(
    errors: Iterable[Any],
    doc: Document,
    prefix: Path_,
    changed: dict[Path_, str],
    hints: dict[str, str] | None = None,
) -> list[Diagnostic]:
    """Diagnostics of jsonschema errors, deduplicated; a problem with a value that came
    from a ``${param}`` says so (with ``hints[name]`` as its hint, when given)."""
    from_param = {doc.spans.value(p): name for p, name in changed.items()}
    seen: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for err in errors:
        for diag in _diagnose(err, doc, prefix):
            name = from_param.get(diag.span) if diag.span is not None else None
            if name is not None:
                diag = Diagnostic(
                    diag.span,
                    f"{diag.message} (the value of ${{{name}}})",
                    (hints or {}).get(name, diag.hint),
                )
            key = (diag.span, diag.message)
            if key not in seen:
                seen.add(key)
                out.append(diag)
    return sorted(out, key=Diagnostic.sort_key)


def check_document(doc: Document) -> list[Diagnostic]:
    """Every schema problem of ``doc``, deduplicated and sorted by position.

    A value that is exactly ``${name}`` of a declared parameter is checked with the
    parameter's default in its place (it takes the parameter's value and type);
    ``check_substituted`` checks the values a using recipe gives in ``with:``.
    """
    version_problems = check_version(doc)
    if version_problems:
        return version_problems
    data = doc.data
    changed: dict[Path_, str] = {}
    params = param_defaults(data.get("params"))
    if params:
        data = {
            k: v
            if k in _NOT_SUBSTITUTED
            else substitute_placeholders(v, params, (k,), changed, doc.spans)
            for k, v in data.items()
        }
    return _collect(_schema_errors(_validator, data), doc, (), changed)


@lru_cache(maxsize=32)
def _part_validator(part: str, with_plugins: bool = False) -> Any:
    """A validator of one part of a recipe: a top-level key, or ``step``."""
    from jsonschema import Draft202012Validator

    schema = recipe_schema(with_plugins)
    sub = {"$ref": "#/$defs/step"} if part == "step" else schema["properties"][part]
    return Draft202012Validator({"$schema": schema["$schema"], "$defs": schema["$defs"], **sub})


def check_substituted(
    doc: Document,
    path: Path_,
    value: Any,
    changed: dict[Path_, str],
    hints: dict[str, str] | None = None,
) -> list[Diagnostic]:
    """Schema problems of the part of ``doc`` at ``path`` (a top-level key or a step) once
    parameters were substituted into it.

    ``check_document`` accepted the recipe with the parameters' defaults, so a problem
    here comes from a value given in ``with:``; ``changed`` maps each substituted
    (absolute) path to its parameter's name; ``hints`` may say, by parameter name,
    where its value was set.
    """
    if not changed:
        return []
    properties = recipe_schema()["properties"]
    if len(path) == 1 and isinstance(path[0], str) and path[0] in properties:
        part = path[0]
    elif len(path) >= 2 and path[-2] == "steps" and isinstance(path[-1], int):
        part = "step"
    else:
        return []
    errors = _schema_errors(functools.partial(_part_validator, part), value)
    return _collect(errors, doc, path, changed, hints)
