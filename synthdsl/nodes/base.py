"""What a node kind is: compile-time checks and runtime behaviour in one place.

A ``NodeKind`` turns the raw YAML of a step into a typed config (``configure``), tells
the compiler which fields it reads and adds, which templates and model aliases it uses,
estimates records and LLM calls for the plan, and builds a runner for the executor.

Runners come in two shapes:
- ``MapRunner``: one input record → an ``Outcome`` (``Emit`` one or more records,
  ``Drop`` with a reason, or ``Fail`` with an error). The executor runs it with bounded,
  order-preserving concurrency and does all the accounting.
- ``StreamRunner``: reads its input streams and reports through an ``Outbox`` (sources,
  mix, loop).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from synthdsl.errors import Diagnostic, Span
from synthdsl.lang.load import Document, Path_
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Graph, Node
    from synthdsl.lang.templates import Template
    from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
    from synthdsl.nodes.accounting import NodeStats

__all__ = [
    "CheckContext",
    "Drop",
    "Emit",
    "Estimate",
    "Fail",
    "MapRunner",
    "NodeKind",
    "Outbox",
    "Outcome",
    "Runtime",
    "StreamRunner",
    "concat_streams",
    "count_references",
    "read_all",
]


@dataclass
class CheckContext:
    """What a node kind sees while its step is compiled."""

    doc: Document
    path: Path_
    node_id: str
    diagnostics: list[Diagnostic]
    search_dirs: list[Any]
    params: dict[str, Any] = field(default_factory=dict)

    def span(self, *suffix: str | int) -> Span:
        return self.doc.spans.value((*self.path, *suffix))

    def key_span(self, *suffix: str | int) -> Span:
        return self.doc.spans.key((*self.path, *suffix))

    def error(self, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(span, message, hint))


@dataclass(frozen=True)
class Estimate:
    """Upper bounds for a node: records out and LLM calls (None: unknown)."""

    records: int | None
    calls: int = 0
    exact: bool = True


@dataclass
class Emit:
    records: list[Record]


@dataclass
class Drop:
    reason: str
    detail: dict[str, Any] | None = None


@dataclass
class Fail:
    kind: str
    message: str


Outcome = Emit | Drop | Fail


class MapRunner(Protocol):
    """Processes one record at a time; ``concurrency`` calls may run at once."""

    concurrency: int

    async def process(self, record: Record) -> Outcome: ...


@dataclass
class Outbox:
    """How a stream runner reports: every input must end in emit/passed, drop or fail."""

    emit: Callable[[Record], Awaitable[None]]
    drop: Callable[[Record, str, dict[str, Any] | None], None]
    fail: Callable[[Record, str, str], None]
    count_in: Callable[[int], None]
    count_passed: Callable[[int], None]


async def read_all(inputs: dict[str, AsyncIterator[Record]]) -> dict[str, list[Record]]:
    """Every input read in full, concurrently (so inputs sharing an upstream can't block)."""
    import asyncio

    buffers: dict[str, list[Record]] = {nid: [] for nid in inputs}

    async def drain(nid: str, it: AsyncIterator[Record]) -> None:
        async for rec in it:
            buffers[nid].append(rec)

    await asyncio.gather(*(drain(nid, it) for nid, it in inputs.items()))
    return buffers


async def concat_streams(streams: list[AsyncIterator[Record]]) -> AsyncIterator[Record]:
    """Inputs in order: the first fully, then the next; later ones buffer meanwhile.

    Later inputs are drained concurrently, so inputs sharing an upstream can't block.
    """
    import asyncio

    if len(streams) == 1:
        async for rec in streams[0]:
            yield rec
        return
    buffers: list[list[Record]] = [[] for _ in streams]
    done = [asyncio.Event() for _ in streams]

    async def drain(i: int) -> None:
        async for rec in streams[i]:
            buffers[i].append(rec)
        done[i].set()

    tasks = [asyncio.create_task(drain(i)) for i in range(1, len(streams))]
    try:
        async for rec in streams[0]:
            yield rec
        for i in range(1, len(streams)):
            await done[i].wait()
            for rec in buffers[i]:
                yield rec
            buffers[i] = []
    finally:
        for t in tasks:
            t.cancel()


def count_references(buffers: dict[str, list[Record]], main: list[str], out: Outbox) -> None:
    """Inputs read as references (not the main input) count as in and passed."""
    for nid, buf in buffers.items():
        if nid not in main:
            out.count_in(len(buf))
            out.count_passed(len(buf))


class Runtime(Protocol):
    """What a node sees at run time; ``run/context.py`` and ``run/executor.py`` provide it.

    Nodes do not import the runtime: they get this from the executor, so the layers
    stay ``run > nodes``.
    """

    limit: int | None
    round: int | None
    stats: dict[str, NodeStats]

    @property
    def params(self) -> dict[str, Any]: ...

    @property
    def salt(self) -> str: ...

    def node_key(self, node_id: str) -> str: ...

    def node_stats(self, node_id: str, kind: str) -> NodeStats: ...

    def note(self, node_id: str, name: str, value: Any) -> None: ...

    def discard(self, node_id: str, record: Record, reason: str) -> None: ...

    def spec_for(self, alias: str | None, key: str, overrides: dict[str, Any]) -> ModelSpec: ...

    def provider_extra(self, alias: str | None, spec: ModelSpec) -> tuple[tuple[str, Any], ...]: ...

    def concurrency_for(self, alias: str | None) -> int: ...

    async def complete(self, node_id: str, request: LLMRequest) -> LLMResponse: ...

    async def run_subgraph(
        self,
        graph: Graph,
        feed: dict[str, list[Record]],
        round_: int | None,
        scope: str | None = None,
    ) -> list[Record]: ...


class StreamRunner(Protocol):
    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None: ...


class NodeKind:
    """Base class of node kinds; subclasses live one per module in ``synthdsl.nodes``."""

    name: ClassVar[str] = ""
    uses_llm: ClassVar[bool] = False
    multi_input: ClassVar[bool] = False

    def configure(self, raw: Any, ctx: CheckContext) -> Any:
        return raw

    def supports_when(self, config: Any) -> bool:
        """Whether a step-level ``when:`` may gate this kind (record-at-a-time kinds)."""
        return False

    def takes_from(self, raw: Any) -> bool:
        """Whether the step reads a main input (``from:``, or the previous step)."""
        return True

    def read_fields(self, config: Any) -> list[tuple[str, Span]]:
        """Fields this node reads from its input records, with where they are named."""
        return []

    def templates(self, config: Any) -> list[Template]:
        return []

    def check_templates(self, config: Any, available: list[str]) -> list[Diagnostic]:
        """Template variables that no upstream field provides."""
        from synthdsl.lang.templates import check_variables

        out: list[Diagnostic] = []
        for tmpl in self.templates(config):
            out += check_variables(tmpl, available)
        return out

    def model_refs(self, config: Any) -> list[tuple[str | None, Span]]:
        """Model aliases used (None: the default model)."""
        return []

    def output_fields(self, config: Any, upstream: list[str]) -> list[str]:
        return list(upstream)

    def estimate(self, config: Any, n_in: int | None) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, config: Any) -> dict[str, Any]:
        """A JSON-able summary of the config for the plan."""
        return {}

    def map_runner(self, node: Node, rt: Runtime) -> MapRunner | None:
        return None

    def stream_runner(self, node: Node, rt: Runtime) -> StreamRunner | None:
        return None
