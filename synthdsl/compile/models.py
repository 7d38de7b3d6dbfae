"""Model aliases: gathered across ``use:`` boundaries, then changed by the command line.

A used recipe's aliases are its own, like its step ids: ``gen`` declared by the recipe
used in step ``qa`` is ``qa.gen`` in the run (``compile.scope.qualify_alias``); a
using recipe passes its own alias in through a ``model``-typed parameter.

Input: each document's ``models:`` (parsed by ``lang.decls``) and the ``--model`` /
``--api-base`` / ``--batch`` options. Output: ``Compiler.models``, every alias resolved to its
entries, a ``default`` alias always present. Problems (an unknown ``--model ALIAS=``,
a ``local/`` model file that is missing, ``batch: true`` on a model without a batch
API: an error in the recipe, a warning when ``--model`` chose the model, which then
runs online) become diagnostics or warnings.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, RunError, Span, did_you_mean
from synthdsl.ir import Graph, ModelDecl, ModelEntry, default_model
from synthdsl.lang.decls import parse_models
from synthdsl.lang.load import Document
from synthdsl.llm.batch_support import batch_settings, batch_supported
from synthdsl.llm.providers import route_problem
from synthdsl.nodes import node_kind

__all__ = ["add_models", "finish_models", "prune_models"]


def add_models(c: Compiler, doc: Document, prefix: str = "") -> None:
    """Declare ``doc``'s aliases. A used recipe's (``prefix`` is its step's, ``qa.``) are
    its own, declared as ``qa.gen``; it cannot declare the run's ``default``."""
    for alias, decl in parse_models(doc).items():
        if prefix and alias == "default":
            continue  # a strategy does not choose the run's default model
        entries = tuple(_local_path(e, doc) for e in decl.entries)
        _check_batch(c, doc, alias, entries)
        pool = "pool" in (doc.data.get("models") or {}).get(alias, {})
        for i in range(len(entries)):
            path = ("models", alias, "pool", i, "model") if pool else ("models", alias, "model")
            c.model_spans[(prefix + alias, i)] = doc.spans.value(path)
        c.models[prefix + alias] = replace(decl, alias=prefix + alias, entries=entries)
        if prefix:
            c.scoped_models.add(prefix + alias)


def _check_batch(c: Compiler, doc: Document, alias: str, entries: tuple[ModelEntry, ...]) -> None:
    """``batch: true`` needs a model with a batch API (an error at that value)."""
    pool = len(entries) > 1 or "pool" in (doc.data.get("models") or {}).get(alias, {})
    for i, e in enumerate(entries):
        if batch_settings(e.batch) is None or batch_supported(e.model, e.backend):
            continue
        path = ("models", alias, "pool", i, "batch") if pool else ("models", alias, "batch")
        c.error(Diagnostic(doc.spans.value(path), *_batch_refusal(alias, e)))


def _batch_refusal(alias: str, e: ModelEntry) -> tuple[str, str]:
    """The message and hint for an alias that asks for a batch API its model has not."""
    return (
        f"model '{alias}' ({e.model}) cannot run in batch mode",
        "batch: true needs an OpenAI-compatible endpoint (openai/... or backend: http); "
        "the embedded local/ model and litellm's providers run online (docs/batch.md)",
    )


def _batched(e: ModelEntry, opts_batch: bool) -> ModelEntry:
    """``--batch``: the entry in batch mode when its model can be and the recipe does not
    say ``batch: false``."""
    options = dict(e.batch)
    if not opts_batch or options.get("batch") is False or not batch_supported(e.model, e.backend):
        return e
    options["batch"] = True
    return replace(e, batch=tuple(sorted(options.items())))


def _local_path(entry: ModelEntry, doc: Document) -> ModelEntry:
    """``local/<file>.gguf`` in a recipe is relative to the recipe's folder, like every
    path in it (``--model local/x.gguf`` on the command line stays relative to the
    working folder)."""
    name = entry.model[len("local/") :] if entry.model.startswith("local/") else ""
    if not name.endswith(".gguf") or Path(name).expanduser().is_absolute():
        return entry
    return replace(entry, model=f"local/{(doc.folder / name).resolve()}")


def prune_models(c: Compiler, graph: Graph) -> None:
    """Drop the used recipes' aliases that no node calls (their recipe was given other
    aliases through its parameters), so that plans and manifests list the models a run
    uses."""
    used: set[str] = set()
    stack = [graph]
    while stack:
        g = stack.pop()
        for node in g.nodes.values():
            used |= {a or "default" for a, _ in node_kind(node.kind).model_refs(node.config)}
            if node.body is not None:
                stack.append(node.body)
    for alias in c.scoped_models - used:
        c.models.pop(alias, None)


def finish_models(c: Compiler) -> None:
    """Add the default alias, apply ``--model``, ``--api-base`` and ``--batch``, check
    local models."""
    if "default" not in c.models:
        c.models["default"] = ModelDecl(
            "default", (ModelEntry(model=default_model()),), Span("<default>", 1, 1)
        )
    opts = c.opts
    for alias, decl in list(c.models.items()):
        replacement = opts.model_aliases.get(alias, opts.model)
        entries = []
        for e in decl.entries:
            api_base = e.api_base
            if opts.api_base and (replacement or not opts.model_aliases):
                api_base = opts.api_base
            elif replacement and replacement != e.model:
                api_base = None  # a different model: the recipe's endpoint no longer applies
            api_key_env = e.api_key_env
            if replacement and api_base != e.api_base:
                api_key_env = None
            changed = replace(
                e, model=replacement or e.model, api_base=api_base, api_key_env=api_key_env
            )
            if (
                replacement
                and batch_settings(e.batch)
                and not batch_supported(changed.model, changed.backend)
            ):  # --model chose a model without a batch API: it runs online
                message = f"{_batch_refusal(alias, changed)[0]}: it runs online"
                c.warning(Diagnostic(decl.span, message, severity="warning"))
                changed = replace(changed, batch=())
            entries.append(_batched(changed, opts.batch))
        c.models[alias] = ModelDecl(alias, tuple(entries), decl.span)
    _check_local_models(c)
    _check_routes(c)
    for alias in opts.model_aliases:
        if alias not in c.models:
            c.error(
                Diagnostic(
                    None,
                    f"--model {alias}=...: the recipe has no model alias '{alias}'",
                    _alias_hint(alias, c),
                )
            )


def _alias_hint(alias: str, c: Compiler) -> str | None:
    """Point ``--model tester=`` at ``cv.tester``: a used recipe's aliases carry its step."""
    scoped = sorted(a for a in c.models if a.endswith("." + alias))
    if scoped:
        names = " or ".join(f"'{a}'" for a in scoped)
        return f"did you mean {names}? (a used recipe's aliases are named after its step)"
    return did_you_mean(alias, c.models)


def _check_routes(c: Compiler) -> None:
    """A model litellm will call must name a provider it knows (or a model in its table):
    ``embeded/smollm2`` is an error at its value, not a failure of every record at run
    time. With an ``api_base`` litellm may still route it by the endpoint: a warning."""
    opts = c.opts
    said: set[str] = set()  # a --model given to every alias is reported once
    for alias, decl in c.models.items():
        for i, e in enumerate(decl.entries):
            if e.backend == "http" or e.model.startswith(("local/", "openai/")):
                continue
            if any(k == "custom_llm_provider" for k, _ in e.extra):
                continue
            problem = route_problem(e.model)
            if problem is None:
                continue
            message, hint = problem
            if opts.model_aliases.get(alias, opts.model):
                message = f"--model {e.model}: {message}"
                span = None
            elif (alias, i) in c.model_spans:
                span = c.model_spans[(alias, i)]
            else:  # the default alias, from $SYNTHDSL_MODEL
                message = f"SYNTHDSL_MODEL={e.model}: {message}"
                span = None
            if span is None and message in said:
                continue
            said.add(message)
            if e.api_base:
                hint = f"litellm routes it only if {e.api_base} is an endpoint it knows; {hint}"
                c.warning(Diagnostic(span, message, hint, severity="warning"))
            else:
                c.error(Diagnostic(span, message, hint))


def _check_local_models(c: Compiler) -> None:
    """A ``local/...`` model must be servable: its file or package must be there."""
    # Only finds the file: xllamacpp itself is imported when a server starts.
    from synthdsl.llm.local_model import BUILTIN_MODELS, resolve_gguf

    for decl in c.models.values():
        for e in decl.entries:
            if not e.model.startswith("local/"):
                continue
            try:
                resolve_gguf(e.model)
            except RunError as exc:
                builtin = e.model[len("local/") :] in BUILTIN_MODELS
                diag = Diagnostic(decl.span, str(exc), severity="warning" if builtin else "error")
                (c.warning if builtin else c.error)(diag)
