"""Steps → the flat list of primitive steps: ``use:`` expanded, names bound.

Input: a block of steps (a recipe's ``steps:``, a used recipe's, or a loop body's) with
the scope its names live in. Output: ``Step`` values (kind, raw config, inputs by name,
positions, origin file, parameters) appended in order, and the block's last step name;
``use:`` steps are replaced by the used recipe's steps under the prefix ``<id>.``, its
input ports bound to the names given in ``with:`` or ``from:``; a pack's recipe
(``NAME/RECIPE@RANGE``, ``compile/packuse.py``) is loaded with its pack's read boundary,
which a recipe it uses by path inherits. Problems (duplicate ids,
a step with no kind or two, unknown recipes and parameters, self-use) are diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthdsl.compile.models import add_models
from synthdsl.compile.packuse import resolve_pack_recipe
from synthdsl.compile.resolve import find_recipe, known_names
from synthdsl.compile.scope import Scope, qualify_alias
from synthdsl.compile.state import Compiler, display_path
from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.lang.boundary import ReadBoundary
from synthdsl.lang.decls import parse_sources
from synthdsl.lang.expr import parse_expression
from synthdsl.lang.load import Document, Path_, content_span
from synthdsl.lang.paramtypes import ParamDecl, defaults, expected, parse_decls, value_problem
from synthdsl.nodes import STEP_KINDS, is_step_kind, kind_names, node_kind
from synthdsl.packs.refs import is_pack_ref

__all__ = ["Block", "CaseRef", "Step", "compile_steps"]


@dataclass
class Block:
    """A list of steps to compile, and what they are compiled in."""

    doc: Document
    steps: list[dict[str, Any]]
    path: Path_  # of the step list in ``doc``
    prefix: str  # of the node ids made (``<use id>.``, ``<loop id>.``)
    scope: Scope
    params: dict[str, Any]
    origin: str | None  # the used recipe's file, for the plan
    default_from: str | None  # what the first step reads when it names nothing


@dataclass
class Step:
    id: str
    kind: str
    raw: Any
    froms: list[tuple[str, Span]]
    span: Span
    path: Path_
    doc: Document
    origin: str | None
    params: dict[str, Any]
    scope: Scope
    when: tuple[str, Span] | None = None
    case: CaseRef | None = None


@dataclass(frozen=True)
class CaseRef:
    """A step made from one case of a ``switch:``: the switch's node id, the case's
    position among the cases kept, and every kept case's condition (None: no ``when:``,
    the case every record no earlier case took goes to)."""

    switch: str
    index: int
    conditions: tuple[tuple[str, Span] | None, ...]


def _step_kind(c: Compiler, raw: dict[str, Any], doc: Document, path: Path_) -> str | None:
    builtin = (*STEP_KINDS, "use", "switch")
    kinds = [k for k in builtin if k in raw]
    kinds += sorted(k for k in raw if k not in builtin and is_step_kind(k))
    sid = raw.get("id", "?")
    if not kinds:
        c.error(
            Diagnostic(
                doc.spans.value(path),
                f"step '{sid}' does not say what it does",
                "add one of: " + ", ".join((*kind_names(), "use", "switch")),
            )
        )
        return None
    if len(kinds) > 1:
        c.error(
            Diagnostic(
                doc.spans.key((*path, kinds[1])),
                f"step '{sid}' has more than one kind ({' and '.join(kinds)})",
                "split it into separate steps",
            )
        )
        return None
    if "with" in raw and kinds[0] != "use":
        c.error(Diagnostic(doc.spans.key((*path, "with")), "'with' only goes with 'use'"))
    return kinds[0]


def compile_steps(c: Compiler, block: Block, out_steps: list[Step]) -> str | None:
    """Add the block's steps to its scope and ``out_steps``; return the last step's name."""
    doc, path, prefix, scope = block.doc, block.path, block.prefix, block.scope
    previous = block.default_from
    seen: dict[str, Span] = {}
    for i, raw0 in enumerate(block.steps):
        spath: Path_ = (*path, i)
        raw = raw0
        sid = str(raw["id"])
        id_span = doc.spans.value((*spath, "id"))
        if sid in seen or sid in scope.names or sid in scope.ports:
            c.error(
                Diagnostic(
                    id_span,
                    f"duplicate step id '{sid}'",
                    f"first defined at line {seen[sid].line}"
                    if sid in seen
                    else "a source already has this name",
                )
            )
            continue
        seen[sid] = id_span
        kind = _step_kind(c, raw, doc, spath)
        if kind is None:
            scope.names.setdefault(sid, prefix + sid)
            previous = sid
            continue
        froms: list[tuple[str, Span]] = []
        takes_from = kind in ("use", "switch") or node_kind(kind).takes_from(raw[kind])
        if not takes_from and "from" in raw:
            c.error(
                Diagnostic(
                    doc.spans.key((*spath, "from")),
                    f"{kind} step '{sid}' takes its inputs from 'parts', not 'from'",
                    "remove 'from:' and name each input in the parts",
                )
            )
        elif "from" in raw:
            fr = raw["from"]
            items = fr if isinstance(fr, list) else [fr]
            for j, name in enumerate(items):
                fpath = (*spath, "from", j) if isinstance(fr, list) else (*spath, "from")
                froms.append((str(name), doc.spans.value(fpath)))
        elif takes_from:
            if previous is None and kind == "use":
                pass  # its ports may all be bound in 'with:'; the expansion says if not
            elif previous is None:
                c.error(
                    Diagnostic(
                        doc.spans.value(spath),
                        f"step '{sid}' has no input",
                        "add 'from: <source or step>'",
                    )
                )
            else:
                froms.append((previous, doc.spans.value(spath)))
        node_id = prefix + sid
        if kind == "use":
            out_id = _expand_use(c, doc, raw, spath, node_id, froms, scope, out_steps)
            # A failed use was reported: its id names a missing node, not an unknown one.
            scope.names[sid] = out_id if out_id is not None else node_id
        elif kind == "switch":
            scope.names[sid] = _expand_switch(c, block, raw, spath, node_id, froms, out_steps)
        else:
            scope.names[sid] = node_id
            out_steps.append(
                Step(
                    node_id,
                    kind,
                    raw[kind],
                    froms,
                    doc.spans.key((*spath, kind)),
                    spath,
                    doc,
                    block.origin,
                    block.params,
                    scope,
                    (str(raw["when"]), content_span(doc, doc.spans.value((*spath, "when"))))
                    if "when" in raw
                    else None,
                )
            )
        previous = sid
    return previous


def _expand_switch(
    c: Compiler,
    block: Block,
    raw: dict[str, Any],
    spath: Path_,
    node_id: str,
    froms: list[tuple[str, Span]],
    out_steps: list[Step],
) -> str:
    """A ``switch:`` as a chain of steps, one per case: each record goes through the first
    case whose ``when:`` holds (decided once, as it enters the switch) and passes the
    others by. A condition that reads no field is decided here: a false one drops its
    case, a true one ends the list. Returns the node id that names the switch's output."""
    doc = block.doc
    if "when" in raw:
        c.error(
            Diagnostic(
                doc.spans.key((*spath, "when")),
                "a switch step takes its conditions on its cases",
                "move the condition into each case's 'when:'",
            )
        )
    kept: list[tuple[int, dict[str, Any], tuple[str, Span] | None]] = []
    seen: dict[str, Span] = {}
    for i, case in enumerate(raw["switch"]):
        cpath: Path_ = (*spath, "switch", i)
        cid = str(case["id"])
        if cid in seen:
            c.error(
                Diagnostic(
                    doc.spans.value((*cpath, "id")),
                    f"duplicate case id '{cid}' in switch '{raw['id']}'",
                    f"first defined at line {seen[cid].line}",
                )
            )
            continue
        seen[cid] = doc.spans.value((*cpath, "id"))
        if kept and kept[-1][2] is None:
            if "when" not in kept[-1][1]:  # not when parameters chose the earlier case
                c.warning(
                    Diagnostic(
                        doc.spans.value(cpath),
                        severity="warning",
                        message=f"case '{cid}' is never taken: case "
                        f"'{kept[-1][1]['id']}' before it has no 'when:' and takes every record",
                    )
                )
            continue
        cond = (
            (str(case["when"]), content_span(doc, doc.spans.value((*cpath, "when"))))
            if "when" in case
            else None
        )
        decided = _constant(cond)
        if decided is False:
            continue
        kept.append((i, case, None if decided is True else cond))
    if not kept:
        c.error(
            Diagnostic(
                doc.spans.key((*spath, "switch")),
                f"no case of switch '{raw['id']}' can take a record: every condition is false",
                "check the parameters the conditions compare, or add a case without 'when:'",
            )
        )
        return node_id
    conditions = tuple(cond for _, _, cond in kept)
    gate = len(kept) > 1 or conditions[0] is not None
    previous = froms
    last = node_id
    for index, (i, case, _cond) in enumerate(kept):
        cpath = (*spath, "switch", i)
        kind = _step_kind(c, case, doc, cpath)
        if kind is None:
            continue
        case_id = f"{node_id}.{case['id']}"
        out_steps.append(
            Step(
                case_id,
                kind,
                case[kind],
                previous,
                doc.spans.key((*cpath, kind)),
                cpath,
                doc,
                block.origin,
                block.params,
                block.scope,
                None,
                CaseRef(node_id, index, conditions) if gate else None,
            )
        )
        # The next case reads this one under a dotted name, which no recipe can write.
        name = f"{raw['id']}.{case['id']}"
        block.scope.names[name] = case_id
        previous = [(name, doc.spans.value(cpath))]
        last = case_id
    return last


