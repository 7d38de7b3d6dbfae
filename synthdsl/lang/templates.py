"""Prompt templates: Jinja2 text → checked ``Template`` → rendered prompt.

Input: a template file reference resolved against search directories
(``load_template``) or an inline recipe string with its span (``inline_template``).
Output: an immutable ``Template`` that lists the variables it reads (``variables``,
``variable_spans``), checks them against the fields upstream nodes provide
(``check_variables``) and renders a context (``render``).

Errors: ``RecipeError`` when a file is missing (with a did-you-mean hint over nearby
template files), not UTF-8 text, has a syntax error (positioned in the template file,
or in the recipe for inline templates) or statically includes a missing file.
``TemplateRenderError`` (a ``RunError``) when rendering fails: an undefined variable
(``StrictUndefined``), a sandbox violation such as ``{{ ''.__class__ }}``, or any error
raised by a filter; it names the template and, when known, the line.

Templates run in a Jinja2 sandbox (autoescape off, trailing newline kept), bounded by
``lang.jinja_limits``: no operation, call or render can make a value past its limits,
and constant expressions that would are refused by ``check``; template files are at
most ``MAX_TEMPLATE_BYTES``. Besides Jinja's built-in filters (``tojson``, ``join``,
...) templates get the ``words`` filter (word count), the ``json`` filter (plain
``json.dumps``, unicode kept) and the ``enumerate`` global. The only file access is
``{% include %}``, ``{% import %}`` and ``{% extends %}`` of files under the search
directories.

Variables guarded by ``{% if x is defined %}`` or read through ``x | default(...)`` are
optional: ``variables()`` leaves them out and ``optional_variables()`` lists them.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, nodes
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from synthdsl.errors import Diagnostic, RecipeError, RunError, Span, did_you_mean
from synthdsl.lang.boundary import ReadBoundary
from synthdsl.lang.jinja_limits import BoundedSandbox, constant_problems, render_bounded

__all__ = [
    "TEMPLATE_SUFFIXES",
    "Template",
    "TemplateRenderError",
    "check_variables",
    "inline_template",
    "load_template",
]

TEMPLATE_SUFFIXES = (".j2", ".jinja", ".txt", ".md")
"""File name endings ``load_template`` accepts."""

_MAX_CANDIDATES = 300

MAX_TEMPLATE_BYTES = 256 * 1024
"""Largest template file: a prompt, not a data store."""
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "venv", "site-packages"})
_OPTIONAL_TESTS = frozenset({"defined", "undefined"})
_OPTIONAL_FILTERS = frozenset({"default", "d"})


class TemplateRenderError(RunError):
    """Rendering a template failed; ``template`` is its name, ``span`` the failing line."""

    def __init__(self, message: str, *, template: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.span = span


# Environment ------------------------------------------------------------------------


def _chunks(compiled: jinja2.Template, ctx: Context) -> Iterator[str]:
    """The render's chunks; an error raised inside the template comes out with Jinja's
    rewritten traceback (its frames name the template lines), as ``generate`` does."""
    try:
        yield from compiled.root_render_func(ctx)
    except Exception:
        yield compiled.environment.handle_exception()


def _word_count(value: Any) -> int:
    return len(str(value).split())


def _plain_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


@functools.lru_cache(maxsize=64)
def _environment(search_dirs: tuple[Path, ...]) -> SandboxedEnvironment:
    loader = FileSystemLoader([str(d) for d in search_dirs]) if search_dirs else None
    env = BoundedSandbox(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["words"] = _word_count
    env.filters["json"] = _plain_json
    env.globals["enumerate"] = enumerate
    return env


# Template ---------------------------------------------------------------------------


class _Cache:
    """Lazily computed, per-template state (the dataclass itself stays frozen)."""

    def __init__(self) -> None:
        self.ast: nodes.Template | None = None
        self.compiled: jinja2.Template | None = None
        # the compiled template's globals as one dict: Jinja keeps them as a ChainMap,
        # which every render would otherwise flatten again (a tenth of a cached call)
        self.globals: dict[str, Any] = {}

    def __reduce__(self) -> tuple[type[_Cache], tuple[()]]:
        # a template sent to another process (a Ray worker) is parsed again there: the
        # compiled form holds its Jinja environment, which does not pickle
        return (_Cache, ())


@dataclass(frozen=True)
class Template:
    """A prompt template.

    ``origin`` is where ``source`` starts: ``Span(path, 1, 1)`` for a file, the YAML
    scalar's span for an inline string. ``search_dirs`` are the directories
    ``{% include %}`` may read from.
    """

    name: str
    source: str
    origin: Span
    search_dirs: tuple[Path, ...] = ()
    _cache: _Cache = field(default_factory=_Cache, init=False, repr=False, compare=False)

    @property
    def environment(self) -> SandboxedEnvironment:
        """The sandboxed Jinja environment this template renders in."""
        return _environment(self.search_dirs)

    def _ast(self) -> nodes.Template:
        if self._cache.ast is None:
            try:
                self._cache.ast = self.environment.parse(self.source)
            except TemplateSyntaxError as exc:
                raise RecipeError([self._syntax_diagnostic(exc)]) from None
        return self._cache.ast

    def _syntax_diagnostic(self, exc: TemplateSyntaxError) -> Diagnostic:
        return Diagnostic(
            self.origin.shifted(max(exc.lineno, 1) - 1, 0),
            f"template syntax error: {exc.message or exc}",
        )

    def span_at(self, line: int, col: int = 1) -> Span:
        """The recipe/template-file span of a 1-based line and column of ``source``."""
        return self.origin.shifted(line - 1, col - 1)

    def optional_variables(self) -> frozenset[str]:
        """Variables read only in a way that tolerates absence (``is defined``, ``default``)."""
        return frozenset(_optional_names(self._ast()))

    def variables(self) -> frozenset[str]:
        """Top-level variables the template (and its static includes) needs from the context.

        Names set inside the template (``{% set %}``, loop variables, macro arguments),
        Jinja globals and optional variables are left out.
        """
        return frozenset(name for name, _ in self._variable_spans())

    def variable_spans(self) -> list[tuple[str, Span]]:
        """Each variable of ``variables()`` with the position of its first occurrence.

        Positions are in the recipe for inline templates and in the template file for
        files; variables needed by an included file point into that file.
        """
        return self._variable_spans()

    def _variable_spans(self) -> list[tuple[str, Span]]:
        env = self.environment
        own = _own_variables(env, self._ast())
        found = _first_positions(env, self.source, own)
        result = [(name, self.span_at(*found.get(name, (1, 1)))) for name in own]
        result.sort(key=lambda item: (item[1].line, item[1].col, item[0]))
        seen = set(own)
        declared = _declared_names(self._ast())
        for included in _static_includes(env, self._ast(), visited={self.origin.file}):
            for name, span in included:
                if name not in seen and name not in declared:
                    seen.add(name)
                    result.append((name, span))
        return result

    def _compiled(self) -> jinja2.Template:
        if self._cache.compiled is None:
            env = self.environment
            try:
                code = env.compile(self.source, name=self.name, filename=self._filename)
            except TemplateSyntaxError as exc:
                raise RecipeError([self._syntax_diagnostic(exc)]) from None
            compiled = env.template_class.from_code(env, code, env.make_globals(None))
            self._cache.globals = dict(compiled.globals)
            self._cache.compiled = compiled
        return self._cache.compiled

    @property
    def _filename(self) -> str:
        return f"<template {self.name}>"

    def render(self, context: Mapping[str, Any]) -> str:
        """The text of the template rendered with ``context``.

        Raises ``TemplateRenderError`` on any rendering failure.
        """
        compiled = self._compiled()
        # what ``compiled.generate(context)`` does, with the globals flattened once
        variables = self._cache.globals.copy()
        variables.update(context)
        env = compiled.environment
        ctx = env.context_class(env, variables, compiled.name, compiled.blocks, self._cache.globals)
        try:
            return render_bounded(_chunks(compiled, ctx))
        except Exception as exc:
            span = self._failure_span(exc)
            where = f" at {span}" if span is not None else ""
            raise TemplateRenderError(
                f"template '{self.name}' failed{where}: {_describe(exc)}",
                template=self.name,
                span=span,
            ) from exc

    def _failure_span(self, exc: BaseException) -> Span | None:
        """The template line that raised, from Jinja's rewritten traceback frames."""
        span: Span | None = None
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "__jinja_exception__" in frame.f_globals:
                filename = frame.f_code.co_filename
                if filename == self._filename:
                    span = self.span_at(tb.tb_lineno)
                else:
                    span = Span(filename, tb.tb_lineno, 1)
            tb = tb.tb_next
        return span

    def check(self) -> None:
        """Raise ``RecipeError`` on syntax errors here or in statically included files,
        and on constant expressions that would make a value past the template bounds."""
        problems = [
            Diagnostic(self.span_at(line), f"template computes too much: {message}")
            for line, message in constant_problems(self._ast())
        ]
        problems += _include_problems(self, set())
        if problems:
            raise RecipeError(problems)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateError) and exc.message:
        return exc.message
    return f"{type(exc).__name__}: {exc}"


