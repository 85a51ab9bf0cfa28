"""The registry of guardrail functions that policy conditions may call.

Each function is offline and deterministic. A policy configures a function once per *detector*
(``detectors: {name: {function, params}}``); a condition calls the detector by name on a string,
``injection(input).score >= 0.8``, or calls a registry function directly with its default
parameters. Every call returns a map with at least:

* ``detected`` (bool) - the function's own decision with its configured threshold,
* ``score`` (double 0..1), ``count`` (int), ``matches`` (list of names of what matched;
  never the matched text, so reports do not leak PII or secrets),

plus function-specific keys documented in ``returns``. Parameters are described by a JSON Schema
per function (``params_schema``); docs/artifacts/guardrails.md is the user-facing reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from genaiops.guardrails import patterns, pii, terms

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

Detector = Callable[[str], dict[str, Any]]
_MAX_MEMO = 4096
"""Parameter checks remembered per function (the memo is emptied when full)."""
THRESHOLD = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "minimum score for `detected` (a float in [0, 1])",
}


@dataclass(frozen=True)
class GuardrailFunction:
    """A registered guardrail function: its parameter schema and a factory for configured detectors."""

    name: str
    summary: str
    params_schema: dict[str, Any]
    returns: dict[str, str]
    factory: Callable[[dict[str, Any]], Detector]
    category: str
    examples: tuple[str, ...] = field(default=())

    def defaults(self) -> dict[str, Any]:
        """Parameter defaults from the schema."""
        props = self.params_schema.get("properties", {})
        return {k: v["default"] for k, v in props.items() if "default" in v}

    @cached_property
    def _validator(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator  # on first use: the import costs ~0.1 s

        return Draft202012Validator(self.params_schema)

    @cached_property
    def _checked(self) -> dict[str, tuple[tuple[tuple[str | int, ...], str], ...]]:
        return {}

    def param_errors(self, params: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """(path, message) for each problem with ``params``; empty when valid.

        Results are memoised by the ``repr`` of ``params`` (exact for YAML/JSON data: it tells
        ``1``, ``1.0``, ``True`` and ``"1"`` apart): lint's analysis and the engine check the same
        detector parameters, and every registry function is checked with ``{}`` per policy.
        """
        key = repr(params)
        found = self._checked.get(key)
        if found is None:
            problems = [(tuple(e.absolute_path), e.message) for e in self._validator.iter_errors(params)]
            problems += [(path, f"{value!r} is not a finite number") for path, value in _non_finite(params)]
            found = tuple(sorted(problems, key=lambda p: [str(x) for x in p[0]]))
            if len(self._checked) >= _MAX_MEMO:
                self._checked.clear()
            self._checked[key] = found
        return list(found)

    def build(self, params: dict[str, Any] | None = None) -> Detector:
        """A detector with ``params`` (validated by the caller) over the defaults."""
        merged = {**self.defaults(), **(params or {})}
        return self.factory(merged)


def _non_finite(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    """NaN and infinities anywhere in ``value`` (JSON Schema's numeric bounds let NaN through)."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _non_finite(v, (*path, str(k)))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _non_finite(v, (*path, i))]
    return []


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


SIGNATURE_PARAMS = _schema(
    {
        "threshold": {**THRESHOLD, "default": 0.5},
        "disable": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "signature ids to switch off",
        },
    }
)
"""Parameters shared by the signature detectors (prompt_injection, jailbreak)."""


# --- factories -------------------------------------------------------------------------------


def _pii(params: dict[str, Any]) -> Detector:
    entities = tuple(params["entities"])

    def detect(text: str) -> dict[str, Any]:
        counts = pii.find_pii(text, entities)
        total = sum(counts.values())
        return {
            "detected": total > 0,
            "score": 1.0 if total else 0.0,
            "count": total,
            "matches": [k for k in pii.ENTITIES if counts[k]],
            **counts,
        }

    return detect


def _signatures(
    sigs: tuple[patterns.Signature, ...], squashed: tuple[patterns.Signature, ...] = ()
) -> Callable[[dict[str, Any]], Detector]:
    def factory(params: dict[str, Any]) -> Detector:
        threshold = float(params["threshold"])
        disabled = set(params.get("disable", []))
        active = tuple(s for s in sigs if s.id not in disabled)
        active_squashed = tuple(s for s in squashed if s.id not in disabled)

        def detect(text: str) -> dict[str, Any]:
            hits = patterns.scan(text, active, active_squashed)
            score = patterns.noisy_or([s.weight for s in hits])
            return {
                "detected": bool(hits) and score >= threshold,
                "score": score,
                "count": len(hits),
                "matches": sorted({s.id for s in hits}),
            }

        return detect

    return factory


def _secrets(params: dict[str, Any]) -> Detector:
    threshold = float(params["threshold"])

    def detect(text: str) -> dict[str, Any]:
        hits = patterns.scan_secrets(text)
        score = patterns.noisy_or([s.weight for s in hits])
        return {
            "detected": bool(hits) and score >= threshold,
            "score": score,
            "count": len(hits),
            "matches": [s.id for s in hits],
        }

    return detect


def _toxicity(params: dict[str, Any]) -> Detector:
    categories = tuple(params["categories"])
    extra = tuple(params["extra_terms"])
    threshold = float(params["threshold"])

    def detect(text: str) -> dict[str, Any]:
        found = terms.toxicity(text, categories, extra)
        return {"detected": found["count"] > 0 and float(found["score"]) >= threshold, **found}  # type: ignore[arg-type]

    return detect


