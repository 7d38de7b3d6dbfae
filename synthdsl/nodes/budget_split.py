"""How a generation budget is split across groups of evaluation failures.

Input: per group its size ``n`` (evaluation items) and failures ``f``; the budget ``B``
and two exponents ``a`` (failure rate) and ``b`` (size). Output:

- ``group_weight(n, f, a, b)`` → ``w = (f / n) ** a * n ** b`` for a group with at
  least one failure, else 0 (a group the model never fails gets nothing, whatever the
  exponents). With the defaults ``a = b = 1`` the weight is the failure count ``f``;
  ``b = 0`` weighs by failure rate alone, ``a = 2, b = 1`` gives ``f² / n``.
- ``split_budget(weights, B)`` → integers summing to ``B`` (0 everywhere when every
  weight is 0): the exact quotas ``q = B * w / Σw`` rounded down, then the ``B - Σ⌊q⌋``
  units left over go one each to the groups with the largest remainders ``q - ⌊q⌋``
  (Hamilton's largest-remainder method); ties go to the larger weight, then to the
  group listed first.

Errors: ``ValueError`` for a negative budget or weight, or a size below the failures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["group_weight", "quotas", "split_budget"]


def group_weight(size: int, failures: int, rate_power: float, size_power: float) -> float:
    """``(failures / size) ** rate_power * size ** size_power``; 0 without failures."""
    if failures < 0 or size < failures:
        raise ValueError(f"a group of {size} items cannot have {failures} failures")
    if failures == 0:
        return 0.0
    return float((failures / size) ** rate_power * size**size_power)


def quotas(weights: Sequence[float], budget: int) -> list[float]:
    """The exact (fractional) share of ``budget`` of each weight."""
    if budget < 0:
        raise ValueError(f"the budget must be at least 0, got {budget}")
    if any(w < 0 or not math.isfinite(w) for w in weights):
        raise ValueError(f"weights must be finite and at least 0, got {list(weights)}")
    total = math.fsum(weights)
    if total <= 0:
        return [0.0 for _ in weights]
    return [budget * w / total for w in weights]


def split_budget(weights: Sequence[float], budget: int) -> list[int]:
    """Whole shares of ``budget`` in proportion to ``weights`` (largest remainder)."""
    exact = quotas(weights, budget)
    if not any(exact):
        return [0 for _ in weights]
    shares = [math.floor(q) for q in exact]
    left = budget - sum(shares)
    order = sorted(
        (i for i in range(len(exact)) if weights[i] > 0),
        key=lambda i: (-(exact[i] - shares[i]), -weights[i], i),
    )
    for i in order[:left]:
        shares[i] += 1
    return shares
