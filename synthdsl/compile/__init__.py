"""Compile a recipe into a checked DAG of primitive nodes.

Input: a recipe path and command-line overrides. Output: a ``CompiledRecipe``: every
``use:`` expanded into prefixed sub-graph nodes (each keeping its origin file), loop
bodies compiled as nested graphs, references resolved, cycles rejected (the path is
printed), fields propagated from sources through every node so that filter
expressions and prompt templates are checked against what upstream nodes provide.
Raises ``RecipeError`` carrying every problem found (all in one pass, sorted).
"""

from __future__ import annotations

import graphlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthdsl.errors import Diagnostic, RecipeError, Span, did_you_mean
from synthdsl.ir import (
    CompiledRecipe,
    Graph,
    ModelDecl,
    ModelEntry,
    Node,
    OutputDecl,
    SourceDecl,
    default_model,
)
from synthdsl.lang.decls import parse_models, parse_output, parse_sources
from synthdsl.lang.load import Document, Path_, content_span, load_document
from synthdsl.lang.params import apply_set_overrides, substitute_params
from synthdsl.lang.schema.check import check_document
from synthdsl.nodes import kind_names, node_kind
from synthdsl.nodes.base import CheckContext
from synthdsl.nodes.source import SourceConfig

if TYPE_CHECKING:
    from synthdsl.lang.expr import Expression

__all__ = ["CompileOptions", "compile_recipe"]

POOL = "pool"
# Names a loop body reads: the round's pool, the loop's input, records made so far.
POOL_ROLES = (POOL, "pool_input", "pool_new")


@dataclass
class CompileOptions:
    """Command-line changes to a recipe, applied while compiling."""

    set_values: list[str] = field(default_factory=list)
    model: str | None = None  # replaces every model alias
    model_aliases: dict[str, str] = field(default_factory=dict)  # alias -> model string
    api_base: str | None = None
    check_sources: bool = True


@dataclass
class _Scope:
    """Names visible to the steps of one recipe: local name -> node id.

    ``ports`` are a used recipe's input sources: each resolves to the names it is
    bound to, looked up in ``parent`` (the scope of the step that used the recipe).
    """

    names: dict[str, str]
    parent: _Scope | None = None
    ports: dict[str, list[tuple[str, Span]]] = field(default_factory=dict)
    in_loop: bool = False  # a loop body (or a strategy used inside one)
    # A loop body reads names of the enclosing scope as whole pools: outer id -> pool id
    reads: _Scope | None = None
    outer_prefix: str = ""
    outer_refs: dict[str, str] = field(default_factory=dict)


@dataclass
class _Step:
    id: str
    kind: str
    raw: Any
    froms: list[tuple[str, Span]]
    span: Span
    path: Path_
    doc: Document
    origin: str | None
    params: dict[str, Any]
    scope: _Scope
    when: tuple[str, Span] | None = None


