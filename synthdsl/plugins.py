"""Extensions from installed Python packages, through entry points: the one door for code.

A recipe never imports a module by name; Python code reaches synthdsl only from a
package the user installed, which declares entry points in one of five groups:

- ``synthdsl.nodes``: a new step kind (the value is a ``NodeKind``; see ``docs/plugins.md``);
- ``synthdsl.functions``: filter-expression functions (a ``FunctionSpec`` or a list of them);
- ``synthdsl.metrics``: ``synthdsl stats`` metrics;
- ``synthdsl.schemas``: reply schemas (a pydantic model or a JSON Schema mapping) that a
  step's ``json: {schema: NAME}`` names;
- ``synthdsl.packs``: a Python package that carries recipe packs (the value is a module;
  its folder, or the folders its ``PACKS`` names, hold the packs).

Input: the group name. Output: the group's entry points, sorted by name, and ``load``
to import one. ``SYNTHDSL_NO_PLUGINS=1`` turns every group off (for bisecting a broken
plugin). Errors: a plugin that fails to import raises ``PluginError`` naming the
plugin, the package that ships it and the underlying error; it is never swallowed.

Discovery is lazy: nothing here runs until a name is not a built-in one (a step kind,
a function), or a command lists plugins (``synthdsl plugins``, ``schema``, ``stats``).
``noting_uses`` collects the plugins a compile resolved (``note_use``), so that the
plan, the recipe hash and the manifest can name them with their versions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

from synthdsl.errors import SynthdslError

__all__ = ["GROUPS", "Plugin", "PluginError", "load", "note_use", "noting_uses", "plugins"]

GROUPS = (
    "synthdsl.nodes",
    "synthdsl.functions",
    "synthdsl.metrics",
    "synthdsl.schemas",
    "synthdsl.packs",
)


class PluginError(SynthdslError):
    """A plugin could not be loaded or does not provide what its group needs (exit 1)."""


@dataclass(frozen=True, order=True)
class Plugin:
    """One entry point: its group, its name, ``module:attr`` and the package shipping it."""

    group: str
    name: str
    value: str
    package: str
    version: str

    def where(self) -> str:
        """``name`` (from package 1.2.0), for messages."""
        return (
            f"{self.name!r} (entry point {self.value} from package {self.package} {self.version})"
        )

    def to_dict(self) -> dict[str, str]:
        """What a plan or a manifest says about a plugin a recipe used."""
        return {
            "group": self.group,
            "name": self.name,
            "package": self.package,
            "version": self.version,
        }


@cache
def plugins(group: str) -> tuple[Plugin, ...]:
    """The entry points installed in ``group``, sorted by name (empty when turned off)."""
    if group not in GROUPS:
        raise ValueError(f"unknown plugin group {group!r}")
    if os.environ.get("SYNTHDSL_NO_PLUGINS") == "1":
        return ()
    found: dict[str, Plugin] = {}
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        package = dist.metadata["Name"] if dist is not None else "?"
        version = dist.version if dist is not None else "?"
        # The same distribution seen twice on sys.path (a venv and a --target folder)
        # is one plugin; the first one on sys.path wins, as Python's import does.
        found.setdefault(ep.name, Plugin(group, ep.name, ep.value, package, version))
    return tuple(sorted(found.values(), key=lambda p: p.name))


def load(plugin: Plugin) -> Any:
    """Import the object an entry point names; ``PluginError`` when that fails."""
    try:
        return metadata.EntryPoint(plugin.name, plugin.value, plugin.group).load()
    except Exception as exc:  # any import-time failure of third-party code
        raise PluginError(
            f"plugin {plugin.where()} in group {plugin.group} failed to load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


_USES: ContextVar[set[Plugin] | None] = ContextVar("synthdsl_plugin_uses", default=None)


@contextmanager
def noting_uses() -> Iterator[set[Plugin]]:
    """Collect, while the block runs, the plugins ``note_use`` is told about (one compile)."""
    used: set[Plugin] = set()
    token = _USES.set(used)
    try:
        yield used
    finally:
        _USES.reset(token)


def note_use(plugin: Plugin) -> None:
    """Record that what is being compiled uses ``plugin`` (nothing outside ``noting_uses``)."""
    used = _USES.get()
    if used is not None:
        used.add(plugin)
