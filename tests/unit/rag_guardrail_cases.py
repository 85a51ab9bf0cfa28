"""The RAG / guardrail fixtures (tests/fixtures/rag-guardrail), through the shared rule_cases mechanism."""

from __future__ import annotations

from tests.unit.rule_cases import RAG_GUARDRAIL, Case, finding_ids

build_base = RAG_GUARDRAIL.build_base


def load_cases(prefix: str, stage: str) -> list[Case]:
    """Cases of ``stage`` whose rule id starts with ``prefix`` (``guardrail/`` or ``rag/``)."""
    return RAG_GUARDRAIL.load(prefix, stage)


__all__ = ["Case", "build_base", "finding_ids", "load_cases"]