def _denylist(params: dict[str, Any]) -> Detector:
    listed = tuple(params["terms"])
    substring = params["match"] == "substring"

    def detect(text: str) -> dict[str, Any]:
        hits = terms.find_terms(text, listed, substring=substring)
        return {"detected": bool(hits), "score": 1.0 if hits else 0.0, "count": len(hits), "matches": hits}

    return detect


def _off_topic(params: dict[str, Any]) -> Detector:
    topics = {str(k): [str(x) for x in v] for k, v in params["topics"].items()}
    threshold = float(params["threshold"])
    min_words = int(params["min_words"])

    def detect(text: str) -> dict[str, Any]:
        relevance, topic, words = terms.topic_relevance(text, topics)
        off = words >= min_words and relevance < threshold
        return {
            "detected": off,
            "score": round(1.0 - relevance, 6),
            "relevance": relevance,
            "topic": topic,
            "count": words,
            "matches": [topic] if topic else [],
        }

    return detect


REGISTRY: dict[str, GuardrailFunction] = {
    f.name: f
    for f in (
        GuardrailFunction(
            "pii",
            "Personal data: e-mail, phone, payment card (Luhn), IBAN (mod-97), US SSN, UK NINO.",
            _schema(
                {
                    "entities": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": list(pii.ENTITIES)},
                        "default": list(pii.ENTITIES),
                        "description": "entity types to detect",
                    }
                }
            ),
            {
                "<entity>": "int: how many of that type (email, phone, credit_card, iban, us_ssn, uk_nino)",
                "matches": "entity types found",
            },
            _pii,
            "pii",
            ("pii(input).credit_card > 0", '"iban" in pii(input).matches'),
        ),
        GuardrailFunction(
            "prompt_injection",
            "Instruction-override, system-prompt extraction, fake role tags, exfiltration.",
            SIGNATURE_PARAMS,
            {"matches": "signature ids that matched"},
            _signatures(patterns.INJECTION, patterns.INJECTION_SQUASHED),
            "prompt_injection",
            ("prompt_injection(input).detected",),
        ),
        GuardrailFunction(
            "jailbreak",
            "Persona and mode jailbreaks (DAN, developer mode, 'no restrictions', fictional framing).",
            SIGNATURE_PARAMS,
            {"matches": "signature ids that matched"},
            _signatures(patterns.JAILBREAK),
            "jailbreak",
            ("jailbreak(input).score >= 0.7",),
        ),
        GuardrailFunction(
            "toxicity",
            "Insults, profanity, threats and harassment from a built-in lexicon (leetspeak-aware).",
            _schema(
                {
                    "categories": {
                        "type": "array",
                        "minItems": 1,
                        "uniqueItems": True,
                        "items": {"enum": sorted(terms.TOXICITY_LEXICON)},
                        "default": sorted(terms.TOXICITY_LEXICON),
                        "description": "lexicon categories to use",
                    },
                    "extra_terms": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 1},
                        "default": [],
                        "description": "additional terms, weight 1.0",
                    },
                    "threshold": {**THRESHOLD, "default": 0.5},
                }
            ),
            {"categories": "lexicon categories that matched", "matches": "the terms found"},
            _toxicity,
            "toxicity",
            ("toxicity(input).score >= 0.6",),
        ),
        GuardrailFunction(
            "denylist",
            "Terms that must not appear (whole words, or substrings), leetspeak- and homoglyph-aware.",
            _schema(
                {
                    "terms": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "minLength": 1},
                        "description": "the denylisted terms or phrases",
                    },
                    "match": {
                        "enum": ["word", "substring"],
                        "default": "word",
                        "description": "whole-word match (default) or substring",
                    },
                },
                ("terms",),
            ),
            {"matches": "the terms found"},
            _denylist,
            "toxicity",
            ("competitors(input).detected",),
        ),
        GuardrailFunction(
            "off_topic",
            "Whether the input is outside the allowed topics (keyword coverage, no embeddings).",
            _schema(
                {
                    "topics": {
                        "type": "object",
                        "minProperties": 1,
                        "additionalProperties": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "minLength": 1},
                        },
                        "description": "topic name -> keywords and phrases",
                    },
                    "threshold": {
                        **THRESHOLD,
                        "default": 0.2,
                        "description": "minimum relevance (0..1) to count as on topic",
                    },
                    "min_words": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 1000,
                        "default": 3,
                        "description": "inputs with fewer content words are never off topic",
                    },
                },
                ("topics",),
            ),
            {
                "relevance": "double: best topic coverage",
                "topic": "string: best topic ('' if none)",
                "score": "1 - relevance",
                "count": "content words",
            },
            _off_topic,
            "off_topic",
            ("support_topics(input).detected",),
        ),
        GuardrailFunction(
            "secrets",
            "Credentials: cloud and SaaS API keys, tokens, JWTs, private keys, password assignments.",
            _schema({"threshold": {**THRESHOLD, "default": 0.5}}),
            {"matches": "secret types found"},
            _secrets,
            "secrets",
            ("secrets(input).detected",),
        ),
    )
}


def get(name: str) -> GuardrailFunction | None:
    """The registered function called ``name``."""
    return REGISTRY.get(name)
