"""What a node kind is: compile-time checks and runtime behaviour in one place.

``NodeKind[C]`` is generic over its config type ``C``. Its hooks, in the order the
layers call them:

- compile: ``configure`` (raw YAML → ``C``, problems into the ``CheckContext``),
  ``takes_from``, ``supports_when``, ``link`` (bind resolved inputs, resolve reference
  inputs), ``nested`` / ``bind_nested`` (a body of steps, e.g. a loop's round),
  ``read_fields``, ``templates``, ``model_refs``, ``upstream_fields``,
  ``output_fields``, and ``check_graph`` (checks that need the whole graph);
- plan: ``estimate`` (records and calls, a nested body through an ``Estimator``),
  ``describe`` (a JSON summary of the config), ``llm_use`` (model and prompt size for
  the cost estimate), ``prompt`` (the prompt it renders, for ``run --dry-run``);
- run: ``map_runner`` or ``stream_runner``.

Nothing outside ``synthdsl.nodes`` knows a kind by name: the compiler, the planner and
the executor only call these hooks. Runners come in two shapes:

- ``MapRunner``: one input record → an ``Outcome`` (``Emit`` one or more records,
  ``Drop`` with a reason, or ``Fail`` with an error). The executor runs it with bounded,
  order-preserving concurrency and does all the accounting; a runner with a
  ``finish()`` method has it called once after its last record (``Finishing``), and
  one that also has ``observe(record, outcome)`` (``Tallying``) is told each outcome
  where the accounting is made, so its ``process`` may run in another process.
- ``StreamRunner``: reads its input streams and reports through an ``Outbox`` (sources,
  mix, loop, set-at-a-time steps).

Runners see the run through the ``Runtime`` protocol, never the runtime itself, so the
layers stay ``run > nodes``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from synthdsl.errors import Diagnostic, Span
from synthdsl.lang.expr import Expression
from synthdsl.lang.expr.types import FieldType
from synthdsl.lang.load import Document, Path_
from synthdsl.lang.templates import Template, check_variables
from synthdsl.records import Record

if TYPE_CHECKING:
    from synthdsl.ir import Graph, Node
    from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
    from synthdsl.nodes.accounting import NodeStats

__all__ = [
    "BLOCK",
    "CheckContext",
    "Drop",
    "Emit",
    "Estimate",
    "Estimator",
    "Fail",
    "Finishing",
    "GraphReport",
    "LLMUse",
    "MapRunner",
    "Nested",
    "NodeKind",
    "Outbox",
    "Outcome",
    "Prompt",
    "Ref",
    "Resolve",
    "Runtime",
    "StreamRunner",
    "Tallying",
    "concat_streams",
    "count_references",
    "link_refs",
    "main_fields",
    "read_all",
    "union_fields",
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
    calls: int | None = 0
    exact: bool = True
    note: str | None = None  # how a nested estimate was made, for the plan


class Estimator(Protocol):
    """What a kind asks the planner while estimating: the pool of the body being
    estimated, and estimates of a nested body."""

    @property
    def pool_records(self) -> int | None: ...

    @property
    def counts_sources(self) -> bool:
        """False: leave a file source's record count unknown rather than read the file
        (a run with no LLM step needs no estimate)."""
        ...

    def body(self, graph: Graph, pool_records: int | None) -> tuple[int | None, int | None]:
        """Records out of ``graph``'s output node and LLM calls, for one pass over a pool
        of ``pool_records`` records."""
        ...


@dataclass(frozen=True)
class LLMUse:
    """What a node sends to a model, for the plan's cost estimate."""

    model: str | None  # alias; None: the default model
    params: dict[str, Any]
    prompt_chars: int  # characters of the templates (rendered prompts are larger)


@dataclass(frozen=True)
class Nested:
    """A body of steps inside a step (a loop's round), compiled by the compiler.

    ``steps`` is the path of the step list under the step's kind key; the body reads
    its enclosing records through ``feeds`` (names the body's steps may use; the first
    is the default input); ``output`` names the body's output step (None: the last).
    """

    steps: tuple[str | int, ...]
    feeds: tuple[str, ...]
    output: str | None
    output_key: tuple[str | int, ...] = ()  # where ``output`` is written, for errors


