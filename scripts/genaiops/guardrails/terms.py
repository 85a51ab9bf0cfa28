"""Term-list detectors: toxicity (built-in lexicon by category), denylists, and off-topic scoring.

Terms match whole words on the normalised text and on its de-leeted form (``1d10t``), so
homoglyphs, zero-width characters and digit substitutions do not hide them. Off-topic scoring is
embedding-free: the share of an input's content words that hit a topic's keywords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from genaiops.guardrails.normalize import deleet, normalize

TOXICITY_LEXICON: dict[str, tuple[tuple[str, float], ...]] = {
    "insult": (
        ("idiot", 0.7),
        ("idiots", 0.7),
        ("moron", 0.8),
        ("morons", 0.8),
        ("stupid", 0.5),
        ("dumb", 0.4),
        ("imbecile", 0.8),
        ("loser", 0.5),
        ("pathetic", 0.5),
        ("useless piece of", 0.8),
        ("worthless", 0.6),
        ("incompetent", 0.4),
        ("clown", 0.4),
        ("brain dead", 0.7),
        ("braindead", 0.7),
        ("shut up", 0.6),
        ("dumbass", 0.9),
        ("scumbag", 0.8),
    ),
    "profanity": (
        ("fuck", 0.9),
        ("fucking", 0.9),
        ("fucked", 0.9),
        ("motherfucker", 1.0),
        ("shit", 0.7),
        ("bullshit", 0.7),
        ("asshole", 0.9),
        ("bastard", 0.8),
        ("bitch", 0.9),
        ("crap", 0.4),
        ("damn", 0.3),
        ("piss off", 0.8),
        ("wtf", 0.5),
        ("dickhead", 0.9),
    ),
    "threat": (
        ("kill you", 1.0),
        ("i will kill", 1.0),
        ("hurt you", 0.9),
        ("find where you live", 1.0),
        ("burn down", 0.8),
        ("you will regret", 0.7),
        ("watch your back", 0.9),
        ("beat you up", 0.9),
        ("shoot", 0.6),
        ("i know where you live", 1.0),
        ("make you pay", 0.7),
    ),
    "harassment": (
        ("kill yourself", 1.0),
        ("kys", 1.0),
        ("nobody likes you", 0.8),
        ("go die", 1.0),
        ("you should die", 1.0),
        ("ugly", 0.4),
        ("disgusting", 0.5),
    ),
}
"""Built-in English lexicon: term -> weight (how strongly one occurrence indicates toxicity)."""

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "else",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "about",
        "as",
        "into",
        "over",
        "after",
        "before",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "yes",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "hey",
        "so",
        "just",
        "also",
        "very",
        "really",
        "there",
        "here",
        "some",
        "any",
        "all",
        "more",
        "most",
        "much",
        "many",
        "get",
        "got",
        "need",
        "want",
        "like",
        "know",
        "tell",
        "help",
        "let",
        "make",
        "up",
        "out",
        "one",
        "two",
    ]
)


def _words(normalized: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:'[^\W_]+)?", normalized)


@lru_cache(maxsize=256)
def _term_regex(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of whole-word terms (longest first); literal text only, so always linear."""
    cleaned = sorted({" ".join(normalize(t).split()) for t in terms if t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    body = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in cleaned)
    return re.compile(rf"(?<![^\W_])(?:{body})(?![^\W_])")


def find_terms(text: str, terms: Iterable[str], *, substring: bool = False) -> list[str]:
    """The distinct terms (normalised) found in ``text``, on the plain and de-leeted forms."""
    norm = normalize(text)
    forms = (norm, deleet(norm)) if norm != deleet(norm) else (norm,)
    term_tuple = tuple(terms)
    if substring:
        wanted = {" ".join(normalize(t).split()) for t in term_tuple if t.strip()}
        return sorted(t for t in wanted if any(t in form for form in forms))
    pattern = _term_regex(term_tuple)
    if pattern is None:
        return []
    found: set[str] = set()
    for form in forms:
        found.update(" ".join(m.group(0).split()) for m in pattern.finditer(form))
    return sorted(found)


def toxicity(text: str, categories: Iterable[str], extra_terms: Iterable[str] = ()) -> dict[str, object]:
    """Toxic terms per category and the noisy-OR score of their weights."""
    weights: dict[str, tuple[str, float]] = {}
    for category in categories:
        for term, weight in TOXICITY_LEXICON.get(category, ()):
            weights[term] = (category, weight)
    for term in extra_terms:
        weights[" ".join(normalize(term).split())] = ("custom", 1.0)
    hits = find_terms(text, tuple(sorted(weights)))
    remaining = 1.0
    hit_categories: set[str] = set()
    for term in hits:
        category, weight = weights[term]
        hit_categories.add(category)
        remaining *= 1.0 - weight
    return {
        "score": round(1.0 - remaining, 6),
        "count": len(hits),
        "matches": hits,
        "categories": sorted(hit_categories),
    }


def topic_relevance(text: str, topics: dict[str, list[str]]) -> tuple[float, str, int]:
    """(relevance 0..1 of the best topic, that topic, number of content words).

    Relevance is the share of the input's content words (stopwords removed) covered by the
    topic's keywords, with a keyword phrase of n words covering n words; one hit in a short
    question already scores high, a passing mention in a long off-topic text scores low.
    """
    norm = normalize(text)
    content = [w for w in _words(norm) if w not in STOPWORDS]
    if not content:
        return 0.0, "", 0
    best_score, best_topic = 0.0, ""
    for topic, keywords in sorted(topics.items()):
        pattern = _term_regex(tuple(_stem_variants(keywords)))
        if pattern is None:
            continue
        covered = sum(len(m.group(0).split()) for m in pattern.finditer(norm))
        score = min(1.0, 2.0 * covered / len(content))
        if score > best_score:
            best_score, best_topic = score, topic
    return round(best_score, 6), best_topic, len(content)


def _stem_variants(keywords: Iterable[str]) -> list[str]:
    """Each keyword plus its plural/singular twin, so "invoice" also matches "invoices"."""
    out: list[str] = []
    for keyword in keywords:
        out.append(keyword)
        if keyword.endswith("s") and len(keyword) > 3:
            out.append(keyword[:-1])
        else:
            out.append(keyword + "s")
    return out
