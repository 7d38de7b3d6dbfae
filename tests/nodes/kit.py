"""An in-memory kit for unit-testing node kinds, one hook at a time.

Takes: a recipe written as a YAML string (only its ``steps:`` matter), records as plain
dicts, scripted model replies. Gives: a kind's config made by ``configure`` through a
real ``CheckContext`` (diagnostics with real spans), a ``FakeRuntime`` implementing the
``Runtime`` protocol (it records notes, discards, requests and stats; ``complete``
returns scripted replies; ``run_subgraph`` calls a test-supplied function), a
``Collected`` outbox, drivers for map and stream runners, a fake resolver, estimator
and graph report. Raises: ``AssertionError`` when a test asks for something the YAML
does not hold (a step index out of range); ``NotImplementedError`` from
``FakeRuntime.run_subgraph`` when a test gave no subgraph function.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthdsl.errors import Diagnostic, LLMError, Span
from synthdsl.ir import Graph, Node
from synthdsl.lang.load import parse_document
from synthdsl.lang.schema.check import check_document
from synthdsl.llm.types import LLMRequest, LLMResponse, ModelSpec
from synthdsl.nodes import STEP_KINDS, node_kind
from synthdsl.nodes.accounting import NodeStats
from synthdsl.nodes.base import (
    CheckContext,
    Drop,
    Emit,
    Fail,
    MapRunner,
    NodeKind,
    Outbox,
    Outcome,
    StreamRunner,
)
from synthdsl.records import Record, derive_id

__all__ = [
    "FILE",
    "Collected",
    "Configured",
    "FakeEstimator",
    "FakeReport",
    "FakeRuntime",
    "Resolver",
    "configure",
    "described",
    "dropped",
    "emitted",
    "failed",
    "make_node",
    "make_records",
    "run_map",
    "run_stream",
    "schema_problems",
]

FILE = "recipe.yaml"  # the file name every diagnostic of the kit points into


@dataclass
class Configured:
    """What ``configure`` gave for one step: the config, the problems, the context."""

    config: Any
    diagnostics: list[Diagnostic]
    ctx: CheckContext
    raw: Any

    @property
    def messages(self) -> list[str]:
        return [d.message for d in self.diagnostics]

    def at(self, message_part: str) -> Span:
        """The span of the one diagnostic whose message contains ``message_part``."""
        found = [d for d in self.diagnostics if message_part in d.message]
        assert len(found) == 1, (message_part, self.messages)
        span = found[0].span
        assert span is not None
        return span


def configure(
    yaml_text: str,
    step: int = 0,
    *,
    params: dict[str, Any] | None = None,
    search_dirs: Sequence[Path] = (),
) -> Configured:
    """Run the step's kind's ``configure`` on step ``step`` of ``yaml_text``.

    ``yaml_text`` is dedented and its leading newline removed, so that line 1 is the
    first line written in the test.
    """
    text = textwrap.dedent(yaml_text).lstrip("\n")
    doc = parse_document(text, FILE)
    steps = doc.data["steps"]
    assert 0 <= step < len(steps), f"no step {step} in the YAML"
    raw_step = steps[step]
    kinds = [k for k in STEP_KINDS if k in raw_step]
    assert len(kinds) == 1, f"step {step} names {kinds}, not one kind"
    kind = kinds[0]
    diagnostics: list[Diagnostic] = []
    ctx = CheckContext(
        doc=doc,
        path=("steps", step, kind),
        node_id=str(raw_step.get("id", f"step{step}")),
        diagnostics=diagnostics,
        search_dirs=list(search_dirs),
        params=dict(params or {}),
    )
    raw = raw_step[kind]
    config = node_kind(kind).configure(raw, ctx)
    return Configured(config, diagnostics, ctx, raw)


def described(kind: NodeKind[Any], config: Any) -> dict[str, Any]:
    """``kind.describe(config)``, which must be a summary (not None)."""
    out = kind.describe(config)
    assert out is not None
    return out


def schema_problems(yaml_text: str) -> list[Diagnostic]:
    """What the recipe schema finds in ``yaml_text`` (dedented like ``configure``'s).

    The format version is appended at the end, so line numbers stay those of the test.
    Kinds whose ``configure`` trusts the schema get their invalid configs caught here.
    """
    text = textwrap.dedent(yaml_text).lstrip("\n")
    return check_document(parse_document(text + "synthdsl: 1\n", FILE))


def make_node(
    kind: str,
    config: Any,
    node_id: str = "n",
    inputs: Sequence[str] = (),
    body: Graph | None = None,
) -> Node[Any]:
    return Node(node_id, kind, config, list(inputs), Span(FILE, 1, 1), body=body)


def make_records(*datas: dict[str, Any], node: str = "src") -> list[Record]:
    """Records as a source would make them: ids from ``node`` and the position."""
    return [Record(derive_id(node, (), i), dict(d), node=node) for i, d in enumerate(datas)]


# -- the runtime ---------------------------------------------------------------------------

Reply = LLMResponse | LLMError | str
SubgraphFn = Callable[[Graph, dict[str, list[Record]], int | None, str | None], list[Record]]


@dataclass
class FakeRuntime:
    """The ``Runtime`` protocol in memory.

    ``replies`` are returned by ``complete`` in order (a string is a reply with that
    text, an ``LLMError`` is raised); every request is kept in ``requests``. A model
    alias maps to the model ``test/<alias>`` (``test/default`` for None).
    """

    replies: list[Reply] = field(default_factory=list)
    limit: int | None = None
    round: int | None = None
    stats: dict[str, NodeStats] = field(default_factory=dict)
    feeds: dict[str, list[Record]] = field(default_factory=dict)
    salt_text: str = ""
    model_params: dict[str, Any] = field(default_factory=dict)
    subgraph: SubgraphFn | None = None
    concurrency: int = 3
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    discards: list[tuple[str, Record, str]] = field(default_factory=list)
    violations: list[tuple[str, str, bool]] = field(default_factory=list)
    requests: list[tuple[str, LLMRequest]] = field(default_factory=list)
    subgraph_calls: list[tuple[Graph, dict[str, list[Record]], int | None, str | None]] = field(
        default_factory=list
    )
    recipe_params: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return self.recipe_params

    @property
    def salt(self) -> str:
        return self.salt_text

    def node_key(self, node_id: str) -> str:
        return node_id if self.round is None else f"{node_id}@r{self.round}"

    def feed(self, key: str) -> list[Record]:
        return self.feeds.get(key, [])

    def node_stats(self, node_id: str, kind: str) -> NodeStats:
        if node_id not in self.stats:
            self.stats[node_id] = NodeStats(kind)
        return self.stats[node_id]

    def note(self, node_id: str, name: str, value: Any) -> None:
        self.notes.setdefault(node_id, {})[name] = value

    def discard(self, node_id: str, record: Record, reason: str) -> None:
        self.discards.append((node_id, record, reason))

    def violation(self, node_id: str, message: str, fatal: bool) -> None:
        self.violations.append((node_id, message, fatal))

    def spec_for(self, alias: str | None, key: str, overrides: dict[str, Any]) -> ModelSpec:
        params = {**self.model_params, **overrides}
        return ModelSpec(
            alias=alias or "default",
            model=f"test/{alias or 'default'}",
            params=tuple(sorted(params.items())),
        )

    def provider_extra(self, alias: str | None, spec: ModelSpec) -> tuple[tuple[str, Any], ...]:
        return ()

    def concurrency_for(self, alias: str | None) -> int:
        return self.concurrency

    async def complete(self, node_id: str, request: LLMRequest, record: str = "") -> LLMResponse:
        self.requests.append((node_id, request))
        assert self.replies, "the test scripted fewer replies than the node asked for"
        reply = self.replies.pop(0)
        if isinstance(reply, LLMError):
            raise reply
        if isinstance(reply, str):
            return LLMResponse(text=reply, model=request.spec.model, finish_reason="stop")
        return reply

    async def run_subgraph(
        self,
        graph: Graph,
        feed: dict[str, list[Record]],
        round_: int | None,
        scope: str | None = None,
    ) -> list[Record]:
        if self.subgraph is None:
            raise NotImplementedError("this test gave the runtime no subgraph function")
        self.subgraph_calls.append((graph, {k: list(v) for k, v in feed.items()}, round_, scope))
        return self.subgraph(graph, feed, round_, scope)


# -- driving runners -------------------------------------------------------------------------


@dataclass
class Collected:
    """Everything a stream runner reported through its ``Outbox``."""

    emitted: list[Record] = field(default_factory=list)
    dropped: list[tuple[Record, str, dict[str, Any] | None]] = field(default_factory=list)
    failed: list[tuple[Record, str, str]] = field(default_factory=list)
    counted_in: int = 0
    passed: int = 0

    def outbox(self) -> Outbox:
        async def emit(rec: Record) -> None:
            self.emitted.append(rec)

        def drop(rec: Record, reason: str, detail: dict[str, Any] | None) -> None:
            self.dropped.append((rec, reason, detail))

        def fail(rec: Record, kind: str, message: str) -> None:
            self.failed.append((rec, kind, message))

        def count_in(n: int) -> None:
            self.counted_in += n

        def count_passed(n: int) -> None:
            self.passed += n

        return Outbox(emit, drop, fail, count_in, count_passed)

    @property
    def balanced(self) -> bool:
        """The accounting rule: every input ends passed, dropped or failed."""
        return self.counted_in == self.passed + len(self.dropped) + len(self.failed)

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.dropped]


async def _stream(records: Iterable[Record]) -> AsyncIterator[Record]:
    for rec in records:
        yield rec


async def run_stream(runner: StreamRunner | None, inputs: dict[str, list[Record]]) -> Collected:
    """Run a stream runner over in-memory inputs (by input node id)."""
    assert runner is not None, "the kind made no stream runner"
    out = Collected()
    await runner.run({nid: _stream(recs) for nid, recs in inputs.items()}, out.outbox())
    return out


async def run_map(runner: MapRunner | None, records: Iterable[Record]) -> list[Outcome]:
    """Run a map runner over records in order, telling a ``Tallying`` runner's
    ``observe`` each outcome as the executor does, then its ``finish`` if it has one."""
    assert runner is not None, "the kind made no map runner"
    observe = getattr(runner, "observe", None)
    outcomes = []
    for rec in records:
        outcomes.append(await runner.process(rec))
        if observe is not None:
            observe(rec, outcomes[-1])
    finish = getattr(runner, "finish", None)
    if finish is not None:
        finish()
    return outcomes


def emitted(outcome: Outcome) -> list[Record]:
    """The records of an ``Emit`` (fails the test on a Drop or a Fail)."""
    assert isinstance(outcome, Emit), outcome
    return outcome.records


def dropped(outcome: Outcome) -> Drop:
    assert isinstance(outcome, Drop), outcome
    return outcome


def failed(outcome: Outcome) -> Fail:
    assert isinstance(outcome, Fail), outcome
    return outcome


# -- compile and plan doubles ------------------------------------------------------------------


@dataclass
class Resolver:
    """A fake ``Resolve``: step names to node ids; unknown names resolve to nothing."""

    names: dict[str, str]
    asked: list[tuple[str, Span]] = field(default_factory=list)

    def __call__(self, name: str, span: Span) -> list[str]:
        self.asked.append((name, span))
        return [self.names[name]] if name in self.names else []


@dataclass
class FakeEstimator:
    """A fake ``Estimator``: a pool size, and a body whose output and calls per pass are
    given by ``body_fn(pool_records)``; every pass is kept in ``passes``."""

    pool: int | None = None
    body_fn: Callable[[int | None], tuple[int | None, int | None]] = lambda n: (n, n)
    passes: list[int | None] = field(default_factory=list)

    counts: bool = True

    @property
    def pool_records(self) -> int | None:
        return self.pool

    @property
    def counts_sources(self) -> bool:
        return self.counts

    def body(self, graph: Graph, pool_records: int | None) -> tuple[int | None, int | None]:
        self.passes.append(pool_records)
        return self.body_fn(pool_records)


@dataclass
class FakeReport:
    """A fake ``GraphReport`` collecting what ``check_graph`` reports."""

    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)

    def error(self, diagnostic: Diagnostic) -> None:
        self.errors.append(diagnostic)

    def warning(self, diagnostic: Diagnostic) -> None:
        self.warnings.append(diagnostic)