class Ref(Protocol):
    """A reference input named inside a config (mix parts, draw parts, dedup against)."""

    source: str
    span: Span
    node: str


Resolve = Callable[[str, Span], list[str]]


def link_refs(refs: Sequence[Ref], resolve: Resolve) -> list[str]:
    """Resolve each reference to its node id (``ref.node``); the ids, in order."""
    out: list[str] = []
    for ref in refs:
        resolved = resolve(ref.source, ref.span)
        if resolved:
            ref.node = resolved[0]
            out.append(resolved[0])
    return out


def union_fields(field_lists: Iterable[list[str]]) -> list[str]:
    """The fields of several inputs, in first-seen order."""
    out: list[str] = []
    for fl in field_lists:
        out += [f for f in fl if f not in out]
    return out


def main_fields(main: list[str], inputs: dict[str, list[str]]) -> list[str] | None:
    """Upstream fields of a kind whose records come from its main inputs only."""
    chosen = [inputs[i] for i in (main or inputs) if i in inputs]
    return union_fields(chosen) if chosen else None


class GraphReport(Protocol):
    """Where ``check_graph`` reports: errors fail the compile, warnings are printed."""

    def error(self, diagnostic: Diagnostic) -> None: ...

    def warning(self, diagnostic: Diagnostic) -> None: ...


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
    detail: dict[str, Any] | None = None  # kept in the rejects row (e.g. the bad reply)


Outcome = Emit | Drop | Fail


class MapRunner(Protocol):
    """Processes one record at a time; ``concurrency`` calls may run at once.

    A runner may also say ``quick = True``: its ``process`` never waits (no model call,
    no thread, no sleep), so the executor may run it inside the task of the node that
    feeds it instead of behind a queue (``run/executor.py``).

    Or ``cpu_bound = True``: its ``process`` spends the CPU of the machine it runs on (a
    sandboxed program), not a remote service's time. An executor that spreads records
    over processes (the Ray executor's workers) runs at most a process's CPU share of
    them at once there, and hands them out a few at a time, so no process waits idle
    while another works through a long batch.
    """

    concurrency: int

    async def process(self, record: Record) -> Outcome: ...


class Finishing(Protocol):
    """A map runner with work after its last record (notes for the manifest)."""

    def finish(self) -> None: ...


class Tallying(Finishing, Protocol):
    """A finishing map runner whose notes are a tally of its records' outcomes.

    ``process`` does a record's work and keeps nothing of it; the executor tells
    ``observe`` every outcome ``process`` returned (records a ``when:`` left out are not
    processed, so not observed), in the process that keeps the accounting, and calls
    ``finish`` after the last one. So ``process`` may run elsewhere (a Ray worker) while
    the tally, and the notes ``finish`` writes from it, stay with the accounting: the
    notes are the same wherever the records were processed. ``observe`` is called in
    the order records finish, which may differ from input order: a tally must not
    depend on it.
    """

    def observe(self, record: Record, outcome: Outcome) -> None: ...


# The most records a producer hands on at once through ``Outbox.emit_block`` (a source
# does; the executor sizes the queues behind such producers by it).
BLOCK = 64


@dataclass
class Outbox:
    """How a stream runner reports: every input must end in emit/passed, drop or fail."""

    emit: Callable[[Record], Awaitable[None]]
    drop: Callable[[Record, str, dict[str, Any] | None], None]
    fail: Callable[[Record, str, str], None]
    count_in: Callable[[int], None]
    count_passed: Callable[[int], None]
    # Several records at once, in order (as ``emit`` one after the other, with fewer
    # steps per record); None where the executor has no block path.
    emit_block: Callable[[list[Record]], Awaitable[None]] | None = None