def _constant(cond: tuple[str, Span] | None) -> bool | None:
    """A condition's value when it reads no field (so parameters alone decide it), else
    None. A condition that does not parse is left for the graph to report."""
    if cond is None:
        return None
    try:
        expr = parse_expression(cond[0], cond[1])
    except RecipeError:
        return None
    if expr.fields():
        return None
    try:
        return bool(expr.evaluate({}))
    except Exception:  # an error at run time is reported per record, as for 'when:'
        return None


def _expand_use(
    c: Compiler,
    doc: Document,
    raw: dict[str, Any],
    spath: Path_,
    node_id: str,
    froms: list[tuple[str, Span]],
    outer: Scope,
    out_steps: list[Step],
) -> str | None:
    """Expand a ``use:`` step; return the node id standing for its output."""
    ref = str(raw["use"])
    ref_span = doc.spans.value((*spath, "use"))
    boundary = doc.boundary
    if is_pack_ref(ref):
        found = resolve_pack_recipe(c, ref, doc.folder, ref_span)
        if isinstance(found, Diagnostic):
            c.error(found)
            return None
        target, display, boundary = found.file, found.display, found.boundary
    else:
        resolved = _resolve_recipe(c, ref, doc.folder, ref_span, boundary)
        if resolved is None:
            return None
        target, display = resolved, _display(resolved, boundary)
        if display.startswith("builtin:"):
            boundary = None  # the built-in strategies read their own package data
    if display in c.use_stack:
        chain = " -> ".join([*c.use_stack, display])
        c.error(Diagnostic(ref_span, f"recipe uses itself: {chain}"))
        return None
    sub = c.load(target, display, boundary=boundary)
    if sub is None:
        return None
    c.use_stack.append(display)
    try:
        declared, problems = parse_decls(sub, ref)
        # A recipe used twice has its declarations checked once.
        c.diags.extend(d for d in problems if d not in c.diags)
        given = dict(raw.get("with") or {})
        sources, sdiags = parse_sources(sub, target.parent)
        c.diags.extend(sdiags)
        ports = [s for s in sources.values() if s.is_input]
        scope = Scope(names={}, parent=outer, in_loop=outer.in_loop)
        own_models = [str(a) for a in (sub.data.get("models") or {}) if a != "default"]
        scope.aliases = {a: f"{node_id}.{a}" for a in own_models}
        for port in ports:
            if port.name in given:
                val = given.pop(port.name)
                scope.ports[port.name] = [(str(val), doc.spans.value((*spath, "with", port.name)))]
        for key in sorted(given):
            if key not in declared:
                c.error(
                    Diagnostic(
                        doc.spans.key((*spath, "with", key)),
                        f"recipe '{ref}' has no parameter '{key}'",
                        did_you_mean(key, [*declared, *(p.name for p in ports)])
                        or (
                            f"its parameters: {', '.join(sorted(declared))}"
                            if declared
                            else "it declares no parameters"
                        ),
                    )
                )
        params = _bind_params(c, doc, spath, ref, declared, given, scope)
        _warn_shadowed_models(c, doc, spath, ref, declared, given, scope)
        _qualify_model_literals(sub.data.get("steps"), scope)
        c.apply_params(sub, params)
        # sources again, now with the parameters substituted (problems were reported)
        sources, _ = parse_sources(sub, target.parent)
        unbound = [p for p in ports if p.name not in scope.ports]
        if len(unbound) == 1:
            if not froms:
                c.error(Diagnostic(doc.spans.value(spath), f"step using '{ref}' needs 'from:'"))
            scope.ports[unbound[0].name] = froms
        elif len(unbound) > 1:
            c.error(
                Diagnostic(
                    doc.spans.value(spath),
                    f"recipe '{ref}' has several inputs ({', '.join(p.name for p in unbound)})",
                    "bind each in 'with:' by name",
                )
            )
        add_models(c, sub, prefix=node_id + ".")
        prefix = node_id + "."
        own = [s for s in sources.values() if not s.is_input]
        if scope.in_loop and own:
            c.error(
                Diagnostic(
                    ref_span,
                    f"recipe '{ref}' declares sources ({', '.join(s.name for s in own)}), "
                    "which a loop body cannot read",
                    "use it outside the loop, or pass its data in through the loop's input",
                )
            )
        for src in sources.values():
            if not src.is_input:
                c.sources[prefix + src.name] = src
                scope.names[src.name] = prefix + src.name
        first = ports[0].name if len(ports) == 1 else None
        last = compile_steps(
            c,
            Block(sub, sub.data["steps"], ("steps",), prefix, scope, params, display, first),
            out_steps,
        )
        out_name = (sub.data.get("output") or {}).get("from") or last
        if out_name is None or out_name not in scope.names:
            c.error(
                Diagnostic(
                    sub.spans.value(("output", "from"))
                    if "output" in sub.data
                    else sub.spans.value(()),
                    f"recipe '{ref}' has no output step '{out_name}'",
                    did_you_mean(str(out_name), scope.names),
                )
            )
            return None
        return scope.names[out_name]
    finally:
        c.use_stack.pop()


