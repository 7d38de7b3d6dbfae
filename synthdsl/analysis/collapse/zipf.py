"""A Zipf token distribution refit on its own samples (Shumailov et al.'s tail loss).

Takes ``ZipfSettings``; ``simulate_zipf`` gives a ``ZipfResult`` (pure numpy, vectorised
over trials, seeded). ``zipf_probabilities`` and ``expected_support`` are the closed-form
pieces. Nothing here raises (the settings were validated).

Model. Generation 0 is p_k = k^−s / Σ_j j^−s over V tokens (ranks k = 1..V). Generation
n + 1 is the empirical frequency of N tokens drawn from generation n (one multinomial
draw per chain), so a token unseen in a generation has probability 0 for ever after
under ``replace``: the support can only shrink, and the entropy with it.

* ``keep-real``: m = round(r·N) of the N tokens are fresh draws from p, the rest from the
  current fit; a token comes back whenever a real draw hits it.
* ``accumulate``: the fit is the empirical frequency of every token drawn so far (the
  first N are real); the support never shrinks below the first fit's.

Closed forms. A token of probability p_k is in a sample of N tokens with probability
1 − (1 − p_k)^N, so the expected support after one generation is exactly
Σ_k 1 − (1 − p_k)^N (``expected_support``); under ``keep-real`` the real tokens alone
bring back Σ_k 1 − (1 − p_k)^m in expectation each generation, a floor for the mean
support. Empirical frequencies are unbiased (E[p_{n+1} | p_n] = p_n, and the real part is
unbiased for p), so the expected mass of any fixed set of tokens, the tail included, is
the same at every generation: as for the Gaussian's unbiased variance, the mean hides the
collapse and the median shows it.
"""

from __future__ import annotations

import numpy as np

from synthdsl.analysis.arrays import FloatArray
from synthdsl.analysis.collapse.results import ZipfResult
from synthdsl.analysis.collapse.settings import ZipfSettings

__all__ = ["entropy_bits", "expected_support", "simulate_zipf", "zipf_probabilities"]


def zipf_probabilities(vocab: int, exponent: float) -> FloatArray:
    """p_k ∝ k^−exponent for ranks k = 1..vocab, summing to 1."""
    p = np.arange(1, vocab + 1, dtype=np.float64) ** -exponent
    return np.asarray(p / p.sum(), dtype=np.float64)


def expected_support(p: FloatArray, draws: int) -> float:
    """Σ_k 1 − (1 − p_k)^draws: the expected number of distinct tokens in ``draws``
    independent draws from p (computed as −expm1(draws·log1p(−p_k)) for accuracy)."""
    return float(np.sum(-np.expm1(draws * np.log1p(-np.minimum(p, 1.0 - 1e-300)))))


def entropy_bits(p: FloatArray) -> FloatArray:
    """Shannon entropy in bits along the last axis (0·log 0 = 0)."""
    safe = np.where(p > 0, p, 1.0)
    return np.asarray(-np.sum(p * np.log2(safe), axis=-1), dtype=np.float64)


def simulate_zipf(settings: ZipfSettings) -> ZipfResult:
    """Run T independent chains of G refits of the token distribution; see the module
    docstring."""
    s = settings
    rng = np.random.default_rng(s.seed)
    t, big_n, n_gen = s.trials, s.samples, s.generations
    p0 = zipf_probabilities(s.vocab, s.exponent)
    p_real = np.broadcast_to(p0, (t, s.vocab))
    m_real = s.real_count
    tail = slice(s.tail_start, s.vocab)
    p = np.array(p_real)
    pool = np.zeros((t, s.vocab), dtype=np.float64)  # accumulate: every count so far

    support = np.empty((n_gen + 1, t), dtype=np.float64)
    entropy = np.empty((n_gen + 1, t), dtype=np.float64)
    tail_mass = np.empty((n_gen + 1, t), dtype=np.float64)

    def record(n: int) -> None:
        support[n] = np.count_nonzero(p, axis=1)
        entropy[n] = entropy_bits(p)
        tail_mass[n] = p[:, tail].sum(axis=1)

    record(0)
    for n in range(1, n_gen + 1):
        counts = rng.multinomial(big_n - m_real, p).astype(np.float64)
        if m_real:
            counts += rng.multinomial(m_real, p_real)
        if s.scenario == "accumulate":
            pool += counts
            counts = pool
        p = counts / counts.sum(axis=1, keepdims=True)
        record(n)

    def se(x: FloatArray) -> FloatArray:
        if t < 2:
            return np.zeros(n_gen + 1)
        return np.asarray(x.std(axis=1, ddof=1) / np.sqrt(t), dtype=np.float64)

    return ZipfResult(
        settings=s,
        generations=np.arange(n_gen + 1),
        support_mean=support.mean(axis=1),
        support_se=se(support),
        support_median=np.median(support, axis=1),
        entropy_mean=entropy.mean(axis=1),
        entropy_median=np.median(entropy, axis=1),
        tail_mass_mean=tail_mass.mean(axis=1),
        tail_mass_se=se(tail_mass),
        tail_mass_median=np.median(tail_mass, axis=1),
        closed_form_support_1=expected_support(p0, big_n),
        real_support_floor=expected_support(p0, m_real) if m_real else 0.0,
        original_entropy=float(entropy_bits(p0)),
        original_tail_mass=float(p0[tail].sum()),
    )
