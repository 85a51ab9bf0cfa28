# ruff: noqa: RUF001 - the homoglyph table lists look-alike characters on purpose
"""Input normalisation for guardrail matching, so trivial obfuscation does not bypass a rule.

``normalize`` applies, in order: Unicode NFKC (fullwidth and mathematical letters become ASCII),
removal of invisible format characters (zero-width spaces and joiners, soft hyphens, bidi
controls: Unicode category Cf), homoglyph folding (Cyrillic and Greek letters that look Latin),
case folding and whitespace collapsing. ``deleet`` additionally maps digit/symbol substitutions
(``1d10t`` -> ``idiot``) and is used only for term lists, never for PII digits.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

HOMOGLYPHS: dict[str, str] = {
    # Cyrillic (lower case; upper case is folded to these by casefold first)
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ӏ": "l",
    "ɡ": "g",
    # Greek
    "α": "a",
    "β": "b",
    "ε": "e",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "u",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "ω": "w",
    "ς": "s",
    "σ": "s",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ħ": "h",
    "ŀ": "l",
}
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)

LEET: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "+": "t",
}
_LEET_TABLE = str.maketrans(LEET)

_CACHED_TEXTS = 512
"""Recent inputs whose normal forms are kept (pure functions of the text)."""
_EXTRA_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0")
"""Invisible characters that are not category Cf (combining grapheme joiner, Hangul fillers)."""


def strip_invisible(text: str) -> str:
    """Remove format characters (category Cf: zero-width, soft hyphen, bidi) and other invisibles."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in _EXTRA_INVISIBLE)


def _fold_marks(text: str) -> str:
    """Drop combining marks (``i̇`` or ``é`` -> ``i``/``e``) after canonical decomposition."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@lru_cache(maxsize=_CACHED_TEXTS)
def normalize_keep_case(text: str) -> str:
    """NFKC and invisible-character removal only: for detectors where case matters (secrets)."""
    return strip_invisible(unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=_CACHED_TEXTS)
def normalize(text: str) -> str:
    """The canonical form every case-insensitive detector matches on (see the module doc).

    Cached: every detector of a policy normalises the same input, and lint probes every policy
    with the same texts.
    """
    folded = normalize_keep_case(text).casefold()
    folded = _fold_marks(folded).translate(_HOMOGLYPH_TABLE)
    return " ".join(folded.split())


def deleet(normalized: str) -> str:
    """Map leetspeak substitutions in already-normalised text (for term lists only)."""
    return normalized.translate(_LEET_TABLE)


def squash(normalized: str) -> str:
    """Letters and digits only (``i.g.n.o.r.e`` -> ``ignore``): catches spaced-out words."""
    return "".join(ch for ch in normalized if ch.isalnum())
