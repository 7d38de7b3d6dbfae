"""Preference pairs from judge scores: the best and the worst response to each prompt.

Input: ``PairsFrom(group_by, score, text)`` and items (records, or rows in ``save-as``)
with their fields, added one by one. Output: after ``finish()``, for each prompt in the
order it was first seen, one ``Pair`` (its prompt, the best and worst scored items and
texts) and a ``Drop`` with a reason for every other item of the group:

- ``pair: single response``: the prompt has only one scored response;
- ``pair: equal scores``: every response to the prompt has the same score (no
  preference), all of them dropped;
- ``pair: tied for best score`` / ``pair: tied for worst score``: another response has
  the same best (worst) score and came first, so it was taken;
- ``pair: between best and worst``: neither the best nor the worst.

Responses are grouped by the canonical JSON of their ``group_by`` value; the prompt
text is that value (JSON text unless a string). ``add`` raises ``SinkError`` for an
item missing one of the fields or whose score is not a finite number (``True`` is not a
score); such an item joins no group. The items are held until ``finish()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from synthdsl.io.chat import field_text
from synthdsl.io.json_text import SinkError
from synthdsl.ir import PairsFrom
from synthdsl.records import canonical_json

__all__ = ["Drop", "Pair", "PairBuilder"]

T = TypeVar("T")


@dataclass(frozen=True)
class Pair(Generic[T]):
    prompt: str
    chosen: T
    rejected: T
    chosen_text: str
    rejected_text: str
    chosen_score: float
    rejected_score: float


@dataclass(frozen=True)
class Drop(Generic[T]):
    item: T
    reason: str


@dataclass(frozen=True)
class _Scored(Generic[T]):
    item: T
    score: float
    text: str


class PairBuilder(Generic[T]):
    """Collects scored responses by prompt; ``finish()`` yields pairs and drops."""

    def __init__(self, spec: PairsFrom) -> None:
        self.spec = spec
        self._groups: dict[str, tuple[str, list[_Scored[T]]]] = {}

    def add(self, item: T, row: dict[str, Any]) -> None:
        spec = self.spec
        prompt = field_text(row, spec.group_by, "preference", required=True)
        text = field_text(row, spec.text, "preference", required=True)
        if spec.score not in row:
            raise SinkError(f"pairs_from needs field {spec.score!r}, which the row does not have")
        score = row[spec.score]
        if (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not math.isfinite(score)
        ):
            raise SinkError(f"pairs_from score {spec.score!r} is {score!r}, not a finite number")
        key = canonical_json(row[spec.group_by])
        self._groups.setdefault(key, (prompt, []))[1].append(_Scored(item, score, text))

    def finish(self) -> Iterator[Pair[T] | Drop[T]]:
        groups, self._groups = self._groups, {}
        for prompt, scored in groups.values():
            yield from _pair_group(prompt, scored)


def _pair_group(prompt: str, scored: list[_Scored[T]]) -> Iterator[Pair[T] | Drop[T]]:
    if len(scored) == 1:
        yield Drop(scored[0].item, "pair: single response")
        return
    top = max(s.score for s in scored)
    bottom = min(s.score for s in scored)
    if top == bottom:
        for s in scored:
            yield Drop(s.item, "pair: equal scores")
        return
    best = next(s for s in scored if s.score == top)
    worst = next(s for s in scored if s.score == bottom)
    yield Pair(prompt, best.item, worst.item, best.text, worst.text, best.score, worst.score)
    for s in scored:
        if s is best or s is worst:
            continue
        if s.score == top:
            yield Drop(s.item, "pair: tied for best score")
        elif s.score == bottom:
            yield Drop(s.item, "pair: tied for worst score")
        else:
            yield Drop(s.item, "pair: between best and worst")