class _Compiler:
    def __init__(self, opts: CompileOptions) -> None:
        self.opts = opts
        self.diags: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.models: dict[str, ModelDecl] = {}
        self.sources: dict[str, SourceDecl] = {}
        self.texts: dict[str, str] = {}
        self.use_stack: list[str] = []

    # -- documents -------------------------------------------------------------

    def load(self, path: Path, display: str, set_values: Sequence[str] = ()) -> Document | None:
        try:
            doc = load_document(path, display)
        except RecipeError as exc:
            self.diags.extend(exc.diagnostics)
            return None
        self.texts[doc.path] = doc.text
        if set_values:
            try:
                apply_set_overrides(doc, list(set_values))
            except RecipeError as exc:
                self.diags.extend(exc.diagnostics)
                return None
        problems = check_document(doc)
        if problems:
            self.diags.extend(problems)
            return None
        return doc

    def apply_params(self, doc: Document, params: dict[str, Any]) -> None:
        """Substitute ``${name}`` everywhere in ``doc`` but its ``params`` block."""
        doc.data = {
            k: v if k == "params" else substitute_params(v, params, doc, (k,), self.diags)
            for k, v in doc.data.items()
        }

    # -- models ------------------------------------------------------------------

    def add_models(self, doc: Document, *, nested: bool = False) -> None:
        for alias, decl in parse_models(doc).items():
            if nested and alias == "default":
                continue  # a strategy does not choose the run's default model
            if alias not in self.models:  # the outer recipe's alias wins
                self.models[alias] = decl

    def finish_models(self) -> None:
        if "default" not in self.models:
            self.models["default"] = ModelDecl(
                "default", (ModelEntry(model=default_model()),), Span("<default>", 1, 1)
            )
        opts = self.opts
        for alias, decl in list(self.models.items()):
            replacement = opts.model_aliases.get(alias, opts.model)
            entries = []
            for e in decl.entries:
                model = replacement or e.model
                api_base = e.api_base
                if opts.api_base and (replacement or not opts.model_aliases):
                    api_base = opts.api_base
                elif replacement and replacement != e.model:
                    api_base = None  # a different model: the recipe's endpoint no longer applies
                entries.append(
                    ModelEntry(
                        model=model,
                        weight=e.weight,
                        params=e.params,
                        api_base=api_base,
                        api_key_env=e.api_key_env
                        if not replacement
                        else (e.api_key_env if api_base == e.api_base else None),
                        concurrency=e.concurrency,
                        rpm=e.rpm,
                        tpm=e.tpm,
                        timeout=e.timeout,
                        max_retries=e.max_retries,
                        backend=e.backend,
                        extra=e.extra,
                    )
                )
            self.models[alias] = ModelDecl(alias, tuple(entries), decl.span)
        self.check_local_models()
        for alias in opts.model_aliases:
            if alias not in self.models:
                self.diags.append(
                    Diagnostic(
                        None,
                        f"--model {alias}=...: the recipe has no model alias '{alias}'",
                        did_you_mean(alias, self.models),
                    )
                )

    def check_local_models(self) -> None:
        """A ``local/...`` model must be servable: its file or package must be there."""
        from synthdsl.errors import RunError
        from synthdsl.llm.local_model import BUILTIN_MODELS, resolve_gguf

        for decl in self.models.values():
            for e in decl.entries:
                if not e.model.startswith("local/"):
                    continue
                try:
                    resolve_gguf(e.model)
                except RunError as exc:
                    builtin = e.model[len("local/") :] in BUILTIN_MODELS
                    diag = Diagnostic(
                        decl.span, str(exc), severity="warning" if builtin else "error"
                    )
                    (self.warnings if builtin else self.diags).append(diag)

    # -- steps ----------------------------------------------------------------------

    def step_kind(self, raw: dict[str, Any], doc: Document, path: Path_) -> str | None:
        kinds = [k for k in (*kind_names(), "use") if k in raw]
        sid = raw.get("id", "?")
        if not kinds:
            self.diags.append(
                Diagnostic(
                    doc.spans.value(path),
                    f"step '{sid}' does not say what it does",
                    "add one of: " + ", ".join((*kind_names(), "use")),
                )
            )
            return None
        if len(kinds) > 1:
            self.diags.append(
                Diagnostic(
                    doc.spans.key((*path, kinds[1])),
                    f"step '{sid}' has more than one kind ({' and '.join(kinds)})",
                    "split it into separate steps",
                )
            )
            return None
        if "with" in raw and kinds[0] != "use":
            self.diags.append(
                Diagnostic(doc.spans.key((*path, "with")), "'with' only goes with 'use'")
            )
        return kinds[0]

    def compile_steps(
        self,
        doc: Document,
        steps_raw: list[dict[str, Any]],
        path: Path_,
        prefix: str,
        scope: _Scope,
        out_steps: list[_Step],
        params: dict[str, Any],
        origin: str | None,
        default_from: str | None,
    ) -> str | None:
        """Add the steps to ``scope`` and ``out_steps``; return the last step's local name."""
        previous = default_from
        seen: dict[str, Span] = {}
        for i, raw0 in enumerate(steps_raw):
            spath: Path_ = (*path, i)
            raw = raw0
            sid = str(raw["id"])
            id_span = doc.spans.value((*spath, "id"))
            if sid in seen or sid in scope.names or sid in scope.ports:
                self.diags.append(
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
            kind = self.step_kind(raw, doc, spath)
            if kind is None:
                scope.names.setdefault(sid, prefix + sid)
                previous = sid
                continue
            froms: list[tuple[str, Span]] = []
            takes_from = kind == "use" or node_kind(kind).takes_from(raw[kind])
            if not takes_from and "from" in raw:
                self.diags.append(
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
                if previous is None:
                    self.diags.append(
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
                out_id = self.expand_use(doc, raw, spath, node_id, froms, scope, out_steps)
                # A failed use was reported: its id names a missing node, not an unknown one.
                scope.names[sid] = out_id if out_id is not None else node_id
            else:
                scope.names[sid] = node_id
                out_steps.append(
                    _Step(
                        node_id,
                        kind,
                        raw[kind],
                        froms,
                        doc.spans.key((*spath, kind)),
                        spath,
                        doc,
                        origin,
                        params,
                        scope,
                        (str(raw["when"]), content_span(doc, doc.spans.value((*spath, "when"))))
                        if "when" in raw
                        else None,
                    )
                )
            previous = sid
        return previous

    def expand_use(
        self,
        doc: Document,
        raw: dict[str, Any],
        spath: Path_,
        node_id: str,
        froms: list[tuple[str, Span]],
        outer: _Scope,
        out_steps: list[_Step],
    ) -> str | None:
        """Expand a ``use:`` step; return the node id standing for its output."""
        ref = str(raw["use"])
        ref_span = doc.spans.value((*spath, "use"))
        target = self.resolve_recipe(ref, Path(doc.path).parent, ref_span)
        if target is None:
            return None
        display = _display(target)
        if display in self.use_stack:
            chain = " -> ".join([*self.use_stack, display])
            self.diags.append(Diagnostic(ref_span, f"recipe uses itself: {chain}"))
            return None
        sub = self.load(target, display)
        if sub is None:
            return None
        self.use_stack.append(display)
        try:
            declared = dict(sub.data.get("params") or {})
            given = dict(raw.get("with") or {})
            sources, sdiags = parse_sources(sub, target.parent)
            self.diags.extend(sdiags)
            ports = [s for s in sources.values() if s.is_input]
            scope = _Scope(names={}, parent=outer, in_loop=outer.in_loop)
            for port in ports:
                if port.name in given:
                    val = given.pop(port.name)
                    scope.ports[port.name] = [
                        (str(val), doc.spans.value((*spath, "with", port.name)))
                    ]
            for key in sorted(given):
                if key not in declared:
                    self.diags.append(
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
            params = {**declared, **{k: v for k, v in given.items() if k in declared}}
            self.apply_params(sub, params)
            # sources again, now with the parameters substituted (problems were reported)
            sources, _ = parse_sources(sub, target.parent)
            unbound = [p for p in ports if p.name not in scope.ports]
            if len(unbound) == 1:
                if not froms:
                    self.diags.append(
                        Diagnostic(doc.spans.value(spath), f"step using '{ref}' needs 'from:'")
                    )
                scope.ports[unbound[0].name] = froms
            elif len(unbound) > 1:
                self.diags.append(
                    Diagnostic(
                        doc.spans.value(spath),
                        f"recipe '{ref}' has several inputs ({', '.join(p.name for p in unbound)})",
                        "bind each in 'with:' by name",
                    )
                )
            self.add_models(sub, nested=True)
            prefix = node_id + "."
            own = [s for s in sources.values() if not s.is_input]
            if scope.in_loop and own:
                self.diags.append(
                    Diagnostic(
                        ref_span,
                        f"recipe '{ref}' declares sources ({', '.join(s.name for s in own)}), "
                        "which a loop body cannot read",
                        "use it outside the loop, or pass its data in through the loop's input",
                    )
                )
            for src in sources.values():
                if not src.is_input:
                    self.sources[prefix + src.name] = src
                    scope.names[src.name] = prefix + src.name
            first = ports[0].name if len(ports) == 1 else None
            last = self.compile_steps(
                sub,
                sub.data["steps"],
                ("steps",),
                prefix,
                scope,
                out_steps,
                params,
                display,
                first,
            )
            out_name = (sub.data.get("output") or {}).get("from") or last
            if out_name is None or out_name not in scope.names:
                self.diags.append(
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
            self.use_stack.pop()

    def resolve_recipe(self, ref: str, base: Path, span: Span) -> Path | None:
        candidates: list[Path] = []
        as_path = Path(ref)
        if as_path.suffix in (".yaml", ".yml"):
            candidates += [base / as_path, Path.cwd() / as_path]
        else:
            d = base.resolve()
            for _ in range(4):
                candidates.append(d / "recipes" / f"{ref}.yaml")
                if d.parent == d:
                    break
                d = d.parent
            candidates.append(Path.cwd() / "recipes" / f"{ref}.yaml")
        for cand in candidates:
            if cand.is_file():
                return cand
        known: set[str] = set()
        for cand in candidates:
            if cand.parent.is_dir():
                known |= {p.stem for p in cand.parent.glob("*.y*ml")}
        self.diags.append(
            Diagnostic(
                span,
                f"recipe '{ref}' not found",
                did_you_mean(ref, known)
                or "give a path to a .yaml file or put it in a recipes/ folder",
            )
        )
        return None

    # -- resolution ---------------------------------------------------------------

    def resolve_name(self, scope: _Scope, name: str, span: Span, depth: int = 0) -> list[str]:
        if name in scope.ports:
            out: list[str] = []
            if scope.parent is not None and depth < 50:
                for rname, rspan in scope.ports[name]:
                    out += self.resolve_name(scope.parent, rname, rspan, depth + 1)
            return out
        target = scope.names.get(name)
        if target is None and scope.reads is not None and _visible(scope.reads, name):
            out = []
            for outer_id in self.resolve_name(scope.reads, name, span, depth + 1):
                pool_id = scope.outer_refs.setdefault(outer_id, f"{scope.outer_prefix}{name}")
                out.append(pool_id)
            return out
        if target is None:
            known = [*scope.names, *scope.ports]
            reads = scope.reads
            while reads is not None:
                known += [*reads.names, *reads.ports]
                reads = reads.reads
            self.diags.append(
                Diagnostic(span, f"unknown source or step '{name}'", did_you_mean(name, known))
            )
            return []
        return [target]


def _visible(scope: _Scope, name: str) -> bool:
    """Whether ``name`` resolves in ``scope`` or a scope it reads from."""
    while True:
        if name in scope.names or name in scope.ports:
            return True
        if scope.reads is None:
            return False
        scope = scope.reads


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def compile_recipe(path: str | Path, opts: CompileOptions | None = None) -> CompiledRecipe:
    """Compile the recipe at ``path``. Raises ``RecipeError`` with every problem found."""
    opts = opts or CompileOptions()
    c = _Compiler(opts)
    p = Path(path)
    display = str(path)
    doc = c.load(p, display, opts.set_values)
    if doc is None:
        raise RecipeError(c.diags)
    c.use_stack.append(_display(p))
    params = dict(doc.data.get("params") or {})
    c.apply_params(doc, params)
    c.add_models(doc)
    sources, sdiags = parse_sources(doc, p.parent)
    c.diags.extend(sdiags)
    top = _Scope(names={})
    for name, src in sources.items():
        if src.is_input:
            c.diags.append(
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
    steps: list[_Step] = []
    last = c.compile_steps(
        doc, doc.data["steps"], ("steps",), "", top, steps, params, None, first_source
    )
    c.finish_models()
    output = parse_output(doc)
    out_name = output.from_ or last
    graph = None
    if out_name is not None:
        out_id = top.names.get(out_name)
        if out_id is None:
            c.diags.append(
                Diagnostic(
                    doc.spans.value(("output", "from")) if output.from_ else None,
                    f"output.from names unknown step '{out_name}'",
                    did_you_mean(out_name, top.names),
                )
            )
        else:
            nodes = {
                sid: Node(
                    sid, "source", SourceConfig.from_decl(src), [], src.span, origin=_origin_of(sid)
                )
                for sid, src in c.sources.items()
            }
            nodes.update(_step_nodes(c, steps))
            graph = _order_and_check(c, nodes, out_id, None)
            if graph is not None:
                propagate_fields(c, graph, [])
                _check_output_fields(c, doc, output, graph)
                _check_mix_stages(c, graph)
    if c.diags or graph is None:
        raise RecipeError(c.diags or [Diagnostic(None, "recipe has no steps to run")])
    name = str(doc.data.get("name") or p.stem)
    return CompiledRecipe(
        name=name,
        path=display,
        graph=graph,
        models=c.models,
        sources=c.sources,
        output=output,
        params=params,
        texts=c.texts,
        warnings=c.warnings,
    )


_CONTENT_KINDS = ("generate", "loop")


def _upstream(graph: Graph, out_id: str) -> Graph:
    """The sub-graph of ``out_id`` and everything it reads from, in order."""
    needed: set[str] = set()
    stack = [out_id]
    while stack:
        nid = stack.pop()
        if nid in needed or nid not in graph.nodes:
            continue
        needed.add(nid)
        stack.extend(graph.nodes[nid].inputs)
    return Graph({nid: n for nid, n in graph.nodes.items() if nid in needed}, out_id)


def _check_mix_stages(c: _Compiler, graph: Graph) -> None:
    """Label mix parts synthetic or real, and check stage bands and the real-data floor.

    A part is synthetic when an LLM wrote its records (a ``generate`` node, or a loop,
    upstream), unless the recipe says otherwise with ``synthetic:``.
    """
    from synthdsl.nodes.mix import STAGE_BANDS, MixConfig

    def generated(nid: str, seen: set[str]) -> bool:
        node = graph.nodes.get(nid)
        if node is None or nid in seen:
            return False
        seen.add(nid)
        if node.kind in _CONTENT_KINDS:
            return True
        return any(generated(i, seen) for i in node.inputs)

    for node in graph.nodes.values():
        if node.body is not None:
            _check_mix_stages(c, node.body)
        if node.kind != "mix":
            continue
        cfg: MixConfig = node.config
        for part in cfg.parts:
            if part.synthetic is None:
                part.synthetic = generated(part.node, set())
            if cfg.refill is not None and part.synthetic and part.node in graph.nodes:
                part.refill_graph = _upstream(graph, part.node)
        share = cfg.synthetic_share()
        if cfg.min_real is not None and 1.0 - share < cfg.min_real - 1e-9:
            c.diags.append(
                Diagnostic(
                    cfg.span,
                    f"mix '{node.id}' has {1 - share:.0%} real data, below min_real "
                    f"{cfg.min_real:.0%}",
                    "raise the ratios of real parts (or mark parts with synthetic: false)",
                )
            )
        status = cfg.band_status(share)
        if status != "ok" and cfg.stage is not None:
            lo, hi = STAGE_BANDS[cfg.stage]
            diag = Diagnostic(
                cfg.span,
                f"mix '{node.id}' is {share:.0%} synthetic, outside the {cfg.stage} band "
                f"{lo:.0%}-{hi:.0%}",
                "adjust the ratios, or set stage_policy: warn to accept it"
                if status == "fail"
                else "set stage_policy: strict to make this an error",
                severity="error" if status == "fail" else "warning",
            )
            (c.diags if status == "fail" else c.warnings).append(diag)


def _check_output_fields(c: _Compiler, doc: Document, output: OutputDecl, graph: Graph) -> None:
    """The fields the output keeps or shapes must exist on the output step's records."""
    available = graph.nodes[graph.output].fields
    if "*" in available:
        return
    wanted: list[tuple[str, Span]] = []
    for i, name in enumerate(output.fields or ()):
        wanted.append((name, doc.spans.value(("output", "fields", i))))
    if output.shape != "records":
        kept = set(output.fields) if output.fields is not None else set(available)
        for key in ("instruction_field", "response_field"):
            name = getattr(output, key)
            span = (
                doc.spans.value(("output", key))
                if key in (doc.data.get("output") or {})
                else doc.spans.value(("output", "shape"))
            )
            if name not in kept or output.fields is None:
                wanted.append((name, span))
    seen: set[str] = set()
    for name, span in wanted:
        if name in available or name in seen:
            continue
        seen.add(name)
        c.diags.append(
            Diagnostic(
                span,
                f"output field '{name}' is not provided by step '{graph.output}'",
                did_you_mean(name, available) or f"its fields: {', '.join(available)}",
            )
        )


def _origin_of(node_id: str) -> str | None:
    return node_id.rsplit(".", 1)[0] if "." in node_id else None


def _step_nodes(c: _Compiler, steps: list[_Step]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for step in steps:
        inputs: list[str] = []
        for name, span in step.froms:
            inputs += c.resolve_name(step.scope, name, span)
        kind = node_kind(step.kind)
        ctx = CheckContext(
            doc=step.doc,
            path=(*step.path, step.kind),
            node_id=step.id,
            diagnostics=c.diags,
            search_dirs=_search_dirs(step.doc),
            params=step.params,
        )
        config = kind.configure(step.raw, ctx)
        if hasattr(config, "main"):
            config.main = list(inputs)
        if kind.multi_input:
            for part in getattr(config, "parts", []):
                resolved = c.resolve_name(step.scope, part.source, part.span)
                if resolved:
                    part.node = resolved[0]
                    inputs.append(resolved[0])
        node = Node(step.id, step.kind, config, inputs, step.span, origin=step.origin)
        if step.kind == "loop":
            node.body = _loop_body(c, step, config)
            for outer_id in getattr(config, "outer", {}):
                if outer_id not in node.inputs:
                    node.inputs.append(outer_id)
        if step.when is not None:
            node.when = _parse_when(c, step, kind.supports_when(config))
        nodes[step.id] = node
    return nodes


def _parse_when(c: _Compiler, step: _Step, supported: bool) -> Expression | None:
    from synthdsl.lang.expr import parse_expression

    assert step.when is not None
    text, span = step.when
    if not supported:
        c.diags.append(
            Diagnostic(
                step.doc.spans.key((*step.path, "when")),
                f"'when' does not apply to a {step.kind} step",
                "'when' works on steps that handle one record at a time: generate, judge, "
                "extract, filter (expr), dedup",
            )
        )
        return None
    try:
        return parse_expression(text, span)
    except RecipeError as exc:
        c.diags.extend(exc.diagnostics)
        return None


def _loop_body(c: _Compiler, step: _Step, config: Any) -> Graph | None:
    pool_id = f"{step.id}.{POOL}"
    scope = _Scope(
        names={role: f"{step.id}.{role}" for role in POOL_ROLES},
        in_loop=True,
        reads=step.scope,
        outer_prefix=step.id + ".",
    )
    steps: list[_Step] = []
    last = c.compile_steps(
        step.doc,
        step.raw["steps"],
        (*step.path, "loop", "steps"),
        step.id + ".",
        scope,
        steps,
        step.params,
        step.origin,
        POOL,
    )
    nodes: dict[str, Node] = {
        f"{step.id}.{role}": Node(f"{step.id}.{role}", "pool", role, [], step.span, step.origin)
        for role in POOL_ROLES
    }
    nodes.update(_step_nodes(c, steps))
    for outer_id, pool_node in scope.outer_refs.items():
        nodes[pool_node] = Node(pool_node, "pool", f"outer:{outer_id}", [], step.span, step.origin)
    if hasattr(config, "outer"):
        config.outer = dict(scope.outer_refs)
    out_name = getattr(config, "output", None) or last
    if out_name is None or out_name not in scope.names:
        c.diags.append(
            Diagnostic(
                # At the loop's 'output:' value when it names the missing step.
                step.doc.spans.value((*step.path, "loop", "output"))
                if getattr(config, "output", None)
                else step.span,
                f"loop '{step.id}' has no output step '{out_name}'",
                did_you_mean(str(out_name), scope.names)
                or "the loop's steps: " + ", ".join(n for n in scope.names if n not in POOL_ROLES),
            )
        )
        return None
    return _order_and_check(c, nodes, scope.names[out_name], pool_id)


def _search_dirs(doc: Document) -> list[Path]:
    base = Path(doc.path).parent
    dirs = [base]
    d = base.resolve()
    for _ in range(3):
        if d.parent == d:
            break
        d = d.parent
        dirs.append(d)
    dirs.append(Path.cwd())
    out: list[Path] = []
    for x in dirs:
        if x.resolve() not in [o.resolve() for o in out]:
            out.append(x)
    return out


def _order_and_check(
    c: _Compiler, nodes: dict[str, Node], out_id: str, pool_id: str | None
) -> Graph | None:
    if out_id not in nodes:
        return None
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in nodes.values():
        sorter.add(node.id, *[i for i in node.inputs if i in nodes])
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(exc.args[1])
        first = nodes.get(cycle[0])
        c.diags.append(
            Diagnostic(
                first.span if first else None,
                "steps form a cycle: " + " -> ".join(reversed(cycle)),
                "a step can only read from steps that do not depend on it",
            )
        )
        return None
    needed: set[str] = set()
    stack = [out_id]
    while stack:
        nid = stack.pop()
        if nid in needed or nid not in nodes:
            continue
        needed.add(nid)
        stack.extend(nodes[nid].inputs)
    for nid in order:
        if nid not in needed and nodes[nid].kind not in ("source", "pool"):
            c.warnings.append(
                Diagnostic(
                    nodes[nid].span,
                    f"step '{nid}' does not lead to the output; it will not run",
                    severity="warning",
                )
            )
    if pool_id is not None and pool_id not in needed:
        needed.add(pool_id)
    ordered = {nid: nodes[nid] for nid in order if nid in needed}
    return Graph(ordered, out_id)


def propagate_fields(
    c: _Compiler,
    graph: Graph,
    pool_fields: list[str],
    outer_fields: dict[str, list[str]] | None = None,
) -> None:
    """Give every node its output fields and check what each node reads.

    In a loop body, ``pool_fields`` are the fields of the round's pool and
    ``outer_fields`` those of the enclosing nodes the body reads (by outer node id).
    """
    for node in graph.nodes.values():
        kind = node_kind(node.kind)
        if node.kind == "source":
            node.fields = kind.output_fields(node.config, [])
            continue
        if node.kind == "pool":
            role = str(node.config)
            if role.startswith("outer:"):
                node.fields = list((outer_fields or {}).get(role[len("outer:") :], ["*"]))
            else:
                node.fields = list(pool_fields)
            continue
        main = getattr(node.config, "main", None)
        sources = main if main else node.inputs
        inputs = [graph.nodes[i].fields for i in sources if i in graph.nodes]
        upstream: list[str] = [] if inputs else ["*"]  # unresolved inputs were reported
        if node.kind == "mix" and inputs:
            common = set(inputs[0]).intersection(*map(set, inputs[1:]))
            upstream = [f for f in inputs[0] if f in common]
        else:
            for fl in inputs:
                upstream += [f for f in fl if f not in upstream]
        available = sorted(set(upstream))
        if "*" not in available:
            reads = list(kind.read_fields(node.config))
            if node.when is not None:
                reads += list(node.when.field_spans())
            for fname, span in reads:
                if fname not in available:
                    c.diags.append(
                        Diagnostic(
                            span,
                            f"field '{fname}' is not provided by any upstream node",
                            did_you_mean(fname, available)
                            or (f"available fields: {', '.join(available)}" if available else None),
                        )
                    )
            c.diags.extend(kind.check_templates(node.config, available))
        for alias, span in kind.model_refs(node.config):
            if alias is not None and alias not in c.models:
                c.diags.append(
                    Diagnostic(
                        span,
                        f"unknown model alias '{alias}'",
                        did_you_mean(alias, c.models)
                        or f"declared aliases: {', '.join(sorted(c.models))}",
                    )
                )
        if node.body is not None:
            # later rounds read earlier rounds' outputs (pool, pool_new): learn their
            # fields in a first pass whose diagnostics are thrown away
            outer = {
                oid: graph.nodes[oid].fields
                for oid in getattr(node.config, "outer", {})
                if oid in graph.nodes
            }
            pool_fields = list(upstream)
            probe = _Compiler(c.opts)
            probe.models = c.models
            propagate_fields(probe, node.body, upstream, outer)
            out = node.body.nodes.get(node.body.output)
            if out is not None:
                pool_fields += [f for f in out.fields if f not in pool_fields]
            propagate_fields(c, node.body, pool_fields, outer)
            out = node.body.nodes.get(node.body.output)
            node.fields = list(out.fields) if out else list(upstream)
        else:
            node.fields = kind.output_fields(node.config, upstream)
