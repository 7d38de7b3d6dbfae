"""Model aliases: gathered across ``use:`` boundaries, then changed by the command line.

Input: each document's ``models:`` (parsed by ``lang.decls``) and the ``--model`` /
``--api-base`` options. Output: ``Compiler.models``, every alias resolved to its
entries, a ``default`` alias always present. Problems (an unknown ``--model ALIAS=``,
a ``local/`` model file that is missing) become diagnostics or warnings.
"""

from __future__ import annotations

from dataclasses import replace

from synthdsl.compile.state import Compiler
from synthdsl.errors import Diagnostic, RunError, Span, did_you_mean
from synthdsl.ir import ModelDecl, ModelEntry, default_model
from synthdsl.lang.decls import parse_models
from synthdsl.lang.load import Document

__all__ = ["add_models", "finish_models"]


def add_models(c: Compiler, doc: Document, *, nested: bool = False) -> None:
    """Declare ``doc``'s aliases; the outer recipe's alias wins over a used recipe's."""
    for alias, decl in parse_models(doc).items():
        if nested and alias == "default":
            continue  # a strategy does not choose the run's default model
        if alias not in c.models:
            c.models[alias] = decl


def finish_models(c: Compiler) -> None:
    """Add the default alias, apply ``--model`` and ``--api-base``, check local models."""
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
            entries.append(
                replace(e, model=replacement or e.model, api_base=api_base, api_key_env=api_key_env)
            )
        c.models[alias] = ModelDecl(alias, tuple(entries), decl.span)
    _check_local_models(c)
    for alias in opts.model_aliases:
        if alias not in c.models:
            c.error(
                Diagnostic(
                    None,
                    f"--model {alias}=...: the recipe has no model alias '{alias}'",
                    did_you_mean(alias, c.models),
                )
            )


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