async def read_all(inputs: dict[str, AsyncIterator[Record]]) -> dict[str, list[Record]]:
    """Every input read in full, concurrently (so inputs sharing an upstream can't block)."""
    import asyncio

    buffers: dict[str, list[Record]] = {nid: [] for nid in inputs}

    async def drain(nid: str, it: AsyncIterator[Record]) -> None:
        async for rec in it:
            buffers[nid].append(rec)

    await asyncio.gather(*(drain(nid, it) for nid, it in inputs.items()))
    return buffers


def concat_streams(streams: list[AsyncIterator[Record]]) -> AsyncIterator[Record]:
    """Inputs in order: the first fully, then the next; later ones buffer meanwhile.

    Later inputs are drained concurrently, so inputs sharing an upstream can't block.
    One input is handed back as it is (no generator in between).
    """
    if len(streams) == 1:
        return streams[0]
    return _concat(streams)


async def _concat(streams: list[AsyncIterator[Record]]) -> AsyncIterator[Record]:
    import asyncio

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

    def feed(self, key: str) -> list[Record]:
        """The records handed to this (sub-)graph under ``key`` (a loop round's pools)."""
        ...

    def node_stats(self, node_id: str, kind: str) -> NodeStats: ...

    def note(self, node_id: str, name: str, value: Any) -> None: ...

    def discard(self, node_id: str, record: Record, reason: str) -> None: ...

    def violation(self, node_id: str, message: str, fatal: bool) -> None:
        """What the node wrote breaks a rule of the recipe (a mix's stage band or real
        floor): the run goes on; once its records are written, a fatal violation fails
        it (exit 1) and any other is printed as a warning; the manifest lists both."""
        ...

    def spec_for(self, alias: str | None, key: str, overrides: dict[str, Any]) -> ModelSpec: ...

    def provider_extra(self, alias: str | None, spec: ModelSpec) -> tuple[tuple[str, Any], ...]: ...

    def concurrency_for(self, alias: str | None) -> int: ...

    async def complete(self, node_id: str, request: LLMRequest, record: str = "") -> LLMResponse:
        """The answer to ``request``, rendered from the record with id ``record``."""
        ...

    async def run_subgraph(
        self,
        graph: Graph,
        feed: dict[str, list[Record]],
        round_: int | None,
        scope: str | None = None,
    ) -> list[Record]: ...


class StreamRunner(Protocol):
    """Reads its input streams and reports through an ``Outbox``.

    A runner may also say ``serial = True``: it awaits each ``emit`` before the next
    (never two at once, from one task), so a quick node it alone feeds may run inline.
    """

    async def run(self, inputs: dict[str, AsyncIterator[Record]], out: Outbox) -> None: ...


C = TypeVar("C")


class Prompt(Protocol):
    """What a node that calls a model renders per record: an optional system template,
    the user template, the model alias and the recipe's parameters (``nodes/prompting.py:
    PromptConfig`` is one)."""

    @property
    def system(self) -> Template | None: ...

    @property
    def user(self) -> Template | None: ...

    @property
    def model(self) -> str | None: ...

    @property
    def recipe_params(self) -> dict[str, Any]: ...


