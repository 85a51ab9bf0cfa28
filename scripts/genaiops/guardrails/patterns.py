"""Weighted pattern detectors: prompt injection, jailbreak, and leaked secrets.

Each signature is a compiled ``re`` pattern with a weight in (0, 1]; a detector's score is the
noisy-OR of the weights of the signatures that match, ``1 - prod(1 - w)``. Patterns run on the
normalised text (see ``normalize``) and, for the spaced-out variants, on its letters-only form.
All patterns are linear: literal anchors, bounded gaps (``.{0,40}``), no nested quantifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from genaiops.guardrails.normalize import normalize, normalize_keep_case, squash


@dataclass(frozen=True)
class Signature:
    """One named pattern and how strongly a match indicates the attack."""

    id: str
    pattern: re.Pattern[str]
    weight: float


def _sig(sig_id: str, pattern: str, weight: float, flags: int = 0) -> Signature:
    return Signature(sig_id, re.compile(pattern, flags), weight)


_GAP = r"[^.!?\n]{0,40}"
"""A bounded gap inside one sentence between the parts of a phrase."""

INJECTION: tuple[Signature, ...] = (
    _sig(
        "ignore-instructions",
        rf"\b(?:ignore|disregard|forget|skip|override|bypass)\b{_GAP}\b(?:previous|prior|above|earlier|"
        rf"preceding|initial|original|all|any|your|the|system)\b{_GAP}\b(?:instructions?|prompts?|rules|"
        rf"directions|directives|guidelines|context|constraints)\b",
        0.9,
    ),
    _sig(
        "reveal-system-prompt",
        rf"\b(?:reveal|show|print|repeat|output|display|leak|dump|tell me|what (?:is|are|were))\b{_GAP}"
        rf"\b(?:system prompt|system message|hidden (?:instructions|prompt)|initial (?:instructions|prompt)|"
        rf"(?:your|the) instructions|developer message|pre-?prompt)\b",
        0.8,
    ),
    _sig("new-instructions", r"\b(?:new|updated|real|actual) (?:instructions|task|rules)\s?:", 0.6),
    _sig(
        "role-reassignment",
        rf"\b(?:you are now|from now on,? you(?: are|'re| will)|act as if you|henceforth you)\b{_GAP}",
        0.45,
    ),
    _sig(
        "fake-role-tag",
        r"(?:<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?(?:system|inst)\]|"
        r"^#{2,} ?(?:system|instruction)|</?system>|\bsystem\s?:\s?you\b)",
        0.7,
        re.MULTILINE,
    ),
    _sig(
        "stop-following",
        rf"\b(?:do not|don't|stop|no longer)\b{_GAP}\b(?:follow|obey|apply)\b{_GAP}\b(?:your|the|any|those)\b"
        rf"{_GAP}\b(?:instructions|rules|guidelines|policies)\b",
        0.8,
    ),
    _sig(
        "exfiltrate-context",
        rf"\b(?:send|post|forward|exfiltrate|upload)\b{_GAP}\b(?:conversation|chat history|context|"
        rf"api keys?|credentials|secrets)\b{_GAP}\b(?:to|at)\b{_GAP}(?:https?://|www\.|\S+@\S+)",
        0.85,
    ),
    _sig(
        "prompt-delimiter-break", r"(?:-{5,}|={5,}|\*{5,})\s?(?:end of (?:prompt|instructions|context))", 0.6
    ),
)
INJECTION_SQUASHED: tuple[Signature, ...] = (
    _sig("spaced-ignore-instructions", r"ignore(?:all|the|your)?(?:previous|prior|above)instructions", 0.9),
)

JAILBREAK: tuple[Signature, ...] = (
    _sig(
        "dan",
        r"\b(?:dan|do anything now)\b(?:.{0,40}\b(?:mode|prompt|jailbreak|persona|you are)\b)?|"
        r"\bdo anything now\b",
        0.9,
        re.DOTALL,
    ),
    _sig("developer-mode", r"\b(?:developer|god|sudo|admin|debug|unrestricted|evil) mode\b", 0.8),
    _sig(
        "no-restrictions",
        rf"\b(?:without|no|free (?:of|from)|ignore (?:all|any|your))\b{_GAP}\b(?:restrictions|limitations|"
        rf"filters|censorship|guidelines|ethical (?:guidelines|constraints)|safety (?:rules|guidelines)|"
        rf"content polic(?:y|ies))\b",
        0.6,
    ),
    _sig("jailbreak-word", r"\bjail-?broken?\b|\bjailbreak(?:ing)?\b", 0.6),
    _sig(
        "pretend-persona",
        rf"\b(?:pretend|imagine|roleplay|role-play|act as|you are)\b{_GAP}\b(?:unfiltered|uncensored|"
        rf"amoral|unethical|evil|rogue|unrestricted|no morals)\b",
        0.75,
    ),
    _sig("stay-in-character", r"\b(?:stay in character|never break character|do not break character)\b", 0.5),
    _sig(
        "hypothetical-harm",
        rf"\b(?:hypothetically|in a (?:fictional|hypothetical) (?:story|world|scenario)|for a novel|"
        rf"purely fictional)\b.{{0,120}}\b(?:how to|steps to|instructions for)\b{_GAP}\b(?:make|build|"
        rf"synthesi[sz]e|create)\b{_GAP}\b(?:bomb|explosive|weapon|meth|poison|malware|ransomware)\b",
        0.85,
        re.DOTALL,
    ),
    _sig(
        "grandma-exploit",
        rf"\b(?:grandma|grandmother)\b.{{0,80}}\b(?:used to|would)\b{_GAP}\b(?:tell|read|"
        rf"recite)\b{_GAP}\b(?:recipe|steps|keys?|codes?|instructions)\b",
        0.7,
        re.DOTALL,
    ),
    _sig("opposite-mode", r"\b(?:opposite mode|anti-?gpt|evil confidant|betterdan|aim mode)\b", 0.8),
)

SECRETS: tuple[Signature, ...] = (
    _sig("aws-access-key-id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 1.0),
    _sig(
        "aws-secret-access-key",
        r"(?i:aws_?secret_?access_?key)\s{0,3}[:=]\s{0,3}['\"]?[A-Za-z0-9/+=]{40}\b",
        1.0,
    ),
    _sig("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,100})\b", 1.0),
    _sig("slack-token", r"\bxox[baprs]-[A-Za-z0-9-]{10,100}\b", 1.0),
    _sig("openai-key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,200}\b", 0.9),
    _sig("google-api-key", r"\bAIza[0-9A-Za-z_-]{35}\b", 1.0),
    _sig("stripe-key", r"\b(?:sk|rk)_live_[0-9a-zA-Z]{24,99}\b", 1.0),
    _sig(
        "private-key",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----",
        1.0,
    ),
    _sig("jwt", r"\beyJ[A-Za-z0-9_-]{10,500}\.eyJ[A-Za-z0-9_-]{10,2000}\.[A-Za-z0-9_-]{10,500}", 0.8),
    _sig(
        "password-assignment",
        r"(?i:\b(?:password|passwd|pwd|api[_-]?key|secret[_-]?key|access[_-]?token|client[_-]?secret)\b)"
        r"\s{0,3}[:=]\s{0,3}['\"]?[^\s'\"]{8,200}",
        0.7,
    ),
)


def noisy_or(weights: list[float]) -> float:
    """Combine independent evidence: 1 - prod(1 - w)."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return round(1.0 - remaining, 6)


def scan(
    text: str, signatures: tuple[Signature, ...], squashed: tuple[Signature, ...] = ()
) -> list[Signature]:
    """The signatures that match ``text`` (normalised here), in declaration order."""
    norm = normalize(text)
    hits = [s for s in signatures if s.pattern.search(norm)]
    if squashed:
        flat = squash(norm)
        hits += [s for s in squashed if s.pattern.search(flat)]
    return hits


def scan_secrets(text: str) -> list[Signature]:
    """Secret signatures are case-sensitive: they match the case-preserving normal form."""
    norm = normalize_keep_case(text)
    return [s for s in SECRETS if s.pattern.search(norm)]
