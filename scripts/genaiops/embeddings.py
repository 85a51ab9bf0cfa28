"""Offline text embeddings: the built-in ``genaiops/hash-embedding-<dim>`` models.

The catalog's ``genaiops/hash-embedding-256`` is a deterministic feature-hashing embedder that
needs no model download and no network, so CI, tests, RAG validate and eval run anywhere:

* text is normalised (Unicode NFKC, case-folded) and split into word tokens (``\\w+``); a short
  list of English function words (``STOPWORDS``) is dropped, as a model would weight them down;
* features are word unigrams, word bigrams (weight 0.5) and character 3..5-grams of each word
  padded with ``<``/``>`` (weight 0.5 in total per word), so morphology and typos still overlap;
* every feature is hashed with BLAKE2b (stable across processes and machines, unlike ``hash()``)
  to a bucket and a sign (the signed hashing trick keeps inner products unbiased);
* term frequencies are damped with ``1 + log(tf)`` and the vector is L2-normalised, so the dot
  product is the cosine similarity. An input with no word characters embeds to the zero vector.

    embedder = embedder_for("genaiops/hash-embedding-256")
    vectors = embedder.embed(["reset my password", "billing address"])   # float32 (2, 256)

``embedder_for`` raises ``EmbeddingUnavailable`` for catalog models that need a provider
(e.g. ``text-embedding-3-small``): callers decide whether that is a usage or an infra problem.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np
import numpy.typing as npt

HASH_MODEL_PREFIX = "genaiops/hash-embedding-"
DEFAULT_MODEL = "genaiops/hash-embedding-256"
MIN_DIMENSION = 16
MAX_DIMENSION = 65536
MAX_CHARS = 200_000
"""Longer texts are embedded from their first MAX_CHARS characters (bounded work per text)."""

_WORD = re.compile(r"\w+")
_BIGRAM_WEIGHT = 0.5
_CHAR_NGRAMS = (3, 4, 5)
_CHAR_WEIGHT = 0.5

Vectors = npt.NDArray[np.float32]


class EmbeddingUnavailable(ValueError):
    """The named embedding model has no offline implementation here."""


class Embedder(Protocol):
    """What RAG validate, eval and promote need from an embedding model."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text."""
        ...


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of ``text``, function words removed (all of them if nothing else is left)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text[:MAX_CHARS]).casefold())
    content = [w for w in words if w not in STOPWORDS]
    return content or words


def features(text: str) -> Counter[str]:
    """Weighted hashed-feature names of ``text`` (words, bigrams, character n-grams)."""
    words = tokens(text)
    counts: Counter[str] = Counter()
    for word in words:
        counts["w:" + word] += 1.0
        padded = f"<{word}>"
        grams = [padded[i : i + n] for n in _CHAR_NGRAMS for i in range(len(padded) - n + 1)]
        if grams:
            share = _CHAR_WEIGHT / len(grams)
            for gram in grams:
                counts["c:" + gram] += share
    for first, second in pairwise(words):
        counts[f"b:{first} {second}"] += _BIGRAM_WEIGHT
    return counts


@lru_cache(maxsize=1 << 18)
def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimension, (1.0 if (value >> 63) & 1 else -1.0)


class HashEmbedder:
    """Deterministic feature-hashing embedder (see the module doc)."""

    def __init__(self, dimension: int = 256, name: str | None = None) -> None:
        if not MIN_DIMENSION <= dimension <= MAX_DIMENSION:
            raise ValueError(
                f"hash embedding dimension must be in {MIN_DIMENSION}..{MAX_DIMENSION}, got {dimension}"
            )
        self.dimension = dimension
        self.name = name or f"{HASH_MODEL_PREFIX}{dimension}"

    def embed_one(self, text: str) -> Vectors:
        """The embedding of one text."""
        vector = np.zeros(self.dimension, dtype=np.float64)
        for feature, count in features(text).items():
            index, sign = _bucket(feature, self.dimension)
            weight = 1.0 + math.log(count) if count >= 1.0 else count
            vector[index] += sign * weight
        norm = float(np.linalg.norm(vector))
        if norm > 0.0:
            vector /= norm
        return vector.astype(np.float32)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised float32 row per text (shape ``(len(texts), dimension)``)."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single string")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self.embed_one(t) for t in texts])


def is_offline_model(name: str) -> bool:
    """Whether ``name`` is a built-in hash-embedding model this module implements."""
    suffix = name[len(HASH_MODEL_PREFIX) :] if name.startswith(HASH_MODEL_PREFIX) else ""
    return suffix.isdigit() and MIN_DIMENSION <= int(suffix) <= MAX_DIMENSION


def embedder_for(name: str) -> HashEmbedder:
    """The offline embedder for catalog model ``name``; raises EmbeddingUnavailable otherwise."""
    if not is_offline_model(name):
        raise EmbeddingUnavailable(
            f"embedding model {name!r} has no offline implementation; only {HASH_MODEL_PREFIX}<dim> "
            f"models (e.g. {DEFAULT_MODEL}) embed without a provider"
        )
    return HashEmbedder(int(name[len(HASH_MODEL_PREFIX) :]), name)


def cosine(a: Vectors, b: Vectors) -> float:
    """Cosine similarity of two vectors (0.0 when either is zero)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return 0.0 if na == 0.0 or nb == 0.0 else float(np.dot(a, b) / (na * nb))