# Static analysis --------------------------------------------------------------------


def _optional_names(ast: nodes.Template) -> set[str]:
    optional: set[str] = set()
    for test in ast.find_all(nodes.Test):
        if test.name in _OPTIONAL_TESTS and isinstance(test.node, nodes.Name):
            optional.add(test.node.name)
    for filt in ast.find_all(nodes.Filter):
        if filt.name in _OPTIONAL_FILTERS and isinstance(filt.node, nodes.Name):
            optional.add(filt.node.name)
    return optional


def _own_variables(env: SandboxedEnvironment, ast: nodes.Template) -> list[str]:
    names = find_undeclared_variables(ast) - set(env.globals) - _optional_names(ast)
    return sorted(names)


def _declared_names(ast: nodes.Template) -> set[str]:
    """Names the template binds anywhere (an included file sees them in its context)."""
    declared = {name.name for name in ast.find_all(nodes.Name) if name.ctx in ("store", "param")}
    declared.update(macro.name for macro in ast.find_all(nodes.Macro))
    declared.update(imp.target for imp in ast.find_all(nodes.Import))
    for from_import in ast.find_all(nodes.FromImport):
        for item in from_import.names:
            declared.add(item[1] if isinstance(item, tuple) else item)
    return declared


def _first_positions(
    env: SandboxedEnvironment, source: str, wanted: Collection[str]
) -> dict[str, tuple[int, int]]:
    """Line and column of the first name token of each wanted variable.

    Tokens from ``env.lex`` carry a line only; each is located in ``source`` from the
    end of the previous one to get its column. Names right after ``.``, ``|`` or ``is``
    are attributes, filters and tests, not variables.
    """
    positions: dict[str, tuple[int, int]] = {}
    pending = set(wanted)
    cursor = 0
    previous: list[str] = []
    try:
        tokens = list(env.lex(source))
    except TemplateSyntaxError:
        return positions
    for lineno, kind, value in tokens:
        start = source.find(value, cursor) if value else -1
        if start >= 0:
            cursor = start + len(value)
        if kind == "name" and value in pending and not _is_qualifier(previous):
            col = start - (source.rfind("\n", 0, start) + 1) + 1 if start >= 0 else 1
            positions[value] = (lineno, col)
            pending.discard(value)
            if not pending:
                break
        if kind != "whitespace":
            previous = [*previous[-1:], value]
    return positions


