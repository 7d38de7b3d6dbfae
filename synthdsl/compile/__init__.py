"""Compile a recipe into a checked DAG of primitive nodes.

Input: a recipe path and command-line overrides (``CompileOptions``). Output: a
``CompiledRecipe`` (``synthdsl.ir``). The stages, one module each:

- ``state``: documents loaded with positions, ``--set`` applied, the closed schema
  checked, ``${params}`` substituted; every problem collected;
- ``models``: model aliases across ``use:`` boundaries, ``--model``/``--api-base``;
- ``resolve``: the one rule that finds a recipe by name or path;
- ``steps`` (with ``scope``): steps flattened, ``use:`` expanded under ``<id>.``;
- ``graph``: nodes configured and linked by their kinds, bodies nested, topological
  order (cycles rejected with their path);
- ``fields``: fields propagated and what each node reads checked; whole-graph checks.

Raises ``RecipeError`` carrying every problem found (all in one pass, sorted), and
``PluginError`` (exit 1) for a broken plugin. The compiled recipe lists the plugins it
uses (step kinds, expression functions) with their versions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthdsl.compile.fields import check_graph, propagate_fields
from synthdsl.compile.generated import generated_fields
from synthdsl.compile.graph import order, step_nodes
from synthdsl.compile.models import add_models, finish_models, prune_models
from synthdsl.compile.output import check_output
from synthdsl.compile.scope import Scope
from synthdsl.compile.state import CompileOptions, Compiler, display_path
from synthdsl.compile.steps import Block, Step, compile_steps
from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.ir import CompiledRecipe, Graph, Node
from synthdsl.lang.boundary import project_root
from synthdsl.lang.decls import parse_output, parse_sources
from synthdsl.lang.load import Document
from synthdsl.lang.params import split_param_sets
from synthdsl.lang.paramtypes import defaults, expected, parse_decls, value_problem
from synthdsl.nodes import kind_plugin, source_node
from synthdsl.plugins import noting_uses

__all__ = ["CompileOptions", "compile_recipe"]


def compile_recipe(path: str | Path, opts: CompileOptions | None = None) -> CompiledRecipe:
    """Compile the recipe at ``path``. Raises ``RecipeError`` with every problem found,
    ``PluginError`` for a plugin the recipe needs that does not load."""
    with noting_uses() as used:
        compiled = _compile(path, opts)
    used |= {p for p in map(kind_plugin, {n.kind for n in compiled.graph.walk()}) if p}
    compiled.plugins = [p.to_dict() for p in sorted(used)]
    return compiled


def _compile(path: str | Path, opts: CompileOptions | None) -> CompiledRecipe:
    c = Compiler(opts or CompileOptions())
    p = Path(path)
    param_sets, other_sets = split_param_sets(c.opts.set_values)
    boundary = c.opts.boundary
    if boundary is not None:
        boundary = c.boundary(boundary.root, boundary.label, boundary.why)
    else:  # a project's recipe reads inside its project (lang/boundary.py)
        root = project_root(p.parent)
        boundary = c.boundary(
            root, f"the project at {root}", "a recipe reads only inside its project"
        )
    doc = c.load(p, c.opts.display or str(path), other_sets, boundary)
    if doc is None:
        raise RecipeError(c.diags, c.texts)
    c.use_stack.append(c.opts.display or display_path(p))
    params = _top_params(c, doc, str(doc.data.get("name") or p.stem), param_sets)
    c.apply_params(doc, params)
    add_models(c, doc)
    sources, sdiags = parse_sources(doc, p.parent)
    c.diags.extend(sdiags)
    top = Scope(names={})
    for name, src in sources.items():
        if src.is_input:
            c.error(
                Diagnostic(
                    src.span,
                    f"source '{name}' is an input port, but this recipe is run directly",
                    "give it a 'path:' or 'records:', or use this recipe from another one",
                )
            )
            continue
        c.sources[name] = src
        top.names[name] = name
    first_source = next(iter(top.names)) if len(top.names) == 1 else None
    steps: list[Step] = []
    block = Block(doc, doc.data["steps"], ("steps",), "", top, params, None, first_source)
    last = compile_steps(c, block, steps)
    finish_models(c)
    output = parse_output(doc)
    out_name = output.from_ or last
    graph: Graph | None = None
    if out_name is not None:
        out_id = top.names.get(out_name)
        if out_id is None:
            c.error(
                Diagnostic(
                    doc.spans.value(("output", "from")) if output.from_ else None,
                    f"output.from names unknown step '{out_name}'",
                    did_you_mean(out_name, top.names),
                )
            )
        else:
            nodes: dict[str, Node[Any]] = {
                sid: source_node(sid, src, _origin_of(sid)) for sid, src in c.sources.items()
            }
            nodes.update(step_nodes(c, steps))
            graph = order(c, nodes, out_id, None)
            if graph is not None:
                propagate_fields(c, graph)
                check_output(c, doc, output, graph)
                check_graph(c, graph)
                prune_models(c, graph)
    if c.diags or graph is None:
        raise RecipeError(c.diags or [Diagnostic(None, "recipe has no steps to run")], c.texts)
    return CompiledRecipe(
        name=str(doc.data.get("name") or p.stem),
        path=str(path),
        graph=graph,
        models=c.models,
        sources=c.sources,
        output=output,
        params=params,
        texts=c.texts,
        warnings=c.warnings,
        run_settings=dict(doc.data.get("run") or {}),
        generated_fields=generated_fields(graph),
    )


def _top_params(
    c: Compiler, doc: Document, recipe: str, param_sets: list[tuple[str, Any]]
) -> dict[str, Any]:
    """The run's parameter values: declared defaults (checked against their
    declarations), then ``--set params.NAME=value`` (checked likewise, reported at
    ``--set``); a required parameter given neither is an error at its declaration."""
    decls, problems = parse_decls(doc, recipe)
    c.diags.extend(problems)
    params = defaults(decls)
    where = Span("--set", 1, 1)
    for name, value in param_sets:
        decl = decls.get(name)
        if decl is None:
            c.error(
                Diagnostic(
                    where,
                    f"--set params.{name}: recipe '{recipe}' has no parameter '{name}'",
                    did_you_mean(name, decls) or "declare it under 'params:'",
                )
            )
            continue
        problem = value_problem(decl, recipe, value, where)
        if problem is not None:
            c.error(problem)
        else:
            params[name] = value
    for name, decl in decls.items():
        if decl.required and name not in params:
            c.error(
                Diagnostic(
                    doc.spans.key(("params", name)),
                    f"parameter '{name}' of recipe '{recipe}' is required ({expected(decl)})",
                    f"give it with --set params.{name}=..., or add a 'default:'",
                )
            )
    return params


def _origin_of(node_id: str) -> str | None:
    return node_id.rsplit(".", 1)[0] if "." in node_id else None