def _bind_params(
    c: Compiler,
    doc: Document,
    spath: Path_,
    ref: str,
    declared: dict[str, ParamDecl],
    given: dict[str, Any],
    scope: Scope,
) -> dict[str, Any]:
    """The used recipe's parameter values: its defaults, then the ``with:`` values that
    fit their declarations (a value that does not is an error at the value); a required
    parameter that ``with:`` does not give is an error at the ``use:``. A ``model``
    parameter names an alias where its value is written: a default, in the used recipe
    (``scope``); a ``with:`` value, in the recipe that uses it."""
    params = defaults(declared)
    for name, decl in declared.items():
        if decl.type == "model" and isinstance(params.get(name), str):
            params[name] = qualify_alias(scope, params[name])
    for key, value in given.items():
        given_decl = declared.get(key)
        if given_decl is None:
            continue  # reported as an unknown parameter
        problem = value_problem(given_decl, ref, value, doc.spans.value((*spath, "with", key)))
        if problem is not None:
            c.error(problem)
        elif given_decl.type == "model" and isinstance(value, str):
            params[key] = qualify_alias(scope.parent, value)
        else:
            params[key] = value
    for name, decl in declared.items():
        if decl.required and name not in given:
            c.error(
                Diagnostic(
                    doc.spans.value((*spath, "use")),
                    f"recipe '{ref}' needs parameter '{name}' ({expected(decl)})",
                    f"give it in 'with:', e.g. 'with: {{{name}: ...}}'",
                )
            )
    return params