def _is_qualifier(previous: list[str]) -> bool:
    if not previous:
        return False
    if previous[-1] in (".", "|", "is"):
        return True
    return previous[-2:] == ["is", "not"]


def _const_template_refs(node: nodes.Include | nodes.Extends) -> Iterator[str]:
    target = node.template
    if isinstance(target, nodes.Const) and isinstance(target.value, str):
        yield target.value
    elif isinstance(target, (nodes.Tuple, nodes.List)):
        for item in target.items:
            if isinstance(item, nodes.Const) and isinstance(item.value, str):
                yield item.value


def _context_refs(ast: nodes.Template) -> Iterator[tuple[str, nodes.Include | nodes.Extends]]:
    """Statically named templates that render with this template's context."""
    for node in ast.find_all((nodes.Include, nodes.Extends)):
        assert isinstance(node, (nodes.Include, nodes.Extends))
        for ref in _const_template_refs(node):
            yield ref, node


def _load_source(env: SandboxedEnvironment, ref: str) -> tuple[str, str] | None:
    if env.loader is None:
        return None
    try:
        source, filename, _ = env.loader.get_source(env, ref)
    except TemplateNotFound:
        return None
    return source, filename or ref


def _static_includes(
    env: SandboxedEnvironment, ast: nodes.Template, visited: set[str]
) -> Iterator[list[tuple[str, Span]]]:
    """Variable spans of each statically included (or extended) file, recursively."""
    for ref, _node in _context_refs(ast):
        loaded = _load_source(env, ref)
        if loaded is None:
            continue
        source, filename = loaded
        if filename in visited:
            continue
        visited.add(filename)
        try:
            sub_ast = env.parse(source, ref, filename)
        except TemplateSyntaxError:
            continue
        own = _own_variables(env, sub_ast)
        found = _first_positions(env, source, own)
        spans = [(name, Span(filename, *found.get(name, (1, 1)))) for name in own]
        spans.sort(key=lambda item: (item[1].line, item[1].col, item[0]))
        declared = _declared_names(sub_ast)
        nested = [
            item
            for group in _static_includes(env, sub_ast, visited)
            for item in group
            if item[0] not in declared
        ]
        yield spans + nested


