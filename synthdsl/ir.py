"""The shared shapes of a compiled recipe: declarations, nodes and graphs.

Every layer reads these and none defines them again: ``lang`` parses recipe text into
the declarations (``ModelDecl``, ``SourceDecl``, ``OutputDecl``), ``compile`` builds
the ``Graph`` of ``Node``s, ``plan`` and ``run`` read it. This module imports nothing
of synthdsl but ``errors``, which is what keeps the layers free of cycles.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from synthdsl.errors import Diagnostic, Span

__all__ = [
    "DEFAULT_MODEL",
    "Case",
    "CompiledRecipe",
    "Graph",
    "ModelDecl",
    "ModelEntry",
    "Node",
    "OutputDecl",
    "PairsFrom",
    "Predicate",
    "SourceDecl",
    "default_model",
]

DEFAULT_MODEL = "local/smollm2"

C = TypeVar("C")


def default_model() -> str:
    """The model used where a recipe names none: $SYNTHDSL_MODEL or the embedded model."""
    return os.environ.get("SYNTHDSL_MODEL") or DEFAULT_MODEL


@dataclass(frozen=True)
class ModelEntry:
    """One concrete model of an alias (an alias is a weighted pool of these)."""

    model: str
    weight: float = 1.0
    params: tuple[tuple[str, Any], ...] = ()
    api_base: str | None = None
    api_key_env: str | None = None
    concurrency: int = 16
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 120.0
    max_retries: int = 6
    backend: str = "auto"
    extra: tuple[tuple[str, Any], ...] = ()
    # batch, batch_window, ... as written (``batch: true`` sends calls as batches).
    batch: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ModelDecl:
    alias: str
    entries: tuple[ModelEntry, ...]
    span: Span

    @property
    def is_pool(self) -> bool:
        return len(self.entries) > 1


@dataclass(frozen=True)
class SourceDecl:
    name: str
    span: Span
    path: str | None = None
    records: tuple[dict[str, Any], ...] | None = None
    is_input: bool = False
    format: str = "auto"
    text_field: str = "text"
    glob: str | None = None
    limit: int | None = None
    fields: tuple[str, ...] | None = None
    base_dir: str = "."
    allow_empty: bool = False  # a source that yields no rows is an error unless set
    hf: str | None = None  # a dataset read through datasets.load_dataset (Hub or folder)
    split: str | None = None  # hf:, or a DatasetDict folder saved by datasets
    revision: str | None = None  # hf: Hub datasets
    config: str | None = None  # hf: a configuration name
    columns: tuple[str, ...] | None = None  # the fields kept, in order
    license: str | None = None  # as declared, for the dataset card


@dataclass(frozen=True)
class OutputDecl:
    from_: str | None
    dir: str | None
    format: str = "jsonl"
    shape: str = "records"
    fields: tuple[str, ...] | None = None
    instruction_field: str = "instruction"
    input_field: str = "input"
    response_field: str = "response"
    system: str | None = None
    provenance: str = "inline"  # inline | beside | none (io/provenance.py: the rule)
    prompt_field: str = "prompt"
    chosen_field: str = "chosen"
    rejected_field: str = "rejected"
    preference_style: str = "standard"
    pairs_from: PairsFrom | None = None
    turns_field: str = "turns"
    style: str = "openai"
    span: Span | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    card: bool = True  # write the dataset card (README.md) beside the data
    license: str | None = None  # the dataset's license, for the card's metadata


@dataclass(frozen=True)
class PairsFrom:
    """``output.pairs_from``: preference pairs from scored responses grouped by prompt."""

    group_by: str
    score: str
    text: str


class Predicate(Protocol):
    """A compiled condition over one record (``when:``); ``lang.expr`` makes them."""

    @property
    def source(self) -> str: ...

    def evaluate(self, record: Mapping[str, Any]) -> Any: ...

    def field_spans(self) -> Sequence[tuple[str, Span]]: ...


@dataclass(frozen=True)
class Case:
    """A node made from one case of a ``switch:``. The first case node decides, once per
    record, which case takes it (the first whose condition holds; None is a case with no
    condition) and records the choice in the record's metadata under ``switch``; every
    case node then processes the records it was chosen for and passes the others by, and
    the last one removes the choice (records leave the switch as they would any step)."""

    switch: str
    index: int
    conditions: tuple[Predicate | None, ...]

    @property
    def last(self) -> bool:
        return self.index == len(self.conditions) - 1


@dataclass
class Node(Generic[C]):
    """One step of the DAG: its kind's name, its typed config, and where it came from.

    ``inputs`` are node ids; ``fields`` are the fields its records carry (``*``: not
    known); ``body`` is a nested graph (a loop's round); ``when`` gates the step and
    ``case`` makes it one case of a ``switch:``.
    """

    id: str
    kind: str
    config: C
    inputs: list[str]
    span: Span
    origin: str | None = None
    fields: list[str] = field(default_factory=list)
    body: Graph | None = None
    when: Predicate | None = None
    case: Case | None = None


@dataclass
class Graph:
    nodes: dict[str, Node[Any]]  # topological order
    output: str

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for node in self.nodes.values():
            for src in node.inputs:
                if src in out:
                    out[src].append(node.id)
        return out

    def upstream(self, out_id: str) -> Graph:
        """The sub-graph of ``out_id`` and everything it reads from, in order."""
        needed: set[str] = set()
        stack = [out_id]
        while stack:
            nid = stack.pop()
            if nid in needed or nid not in self.nodes:
                continue
            needed.add(nid)
            stack.extend(self.nodes[nid].inputs)
        return Graph({nid: n for nid, n in self.nodes.items() if nid in needed}, out_id)

    def walk(self) -> Iterator[Node[Any]]:
        """Every node, loop bodies included (each body right after its loop)."""
        for node in self.nodes.values():
            yield node
            if node.body is not None:
                yield from node.body.walk()


@dataclass
class CompiledRecipe:
    name: str
    path: str
    graph: Graph
    models: dict[str, ModelDecl]
    sources: dict[str, SourceDecl]
    output: OutputDecl
    params: dict[str, Any]
    texts: dict[str, str]  # file name -> source text, for error rendering
    warnings: list[Diagnostic] = field(default_factory=list)
    # The plugins the recipe uses (step kinds, functions), sorted: each as group, name,
    # package and version (``synthdsl.plugins.Plugin.to_dict``), for the plan and the
    # recipe hash (a plugin upgrade changes it) and the manifest.
    plugins: list[dict[str, str]] = field(default_factory=list)
    # The recipe's ``run:`` settings (``max_failure_rate``), as written.
    run_settings: dict[str, Any] = field(default_factory=dict)
    # Output fields a model wrote, each with the node that wrote it last
    # (``compile/generated.py``), for the manifest and the report's text statistics.
    generated_fields: dict[str, str] = field(default_factory=dict)
