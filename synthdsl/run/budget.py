"""A run's budget: stop starting model calls once ``--max-calls`` or ``--max-cost`` is
reached, let the calls in flight finish, then stop the run.

Input: the limits (``Budget(max_calls, max_cost)``), and, from the runtime
(``run/context.py``), each call before it starts (``admit``, which waits for ever once
the budget is spent: the caller is cancelled when the run stops) and after it ends
(``done`` with its cost, None when the model has no known price: such calls count
towards ``max_calls`` only). Output: ``reached``, an event set once a call is held back
and none is in flight; ``reason`` (``max_calls`` or ``max_cost``) and the totals for the
manifest and the message. ``unpriced_models(compiled)`` lists the models of a recipe's
model-calling steps that have no known price (``--max-cost`` cannot count them).

``BudgetReached`` (exit 3) is what a run stopped by its budget raises once it has
written everything done: the manifest (status ``stopped``), the rows so far, every
finished call in the cache, so that a re-run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from synthdsl.errors import SynthdslError
from synthdsl.ir import CompiledRecipe
from synthdsl.llm.pricing import price_per_token
from synthdsl.nodes import node_kind

__all__ = ["Budget", "BudgetReached", "unpriced_models"]


class BudgetReached(SynthdslError):
    """The run stopped at its budget; everything done is written (exit 3)."""

    exit_code = 3  # cli/exits.py: EXIT_BUDGET, beside every other exit code

    def __init__(self, budget: Budget, out_dir: Path, partial: Path) -> None:
        super().__init__(f"budget reached ({budget.describe_limit()})")
        self.budget = budget
        self.out_dir = out_dir
        self.partial = partial


@dataclass
class Budget:
    max_calls: int | None = None
    max_cost: float | None = None  # USD, counting the calls whose price is known
    calls: int = 0  # calls started
    cost: float = 0.0  # USD of the finished calls with a known price
    unpriced: int = 0  # finished calls whose price is unknown
    in_flight: int = 0
    held: int = 0  # calls waiting because the budget is spent
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    _never: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def spent(self) -> bool:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return True
        return self.max_cost is not None and self.cost >= self.max_cost

    @property
    def reason(self) -> str:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return "max_calls"
        return "max_cost"

    def describe_limit(self) -> str:
        if self.reason == "max_calls":
            return f"--max-calls {self.max_calls}"
        return f"--max-cost {self.max_cost:g}"

    async def admit(self) -> None:
        """Count a call about to start, or hold it for ever once the budget is spent."""
        if not self.spent:
            self.calls += 1
            self.in_flight += 1
            return
        self.held += 1
        self._check()
        await self._never.wait()  # never set: the run stops and cancels this call

    def done(self, cost: float | None) -> None:
        """A call that was admitted ended (answered or failed)."""
        self.in_flight -= 1
        if cost is None:
            self.unpriced += 1
        else:
            self.cost += cost
        self._check()

    def _check(self) -> None:
        if self.held and not self.in_flight:
            self.reached.set()


def unpriced_models(compiled: CompiledRecipe) -> list[str]:
    """The models (sorted) that the recipe's model-calling steps may use and whose price
    is unknown."""
    aliases: set[str] = set()
    for node in compiled.graph.walk():
        kind = node_kind(node.kind)
        if kind.uses_llm:
            aliases |= {alias or "default" for alias, _span in kind.model_refs(node.config)}
    models = {e.model for a in aliases if a in compiled.models for e in compiled.models[a].entries}
    return sorted(m for m in models if price_per_token(m) is None)