def _qualify_model_literals(steps: Any, scope: Scope) -> None:
    """A used recipe's steps name its own aliases: ``model: gen`` in an LLM step becomes
    ``model: qa.gen`` (in loop bodies and switch cases too). Parameters (``${...}``) are
    left to ``_bind_params``."""
    if not isinstance(steps, list):
        return
    for step in steps:
        if not isinstance(step, dict):
            continue
        for key, body in step.items():
            if key == "switch":
                _qualify_model_literals(body, scope)
            elif isinstance(body, dict) and is_step_kind(key):
                model = body.get("model")
                if node_kind(key).uses_llm and isinstance(model, str) and "${" not in model:
                    body["model"] = qualify_alias(scope, model)
                _qualify_model_literals(body.get("steps"), scope)


def _warn_shadowed_models(
    c: Compiler,
    doc: Document,
    spath: Path_,
    ref: str,
    declared: dict[str, ParamDecl],
    given: dict[str, Any],
    scope: Scope,
) -> None:
    """An alias the using recipe declares under the name of one the used recipe declares
    does not replace it (each recipe's aliases are its own): say so where it could be a
    surprise, with the parameter that passes it in."""
    for alias in scope.aliases:
        outer = qualify_alias(scope.parent, alias)
        if outer not in c.models:
            continue
        params = [n for n, d in declared.items() if d.type == "model" and d.default == alias]
        if any(given.get(n) == alias for n in params):
            continue
        c.warning(
            Diagnostic(
                doc.spans.value((*spath, "use")),
                severity="warning",
                message=f"recipe '{ref}' uses its own model alias '{alias}' "
                f"({scope.aliases[alias]} here), not the '{alias}' declared in this recipe",
                hint=f"to use yours, pass it in: with: {{{params[0]}: {alias}}}"
                if params
                else "rename one of them to make the difference plain",
            )
        )


def _display(target: Path, boundary: ReadBoundary | None) -> str:
    """A recipe file's name in messages; inside a pack, ``pack:NAME@VERSION/...``."""
    if boundary is not None and boundary.label.startswith("pack:"):
        try:
            rel = target.resolve().relative_to(boundary.root).as_posix()
        except ValueError:
            return display_path(target)
        return f"{boundary.label}/{rel}"
    return display_path(target)


def _resolve_recipe(
    c: Compiler, ref: str, base: Path, span: Span, boundary: ReadBoundary | None
) -> Path | None:
    found = find_recipe(ref, base)
    if found is not None and boundary is not None:
        builtin = display_path(found).startswith("builtin:")
        problem = None if builtin else boundary.problem(found, span, "recipe", ref)
        if problem is not None:
            c.error(problem)
            return None
    if found is None:
        c.error(
            Diagnostic(
                span,
                f"recipe '{ref}' not found",
                did_you_mean(ref, known_names(ref, base))
                or "give a path to a .yaml file or put it in a recipes/ folder",
            )
        )
    return found