class NodeKind(Generic[C]):
    """Base class of node kinds; subclasses live one per module in ``synthdsl.nodes``."""

    name: ClassVar[str] = ""
    uses_llm: ClassVar[bool] = False
    # New records are written by a model: a mix counts such parts as synthetic.
    writes_content: ClassVar[bool] = False
    # JSON Schema of the step's config (the value under the kind's key). Built-in kinds
    # have theirs in ``recipe.schema.json``; a plugin kind must set it, and the recipe
    # schema takes it in (``lang/schema/plugin_steps.py``), so its config is checked at
    # ``file:line:col`` like a built-in's.
    schema: ClassVar[dict[str, Any] | None] = None
    # Every step of the kind handles one record at a time: it may carry ``when:`` and be
    # a case of a ``switch:`` (the default ``supports_when``; the schema of switch cases).
    record_at_a_time: ClassVar[bool] = False
    # Its map runner's work per record is heavy (a model call, a sandboxed run) and
    # depends on that record alone: an executor may run it in another process (the
    # Ray executor's workers) and hand the outcome back. Light kinds stay where the
    # records are: shipping a record costs more than a filter or a set.
    ship_records: ClassVar[bool] = False
    # Its reference inputs (what ``link`` returns: ``against:`` of dedup, decontaminate,
    # leakage) are read, never passed on: the plan counts its main inputs only.
    references_stay: ClassVar[bool] = False

    # -- compile ------------------------------------------------------------------------

    def configure(self, raw: Any, ctx: CheckContext) -> C:
        raise NotImplementedError(self.name)

    def supports_when(self, config: C) -> bool:
        """Whether a step-level ``when:`` may gate this kind (record-at-a-time kinds)."""
        return self.record_at_a_time

    def takes_from(self, raw: Any) -> bool:
        """Whether the step reads a main input (``from:``, or the previous step)."""
        return True

    def link(self, config: C, main: list[str], resolve: Resolve) -> list[str]:
        """Bind the resolved ``from:`` ids; return further input ids (references)."""
        return []

    def nested(self, config: C) -> Nested | None:
        """A body of steps the compiler compiles as a nested graph."""
        return None

    def bind_nested(self, config: C, outer: dict[str, str]) -> None:
        """The enclosing nodes the body reads, by id, with the feed each arrives in."""

    def feed(self, config: C) -> str | None:
        """For a node whose records the enclosing runner hands in (a loop round's
        pools): the key they come under. Its fields are the feed's fields."""
        return None

    def read_fields(self, config: C) -> list[tuple[str, Span]]:
        """Fields this node reads from its input records, with where they are named."""
        return []

    def templates(self, config: C) -> list[Template]:
        return []

    def check_templates(self, config: C, available: list[str]) -> list[Diagnostic]:
        """Template variables that no upstream field provides."""
        out: list[Diagnostic] = []
        for tmpl in self.templates(config):
            out += check_variables(tmpl, available)
        return out

    def model_refs(self, config: C) -> list[tuple[str | None, Span]]:
        """Model aliases used (None: the default model)."""
        return []

    def upstream_fields(self, config: C, inputs: dict[str, list[str]]) -> list[str] | None:
        """The fields records arrive with, from each input's fields (None: no input)."""
        return union_fields(inputs.values()) if inputs else None

    def output_fields(self, config: C, upstream: list[str]) -> list[str]:
        return list(upstream)

    def field_types(self, config: C, upstream: dict[str, FieldType]) -> dict[str, FieldType]:
        """The types of this node's output fields that are certain (``upstream``: those
        of its input). None by default: a kind that may rewrite any field vouches for
        nothing; one that never changes a value passes ``upstream`` on."""
        return {}

    def expressions(self, config: C) -> list[Expression]:
        """The filter expressions the node evaluates per record (type-checked against
        the known field types)."""
        return []

    def check_graph(self, node: Node[C], graph: Graph, report: GraphReport) -> None:
        """Checks that need the whole compiled graph (after fields are known)."""

    # -- plan -----------------------------------------------------------------------------

    def estimate(self, node: Node[C], n_in: int | None, est: Estimator) -> Estimate:
        return Estimate(records=n_in)

    def describe(self, config: C) -> dict[str, Any] | None:
        """A JSON-able summary of the config for the plan (None: nothing to show)."""
        return {}

    def llm_use(self, config: C) -> LLMUse | None:
        """The model and prompt of a node that calls one (``uses_llm``)."""
        return None

    def prompt(self, config: C) -> Prompt | None:
        """The prompt a node that calls a model renders per record (``run --dry-run``
        shows it without calling)."""
        return None

    # -- run ------------------------------------------------------------------------------

    def map_runner(self, node: Node[C], rt: Runtime) -> MapRunner | None:
        return None

    def stream_runner(self, node: Node[C], rt: Runtime) -> StreamRunner | None:
        return None
