"""Dataset diversity metrics, drift against a reference set, and model-collapse flags.

Input: iterables of texts (any size; each is read once, in one pass), tokenized with
``synthdsl.textproc.tokens.tokenize``. Output:

- per-dataset metrics: ``distinct_n``, ``ngram_entropy``, ``compression_ratio``,
  ``self_bleu``, ``length_stats``, ``vocabulary_size``, ``token_entropy`` (one record),
  and ``summarize`` → ``DiversityReport`` holding all of them;
- drift: ``compare(synthetic, reference)`` → ``DriftReport`` (Jensen–Shannon divergence
  of unigram and bigram distributions, length and per-record entropy variance ratios,
  vocabulary ratio at equal size, mode coverage);
- ``collapse_flags(report, drift, thresholds)`` → ``Flag``s, one per metric past its
  ``Thresholds`` limit, each with a readable reason;
- building blocks: ``bleu`` (multi-reference, smoothed), ``js_divergence`` and
  ``TextProfile`` (the one-pass accumulator behind ``summarize`` and ``compare``: build
  one per dataset, then ``.report()`` and ``compare_profiles``).

Errors: ``ValueError`` for invalid parameters (``n < 1``, ``max_n < 1``, a negative
sample size, a fraction outside its range). Nothing raises on ``str`` input; empty
datasets give zeros, and metrics that are undefined (self-BLEU of fewer than two texts,
a variance ratio against a reference with zero variance) are ``None``.

Modules: ``counts`` (n-gram tables, sampling, entropy, rarefaction), ``bleu_score``,
``profile`` (``TextProfile``), ``metrics`` (one function per metric), ``drift``,
``flags``, ``reports`` (the result records and their JSON).

Memory: one pass keeps the n-gram count tables as numpy arrays (16 bytes per distinct
n-gram), 16 bytes per record (its length and token entropy), and two bounded random
samples of records (self-BLEU, mode coverage). Counting is vectorised per chunk of
about a million tokens, so ``summarize`` of 100,000 short texts takes 1–3 seconds,
most of it tokenizing. See docs/collapse-metrics.md for the definitions and how to read them.
"""

from __future__ import annotations

from synthdsl.analysis.diversity.bleu_score import bleu
from synthdsl.analysis.diversity.drift import compare, compare_profiles, js_divergence
from synthdsl.analysis.diversity.flags import Flag, Thresholds, collapse_flags, drift_judged
from synthdsl.analysis.diversity.metrics import (
    compression_ratio,
    distinct_n,
    length_stats,
    ngram_entropy,
    self_bleu,
    summarize,
    vocabulary_size,
)
from synthdsl.analysis.diversity.profile import TextProfile
from synthdsl.analysis.diversity.reports import (
    DiversityReport,
    DriftReport,
    LengthStats,
    ModeShare,
)
from synthdsl.textproc.tokens import token_entropy

__all__ = [
    "DiversityReport",
    "DriftReport",
    "Flag",
    "LengthStats",
    "ModeShare",
    "TextProfile",
    "Thresholds",
    "bleu",
    "collapse_flags",
    "compare",
    "compare_profiles",
    "compression_ratio",
    "distinct_n",
    "drift_judged",
    "js_divergence",
    "length_stats",
    "ngram_entropy",
    "self_bleu",
    "summarize",
    "token_entropy",
    "vocabulary_size",
]
