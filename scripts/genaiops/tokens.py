"""Offline token counting for the tokenizers the model catalog names.

Exact counts use toktok-rs, whose cl100k_base and o200k_base vocabularies are compiled into its
wheel (tiktoken would download its BPE files at run time, which fails offline). Models whose
tokenizer is not published use ``char-estimate``: ceil(characters / 3), a conservative estimate
(English averages about 4 characters per token).

Loading a BPE vocabulary costs 0.1-0.3 s once per process, so ``count_within`` first tries a free
upper bound: a byte-level BPE token covers at least one UTF-8 byte, so a text of n bytes has at
most n tokens. Only texts whose byte length exceeds the budget are tokenized exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BPE_TOKENIZERS = frozenset({"cl100k_base", "o200k_base"})
CHAR_ESTIMATE = "char-estimate"
TOKENIZERS = frozenset({*BPE_TOKENIZERS, CHAR_ESTIMATE})
CHARS_PER_TOKEN_ESTIMATE = 3


@dataclass(frozen=True)
class TokenCount:
    """A token count and how it was obtained."""

    tokens: int
    method: str
    """``exact`` (BPE), ``byte-bound`` (an upper bound: UTF-8 bytes) or ``estimate`` (char-estimate)."""


def _check(tokenizer: str) -> None:
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; known: {', '.join(sorted(TOKENIZERS))}")


def count_tokens(text: str, tokenizer: str) -> TokenCount:
    """The number of tokens of ``text`` (exact for BPE tokenizers, estimated otherwise)."""
    _check(tokenizer)
    if tokenizer == CHAR_ESTIMATE:
        return TokenCount(math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE), "estimate")
    import toktok  # imported on demand: the vocabulary loads on first use

    return TokenCount(toktok.batch_count([text], tokenizer, threads=1)[0], "exact")


def count_within(text: str, tokenizer: str, budget: int) -> TokenCount:
    """A count good enough to decide ``tokens <= budget``, as cheaply as possible.

    Returns the byte upper bound when it already fits; otherwise the exact (or estimated) count.
    """
    _check(tokenizer)
    if tokenizer in BPE_TOKENIZERS:
        upper = len(text.encode("utf-8", "surrogatepass"))
        if upper <= budget:
            return TokenCount(upper, "byte-bound")
    return count_tokens(text, tokenizer)
