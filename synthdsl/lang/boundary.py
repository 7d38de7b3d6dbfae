"""A read boundary: the folders a recipe may read files from. A project's recipe reads
inside its project; a pack's recipe reads only inside its pack.

Input: the root folder a document is confined to (a pack's folder, or the project's:
``project_root``), how messages name it (``pack:NAME@VERSION``, ``the project at
DIR``) and the folders the user allowed besides (``--allow-read DIR``, and
``SYNTHDSL_ALLOW_READ``: folders separated by ``os.pathsep``). Output: ``ReadBoundary``,
carried on a loaded ``Document`` (``Document.boundary``); ``problem(path, span, what)``
gives the diagnostic for a path that leads outside (symbolic links followed),
``allows(path)`` the yes/no. Template, prompt, source and ``use:`` path resolution ask
it; the built-in strategies (package data) carry none. Raises nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from synthdsl.errors import Diagnostic, Span

__all__ = ["ENV_ALLOW_READ", "PROJECT_MARKERS", "ReadBoundary", "allowed_from_env", "project_root"]

ENV_ALLOW_READ = "SYNTHDSL_ALLOW_READ"

PROJECT_MARKERS = (".git", "pyproject.toml", "synthdsl.lock", ".synthdsl", "pack.yaml")
"""What marks a project's top folder."""


def project_root(folder: Path) -> Path:
    """The nearest folder at or above ``folder`` holding a project marker; else
    ``folder`` itself (a recipe on its own reads beside it and below)."""
    start = folder.resolve()
    for d in (start, *start.parents):
        if any((d / marker).exists() for marker in PROJECT_MARKERS):
            return d
    return start


def allowed_from_env() -> tuple[Path, ...]:
    """The folders ``SYNTHDSL_ALLOW_READ`` allows (empty entries left out)."""
    raw = os.environ.get(ENV_ALLOW_READ, "")
    return tuple(Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip())


@dataclass(frozen=True)
class ReadBoundary:
    root: Path
    label: str
    allowed: tuple[Path, ...] = ()
    why: str = "a pack reads only its own files"

    @classmethod
    def of(
        cls,
        root: Path,
        label: str,
        allowed: Sequence[Path] = (),
        why: str = "a pack reads only its own files",
    ) -> ReadBoundary:
        return cls(root.resolve(), label, tuple(p.resolve() for p in allowed), why)

    def allows(self, path: Path) -> bool:
        """Whether ``path`` (links followed) is inside the root or an allowed folder."""
        real = path.resolve()
        return any(real == base or base in real.parents for base in (self.root, *self.allowed))

    def problem(
        self, path: Path, span: Span | None, what: str, written: str | None = None
    ) -> Diagnostic | None:
        """A diagnostic at ``span`` when ``path`` is outside; None when it may be read.
        The message quotes ``written`` (the path as the recipe spells it) when given."""
        if self.allows(path):
            return None
        return Diagnostic(
            span,
            f"{what} '{written or path}' is outside {self.label}: {self.why}",
            f"put the file inside, or allow its folder: --allow-read DIR (or {ENV_ALLOW_READ}=DIR)",
        )
