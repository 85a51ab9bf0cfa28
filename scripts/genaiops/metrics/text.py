"""Reference-based text metrics: exact match, token F1, ROUGE-L, BLEU, cosine similarity.

* exact match and token F1 use the SQuAD v1.1 answer normalisation (lower-case, drop punctuation, drop
  the English articles a/an/the, collapse whitespace), extended to Unicode punctuation;
* ROUGE-L is Google's ``rouge-score`` with a Unicode-aware tokenizer (its default tokenizer keeps only
  ``[a-z0-9]`` and so scores any non-ASCII text as empty); CJK ideographs and kana count one token each;
* BLEU is ``sacrebleu`` (sentence BLEU with exponential smoothing, 0-100 rescaled to 0-1; corpus BLEU
  for a whole dataset);
* cosine similarity of two embedding vectors (numpy).

``rouge-score`` and ``sacrebleu`` are imported on first use: importing ``rouge-score`` imports nltk, which
imports scipy.stats (about 3 s of a stage's start-up), and most runs never score ROUGE or BLEU.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_]+", re.UNICODE)


def _strip_punctuation(text: str) -> str:
    return "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)


def final_answer(response: str) -> str:
    """The text after the last line starting with ``Answer:`` (chain-of-thought responses), else the
    whole response, stripped."""
    marker = None
    for line in response.splitlines():
        if line.strip().lower().startswith("answer:"):
            marker = line.strip()[len("answer:") :].strip()
    return marker if marker is not None else response.strip()


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _strip_punctuation(text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised strings are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 over normalised whitespace tokens (1.0 when both are empty)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


class UnicodeTokenizer:
    """rouge-score tokenizer: NFKC, lower-case, letter/digit runs, one token per CJK character."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


@functools.cache
def _rouge_scorer(rouge_type: str) -> Any:
    """rouge-score's scorer for one ROUGE type (no stemming, the Unicode tokenizer), built on first use."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([rouge_type], use_stemmer=False, tokenizer=UnicodeTokenizer())


def _rouge(rouge_type: str, prediction: str, reference: str) -> float:
    return float(_rouge_scorer(rouge_type).score(reference, prediction)[rouge_type].fmeasure)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence) of prediction against reference."""
    return _rouge("rougeL", prediction, reference)


def rouge_1(prediction: str, reference: str) -> float:
    """ROUGE-1 F-measure (unigram overlap) of prediction against reference."""
    return _rouge("rouge1", prediction, reference)


def bleu(prediction: str, references: str | Sequence[str], tokenize: str = "13a") -> float:
    """Sentence BLEU in [0, 1] (sacrebleu, ``exp`` smoothing).

    Use ``tokenize="intl"`` for Unicode punctuation, ``"zh"`` for Chinese (``"ja-mecab"`` needs an extra).
    """
    refs = [references] if isinstance(references, str) else list(references)
    import sacrebleu

    return min(1.0, float(sacrebleu.sentence_bleu(prediction, refs, tokenize=tokenize).score) / 100.0)


def corpus_bleu(predictions: Sequence[str], references: Sequence[str], tokenize: str = "13a") -> float:
    """Corpus BLEU in [0, 1] over aligned predictions and single references."""
    if len(predictions) != len(references):
        raise ValueError("predictions and references must have the same length")
    import sacrebleu

    score = sacrebleu.corpus_bleu(list(predictions), [list(references)], tokenize=tokenize).score
    return min(1.0, float(score) / 100.0)


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of the angle between two vectors; 0.0 when either is all zeros."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.shape != vb.shape:
        raise ValueError(f"vectors differ in dimension: {va.shape[0]} vs {vb.shape[0]}")
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(np.dot(va, vb) / norm) if norm else 0.0