def _include_problems(template: Template, visited: set[str]) -> Iterator[Diagnostic]:
    """Missing or syntactically broken files referenced by include/import/extends."""
    env = template.environment
    ast = template._ast()
    for node in ast.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        assert isinstance(node, (nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport))
        ignore_missing = isinstance(node, nodes.Include) and node.ignore_missing
        target = node.template
        if not (isinstance(target, nodes.Const) and isinstance(target.value, str)):
            continue
        ref = target.value
        loaded = _load_source(env, ref)
        if loaded is None:
            if not ignore_missing:
                candidates = _candidate_files(template.search_dirs)
                yield Diagnostic(
                    template.span_at(node.lineno),
                    f"template '{template.name}' includes '{ref}', which was not found",
                    _path_hint(ref, candidates) or _dirs_hint(template.search_dirs),
                )
            continue
        source, filename = loaded
        if filename in visited:
            continue
        visited.add(filename)
        included = Template(ref, source, Span(filename, 1, 1), template.search_dirs)
        try:
            included._ast()
        except RecipeError as exc:
            yield from exc.diagnostics
            continue
        yield from _include_problems(included, visited)


# Loading ----------------------------------------------------------------------------


def _candidate_files(search_dirs: Sequence[Path]) -> list[str]:
    """Template files under the search dirs, relative to their dir (bounded, sorted)."""
    found: list[str] = []
    for base in search_dirs:
        if not base.is_dir():
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
            for name in sorted(files):
                if name.lower().endswith(TEMPLATE_SUFFIXES):
                    found.append(Path(root, name).relative_to(base).as_posix())
                    if len(found) >= _MAX_CANDIDATES:
                        return found
    return found


def _path_hint(ref: str, candidates: Sequence[str]) -> str | None:
    hint = did_you_mean(ref, candidates)
    if hint is not None:
        return hint
    by_basename: dict[str, str] = {}
    for candidate in candidates:
        by_basename.setdefault(candidate.rsplit("/", 1)[-1], candidate)
    close = difflib.get_close_matches(ref.rsplit("/", 1)[-1], sorted(by_basename), n=1)
    if close:
        return f"did you mean '{by_basename[close[0]]}'?"
    return None


def _dirs_hint(search_dirs: Sequence[Path]) -> str | None:
    if not search_dirs:
        return None
    return "looked in: " + ", ".join(str(d) for d in search_dirs)


def _resolve(ref: str, search_dirs: Sequence[Path]) -> Path | None:
    if Path(ref).is_absolute():
        return Path(ref) if Path(ref).is_file() else None
    for base in search_dirs:
        candidate = base / ref
        if candidate.is_file():
            return candidate
    return None


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_template(
    ref: str,
    *,
    ref_span: Span,
    search_dirs: Sequence[Path],
    boundary: ReadBoundary | None = None,
) -> Template:
    """Load the template file ``ref``, the first match in ``search_dirs``.

    The template's origin file is the resolved path as built from the given dirs
    (``dir / ref``), so diagnostics show the path the way the caller spelled it. With a
    ``boundary`` (a pack's recipe), a file outside it is an error at ``ref_span``.
    """
    dirs = tuple(Path(d) for d in search_dirs)
    if not ref.lower().endswith(TEMPLATE_SUFFIXES):
        raise RecipeError.single(
            ref_span,
            f"template file '{ref}' must end in {', '.join(TEMPLATE_SUFFIXES)}",
        )
    path = _resolve(ref, dirs)
    if path is None:
        hint = _path_hint(ref, _candidate_files(dirs)) or _dirs_hint(dirs)
        raise RecipeError.single(ref_span, f"template file '{ref}' not found", hint)
    if boundary is not None:
        problem = boundary.problem(path, ref_span, "template file", ref)
        if problem is not None:
            raise RecipeError([problem])
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise RecipeError.single(
            ref_span, f"cannot read template file '{path}': {exc.strerror or exc}"
        ) from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise RecipeError.single(
            ref_span, f"template file '{path}' is larger than {MAX_TEMPLATE_BYTES:,} bytes"
        )
    text = _decode(data)
    if text is None:
        raise RecipeError.single(
            ref_span,
            f"template file '{path}' is not UTF-8 text",
            "templates must be plain text files encoded as UTF-8",
        )
    template = Template(ref, text, Span(str(path), 1, 1), dirs)
    template.check()
    return template


def inline_template(
    text: str, span: Span, name: str, *, search_dirs: Sequence[Path] = ()
) -> Template:
    """A template written inline in the recipe; ``span`` is where ``text`` starts."""
    template = Template(name, text, span, tuple(Path(d) for d in search_dirs))
    template.check()
    return template


def check_variables(
    template: Template,
    available: Collection[str],
    extra_allowed: Collection[str] = ("params",),
) -> list[Diagnostic]:
    """One diagnostic per template variable that no upstream node provides."""
    known = set(available) | set(extra_allowed)
    problems: list[Diagnostic] = []
    for name, span in template.variable_spans():
        if name not in known:
            problems.append(
                Diagnostic(
                    span,
                    f"template variable '{name}' is not provided by any upstream node",
                    did_you_mean(name, known),
                )
            )
    return problems
