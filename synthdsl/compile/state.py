"""The compiler's state for one recipe: options, documents read, problems found.

Input: ``CompileOptions`` (command-line changes to the recipe). Output: a ``Compiler``
that loads documents (``load``: YAML with positions, ``--set``, the closed schema),
substitutes ``${params}`` (``apply_params``), and collects every diagnostic and
warning so that all problems reach the user in one pass. Raises nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.compile.resolve import builtin_recipes_dir
from synthdsl.errors import Diagnostic, RecipeError, Span
from synthdsl.ir import ModelDecl, SourceDecl
from synthdsl.lang.boundary import ReadBoundary, allowed_from_env
from synthdsl.lang.load import Document, load_document
from synthdsl.lang.params import apply_set_overrides, substitute_params
from synthdsl.lang.schema.check import check_document

__all__ = ["CompileOptions", "Compiler", "display_path"]


@dataclass
class CompileOptions:
    """Command-line changes to a recipe, applied while compiling."""

    set_values: list[str] = field(default_factory=list)
    model: str | None = None  # replaces every model alias
    model_aliases: dict[str, str] = field(default_factory=dict)  # alias -> model string
    api_base: str | None = None
    batch: bool = False  # every alias that can, through its provider's batch API
    allow_read: list[str] = field(default_factory=list)  # folders packs may read besides
    display: str | None = None  # how messages name the recipe file (a pack's: pack:N@V/...)
    boundary: ReadBoundary | None = None  # where the recipe may read (checking a pack)


class Compiler:
    """What one compile accumulates; passed to every stage of ``synthdsl.compile``."""

    def __init__(self, opts: CompileOptions) -> None:
        self.opts = opts
        self.diags: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.models: dict[str, ModelDecl] = {}
        self.scoped_models: set[str] = set()  # used recipes' own aliases (``qa.gen``)
        # where each alias entry's ``model:`` value is written, by (alias, entry index)
        self.model_spans: dict[tuple[str, int], Span] = {}
        self.sources: dict[str, SourceDecl] = {}
        self.texts: dict[str, str] = {}
        self.use_stack: list[str] = []
        self.pack_hashes: dict[Path, str] = {}  # content hashes computed for the lock check
        self.allowed = (*(Path(p) for p in opts.allow_read), *allowed_from_env())

    def boundary(
        self, root: Path, label: str, why: str = "a pack reads only its own files"
    ) -> ReadBoundary:
        """The read boundary at ``root`` (a pack's, a project's), widened by
        ``--allow-read`` and the environment."""
        return ReadBoundary.of(root, label, self.allowed, why)

    def error(self, diagnostic: Diagnostic) -> None:
        self.diags.append(diagnostic)

    def warning(self, diagnostic: Diagnostic) -> None:
        self.warnings.append(diagnostic)

    def load(
        self,
        path: Path,
        display: str,
        set_values: Sequence[str] = (),
        boundary: ReadBoundary | None = None,
    ) -> Document | None:
        """Read and check one recipe document; None when it has problems (reported).
        ``boundary``, when given, confines what the document may read (a pack's recipe)."""
        try:
            doc = load_document(path, display)
        except RecipeError as exc:
            self.diags.extend(exc.diagnostics)
            return None
        doc.boundary = boundary
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


def display_path(path: Path) -> str:
    """How a recipe file is named in messages and plans: a built-in strategy as
    ``builtin:<name>.yaml`` (the same wherever synthdsl is installed, so plans and
    recipe hashes are too); another file relative to the working folder if inside."""
    resolved = path.resolve()
    try:
        return "builtin:" + resolved.relative_to(builtin_recipes_dir().resolve()).as_posix()
    except ValueError:
        pass
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
