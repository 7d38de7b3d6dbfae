"""Parameters and overrides: ``--set path=value`` and ``${name}`` substitution.

Input: a ``Document`` and the assignments or parameter values. Output: the document's
data changed in place (``apply_set_overrides``) or substituted values
(``substitute_params``). Raises ``RecipeError`` for a malformed ``--set``; problems with
``${}`` references are appended to the caller's diagnostics.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.lang.load import Document, Path_
from synthdsl.lang.paramtypes import param_defaults
from synthdsl.lang.schema.check import PARAM_RE, check_substituted, param_key

__all__ = ["apply_set_overrides", "parse_set_value", "split_param_sets", "substitute_params"]


def apply_set_overrides(doc: Document, assignments: list[str]) -> None:
    """Apply ``dotted.path=value`` assignments to ``doc.data`` in place.

    A path segment after ``steps`` may be a step id instead of an index. Values are
    parsed as YAML scalars/flow values (``--set models.gen.temperature=0.2``).
    Raises ``RecipeError`` for a malformed assignment or a path that does not exist.
    """
    diags: list[Diagnostic] = []
    for text in assignments:
        span = Span("--set", 1, 1)
        if "=" not in text:
            diags.append(Diagnostic(span, f"--set expects path=value, got {text!r}"))
            continue
        dotted, raw_value = text.split("=", 1)
        value = parse_set_value(raw_value)
        segments = [s for s in dotted.strip().split(".") if s]
        if not segments:
            diags.append(Diagnostic(span, f"--set has an empty path in {text!r}"))
            continue
        target: Any = doc.data
        path: list[str | int] = []
        ok = True
        for i, seg in enumerate(segments[:-1]):
            nxt: Any
            if isinstance(target, list):
                idx = _list_index(target, seg, path)
                if idx is None:
                    diags.append(
                        Diagnostic(
                            span, f"--set {dotted}: no item {seg!r} in {'.'.join(map(str, path))}"
                        )
                    )
                    ok = False
                    break
                path.append(idx)
                nxt = target[idx]
            elif isinstance(target, dict):
                if seg not in target:
                    target[seg] = {}
                path.append(seg)
                nxt = target[seg]
            else:
                diags.append(
                    Diagnostic(span, f"--set {dotted}: {'.'.join(segments[:i])} is not a mapping")
                )
                ok = False
                break
            target = nxt
        if not ok:
            continue
        last = segments[-1]
        if isinstance(target, list):
            idx = _list_index(target, last, path)
            if idx is None:
                diags.append(Diagnostic(span, f"--set {dotted}: no item {last!r}"))
                continue
            target[idx] = value
        elif isinstance(target, dict):
            target[last] = value
        else:
            diags.append(Diagnostic(span, f"--set {dotted}: parent is not a mapping"))
    if diags:
        raise RecipeError(diags)


def parse_set_value(raw_value: str) -> Any:
    """The value of a ``--set`` assignment: a YAML scalar or flow value, else the text."""
    try:
        return yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError:
        return raw_value


def split_param_sets(assignments: list[str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """Split ``--set`` assignments into parameter values (``params.NAME=value``, as
    ``(NAME, value)``, checked against the declarations by the compiler) and the rest."""
    params: list[tuple[str, Any]] = []
    rest: list[str] = []
    for text in assignments:
        dotted, eq, raw_value = text.partition("=")
        segments = [s for s in dotted.strip().split(".") if s]
        if eq and len(segments) == 2 and segments[0] == "params":
            params.append((segments[1], parse_set_value(raw_value)))
        else:
            rest.append(text)
    return params, rest


def _list_index(items: list[Any], seg: str, path: list[str | int]) -> int | None:
    if seg.isdigit():
        idx = int(seg)
        return idx if idx < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == seg:
            return i
    return None


# --- parameters ---------------------------------------------------------------


def substitute_params(
    value: Any, params: dict[str, Any], doc: Document, path: Path_, diags: list[Diagnostic]
) -> Any:
    """Replace ``${name}`` references in ``value`` (recursively).

    A string that is exactly ``${name}`` takes the parameter's value with its type;
    references inside longer strings are interpolated as text. When ``value`` is a
    top-level part of the recipe or a step, values that came from parameters are checked
    against the schema again (a using recipe's ``with:`` may give a value of the wrong
    type); on a problem, ``value`` gets the parameters' declared defaults instead, which
    the schema check already accepted, so that later stages see valid values.
    """
    changed: dict[Path_, str] = {}
    result = _substitute(value, params, doc, path, diags, changed)
    if changed:
        defaults = param_defaults(doc.data.get("params"))
        hints = {
            name: f"'{name}' is set by the 'with:' of the step that uses this recipe"
            for name in changed.values()
            if name in defaults and params.get(name) != defaults[name]
        }
        problems = check_substituted(doc, path, result, changed, hints)
        if problems:
            diags.extend(problems)
            result = _substitute(value, defaults, doc, path, [], {})
    return result


def _substitute(
    value: Any,
    params: dict[str, Any],
    doc: Document,
    path: Path_,
    diags: list[Diagnostic],
    changed: dict[Path_, str],
) -> Any:
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = _key(k, params, doc, path, diags)
            if key in out or (key != k and key in value):
                diags.append(
                    Diagnostic(
                        doc.spans.key((*path, k)),
                        f"key '{key}' appears twice here once '{k}' is replaced",
                        "give the parameter another value, or rename the other key",
                    )
                )
                continue
            if key != k:
                doc.spans.alias((*path, k), (*path, key))
                changed[(*path, key)] = str(k)[2:-1]
            out[key] = _substitute(v, params, doc, (*path, key), diags, changed)
        return out
    if isinstance(value, list):
        return [
            _substitute(v, params, doc, (*path, i), diags, changed) for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = PARAM_RE.fullmatch(value)
    if whole:
        name = whole.group(1)
        if name in params:
            changed[path] = name
            return params[name]
        _unknown_param(name, params, doc, path, diags)
        return value

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in params:
            return str(params[name])
        _unknown_param(name, params, doc, path, diags)
        return m.group(0)

    return PARAM_RE.sub(repl, value)


def _key(
    k: Any, params: dict[str, Any], doc: Document, path: Path_, diags: list[Diagnostic]
) -> Any:
    """A mapping key with ``${name}`` replaced: a field named by a parameter."""
    if not isinstance(k, str) or "${" not in k:
        return k
    name = param_key(k, params)
    if name is None:
        whole = PARAM_RE.fullmatch(k)
        if whole is None:
            diags.append(
                Diagnostic(
                    doc.spans.key((*path, k)),
                    f"a key takes a parameter whole ('${{name}}'), not inside text: '{k}'",
                )
            )
        else:
            _unknown_param(whole.group(1), params, doc, (*path, k), diags)
        return k
    value = params[name]
    if not isinstance(value, str):
        diags.append(
            Diagnostic(
                doc.spans.key((*path, k)),
                f"parameter '{name}' names a key here, so it must be text; "
                f"it is {type(value).__name__} {value!r}",
            )
        )
        return k
    return value


def _unknown_param(
    name: str, params: dict[str, Any], doc: Document, path: Path_, diags: list[Diagnostic]
) -> None:
    hint = did_you_mean(name, params) or (
        "declare it under 'params:' with a default" if not params else None
    )
    diags.append(Diagnostic(doc.spans.value(path), f"unknown parameter '${{{name}}}'", hint))
